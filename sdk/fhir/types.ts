/**
 * TypeScript shapes for the FHIR R4 (4.0.1) subset this project exchanges: Patient, Observation,
 * Condition, Procedure, Claim, DocumentReference and Bundle, plus the datatypes they use.
 * Primitives are plain JSON values; their formats are checked at run time by validate.ts, not by
 * the type system. The interfaces follow resources.ts / datatypes.ts (a few rarely used choice
 * variants, e.g. valueSampledData or effectiveTiming, are left out of the types but accepted by the
 * validator); the validator has the final word on value sets, formats and invariants.
 */

// --- Primitive aliases: documentation only, all are JSON strings/numbers/booleans ------------------
export type FhirId = string;
export type FhirCode = string;
export type FhirUri = string;
export type FhirUrl = string;
export type FhirCanonical = string;
export type FhirDate = string;
export type FhirDateTime = string;
export type FhirInstant = string;
export type FhirTime = string;
export type FhirMarkdown = string;
export type FhirBase64Binary = string;
export type FhirDecimal = number;
export type FhirInteger = number;
export type FhirPositiveInt = number;
export type FhirUnsignedInt = number;

// --- Value sets with a required binding ------------------------------------------------------------
export type AdministrativeGender = 'male' | 'female' | 'other' | 'unknown';
export type ObservationStatus =
  | 'registered' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'cancelled' | 'entered-in-error' | 'unknown';
export type ProcedureStatus =
  | 'preparation' | 'in-progress' | 'not-done' | 'on-hold' | 'stopped' | 'completed' | 'entered-in-error' | 'unknown';
export type ClaimStatus = 'active' | 'cancelled' | 'draft' | 'entered-in-error';
export type ClaimUse = 'claim' | 'preauthorization' | 'predetermination';
export type DocumentReferenceStatus = 'current' | 'superseded' | 'entered-in-error';
export type CompositionStatus = 'preliminary' | 'final' | 'amended' | 'entered-in-error';
export type BundleType =
  | 'document' | 'message' | 'transaction' | 'transaction-response' | 'batch' | 'batch-response' | 'history' | 'searchset' | 'collection';
export type HttpVerb = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
export type ConditionClinicalStatus = 'active' | 'recurrence' | 'relapse' | 'inactive' | 'remission' | 'resolved';
export type ConditionVerificationStatus =
  | 'unconfirmed' | 'provisional' | 'differential' | 'confirmed' | 'refuted' | 'entered-in-error';

// --- Datatypes ----------------------------------------------------------------------------------------
export interface Element {
  id?: string;
  extension?: Extension[];
}
export interface BackboneElement extends Element {
  modifierExtension?: Extension[];
}

export interface Extension extends Element {
  url: FhirUri;
  valueBoolean?: boolean;
  valueInteger?: FhirInteger;
  valueDecimal?: FhirDecimal;
  valueString?: string;
  valueCode?: FhirCode;
  valueDate?: FhirDate;
  valueDateTime?: FhirDateTime;
  valueUri?: FhirUri;
  valueCoding?: Coding;
  valueCodeableConcept?: CodeableConcept;
  valueQuantity?: Quantity;
  valueReference?: Reference;
  valueIdentifier?: Identifier;
  valuePeriod?: Period;
  // ...and the other R4 value[x] types the validator knows (EXTENSION_VALUE_TYPES in datatypes.ts).
  [valueX: `value${string}`]: unknown;
}

export interface Coding extends Element {
  system?: FhirUri;
  version?: string;
  code?: FhirCode;
  display?: string;
  userSelected?: boolean;
}
export interface CodeableConcept extends Element {
  coding?: Coding[];
  text?: string;
}
export interface Period extends Element {
  start?: FhirDateTime;
  end?: FhirDateTime;
}
export interface Identifier extends Element {
  use?: 'usual' | 'official' | 'temp' | 'secondary' | 'old';
  type?: CodeableConcept;
  system?: FhirUri;
  value?: string;
  period?: Period;
  assigner?: Reference;
}
export interface Reference extends Element {
  /** `Type/id`, an absolute URL, `urn:uuid:…` / `urn:oid:…` (resolved inside a Bundle) or `#id` (contained). */
  reference?: string;
  type?: FhirUri;
  identifier?: Identifier;
  display?: string;
}
export interface HumanName extends Element {
  use?: 'usual' | 'official' | 'temp' | 'nickname' | 'anonymous' | 'old' | 'maiden';
  text?: string;
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
  period?: Period;
}
export interface ContactPoint extends Element {
  system?: 'phone' | 'fax' | 'email' | 'pager' | 'url' | 'sms' | 'other';
  value?: string;
  use?: 'home' | 'work' | 'temp' | 'old' | 'mobile';
  rank?: FhirPositiveInt;
  period?: Period;
}
export interface Address extends Element {
  use?: 'home' | 'work' | 'temp' | 'old' | 'billing';
  type?: 'postal' | 'physical' | 'both';
  text?: string;
  line?: string[];
  city?: string;
  district?: string;
  state?: string;
  postalCode?: string;
  country?: string;
  period?: Period;
}
export interface Quantity extends Element {
  value?: FhirDecimal;
  comparator?: '<' | '<=' | '>=' | '>';
  unit?: string;
  system?: FhirUri;
  code?: FhirCode;
}
/** A Quantity without a comparator (R4 profile SimpleQuantity). */
export type SimpleQuantity = Omit<Quantity, 'comparator'>;
export type Age = Quantity;
export type Duration = Quantity;
export interface Money extends Element {
  value?: FhirDecimal;
  /** ISO 4217 alphabetic code, e.g. USD. */
  currency?: FhirCode;
}
export interface Range extends Element {
  low?: SimpleQuantity;
  high?: SimpleQuantity;
}
export interface Ratio extends Element {
  numerator?: Quantity;
  denominator?: Quantity;
}
export interface Attachment extends Element {
  contentType?: FhirCode;
  language?: FhirCode;
  data?: FhirBase64Binary;
  url?: FhirUrl;
  size?: FhirUnsignedInt;
  hash?: FhirBase64Binary;
  title?: string;
  creation?: FhirDateTime;
}
export interface Annotation extends Element {
  authorReference?: Reference;
  authorString?: string;
  time?: FhirDateTime;
  text: FhirMarkdown;
}
export interface Meta extends Element {
  versionId?: FhirId;
  lastUpdated?: FhirInstant;
  source?: FhirUri;
  profile?: FhirCanonical[];
  security?: Coding[];
  tag?: Coding[];
}
export interface Narrative extends Element {
  status: 'generated' | 'extensions' | 'additional' | 'empty';
  /** XHTML fragment: `<div xmlns="http://www.w3.org/1999/xhtml">…</div>`. */
  div: string;
}
export interface Signature extends Element {
  type: Coding[];
  when: FhirInstant;
  who: Reference;
  onBehalfOf?: Reference;
  targetFormat?: FhirCode;
  sigFormat?: FhirCode;
  data?: FhirBase64Binary;
}

// --- Resources ----------------------------------------------------------------------------------------
export interface ResourceBase {
  id?: FhirId;
  meta?: Meta;
  implicitRules?: FhirUri;
  language?: FhirCode;
}
export interface DomainResourceBase extends ResourceBase {
  text?: Narrative;
  contained?: FhirResource[];
  extension?: Extension[];
  modifierExtension?: Extension[];
}

export interface Patient extends DomainResourceBase {
  resourceType: 'Patient';
  identifier?: Identifier[];
  active?: boolean;
  name?: HumanName[];
  telecom?: ContactPoint[];
  gender?: AdministrativeGender;
  birthDate?: FhirDate;
  deceasedBoolean?: boolean;
  deceasedDateTime?: FhirDateTime;
  address?: Address[];
  maritalStatus?: CodeableConcept;
  multipleBirthBoolean?: boolean;
  multipleBirthInteger?: FhirInteger;
  photo?: Attachment[];
  contact?: (BackboneElement & {
    relationship?: CodeableConcept[];
    name?: HumanName;
    telecom?: ContactPoint[];
    address?: Address;
    gender?: AdministrativeGender;
    organization?: Reference;
    period?: Period;
  })[];
  communication?: (BackboneElement & { language: CodeableConcept; preferred?: boolean })[];
  generalPractitioner?: Reference[];
  managingOrganization?: Reference;
  link?: (BackboneElement & { other: Reference; type: 'replaced-by' | 'replaces' | 'refer' | 'seealso' })[];
}

export interface ObservationReferenceRange extends BackboneElement {
  low?: SimpleQuantity;
  high?: SimpleQuantity;
  type?: CodeableConcept;
  appliesTo?: CodeableConcept[];
  age?: Range;
  text?: string;
}
interface ObservationValue {
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  valueBoolean?: boolean;
  valueInteger?: FhirInteger;
  valueRange?: Range;
  valueRatio?: Ratio;
  valueTime?: FhirTime;
  valueDateTime?: FhirDateTime;
  valuePeriod?: Period;
}
export interface Observation extends DomainResourceBase, ObservationValue {
  resourceType: 'Observation';
  identifier?: Identifier[];
  basedOn?: Reference[];
  partOf?: Reference[];
  status: ObservationStatus;
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  focus?: Reference[];
  encounter?: Reference;
  effectiveDateTime?: FhirDateTime;
  effectivePeriod?: Period;
  effectiveInstant?: FhirInstant;
  issued?: FhirInstant;
  performer?: Reference[];
  dataAbsentReason?: CodeableConcept;
  interpretation?: CodeableConcept[];
  note?: Annotation[];
  bodySite?: CodeableConcept;
  method?: CodeableConcept;
  specimen?: Reference;
  device?: Reference;
  referenceRange?: ObservationReferenceRange[];
  hasMember?: Reference[];
  derivedFrom?: Reference[];
  component?: (BackboneElement & ObservationValue & {
    code: CodeableConcept;
    dataAbsentReason?: CodeableConcept;
    interpretation?: CodeableConcept[];
    referenceRange?: ObservationReferenceRange[];
  })[];
}

export interface Condition extends DomainResourceBase {
  resourceType: 'Condition';
  identifier?: Identifier[];
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  category?: CodeableConcept[];
  severity?: CodeableConcept;
  code?: CodeableConcept;
  bodySite?: CodeableConcept[];
  subject: Reference;
  encounter?: Reference;
  onsetDateTime?: FhirDateTime;
  onsetAge?: Age;
  onsetPeriod?: Period;
  onsetRange?: Range;
  onsetString?: string;
  abatementDateTime?: FhirDateTime;
  abatementAge?: Age;
  abatementPeriod?: Period;
  abatementRange?: Range;
  abatementString?: string;
  recordedDate?: FhirDateTime;
  recorder?: Reference;
  asserter?: Reference;
  stage?: (BackboneElement & { summary?: CodeableConcept; assessment?: Reference[]; type?: CodeableConcept })[];
  evidence?: (BackboneElement & { code?: CodeableConcept[]; detail?: Reference[] })[];
  note?: Annotation[];
}

export interface Procedure extends DomainResourceBase {
  resourceType: 'Procedure';
  identifier?: Identifier[];
  instantiatesCanonical?: FhirCanonical[];
  instantiatesUri?: FhirUri[];
  basedOn?: Reference[];
  partOf?: Reference[];
  status: ProcedureStatus;
  statusReason?: CodeableConcept;
  category?: CodeableConcept;
  code?: CodeableConcept;
  subject: Reference;
  encounter?: Reference;
  performedDateTime?: FhirDateTime;
  performedPeriod?: Period;
  performedString?: string;
  performedAge?: Age;
  performedRange?: Range;
  recorder?: Reference;
  asserter?: Reference;
  performer?: (BackboneElement & { function?: CodeableConcept; actor: Reference; onBehalfOf?: Reference })[];
  location?: Reference;
  reasonCode?: CodeableConcept[];
  reasonReference?: Reference[];
  bodySite?: CodeableConcept[];
  outcome?: CodeableConcept;
  report?: Reference[];
  complication?: CodeableConcept[];
  complicationDetail?: Reference[];
  followUp?: CodeableConcept[];
  note?: Annotation[];
  focalDevice?: (BackboneElement & { action?: CodeableConcept; manipulated: Reference })[];
  usedReference?: Reference[];
  usedCode?: CodeableConcept[];
}

interface ClaimItemBase extends BackboneElement {
  sequence: FhirPositiveInt;
  revenue?: CodeableConcept;
  category?: CodeableConcept;
  productOrService: CodeableConcept;
  modifier?: CodeableConcept[];
  programCode?: CodeableConcept[];
  quantity?: SimpleQuantity;
  unitPrice?: Money;
  factor?: FhirDecimal;
  net?: Money;
  udi?: Reference[];
}
export interface ClaimItem extends ClaimItemBase {
  careTeamSequence?: FhirPositiveInt[];
  diagnosisSequence?: FhirPositiveInt[];
  procedureSequence?: FhirPositiveInt[];
  informationSequence?: FhirPositiveInt[];
  servicedDate?: FhirDate;
  servicedPeriod?: Period;
  locationCodeableConcept?: CodeableConcept;
  locationAddress?: Address;
  locationReference?: Reference;
  bodySite?: CodeableConcept;
  subSite?: CodeableConcept[];
  encounter?: Reference[];
  detail?: (ClaimItemBase & { subDetail?: ClaimItemBase[] })[];
}
export interface Claim extends DomainResourceBase {
  resourceType: 'Claim';
  identifier?: Identifier[];
  status: ClaimStatus;
  type: CodeableConcept;
  subType?: CodeableConcept;
  use: ClaimUse;
  patient: Reference;
  billablePeriod?: Period;
  created: FhirDateTime;
  enterer?: Reference;
  insurer?: Reference;
  provider: Reference;
  priority: CodeableConcept;
  fundsReserve?: CodeableConcept;
  related?: (BackboneElement & { claim?: Reference; relationship?: CodeableConcept; reference?: Identifier })[];
  prescription?: Reference;
  originalPrescription?: Reference;
  payee?: BackboneElement & { type: CodeableConcept; party?: Reference };
  referral?: Reference;
  facility?: Reference;
  careTeam?: (BackboneElement & {
    sequence: FhirPositiveInt; provider: Reference; responsible?: boolean; role?: CodeableConcept; qualification?: CodeableConcept;
  })[];
  supportingInfo?: (BackboneElement & {
    sequence: FhirPositiveInt;
    category: CodeableConcept;
    code?: CodeableConcept;
    timingDate?: FhirDate;
    timingPeriod?: Period;
    valueBoolean?: boolean;
    valueString?: string;
    valueQuantity?: Quantity;
    valueAttachment?: Attachment;
    valueReference?: Reference;
    reason?: CodeableConcept;
  })[];
  diagnosis?: (BackboneElement & {
    sequence: FhirPositiveInt;
    diagnosisCodeableConcept?: CodeableConcept;
    diagnosisReference?: Reference;
    type?: CodeableConcept[];
    onAdmission?: CodeableConcept;
    packageCode?: CodeableConcept;
  })[];
  procedure?: (BackboneElement & {
    sequence: FhirPositiveInt;
    type?: CodeableConcept[];
    date?: FhirDateTime;
    procedureCodeableConcept?: CodeableConcept;
    procedureReference?: Reference;
    udi?: Reference[];
  })[];
  insurance: (BackboneElement & {
    sequence: FhirPositiveInt;
    focal: boolean;
    identifier?: Identifier;
    coverage: Reference;
    businessArrangement?: string;
    preAuthRef?: string[];
    claimResponse?: Reference;
  })[];
  accident?: BackboneElement & { date: FhirDate; type?: CodeableConcept; locationAddress?: Address; locationReference?: Reference };
  item?: ClaimItem[];
  total?: Money;
}

export interface DocumentReference extends DomainResourceBase {
  resourceType: 'DocumentReference';
  masterIdentifier?: Identifier;
  identifier?: Identifier[];
  status: DocumentReferenceStatus;
  docStatus?: CompositionStatus;
  type?: CodeableConcept;
  category?: CodeableConcept[];
  subject?: Reference;
  date?: FhirInstant;
  author?: Reference[];
  authenticator?: Reference;
  custodian?: Reference;
  relatesTo?: (BackboneElement & { code: 'replaces' | 'transforms' | 'signs' | 'appends'; target: Reference })[];
  description?: string;
  securityLabel?: CodeableConcept[];
  content: (BackboneElement & { attachment: Attachment; format?: Coding })[];
  context?: BackboneElement & {
    encounter?: Reference[];
    event?: CodeableConcept[];
    period?: Period;
    facilityType?: CodeableConcept;
    practiceSetting?: CodeableConcept;
    sourcePatientInfo?: Reference;
    related?: Reference[];
  };
}

export interface BundleLink extends BackboneElement {
  relation: string;
  url: FhirUri;
}
export interface BundleEntry<R extends FhirResource = FhirResource> extends BackboneElement {
  link?: BundleLink[];
  fullUrl?: FhirUri;
  resource?: R;
  search?: BackboneElement & { mode?: 'match' | 'include' | 'outcome'; score?: FhirDecimal };
  request?: BackboneElement & {
    method: HttpVerb;
    url: FhirUri;
    ifNoneMatch?: string;
    ifModifiedSince?: FhirInstant;
    ifMatch?: string;
    ifNoneExist?: string;
  };
  response?: BackboneElement & {
    status: string;
    location?: FhirUri;
    etag?: string;
    lastModified?: FhirInstant;
    outcome?: FhirResource;
  };
}
/** Bundle is a Resource, not a DomainResource: no text, contained or extensions at its root. */
export interface Bundle<R extends FhirResource = FhirResource> extends ResourceBase {
  resourceType: 'Bundle';
  identifier?: Identifier;
  type: BundleType;
  timestamp?: FhirInstant;
  total?: FhirUnsignedInt;
  link?: BundleLink[];
  entry?: BundleEntry<R>[];
  signature?: Signature;
}

export type FhirResource = Patient | Observation | Condition | Procedure | Claim | DocumentReference | Bundle;
export type ResourceType = FhirResource['resourceType'];
