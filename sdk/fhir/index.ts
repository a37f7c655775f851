/** FHIR R4 records on the client: types, validation, the paper's CSV importer and a test-data generator. */
export type * from './types.js';
export {
  FhirValidationError, CsvImportError, formatCsvIssue,
  type IssueCode, type ValidationIssue, type ValidationResult, type CsvErrorCode, type CsvIssue,
} from './errors.js';
export { validateResource, validateJson, assertValidResource, isValidResource, type ValidateOptions } from './validate.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { SUPPORTED_RESOURCE_TYPES, VALUE_SETS } from './resources.js';
export {
  csvToBundles, parseDatasetCsv, DATASET_COLUMNS,
  type CsvImportOptions, type CsvImportResult, type DatasetColumn, type DatasetRow, type ImportedRow, type SkippedRow,
} from './csv.js';
export { parseCsv, formatCsv, formatCsvField, type CsvRecord } from './csvText.js';
export { generateSyntheticCsv, generateSyntheticRows, CASE_PROFILES, type SyntheticCsvOptions, type SyntheticRow } from './generate.js';
export * as terminology from './terminology.js';
export { uuidV5, urnUuid } from './uuid.js';
