/**
 * Imports the paper's synthetic dataset (Patient_ID, Age, Gender, Condition, Procedure, Cost,
 * Length_of_Stay, Readmission, Outcome) as FHIR R4: one Bundle per row holding a pseudonymous
 * Patient, a Condition, a Procedure, four Observations (age, length of stay, readmission, outcome)
 * and a Claim. Every Bundle is checked with validateResource before it is returned.
 *
 * Bundle type: `collection` by default. A record here is a package that is encrypted and shared, not
 * an instruction to a FHIR server, and `collection` is R4's type for "a set of resources collected
 * into a single package". `transaction` is offered for receivers that load records into their own
 * server: every entry gets a POST request, and the Patient a conditional create (ifNoneExist on the
 * dataset identifier) so repeated rows for one Patient_ID do not create duplicate patients.
 *
 * Age: the dataset has an age but no date of birth. The Patient gets a year-only birthDate
 * (recordDate's year minus the age; R4 dates may have year precision, which says "approximate" in the
 * data itself) and the exact age is kept as an Observation coded LOINC 30525-0 "Age", so nothing is
 * lost and no custom extension is needed.
 */
import { CsvImportError, type CsvIssue } from './errors.js';
import { parseCsv, type CsvRecord } from './csvText.js';
import {
  ACT_REASON, CLAIM_TYPE, CONDITION_CATEGORY, CONDITION_CODES, DATASET_PATIENT_ID_SYSTEM, OBSERVATION_CODES,
  PROCEDURE_CODES, PROCESS_PRIORITY, termKey, UCUM, type Concept,
} from './terminology.js';
import { CONDITION_CLINICAL_SYSTEM } from './resources.js';
import type {
  AdministrativeGender, Bundle, BundleEntry, Claim, CodeableConcept, Condition, FhirResource, Meta, Money, Observation,
  Patient, Procedure,
} from './types.js';
import { urnUuid } from './uuid.js';
import { assertValidResource } from './validate.js';

/** The paper's header, in the paper's order. */
export const DATASET_COLUMNS = [
  'Patient_ID', 'Age', 'Gender', 'Condition', 'Procedure', 'Cost', 'Length_of_Stay', 'Readmission', 'Outcome',
] as const;
export type DatasetColumn = (typeof DATASET_COLUMNS)[number];

export interface DatasetRow {
  /** Physical line of the record in the CSV text. */
  readonly line: number;
  readonly patientId: string;
  readonly age: number;
  readonly gender: AdministrativeGender;
  readonly condition: string;
  readonly procedure: string;
  readonly cost: number;
  readonly lengthOfStay: number;
  readonly readmission: boolean;
  readonly outcome: string;
}

export interface CsvImportOptions {
  /** Default `collection` (see the module comment for why). */
  readonly bundleType?: 'collection' | 'transaction';
  /** ISO 4217 code for Cost; default USD. */
  readonly currency?: string;
  /** `throw` (default): one CsvImportError listing every bad row. `skip`: import the rest and report them. */
  readonly onInvalidRow?: 'throw' | 'skip';
  /** YYYY-MM-DD: Claim.created, and the year ages are counted back from. Default: today (UTC). */
  readonly recordDate?: string;
  /** Identifier.system for Patient_ID; default DATASET_PATIENT_ID_SYSTEM. */
  readonly patientIdSystem?: string;
  /** Claim.provider is required; the dataset names none, so a display-only reference. */
  readonly providerDisplay?: string;
  /** Tag every resource with meta.security HTEST (test health data); default true: the dataset is synthetic. */
  readonly markAsTest?: boolean;
  /** Validate each Bundle before returning it; default true. */
  readonly validate?: boolean;
  /** Refuse larger input; default 64 MiB. */
  readonly maxBytes?: number;
}

export interface ImportedRow {
  readonly line: number;
  readonly patientId: string;
  readonly bundle: Bundle;
}

export interface SkippedRow {
  readonly line: number;
  readonly issues: readonly CsvIssue[];
}

export interface CsvImportResult {
  /** One per imported row, in file order (same as rows[i].bundle). */
  readonly bundles: readonly Bundle[];
  readonly rows: readonly ImportedRow[];
  /** Rows left out with onInvalidRow: 'skip'. */
  readonly skipped: readonly SkippedRow[];
  /** Header columns that are not part of the dataset (e.g. Satisfaction) and were ignored. */
  readonly ignoredColumns: readonly string[];
}

/** Parses and converts a dataset CSV; see CsvImportOptions. Throws CsvImportError (with `code`). */
export function csvToBundles(csvText: string, opts: CsvImportOptions = {}): CsvImportResult {
  const settings = resolveOptions(opts);
  const parsed = parseDatasetCsv(csvText, opts);
  const occurrences = new Map<string, number>();
  const rows = parsed.rows.map((row): ImportedRow => {
    const occurrence = occurrences.get(row.patientId) ?? 0;
    occurrences.set(row.patientId, occurrence + 1);
    const bundle = rowToBundle(row, occurrence, settings);
    if (settings.validate) assertValidResource(bundle);
    return { line: row.line, patientId: row.patientId, bundle };
  });
  return { bundles: rows.map((r) => r.bundle), rows, skipped: parsed.skipped, ignoredColumns: parsed.ignoredColumns };
}

/** The parsing half of csvToBundles: typed rows, without FHIR. */
export function parseDatasetCsv(
  csvText: string,
  opts: Pick<CsvImportOptions, 'onInvalidRow' | 'maxBytes'> = {},
): { rows: DatasetRow[]; skipped: SkippedRow[]; ignoredColumns: string[] } {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  if (csvText.length > maxBytes) {
    throw new CsvImportError('CSV_TOO_LARGE', [{ line: 1, message: `input of ${csvText.length} characters is over the ${maxBytes} limit` }]);
  }
  const [header, ...records] = parseCsv(csvText);
  if (!header) throw new CsvImportError('CSV_HEADER', [{ line: 1, message: 'empty input: no header row' }]);
  const { columns, names, ignored } = readHeader(header);

  const rows: DatasetRow[] = [];
  const skipped: SkippedRow[] = [];
  for (const record of records) {
    const result = readRow(record, columns, names, header.fields.length);
    if ('issues' in result) skipped.push(result);
    else rows.push(result);
  }
  if (skipped.length > 0 && (opts.onInvalidRow ?? 'throw') === 'throw') {
    throw new CsvImportError('CSV_ROWS', skipped.flatMap((s) => s.issues));
  }
  return { rows, skipped, ignoredColumns: ignored };
}

// --- Header --------------------------------------------------------------------------------------------

/** Case-insensitive, and blind to spaces/underscores/hyphens: `length of stay` matches Length_of_Stay. */
const headerKey = (s: string): string => s.trim().toLowerCase().replace(/[\s_-]+/g, '');

function readHeader(header: CsvRecord): { columns: Map<DatasetColumn, number>; names: Map<DatasetColumn, string>; ignored: string[] } {
  const wanted = new Map(DATASET_COLUMNS.map((c) => [headerKey(c), c] as const));
  const columns = new Map<DatasetColumn, number>();
  const names = new Map<DatasetColumn, string>();
  const ignored: string[] = [];
  const issues: CsvIssue[] = [];
  header.fields.forEach((raw, index) => {
    const column = wanted.get(headerKey(raw));
    if (!column) {
      if (raw.trim() !== '') ignored.push(raw.trim());
      return;
    }
    if (columns.has(column)) {
      issues.push({ line: header.line, column: raw.trim(), message: `column ${column} appears twice (positions ${columns.get(column)! + 1} and ${index + 1})` });
      return;
    }
    columns.set(column, index);
    names.set(column, raw.trim());
  });
  const missing = DATASET_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    issues.push({ line: header.line, message: `missing column(s) ${missing.join(', ')}; the header must name ${DATASET_COLUMNS.join(', ')} (any order and case)` });
  }
  if (issues.length > 0) throw new CsvImportError('CSV_HEADER', issues);
  return { columns, names, ignored };
}

// --- Rows ----------------------------------------------------------------------------------------------

const GENDERS = new Map<string, AdministrativeGender>([
  ['male', 'male'], ['m', 'male'], ['man', 'male'],
  ['female', 'female'], ['f', 'female'], ['woman', 'female'],
  ['other', 'other'], ['o', 'other'], ['non binary', 'other'], ['nonbinary', 'other'], ['x', 'other'],
  ['unknown', 'unknown'], ['u', 'unknown'], ['unk', 'unknown'],
]);
const YES = new Set(['yes', 'y', 'true', '1']);
const NO = new Set(['no', 'n', 'false', '0']);
const MAX_TEXT = 1000;

function readRow(
  record: CsvRecord, columns: ReadonlyMap<DatasetColumn, number>, names: ReadonlyMap<DatasetColumn, string>, width: number,
): DatasetRow | SkippedRow {
  const { line } = record;
  if (record.fields.length !== width) {
    return { line, issues: [{ line, message: `expected ${width} fields (as in the header), found ${record.fields.length}` }] };
  }
  const issues: CsvIssue[] = [];
  const get = (c: DatasetColumn): string => record.fields[columns.get(c)!]!.trim();
  const bad = (c: DatasetColumn, message: string): undefined => {
    issues.push({ line, column: names.get(c) ?? c, message });
    return undefined;
  };
  const text = (c: DatasetColumn): string | undefined => {
    const v = get(c);
    if (v === '') return bad(c, 'is empty');
    return v.length > MAX_TEXT ? bad(c, `is longer than ${MAX_TEXT} characters`) : v;
  };
  const whole = (c: DatasetColumn, max: number, unit: string): number | undefined => {
    const v = get(c);
    if (v === '') return bad(c, 'is empty');
    if (/^-\d/.test(v)) return bad(c, `'${v}' must not be negative`);
    if (!/^\d+$/.test(v)) return bad(c, `'${clip(v)}' is not a whole number of ${unit}`);
    const n = Number(v);
    return n > max ? bad(c, `${v} ${unit} is implausible (at most ${max})`) : n;
  };

  const patientId = text('Patient_ID');
  const age = whole('Age', 150, 'years');
  const lengthOfStay = whole('Length_of_Stay', 3650, 'days');
  const condition = text('Condition');
  const procedure = text('Procedure');
  const outcome = text('Outcome');

  const genderText = get('Gender');
  const gender = genderText === ''
    ? bad('Gender', "is empty (use 'Unknown' when not known)")
    : GENDERS.get(termKey(genderText)) ?? bad('Gender', `'${clip(genderText)}' is not a known gender (Male, Female, Other or Unknown)`);

  const costText = get('Cost');
  let cost: number | undefined;
  if (costText === '') bad('Cost', 'is empty');
  else if (/^-\s*\d/.test(costText)) bad('Cost', `'${costText}' must not be negative`);
  else if (!/^\d+(\.\d+)?$/.test(costText)) bad('Cost', `'${clip(costText)}' is not an amount (digits with an optional decimal point, no currency sign or thousands separator)`);
  else if (Number(costText) > 1e12) bad('Cost', `${costText} is implausibly large`);
  else cost = Number(costText);

  const readmissionText = termKey(get('Readmission'));
  const readmission = YES.has(readmissionText) ? true : NO.has(readmissionText) ? false
    : bad('Readmission', `'${clip(get('Readmission'))}' is not yes/no (Yes, No, Y, N, true, false, 1, 0)`);

  if (issues.length > 0) return { line, issues };
  return {
    line, patientId: patientId!, age: age!, gender: gender!, condition: condition!, procedure: procedure!,
    cost: cost!, lengthOfStay: lengthOfStay!, readmission: readmission!, outcome: outcome!,
  };
}

const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

// --- FHIR ----------------------------------------------------------------------------------------------

interface Settings {
  readonly bundleType: 'collection' | 'transaction';
  readonly currency: string;
  readonly recordDate: string;
  readonly patientIdSystem: string;
  readonly providerDisplay: string;
  readonly meta: Meta | undefined;
  readonly validate: boolean;
}

function resolveOptions(opts: CsvImportOptions): Settings {
  const currency = opts.currency ?? 'USD';
  const recordDate = opts.recordDate ?? new Date().toISOString().slice(0, 10);
  const issues: CsvIssue[] = [];
  if (!/^[A-Z]{3}$/.test(currency)) issues.push({ line: 0, message: `currency '${currency}' is not an ISO 4217 code (three upper-case letters)` });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(recordDate) || Number.isNaN(Date.parse(recordDate))) {
    issues.push({ line: 0, message: `recordDate '${recordDate}' is not a YYYY-MM-DD date` });
  }
  if (opts.bundleType !== undefined && opts.bundleType !== 'collection' && opts.bundleType !== 'transaction') {
    issues.push({ line: 0, message: `bundleType must be collection or transaction, not '${String(opts.bundleType)}'` });
  }
  if (issues.length > 0) throw new CsvImportError('CSV_OPTIONS', issues);
  return {
    bundleType: opts.bundleType ?? 'collection',
    currency,
    recordDate,
    patientIdSystem: opts.patientIdSystem ?? DATASET_PATIENT_ID_SYSTEM,
    providerDisplay: opts.providerDisplay ?? 'Provider not recorded in the dataset',
    meta: opts.markAsTest === false ? undefined : { security: [{ system: ACT_REASON, code: 'HTEST', display: 'test health data' }] },
    validate: opts.validate ?? true,
  };
}

/** Outcome text → what it implies for Condition.clinicalStatus and Patient.deceased. */
const OUTCOMES = new Map<string, { clinical?: 'resolved' | 'active'; deceased?: true }>([
  ['recovered', { clinical: 'resolved' }], ['resolved', { clinical: 'resolved' }], ['cured', { clinical: 'resolved' }],
  ['stable', { clinical: 'active' }], ['improved', { clinical: 'active' }], ['ongoing', { clinical: 'active' }],
  ['deceased', { deceased: true }], ['died', { deceased: true }], ['dead', { deceased: true }], ['expired', { deceased: true }],
]);

function concept(text: string, codes: ReadonlyMap<string, readonly Concept[]>): CodeableConcept {
  const coding = codes.get(termKey(text));
  return coding ? { coding: coding.map((c) => ({ ...c })), text } : { text };
}

function rowToBundle(row: DatasetRow, occurrence: number, s: Settings): Bundle {
  const name = (kind: string): string => urnUuid(JSON.stringify([kind, row.patientId, occurrence]));
  const urls = {
    patient: urnUuid(JSON.stringify(['Patient', row.patientId])),
    condition: name('Condition'),
    procedure: name('Procedure'),
    age: name('Observation/age'),
    stay: name('Observation/length-of-stay'),
    readmission: name('Observation/readmission'),
    outcome: name('Observation/outcome'),
    claim: name('Claim'),
  };
  const subject = { reference: urls.patient };
  const outcome = OUTCOMES.get(termKey(row.outcome));
  const birthYear = Number(s.recordDate.slice(0, 4)) - row.age;
  const money: Money = { value: row.cost, currency: s.currency };
  const procedureCode = concept(row.procedure, PROCEDURE_CODES);

  const patient: Patient = {
    resourceType: 'Patient',
    // Pseudonymous: the dataset id is the only identifier; no name, address or contact.
    identifier: [{ use: 'usual', system: s.patientIdSystem, value: row.patientId }],
    gender: row.gender,
    ...(birthYear >= 1 ? { birthDate: String(birthYear).padStart(4, '0') } : {}),
    ...(outcome?.deceased ? { deceasedBoolean: true } : {}),
  };
  const condition: Condition = {
    resourceType: 'Condition',
    ...(outcome?.clinical
      ? { clinicalStatus: { coding: [{ system: CONDITION_CLINICAL_SYSTEM, code: outcome.clinical }] } }
      : {}),
    category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
    code: concept(row.condition, CONDITION_CODES),
    subject,
  };
  const procedure: Procedure = {
    resourceType: 'Procedure',
    status: 'completed',
    code: procedureCode,
    subject,
    reasonReference: [{ reference: urls.condition }],
  };
  const observation = (code: Concept, value: Partial<Observation>): Observation => ({
    resourceType: 'Observation', status: 'final', code: { coding: [{ ...code }], text: code.display }, subject, ...value,
  });
  const claim: Claim = {
    resourceType: 'Claim',
    status: 'active',
    type: { coding: [{ system: CLAIM_TYPE, code: 'institutional', display: 'Institutional' }] },
    use: 'claim',
    patient: subject,
    created: s.recordDate,
    provider: { display: s.providerDisplay },
    priority: { coding: [{ system: PROCESS_PRIORITY, code: 'normal', display: 'Normal' }] },
    // Claim.insurance is 1..*; the dataset has no payer, so a display-only coverage says so.
    insurance: [{ sequence: 1, focal: true, coverage: { display: 'Coverage not recorded in the dataset' } }],
    diagnosis: [{ sequence: 1, diagnosisReference: { reference: urls.condition } }],
    procedure: [{ sequence: 1, procedureReference: { reference: urls.procedure } }],
    item: [{ sequence: 1, diagnosisSequence: [1], procedureSequence: [1], productOrService: procedureCode, net: money }],
    total: money,
  };

  const entries: Array<[string, FhirResource]> = [
    [urls.patient, patient],
    [urls.condition, condition],
    [urls.procedure, procedure],
    [urls.age, observation(OBSERVATION_CODES.age, { valueQuantity: { value: row.age, unit: 'years', system: UCUM, code: 'a' } })],
    [urls.stay, observation(OBSERVATION_CODES.lengthOfStay, { valueQuantity: { value: row.lengthOfStay, unit: 'days', system: UCUM, code: 'd' } })],
    [urls.readmission, observation(OBSERVATION_CODES.readmission, { valueBoolean: row.readmission })],
    [urls.outcome, observation(OBSERVATION_CODES.outcome, { valueCodeableConcept: { text: row.outcome } })],
    [urls.claim, claim],
  ];
  return {
    resourceType: 'Bundle',
    ...(s.meta ? { meta: structuredClone(s.meta) } : {}),
    type: s.bundleType,
    entry: entries.map(([fullUrl, resource]) => entry(fullUrl, resource, row, s)),
  };
}

function entry(fullUrl: string, resource: FhirResource, row: DatasetRow, s: Settings): BundleEntry {
  const { resourceType: type, ...body } = resource;
  // A collection keeps ids (the uuid); in a transaction the server assigns them, so none is sent.
  const id = s.bundleType === 'collection' ? { id: fullUrl.slice('urn:uuid:'.length) } : {};
  // structuredClone: the builders share sub-objects (subject, meta, money); callers may mutate one resource.
  const full = structuredClone({ resourceType: type, ...id, ...(s.meta ? { meta: s.meta } : {}), ...body }) as FhirResource;
  if (s.bundleType === 'collection') return { fullUrl, resource: full };
  const request = type === 'Patient'
    ? { method: 'POST' as const, url: 'Patient', ifNoneExist: `identifier=${encodeURIComponent(s.patientIdSystem)}|${encodeURIComponent(row.patientId)}` }
    : { method: 'POST' as const, url: type };
  return { fullUrl, resource: full, request };
}
