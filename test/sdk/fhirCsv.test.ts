/**
 * sdk/fhir CSV: the synthetic-data generator and the importer that turns the paper's dataset into
 * FHIR Bundles (every Bundle must pass the validator), with RFC 4180 edge cases and row errors that
 * name the line and column.
 */
import {
  CsvImportError, DATASET_COLUMNS, csvToBundles, generateSyntheticCsv, generateSyntheticRows, parseCsv, validateResource,
  type Bundle, type Claim, type Condition, type FhirResource, type Observation, type Patient,
} from '../../sdk/fhir/index.js';

const HEADER = DATASET_COLUMNS.join(',');
const RECORD_DATE = '2024-06-30';
const csv = (...lines: string[]): string => [HEADER, ...lines].join('\n');

function resources<T extends FhirResource>(b: Bundle, type: T['resourceType']): T[] {
  return (b.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

function importError(fn: () => unknown): CsvImportError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CsvImportError) return e;
    throw e;
  }
  throw new Error('expected a CsvImportError');
}

describe('generateSyntheticCsv', () => {
  it('is deterministic for a seed and writes the paper header', () => {
    const a = generateSyntheticCsv({ rows: 50, seed: 7 });
    expect(generateSyntheticCsv({ rows: 50, seed: 7 })).toBe(a);
    expect(generateSyntheticCsv({ rows: 50, seed: 8 })).not.toBe(a);
    expect(generateSyntheticCsv({ rows: 50, seed: 'paper' })).toBe(generateSyntheticCsv({ rows: 50, seed: 'paper' }));
    const lines = a.trimEnd().split('\n');
    expect(lines[0]).toBe('Patient_ID,Age,Gender,Condition,Procedure,Cost,Length_of_Stay,Readmission,Outcome');
    expect(lines).toHaveLength(51);
  });

  it('draws plausible values', () => {
    const rows = generateSyntheticRows({ rows: 2000, seed: 1 });
    for (const r of rows) {
      expect(r.age).toBeGreaterThanOrEqual(18);
      expect(r.age).toBeLessThanOrEqual(95);
      expect(r.lengthOfStay).toBeGreaterThanOrEqual(1);
      expect(r.lengthOfStay).toBeLessThanOrEqual(30);
      expect(r.cost).toBeGreaterThan(0);
      if (r.condition === 'Prostate Cancer') expect(r.gender).toBe('Male');
      if (r.condition === 'Childbirth') expect(r.gender).toBe('Female');
    }
    const share = (p: (r: (typeof rows)[number]) => boolean): number => rows.filter(p).length / rows.length;
    expect(share((r) => r.readmission)).toBeGreaterThan(0.05);
    expect(share((r) => r.readmission)).toBeLessThan(0.4);
    expect(share((r) => r.gender === 'Female')).toBeGreaterThan(0.4);
    expect(share((r) => r.outcome === 'Deceased')).toBeLessThan(0.05);
    expect(new Set(rows.map((r) => r.condition)).size).toBeGreaterThan(10);
    // Longer stays cost more on average.
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const cancer = rows.filter((r) => r.condition === 'Cancer');
    expect(mean(cancer.filter((r) => r.lengthOfStay > 14).map((r) => r.cost))).toBeGreaterThan(mean(cancer.filter((r) => r.lengthOfStay <= 10).map((r) => r.cost)));
  });

  it('rejects a bad row count', () => {
    expect(() => generateSyntheticCsv({ rows: 0, seed: 1 })).toThrow(RangeError);
  });
});

describe('csvToBundles on generated data', () => {
  const text = generateSyntheticCsv({ rows: 200, seed: 2024 });

  it('yields one valid collection Bundle per row with the six resource kinds', () => {
    const { bundles, rows, skipped, ignoredColumns } = csvToBundles(text, { recordDate: RECORD_DATE, validate: false });
    expect(bundles).toHaveLength(200);
    expect(skipped).toEqual([]);
    expect(ignoredColumns).toEqual([]);
    expect(rows[0]!.line).toBe(2);
    for (const b of bundles) {
      expect(validateResource(b).issues).toEqual([]);
      expect(b.type).toBe('collection');
      expect((b.entry ?? []).map((e) => e.resource?.resourceType)).toEqual(
        ['Patient', 'Condition', 'Procedure', 'Observation', 'Observation', 'Observation', 'Observation', 'Claim'],
      );
    }
  });

  it('carries every CSV value into the resources', () => {
    const source = generateSyntheticRows({ rows: 200, seed: 2024 });
    const { bundles } = csvToBundles(text, { recordDate: RECORD_DATE, currency: 'EUR' });
    bundles.forEach((b, i) => {
      const row = source[i]!;
      const [patient] = resources<Patient>(b, 'Patient');
      const [condition] = resources<Condition>(b, 'Condition');
      const [claim] = resources<Claim>(b, 'Claim');
      const obs = resources<Observation>(b, 'Observation');
      expect(patient!.identifier![0]!.value).toBe(row.patientId);
      expect(patient!.gender).toBe(row.gender.toLowerCase());
      expect(patient!.birthDate).toBe(String(2024 - row.age));
      expect(condition!.code!.text).toBe(row.condition);
      expect(claim!.total).toEqual({ value: row.cost, currency: 'EUR' });
      expect(obs.map((o) => o.valueQuantity?.value ?? o.valueBoolean ?? o.valueCodeableConcept?.text)).toEqual(
        [row.age, row.lengthOfStay, row.readmission, row.outcome],
      );
      if (row.outcome === 'Deceased') expect(patient!.deceasedBoolean).toBe(true);
    });
  });

  it('is reproducible: same input, same Bundles (deterministic fullUrls)', () => {
    expect(csvToBundles(text, { recordDate: RECORD_DATE }).bundles).toEqual(csvToBundles(text, { recordDate: RECORD_DATE }).bundles);
  });

  it('builds valid transaction Bundles with POSTs and a conditional create for the Patient', () => {
    const { bundles } = csvToBundles(text, { recordDate: RECORD_DATE, bundleType: 'transaction' });
    for (const b of bundles) expect(validateResource(b).valid).toBe(true);
    const [first] = bundles[0]!.entry!;
    expect(first!.request).toEqual({
      method: 'POST', url: 'Patient',
      ifNoneExist: 'identifier=https%3A%2F%2Fmedrollup.example%2Ffhir%2Fsid%2Fsynthetic-patient-id|1',
    });
    expect(first!.resource!.id).toBeUndefined();
  });
});

describe('csvToBundles mapping', () => {
  const one = (line: string, opts = {}): Bundle => csvToBundles(csv(line), { recordDate: RECORD_DATE, ...opts }).bundles[0]!;

  it('codes known conditions and procedures and keeps unknown ones as text', () => {
    const coded = one('1,45,F,Appendicitis,Appendectomy,12000,2,No,Recovered');
    const [condition] = resources<Condition>(coded, 'Condition');
    expect(condition!.code!.coding!.map((c) => `${c.system}|${c.code}`)).toEqual(['http://snomed.info/sct|74400008', 'http://hl7.org/fhir/sid/icd-10-cm|K37']);
    expect(condition!.clinicalStatus!.coding![0]!.code).toBe('resolved');
    expect(resources<Patient>(coded, 'Patient')[0]!.gender).toBe('female');
    const text = one('2,45,Male,Mystery Illness,Watchful Waiting,100,1,Yes,Stable');
    expect(resources<Condition>(text, 'Condition')[0]!.code).toEqual({ text: 'Mystery Illness' });
  });

  it('marks resources as test data unless told otherwise', () => {
    expect(resources<Patient>(one('1,45,F,Asthma,Inhaler,10,1,No,Stable'), 'Patient')[0]!.meta?.security?.[0]?.code).toBe('HTEST');
    expect(resources<Patient>(one('1,45,F,Asthma,Inhaler,10,1,No,Stable', { markAsTest: false }), 'Patient')[0]!.meta).toBeUndefined();
  });

  it('gives a repeated Patient_ID the same Patient fullUrl and new fullUrls for the rest', () => {
    const { bundles } = csvToBundles(csv('7,45,F,Asthma,Inhaler,10,1,No,Stable', '7,46,F,Asthma,Inhaler,20,2,Yes,Stable'), { recordDate: RECORD_DATE });
    const urls = bundles.map((b) => b.entry!.map((e) => e.fullUrl));
    expect(urls[0]![0]).toBe(urls[1]![0]);
    expect(urls[0]![1]).not.toBe(urls[1]![1]);
  });
});

describe('CSV parsing edge cases', () => {
  it('handles quotes, commas and line breaks in quotes, CRLF and a BOM', () => {
    const text = '\uFEFF' + [
      HEADER,
      '1,40,Female,"Fracture, left ""distal"" radius","Surgery,\r\nthen cast",1500.50,3,No,Recovered',
      '2,41,Male,Asthma,Inhaler,10,1,No,Stable',
    ].join('\r\n') + '\r\n';
    const { rows } = csvToBundles(text, { recordDate: RECORD_DATE });
    expect(rows.map((r) => r.line)).toEqual([2, 4]);
    const [condition] = resources<Condition>(rows[0]!.bundle, 'Condition');
    expect(condition!.code!.text).toBe('Fracture, left "distal" radius');
    expect(resources<Claim>(rows[0]!.bundle, 'Claim')[0]!.item![0]!.productOrService.text).toBe('Surgery,\r\nthen cast');
  });

  it('accepts reordered, differently cased headers and ignores extra columns', () => {
    const text = [
      'outcome,READMISSION,length of stay,cost,procedure,condition,gender,age,patient_id,Satisfaction',
      'Stable,yes,4,999.99,Angioplasty,Heart Disease,male,70,P-9,5',
    ].join('\n');
    const r = csvToBundles(text, { recordDate: RECORD_DATE });
    expect(r.ignoredColumns).toEqual(['Satisfaction']);
    const b = r.bundles[0]!;
    expect(resources<Patient>(b, 'Patient')[0]!.identifier![0]!.value).toBe('P-9');
    expect(resources<Claim>(b, 'Claim')[0]!.total!.value).toBe(999.99);
    expect(resources<Observation>(b, 'Observation')[2]!.valueBoolean).toBe(true);
  });

  it('skips blank lines and keeps physical line numbers', () => {
    expect(parseCsv('a,b\n\n1,2\r\n\r\n3,4').map((r) => [r.line, ...r.fields])).toEqual([[1, 'a', 'b'], [3, '1', '2'], [5, '3', '4']]);
    expect(parseCsv('a,"x\ny"\nb,c').map((r) => r.line)).toEqual([1, 3]);
    expect(parseCsv('a,,\n').map((r) => r.fields)).toEqual([['a', '', '']]);
  });

  it('refuses unbalanced quotes with the line where they start', () => {
    const e = importError(() => parseCsv('a,b\n1,"open\n2,3'));
    expect(e.code).toBe('CSV_SYNTAX');
    expect(e.issues[0]).toEqual({ line: 2, message: 'unterminated quoted field (a " is never closed)' });
    expect(importError(() => parseCsv('a,b\n1,"x"y')).issues[0]!.line).toBe(2);
    expect(importError(() => parseCsv('a,b\n1,x"y')).message).toContain('quote inside an unquoted field');
  });
});

describe('bad rows and headers', () => {
  const bad = csv(
    '1,forty,Female,Asthma,Inhaler,10,1,No,Stable',
    '2,40,Robot,Asthma,Inhaler,10,1,No,Stable',
    '3,40,Female,Asthma,Inhaler,-5,1,No,Stable',
    '4,40,Female,Asthma,Inhaler,10,1,No',
    '5,40,Female,Asthma,Inhaler,10,1,No,Stable',
    '6,40,Female,Asthma,Inhaler,"1,200",2.5,maybe,Stable',
  );

  it('throws one CSV_ROWS error naming each line and column', () => {
    const e = importError(() => csvToBundles(bad, { recordDate: RECORD_DATE }));
    expect(e.code).toBe('CSV_ROWS');
    expect(e.issues).toEqual([
      { line: 2, column: 'Age', message: "'forty' is not a whole number of years" },
      { line: 3, column: 'Gender', message: "'Robot' is not a known gender (Male, Female, Other or Unknown)" },
      { line: 4, column: 'Cost', message: "'-5' must not be negative" },
      { line: 5, message: 'expected 9 fields (as in the header), found 8' },
      { line: 7, column: 'Length_of_Stay', message: "'2.5' is not a whole number of days" },
      { line: 7, column: 'Cost', message: "'1,200' is not an amount (digits with an optional decimal point, no currency sign or thousands separator)" },
      { line: 7, column: 'Readmission', message: "'maybe' is not yes/no (Yes, No, Y, N, true, false, 1, 0)" },
    ]);
    expect(e.message).toContain("line 2, column Age: 'forty' is not a whole number of years");
  });

  it('can skip bad rows and report them', () => {
    const r = csvToBundles(bad, { recordDate: RECORD_DATE, onInvalidRow: 'skip' });
    expect(r.rows.map((x) => x.line)).toEqual([6]);
    expect(r.skipped.map((s) => s.line)).toEqual([2, 3, 4, 5, 7]);
    expect(r.skipped[4]!.issues).toHaveLength(3);
  });

  it('names missing and repeated columns', () => {
    const missing = importError(() => csvToBundles('Patient_ID,Age,Gender\n1,2,M'));
    expect(missing.code).toBe('CSV_HEADER');
    expect(missing.message).toContain('missing column(s) Condition, Procedure, Cost, Length_of_Stay, Readmission, Outcome');
    const twice = importError(() => csvToBundles(`${HEADER},age\n`));
    expect(twice.issues[0]).toEqual({ line: 1, column: 'age', message: 'column Age appears twice (positions 2 and 10)' });
    expect(importError(() => csvToBundles('')).code).toBe('CSV_HEADER');
  });

  it('checks its options', () => {
    const currency = importError(() => csvToBundles(csv(), { currency: 'dollars' }));
    expect(currency.code).toBe('CSV_OPTIONS');
    expect(currency.message).toBe("CSV_OPTIONS: currency 'dollars' is not an ISO 4217 code (three upper-case letters)");
    expect(importError(() => csvToBundles(csv(), { recordDate: '30/06/2024' })).code).toBe('CSV_OPTIONS');
    expect(importError(() => csvToBundles(csv(), { maxBytes: 10 })).code).toBe('CSV_TOO_LARGE');
  });
});
