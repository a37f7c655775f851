/**
 * The R4 resources a record may contain (https://hl7.org/fhir/R4/<type>.html): every element of each,
 * so valid resources are never refused for using a legitimate element, plus the required bindings and
 * the invariants from those pages that carry weight for exchanged records.
 */
import {
  asArray, asObject, asString, backbone, el, has, ref, resource, valueSet, type Invariant, type JsonObject, type StructureDef,
} from './schema.js';

export const CONDITION_CLINICAL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VER_STATUS_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

export const VALUE_SETS = {
  gender: valueSet('administrative-gender', ['male', 'female', 'other', 'unknown']),
  observationStatus: valueSet('observation-status', ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown']),
  eventStatus: valueSet('event-status', ['preparation', 'in-progress', 'not-done', 'on-hold', 'stopped', 'completed', 'entered-in-error', 'unknown']),
  fmStatus: valueSet('fm-status', ['active', 'cancelled', 'draft', 'entered-in-error']),
  claimUse: valueSet('claim-use', ['claim', 'preauthorization', 'predetermination']),
  docRefStatus: valueSet('document-reference-status', ['current', 'superseded', 'entered-in-error']),
  compositionStatus: valueSet('composition-status', ['preliminary', 'final', 'amended', 'entered-in-error']),
  docRelationship: valueSet('document-relationship-type', ['replaces', 'transforms', 'signs', 'appends']),
  bundleType: valueSet('bundle-type', ['document', 'message', 'transaction', 'transaction-response', 'batch', 'batch-response', 'history', 'searchset', 'collection']),
  httpVerb: valueSet('http-verb', ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']),
  searchMode: valueSet('search-entry-mode', ['match', 'include', 'outcome']),
  linkType: valueSet('link-type', ['replaced-by', 'replaces', 'refer', 'seealso']),
  conditionClinical: valueSet('condition-clinical', ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'], CONDITION_CLINICAL_SYSTEM),
  conditionVerStatus: valueSet('condition-ver-status', ['unconfirmed', 'provisional', 'differential', 'confirmed', 'refuted', 'entered-in-error'], CONDITION_VER_STATUS_SYSTEM),
} as const;

// --- Patient -------------------------------------------------------------------------------------------
const patient = resource('Patient', {
  identifier: el('0..*', 'Identifier'),
  active: el('0..1', 'boolean'),
  name: el('0..*', 'HumanName'),
  telecom: el('0..*', 'ContactPoint'),
  gender: el('0..1', 'code', { binding: VALUE_SETS.gender }),
  birthDate: el('0..1', 'date'),
  'deceased[x]': el('0..1', ['boolean', 'dateTime']),
  address: el('0..*', 'Address'),
  maritalStatus: el('0..1', 'CodeableConcept'),
  'multipleBirth[x]': el('0..1', ['boolean', 'integer']),
  photo: el('0..*', 'Attachment'),
  contact: el('0..*', backbone('Patient.contact', {
    relationship: el('0..*', 'CodeableConcept'),
    name: el('0..1', 'HumanName'),
    telecom: el('0..*', 'ContactPoint'),
    address: el('0..1', 'Address'),
    gender: el('0..1', 'code', { binding: VALUE_SETS.gender }),
    organization: ref('0..1', 'Organization'),
    period: el('0..1', 'Period'),
  }, [{
    key: 'pat-1',
    check: (n, fail) => {
      if (!['name', 'telecom', 'address', 'organization'].some((k) => has(n, k))) {
        fail("SHALL at least contain a contact's details or a reference to an organization");
      }
    },
  }])),
  communication: el('0..*', backbone('Patient.communication', {
    language: el('1..1', 'CodeableConcept'),
    preferred: el('0..1', 'boolean'),
  })),
  generalPractitioner: ref('0..*', 'Organization', 'Practitioner', 'PractitionerRole'),
  managingOrganization: ref('0..1', 'Organization'),
  link: el('0..*', backbone('Patient.link', {
    other: ref('1..1', 'Patient', 'RelatedPerson'),
    type: el('1..1', 'code', { binding: VALUE_SETS.linkType }),
  })),
});

// --- Observation ---------------------------------------------------------------------------------------
const OBSERVATION_VALUE = el('0..1', ['Quantity', 'CodeableConcept', 'string', 'boolean', 'integer', 'Range', 'Ratio', 'SampledData', 'time', 'dateTime', 'Period']);
const referenceRange = backbone('Observation.referenceRange', {
  low: el('0..1', 'SimpleQuantity'),
  high: el('0..1', 'SimpleQuantity'),
  type: el('0..1', 'CodeableConcept'),
  appliesTo: el('0..*', 'CodeableConcept'),
  age: el('0..1', 'Range'),
  text: el('0..1', 'string'),
}, [{
  key: 'obs-3',
  check: (n, fail) => { if (!['low', 'high', 'text'].some((k) => has(n, k))) fail('SHALL have at least a low or a high or text'); },
}]);
const obs6: Invariant = {
  key: 'obs-6',
  check: (n, fail) => {
    if (has(n, 'dataAbsentReason') && has(n, 'value[x]')) fail('dataAbsentReason SHALL only be present if value[x] is not present', 'dataAbsentReason');
  },
};
const observation = resource('Observation', {
  identifier: el('0..*', 'Identifier'),
  basedOn: el('0..*', 'Reference'),
  partOf: el('0..*', 'Reference'),
  status: el('1..1', 'code', { binding: VALUE_SETS.observationStatus }),
  category: el('0..*', 'CodeableConcept'),
  code: el('1..1', 'CodeableConcept'),
  subject: ref('0..1', 'Patient', 'Group', 'Device', 'Location'),
  focus: el('0..*', 'Reference'),
  encounter: ref('0..1', 'Encounter'),
  'effective[x]': el('0..1', ['dateTime', 'Period', 'Timing', 'instant']),
  issued: el('0..1', 'instant'),
  performer: el('0..*', 'Reference'),
  'value[x]': OBSERVATION_VALUE,
  dataAbsentReason: el('0..1', 'CodeableConcept'),
  interpretation: el('0..*', 'CodeableConcept'),
  note: el('0..*', 'Annotation'),
  bodySite: el('0..1', 'CodeableConcept'),
  method: el('0..1', 'CodeableConcept'),
  specimen: ref('0..1', 'Specimen'),
  device: ref('0..1', 'Device', 'DeviceMetric'),
  referenceRange: el('0..*', referenceRange),
  hasMember: ref('0..*', 'Observation', 'QuestionnaireResponse', 'MolecularSequence'),
  derivedFrom: el('0..*', 'Reference'),
  component: el('0..*', backbone('Observation.component', {
    code: el('1..1', 'CodeableConcept'),
    'value[x]': OBSERVATION_VALUE,
    dataAbsentReason: el('0..1', 'CodeableConcept'),
    interpretation: el('0..*', 'CodeableConcept'),
    referenceRange: el('0..*', referenceRange),
  }, [obs6])),
}, [obs6]);

// --- Condition -----------------------------------------------------------------------------------------
const ONSET_TYPES = ['dateTime', 'Age', 'Period', 'Range', 'string'] as const;
const condition = resource('Condition', {
  identifier: el('0..*', 'Identifier'),
  clinicalStatus: el('0..1', 'CodeableConcept', { binding: VALUE_SETS.conditionClinical }),
  verificationStatus: el('0..1', 'CodeableConcept', { binding: VALUE_SETS.conditionVerStatus }),
  category: el('0..*', 'CodeableConcept'),
  severity: el('0..1', 'CodeableConcept'),
  code: el('0..1', 'CodeableConcept'),
  bodySite: el('0..*', 'CodeableConcept'),
  subject: ref('1..1', 'Patient', 'Group'),
  encounter: ref('0..1', 'Encounter'),
  'onset[x]': el('0..1', [...ONSET_TYPES]),
  'abatement[x]': el('0..1', [...ONSET_TYPES]),
  recordedDate: el('0..1', 'dateTime'),
  recorder: el('0..1', 'Reference'),
  asserter: el('0..1', 'Reference'),
  stage: el('0..*', backbone('Condition.stage', {
    summary: el('0..1', 'CodeableConcept'),
    assessment: el('0..*', 'Reference'),
    type: el('0..1', 'CodeableConcept'),
  }, [{
    key: 'con-1',
    check: (n, fail) => { if (!has(n, 'summary') && !has(n, 'assessment')) fail('stage SHALL have summary or assessment'); },
  }])),
  evidence: el('0..*', backbone('Condition.evidence', {
    code: el('0..*', 'CodeableConcept'),
    detail: el('0..*', 'Reference'),
  }, [{
    key: 'con-2',
    check: (n, fail) => { if (!has(n, 'code') && !has(n, 'detail')) fail('evidence SHALL have code or details'); },
  }])),
  note: el('0..*', 'Annotation'),
}, [
  {
    key: 'con-4',
    check: (n, fail) => {
      const clinical = codesIn(n.clinicalStatus, CONDITION_CLINICAL_SYSTEM);
      if (has(n, 'abatement[x]') && clinical.length > 0 && !clinical.some((c) => ['inactive', 'resolved', 'remission'].includes(c))) {
        fail('if the condition is abated, clinicalStatus SHALL be inactive, resolved or remission', 'clinicalStatus');
      }
    },
  },
  {
    key: 'con-5',
    check: (n, fail) => {
      if (codesIn(n.verificationStatus, CONDITION_VER_STATUS_SYSTEM).includes('entered-in-error') && has(n, 'clinicalStatus')) {
        fail('clinicalStatus SHALL NOT be present if verificationStatus is entered-in-error', 'clinicalStatus');
      }
    },
  },
]);

function codesIn(concept: unknown, system: string): string[] {
  return asArray(asObject(concept)?.coding)
    .map(asObject)
    .filter((c): c is JsonObject => c !== undefined && c.system === system && typeof c.code === 'string')
    .map((c) => c.code as string);
}

// --- Procedure -----------------------------------------------------------------------------------------
const procedure = resource('Procedure', {
  identifier: el('0..*', 'Identifier'),
  instantiatesCanonical: el('0..*', 'canonical'),
  instantiatesUri: el('0..*', 'uri'),
  basedOn: el('0..*', 'Reference'),
  partOf: el('0..*', 'Reference'),
  status: el('1..1', 'code', { binding: VALUE_SETS.eventStatus }),
  statusReason: el('0..1', 'CodeableConcept'),
  category: el('0..1', 'CodeableConcept'),
  code: el('0..1', 'CodeableConcept'),
  subject: ref('1..1', 'Patient', 'Group'),
  encounter: ref('0..1', 'Encounter'),
  'performed[x]': el('0..1', ['dateTime', 'Period', 'string', 'Age', 'Range']),
  recorder: el('0..1', 'Reference'),
  asserter: el('0..1', 'Reference'),
  performer: el('0..*', backbone('Procedure.performer', {
    function: el('0..1', 'CodeableConcept'),
    actor: el('1..1', 'Reference'),
    onBehalfOf: ref('0..1', 'Organization'),
  })),
  location: ref('0..1', 'Location'),
  reasonCode: el('0..*', 'CodeableConcept'),
  reasonReference: ref('0..*', 'Condition', 'Observation', 'Procedure', 'DiagnosticReport', 'DocumentReference'),
  bodySite: el('0..*', 'CodeableConcept'),
  outcome: el('0..1', 'CodeableConcept'),
  report: el('0..*', 'Reference'),
  complication: el('0..*', 'CodeableConcept'),
  complicationDetail: ref('0..*', 'Condition'),
  followUp: el('0..*', 'CodeableConcept'),
  note: el('0..*', 'Annotation'),
  focalDevice: el('0..*', backbone('Procedure.focalDevice', {
    action: el('0..1', 'CodeableConcept'),
    manipulated: ref('1..1', 'Device'),
  })),
  usedReference: el('0..*', 'Reference'),
  usedCode: el('0..*', 'CodeableConcept'),
});

// --- Claim ---------------------------------------------------------------------------------------------
const CLAIM_LINE = {
  sequence: el('1..1', 'positiveInt'),
  revenue: el('0..1', 'CodeableConcept'),
  category: el('0..1', 'CodeableConcept'),
  productOrService: el('1..1', 'CodeableConcept'),
  modifier: el('0..*', 'CodeableConcept'),
  programCode: el('0..*', 'CodeableConcept'),
  quantity: el('0..1', 'SimpleQuantity'),
  unitPrice: el('0..1', 'Money'),
  factor: el('0..1', 'decimal'),
  net: el('0..1', 'Money'),
  udi: ref('0..*', 'Device'),
};
const subDetail = backbone('Claim.item.detail.subDetail', CLAIM_LINE);
const claim = resource('Claim', {
  identifier: el('0..*', 'Identifier'),
  status: el('1..1', 'code', { binding: VALUE_SETS.fmStatus }),
  type: el('1..1', 'CodeableConcept'),
  subType: el('0..1', 'CodeableConcept'),
  use: el('1..1', 'code', { binding: VALUE_SETS.claimUse }),
  patient: ref('1..1', 'Patient'),
  billablePeriod: el('0..1', 'Period'),
  created: el('1..1', 'dateTime'),
  enterer: ref('0..1', 'Practitioner', 'PractitionerRole'),
  insurer: ref('0..1', 'Organization'),
  provider: ref('1..1', 'Practitioner', 'PractitionerRole', 'Organization'),
  priority: el('1..1', 'CodeableConcept'),
  fundsReserve: el('0..1', 'CodeableConcept'),
  related: el('0..*', backbone('Claim.related', {
    claim: ref('0..1', 'Claim'),
    relationship: el('0..1', 'CodeableConcept'),
    reference: el('0..1', 'Identifier'),
  })),
  prescription: el('0..1', 'Reference'),
  originalPrescription: el('0..1', 'Reference'),
  payee: el('0..1', backbone('Claim.payee', {
    type: el('1..1', 'CodeableConcept'),
    party: el('0..1', 'Reference'),
  })),
  referral: ref('0..1', 'ServiceRequest'),
  facility: ref('0..1', 'Location'),
  careTeam: el('0..*', backbone('Claim.careTeam', {
    sequence: el('1..1', 'positiveInt'),
    provider: ref('1..1', 'Practitioner', 'PractitionerRole', 'Organization'),
    responsible: el('0..1', 'boolean'),
    role: el('0..1', 'CodeableConcept'),
    qualification: el('0..1', 'CodeableConcept'),
  })),
  supportingInfo: el('0..*', backbone('Claim.supportingInfo', {
    sequence: el('1..1', 'positiveInt'),
    category: el('1..1', 'CodeableConcept'),
    code: el('0..1', 'CodeableConcept'),
    'timing[x]': el('0..1', ['date', 'Period']),
    'value[x]': el('0..1', ['boolean', 'string', 'Quantity', 'Attachment', 'Reference']),
    reason: el('0..1', 'CodeableConcept'),
  })),
  diagnosis: el('0..*', backbone('Claim.diagnosis', {
    sequence: el('1..1', 'positiveInt'),
    'diagnosis[x]': el('1..1', ['CodeableConcept', 'Reference'], { targets: ['Condition'] }),
    type: el('0..*', 'CodeableConcept'),
    onAdmission: el('0..1', 'CodeableConcept'),
    packageCode: el('0..1', 'CodeableConcept'),
  })),
  procedure: el('0..*', backbone('Claim.procedure', {
    sequence: el('1..1', 'positiveInt'),
    type: el('0..*', 'CodeableConcept'),
    date: el('0..1', 'dateTime'),
    'procedure[x]': el('1..1', ['CodeableConcept', 'Reference'], { targets: ['Procedure'] }),
    udi: ref('0..*', 'Device'),
  })),
  insurance: el('1..*', backbone('Claim.insurance', {
    sequence: el('1..1', 'positiveInt'),
    focal: el('1..1', 'boolean'),
    identifier: el('0..1', 'Identifier'),
    coverage: ref('1..1', 'Coverage'),
    businessArrangement: el('0..1', 'string'),
    preAuthRef: el('0..*', 'string'),
    claimResponse: ref('0..1', 'ClaimResponse'),
  })),
  accident: el('0..1', backbone('Claim.accident', {
    date: el('1..1', 'date'),
    type: el('0..1', 'CodeableConcept'),
    'location[x]': el('0..1', ['Address', 'Reference'], { targets: ['Location'] }),
  })),
  item: el('0..*', backbone('Claim.item', {
    careTeamSequence: el('0..*', 'positiveInt'),
    diagnosisSequence: el('0..*', 'positiveInt'),
    procedureSequence: el('0..*', 'positiveInt'),
    informationSequence: el('0..*', 'positiveInt'),
    ...CLAIM_LINE,
    'serviced[x]': el('0..1', ['date', 'Period']),
    'location[x]': el('0..1', ['CodeableConcept', 'Address', 'Reference'], { targets: ['Location'] }),
    bodySite: el('0..1', 'CodeableConcept'),
    subSite: el('0..*', 'CodeableConcept'),
    encounter: ref('0..*', 'Encounter'),
    detail: el('0..*', backbone('Claim.item.detail', { ...CLAIM_LINE, subDetail: el('0..*', subDetail) })),
  })),
  total: el('0..1', 'Money'),
});

// --- DocumentReference ---------------------------------------------------------------------------------
const documentReference = resource('DocumentReference', {
  masterIdentifier: el('0..1', 'Identifier'),
  identifier: el('0..*', 'Identifier'),
  status: el('1..1', 'code', { binding: VALUE_SETS.docRefStatus }),
  docStatus: el('0..1', 'code', { binding: VALUE_SETS.compositionStatus }),
  type: el('0..1', 'CodeableConcept'),
  category: el('0..*', 'CodeableConcept'),
  subject: ref('0..1', 'Patient', 'Practitioner', 'Group', 'Device'),
  date: el('0..1', 'instant'),
  author: ref('0..*', 'Practitioner', 'PractitionerRole', 'Organization', 'Device', 'Patient', 'RelatedPerson'),
  authenticator: ref('0..1', 'Practitioner', 'PractitionerRole', 'Organization'),
  custodian: ref('0..1', 'Organization'),
  relatesTo: el('0..*', backbone('DocumentReference.relatesTo', {
    code: el('1..1', 'code', { binding: VALUE_SETS.docRelationship }),
    target: ref('1..1', 'DocumentReference'),
  })),
  description: el('0..1', 'string'),
  securityLabel: el('0..*', 'CodeableConcept'),
  content: el('1..*', backbone('DocumentReference.content', {
    attachment: el('1..1', 'Attachment'),
    format: el('0..1', 'Coding'),
  })),
  context: el('0..1', backbone('DocumentReference.context', {
    encounter: ref('0..*', 'Encounter', 'EpisodeOfCare'),
    event: el('0..*', 'CodeableConcept'),
    period: el('0..1', 'Period'),
    facilityType: el('0..1', 'CodeableConcept'),
    practiceSetting: el('0..1', 'CodeableConcept'),
    sourcePatientInfo: ref('0..1', 'Patient'),
    related: el('0..*', 'Reference'),
  })),
});

// --- Bundle --------------------------------------------------------------------------------------------
const bundleLink = backbone('Bundle.link', { relation: el('1..1', 'string'), url: el('1..1', 'uri') });
const bundleEntry = backbone('Bundle.entry', {
  link: el('0..*', bundleLink),
  fullUrl: el('0..1', 'uri'),
  resource: el('0..1', 'Resource'),
  search: el('0..1', backbone('Bundle.entry.search', {
    mode: el('0..1', 'code', { binding: VALUE_SETS.searchMode }),
    score: el('0..1', 'decimal'),
  })),
  request: el('0..1', backbone('Bundle.entry.request', {
    method: el('1..1', 'code', { binding: VALUE_SETS.httpVerb }),
    url: el('1..1', 'uri'),
    ifNoneMatch: el('0..1', 'string'),
    ifModifiedSince: el('0..1', 'instant'),
    ifMatch: el('0..1', 'string'),
    ifNoneExist: el('0..1', 'string'),
  })),
  response: el('0..1', backbone('Bundle.entry.response', {
    status: el('1..1', 'string'),
    location: el('0..1', 'uri'),
    etag: el('0..1', 'string'),
    lastModified: el('0..1', 'instant'),
    outcome: el('0..1', 'Resource'),
  })),
}, [
  {
    key: 'bdl-5',
    check: (n, fail) => { if (!['resource', 'request', 'response'].some((k) => has(n, k))) fail('an entry SHALL have a resource, a request or a response'); },
  },
  {
    key: 'bdl-8',
    check: (n, fail) => { if (asString(n.fullUrl)?.includes('/_history/')) fail('fullUrl cannot be a version-specific reference', 'fullUrl'); },
  },
  { check: checkFullUrl },
]);

/** R4 Bundle rules: fullUrl is absolute, and a RESTful fullUrl agrees with the resource's type and id. */
function checkFullUrl(n: JsonObject, fail: (message: string, at?: string) => void): void {
  const url = asString(n.fullUrl);
  if (url === undefined) return;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) {
    fail(`fullUrl '${url}' SHALL be an absolute URI (e.g. urn:uuid:… or https://…/Patient/123)`, 'fullUrl');
    return;
  }
  const rest = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(url);
  const res = asObject(n.resource);
  if (rest && res && /^https?:/.test(url)) {
    if (typeof res.resourceType === 'string' && res.resourceType !== rest[1]) {
      fail(`fullUrl '${url}' names a ${rest[1]} but the resource is a ${res.resourceType}`, 'fullUrl');
    } else if (typeof res.id === 'string' && res.id !== rest[2]) {
      fail(`fullUrl '${url}' SHALL agree with the resource id '${res.id}'`, 'fullUrl');
    }
  }
}

const entriesOf = (n: JsonObject): JsonObject[] => asArray(n.entry).map((e) => asObject(e) ?? {});

const bundleRules: Invariant[] = [
  {
    key: 'bdl-1',
    check: (n, fail) => { if (has(n, 'total') && !['searchset', 'history'].includes(String(n.type))) fail('total only when a search or history', 'total'); },
  },
  {
    key: 'bdl-2',
    check: (n, fail) => entriesOf(n).forEach((e, i) => {
      if (has(e, 'search') && n.type !== 'searchset') fail('entry.search only when a search', `entry[${i}].search`);
    }),
  },
  {
    key: 'bdl-3',
    check: (n, fail) => entriesOf(n).forEach((e, i) => {
      const needs = ['batch', 'transaction', 'history'].includes(String(n.type));
      if (needs && !has(e, 'request')) fail(`entry.request is required in a ${String(n.type)} Bundle`, `entry[${i}].request`);
      if (!needs && has(e, 'request') && typeof n.type === 'string') fail(`entry.request is not allowed in a ${n.type} Bundle`, `entry[${i}].request`);
    }),
  },
  {
    key: 'bdl-4',
    check: (n, fail) => entriesOf(n).forEach((e, i) => {
      const needs = ['batch-response', 'transaction-response', 'history'].includes(String(n.type));
      if (needs && !has(e, 'response')) fail(`entry.response is required in a ${String(n.type)} Bundle`, `entry[${i}].response`);
      if (!needs && has(e, 'response') && typeof n.type === 'string') fail(`entry.response is not allowed in a ${n.type} Bundle`, `entry[${i}].response`);
    }),
  },
  {
    key: 'bdl-7',
    check: (n, fail) => {
      if (n.type === 'history') return;
      const seen = new Map<string, { index: number; versions: Set<string | undefined> }>();
      entriesOf(n).forEach((e, i) => {
        const url = asString(e.fullUrl);
        if (url === undefined) return;
        const version = asString(asObject(asObject(e.resource)?.meta)?.versionId);
        const prior = seen.get(url);
        if (!prior) {
          seen.set(url, { index: i, versions: new Set([version]) });
        } else if (version === undefined || prior.versions.has(version)) {
          fail(`fullUrl '${url}' is not unique in this Bundle (also entry[${prior.index}])`, `entry[${i}].fullUrl`);
        } else {
          prior.versions.add(version);
        }
      });
    },
  },
  {
    key: 'bdl-9',
    check: (n, fail) => {
      const id = asObject(n.identifier);
      if (n.type === 'document' && !(id && has(id, 'system') && has(id, 'value'))) fail('a document SHALL have an identifier with a system and a value', 'identifier');
    },
  },
  {
    key: 'bdl-10',
    check: (n, fail) => { if (n.type === 'document' && !has(n, 'timestamp')) fail('a document SHALL have a timestamp', 'timestamp'); },
  },
  {
    key: 'bdl-11',
    check: (n, fail) => {
      if (n.type === 'document' && asObject(entriesOf(n)[0]?.resource)?.resourceType !== 'Composition') {
        fail('a document SHALL have a Composition as its first resource', 'entry[0]');
      }
    },
  },
  {
    key: 'bdl-12',
    check: (n, fail) => {
      if (n.type === 'message' && asObject(entriesOf(n)[0]?.resource)?.resourceType !== 'MessageHeader') {
        fail('a message SHALL have a MessageHeader as its first resource', 'entry[0]');
      }
    },
  },
];

const bundle = resource('Bundle', {
  identifier: el('0..1', 'Identifier'),
  type: el('1..1', 'code', { binding: VALUE_SETS.bundleType }),
  timestamp: el('0..1', 'instant'),
  total: el('0..1', 'unsignedInt'),
  link: el('0..*', bundleLink),
  entry: el('0..*', bundleEntry),
  signature: el('0..1', 'Signature'),
}, bundleRules, { domain: false });

export const RESOURCES: ReadonlyMap<string, StructureDef> = new Map(
  [patient, observation, condition, procedure, claim, documentReference, bundle].map((d) => [d.name, d]),
);
export const SUPPORTED_RESOURCE_TYPES: readonly string[] = [...RESOURCES.keys()];
