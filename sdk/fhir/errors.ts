/**
 * Error types of the FHIR module. Issue codes are FHIR's own OperationOutcome issue types
 * (http://hl7.org/fhir/R4/valueset-issue-type.html) so a result maps 1:1 onto an OperationOutcome.
 */

export type IssueCode =
  | 'structure' // wrong JSON shape, unknown element, empty object/array, array vs single value
  | 'required' // a required element is missing
  | 'value' // a primitive has the wrong JSON type or format
  | 'code-invalid' // a code outside a required value set
  | 'invariant' // a FHIR invariant (e.g. bdl-7, obs-6) is violated
  | 'not-found' // a reference does not resolve where it must (urn:uuid in a Bundle, #contained)
  | 'not-supported' // a resource type or value type this validator does not handle
  | 'too-long' // input over the size cap
  | 'too-costly'; // input over the depth cap, or too many issues to list

export interface ValidationIssue {
  /** FHIRPath-like location, e.g. `Bundle.entry[2].resource.code.coding[0].system`. */
  readonly path: string;
  readonly message: string;
  readonly code: IssueCode;
}

export interface ValidationResult {
  readonly valid: boolean;
  readonly issues: readonly ValidationIssue[];
}

export class FhirValidationError extends Error {
  readonly code = 'FHIR_INVALID' as const;
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : '';
    super(`invalid FHIR resource, ${issues.length} issue(s): ${shown}${more}`);
    this.name = 'FhirValidationError';
    this.issues = issues;
  }
}

export type CsvErrorCode =
  | 'CSV_SYNTAX' // unbalanced quotes and the like: the file cannot be read reliably past this point
  | 'CSV_HEADER' // missing or repeated columns
  | 'CSV_ROWS' // one or more rows have bad values (see issues)
  | 'CSV_TOO_LARGE'
  | 'CSV_OPTIONS';

export interface CsvIssue {
  /** 1-based physical line where the record starts; 0 for a problem with the options, not the text. */
  readonly line: number;
  /** Column name as in the header, when the problem is one value. */
  readonly column?: string;
  readonly message: string;
}

export class CsvImportError extends Error {
  readonly code: CsvErrorCode;
  readonly issues: readonly CsvIssue[];

  constructor(code: CsvErrorCode, issues: readonly CsvIssue[]) {
    const shown = issues.slice(0, 5).map(formatCsvIssue).join('; ');
    const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : '';
    super(`${code}: ${shown}${more}`);
    this.name = 'CsvImportError';
    this.code = code;
    this.issues = issues;
  }
}

export function formatCsvIssue(i: CsvIssue): string {
  if (i.line === 0) return i.message;
  return `line ${i.line}${i.column ? `, column ${i.column}` : ''}: ${i.message}`;
}
