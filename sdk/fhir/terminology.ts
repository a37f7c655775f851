/**
 * Code systems and the small built-in tables that map the paper's free-text Condition and Procedure
 * values to SNOMED CT (and ICD-10-CM where one code fits the text without guessing the subtype).
 * Text with no exact, unambiguous concept (e.g. "Fractured Arm": forearm or humerus?) stays text-only:
 * a wrong code is worse than none in a shared record.
 */

export const SNOMED = 'http://snomed.info/sct';
export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
export const CLAIM_TYPE = 'http://terminology.hl7.org/CodeSystem/claim-type';
export const PROCESS_PRIORITY = 'http://terminology.hl7.org/CodeSystem/processpriority';
/** HL7 v3 ActReason; HTEST marks test (synthetic) health data in meta.security. */
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/**
 * This project's code system for the dataset columns that have no standard code. The `.example`
 * domain is reserved: these URIs identify, they are not meant to resolve.
 */
export const DATASET_CODE_SYSTEM = 'https://medrollup.example/fhir/CodeSystem/synthetic-dataset';
export const DATASET_PATIENT_ID_SYSTEM = 'https://medrollup.example/fhir/sid/synthetic-patient-id';

export interface Concept {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** Lookup key: lower case, runs of whitespace, '_' and '-' collapsed to one space. */
export function termKey(text: string): string {
  return text.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

function table(rows: ReadonlyArray<readonly [readonly string[], readonly Concept[]]>): ReadonlyMap<string, readonly Concept[]> {
  const m = new Map<string, readonly Concept[]>();
  for (const [names, concepts] of rows) for (const n of names) m.set(termKey(n), concepts);
  return m;
}

const sct = (code: string, display: string): Concept => ({ system: SNOMED, code, display });
const icd = (code: string, display: string): Concept => ({ system: ICD10CM, code, display });

export const CONDITION_CODES = table([
  [['Heart Disease'], [sct('56265001', 'Heart disease'), icd('I51.9', 'Heart disease, unspecified')]],
  [['Heart Attack', 'Myocardial Infarction'], [sct('22298006', 'Myocardial infarction'), icd('I21.9', 'Acute myocardial infarction, unspecified')]],
  [['Diabetes', 'Diabetes Mellitus'], [sct('73211009', 'Diabetes mellitus')]],
  [['Hypertension', 'High Blood Pressure'], [sct('38341003', 'Hypertensive disorder, systemic arterial'), icd('I10', 'Essential (primary) hypertension')]],
  [['Stroke', 'Cerebrovascular Accident'], [sct('230690007', 'Cerebrovascular accident')]],
  [['Cancer', 'Malignant Neoplasm'], [sct('363346000', 'Malignant neoplastic disease'), icd('C80.1', 'Malignant (primary) neoplasm, unspecified')]],
  [['Prostate Cancer'], [sct('399068003', 'Malignant tumor of prostate'), icd('C61', 'Malignant neoplasm of prostate')]],
  [['Appendicitis'], [sct('74400008', 'Appendicitis'), icd('K37', 'Unspecified appendicitis')]],
  [['Kidney Stones', 'Kidney Stone', 'Nephrolithiasis'], [sct('95570007', 'Kidney stone'), icd('N20.0', 'Calculus of kidney')]],
  [['Osteoarthritis'], [sct('396275006', 'Osteoarthritis'), icd('M19.90', 'Unspecified osteoarthritis, unspecified site')]],
  [['Respiratory Infection', 'Respiratory Tract Infection'], [sct('275498002', 'Respiratory tract infection')]],
  [['Allergic Reaction'], [sct('419076005', 'Allergic reaction')]],
  [['Asthma'], [sct('195967001', 'Asthma')]],
  [['Pneumonia'], [sct('233604007', 'Pneumonia'), icd('J18.9', 'Pneumonia, unspecified organism')]],
  [['COPD', 'Chronic Obstructive Pulmonary Disease'], [sct('13645005', 'Chronic obstructive lung disease'), icd('J44.9', 'Chronic obstructive pulmonary disease, unspecified')]],
]);

export const PROCEDURE_CODES = table([
  [['Appendectomy'], [sct('80146002', 'Appendectomy')]],
  [['Cesarean Section', 'Caesarean Section', 'C-Section'], [sct('11466000', 'Cesarean section')]],
  [['Cardiac Catheterization'], [sct('41976001', 'Cardiac catheterization')]],
  [['Percutaneous Coronary Intervention', 'PCI'], [sct('415070008', 'Percutaneous coronary intervention')]],
  [['Radiation Therapy', 'Radiotherapy'], [sct('108290001', 'Radiation oncology AND/OR radiotherapy')]],
  [['Chemotherapy'], [sct('367336001', 'Chemotherapy')]],
  [['Physical Therapy', 'Physiotherapy'], [sct('91251008', 'Physical therapy procedure')]],
  [['Knee Replacement', 'Total Knee Replacement'], [sct('609588000', 'Total knee replacement')]],
  [['CT Scan'], [sct('77477000', 'Computerized axial tomography')]],
  [['X-Ray'], [sct('363680008', 'Radiographic imaging procedure')]],
]);

/** LOINC 30525-0 "Age"; the other dataset columns use DATASET_CODE_SYSTEM. */
export const OBSERVATION_CODES = {
  age: { system: LOINC, code: '30525-0', display: 'Age' },
  lengthOfStay: { system: DATASET_CODE_SYSTEM, code: 'length-of-stay', display: 'Length of hospital stay' },
  readmission: { system: DATASET_CODE_SYSTEM, code: 'readmission', display: 'Readmitted to hospital' },
  outcome: { system: DATASET_CODE_SYSTEM, code: 'outcome', display: 'Outcome of care' },
} as const satisfies Record<string, Concept>;
