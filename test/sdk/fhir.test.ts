/**
 * sdk/fhir validation: valid examples of every supported resource type pass; targeted invalid ones
 * report the exact path, issue code and a clear message; hostile input is refused quickly.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import {
  assertValidResource, FhirValidationError, SUPPORTED_RESOURCE_TYPES, validateJson, validateResource,
  type ValidationIssue,
} from '../../sdk/fhir/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'fhir');
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
const FIXTURE_FILES: Record<string, string> = {
  Patient: 'patient.json',
  Observation: 'observation.json',
  Condition: 'condition.json',
  Procedure: 'procedure.json',
  Claim: 'claim.json',
  DocumentReference: 'documentreference.json',
  Bundle: 'bundle-transaction.json',
};

function issuesOf(json: unknown): readonly ValidationIssue[] {
  return validateResource(json).issues;
}

/** Exactly one issue at `path`, with the code and a message containing `text`. */
function expectIssue(json: unknown, path: string, code: ValidationIssue['code'], text: string | RegExp): void {
  const all = issuesOf(json);
  const at = all.filter((i) => i.path === path);
  if (at.length !== 1) throw new Error(`expected one issue at ${path}, got:\n${all.map((i) => `  ${i.path} [${i.code}] ${i.message}`).join('\n')}`);
  expect(at[0]!.code).toBe(code);
  if (typeof text === 'string') expect(at[0]!.message).toContain(text);
  else expect(at[0]!.message).toMatch(text);
}

const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ resourceType: 'Patient', ...extra });
const observation = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, ...extra,
});
const uuid = (n: number): string => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('valid resources', () => {
  it('has a fixture for every supported resource type', () => {
    expect(Object.keys(FIXTURE_FILES).sort()).toEqual([...SUPPORTED_RESOURCE_TYPES].sort());
  });

  it.each(Object.entries(FIXTURE_FILES))('%s example (%s) passes', (type, file) => {
    const json = fixture(file);
    expect(json.resourceType).toBe(type);
    expect(issuesOf(json)).toEqual([]);
    expect(() => assertValidResource(json)).not.toThrow();
  });

  it('accepts a Bundle of every type with urn:uuid references that resolve', () => {
    const entries = Object.values(FIXTURE_FILES).filter((f) => !f.startsWith('bundle')).map((f, i) => ({ fullUrl: uuid(i + 1), resource: fixture(f) }));
    expect(issuesOf({ resourceType: 'Bundle', type: 'collection', entry: entries })).toEqual([]);
  });

  it('validates JSON text and returns the typed resource', () => {
    const r = validateJson(readFileSync(join(FIXTURES, 'claim.json'), 'utf8'));
    expect(r.valid).toBe(true);
    expect(r.resource?.resourceType).toBe('Claim');
  });
});

describe('required elements and cardinality', () => {
  it('Observation needs status and code', () => {
    const issues = issuesOf({ resourceType: 'Observation' });
    expect(issues.map((i) => [i.path, i.code])).toEqual([['Observation.status', 'required'], ['Observation.code', 'required']]);
    expect(issues[0]!.message).toBe("missing required element 'status' (cardinality 1..1)");
  });

  it('Condition needs subject; Procedure needs status and subject', () => {
    expectIssue({ resourceType: 'Condition', code: { text: 'x' } }, 'Condition.subject', 'required', "'subject'");
    expect(issuesOf({ resourceType: 'Procedure' }).map((i) => i.path)).toEqual(['Procedure.status', 'Procedure.subject']);
  });

  it('Claim lists every missing required element at once', () => {
    expect(issuesOf({ resourceType: 'Claim' }).map((i) => i.path)).toEqual(
      ['status', 'type', 'use', 'patient', 'created', 'provider', 'priority', 'insurance'].map((e) => `Claim.${e}`),
    );
  });

  it('DocumentReference needs status and content, and content needs an attachment', () => {
    expect(issuesOf({ resourceType: 'DocumentReference' }).map((i) => i.path)).toEqual(['DocumentReference.status', 'DocumentReference.content']);
    expectIssue(
      { resourceType: 'DocumentReference', status: 'current', content: [{ format: { code: 'x' } }] },
      'DocumentReference.content[0].attachment', 'required', "'attachment'",
    );
  });

  it('Bundle needs a type', () => {
    expectIssue({ resourceType: 'Bundle' }, 'Bundle.type', 'required', "'type'");
  });

  it('a 0..* element must be an array and a 0..1 element must not be', () => {
    expectIssue(patient({ name: { family: 'Roe' } }), 'Patient.name', 'structure', 'expected an array, even for one value');
    expectIssue(patient({ gender: ['female'] }), 'Patient.gender', 'structure', 'expected a single value, not an array');
  });

  it('empty arrays, empty objects and nulls are refused', () => {
    expectIssue(patient({ name: [] }), 'Patient.name', 'structure', 'empty arrays');
    expectIssue(patient({ maritalStatus: {} }), 'Patient.maritalStatus', 'structure', 'ele-1');
    expectIssue(patient({ gender: null }), 'Patient.gender', 'structure', 'null is not allowed');
    expectIssue(patient({ name: [{ given: ['', 'Q'] }] }), 'Patient.name[0].given[0]', 'value', 'empty strings');
  });

  it('a choice element takes one type only', () => {
    expectIssue(observation({ valueString: 'x', valueBoolean: true }), 'Observation.value[x]', 'structure', 'valueString and valueBoolean');
  });
});

describe('required value sets', () => {
  it.each([
    ['Patient.gender', patient({ gender: 'M' }), "'M' is not in the required value set administrative-gender (male | female | other | unknown)"],
    ['Observation.status', observation({ status: 'done' }), 'observation-status'],
    ['Procedure.status', { resourceType: 'Procedure', status: 'finished', subject: { reference: 'Patient/1' } }, 'event-status'],
    ['Bundle.type', { resourceType: 'Bundle', type: 'bag' }, 'bundle-type'],
    ['DocumentReference.status', { resourceType: 'DocumentReference', status: 'final', content: [{ attachment: { url: 'https://x.example/a' } }] }, 'document-reference-status'],
  ])('%s', (path, json, text) => {
    expectIssue(json, path, 'code-invalid', text);
  });

  it('Claim.status and Claim.use', () => {
    const claim = { ...fixture('claim.json'), status: 'open', use: 'bill' };
    expectIssue(claim, 'Claim.status', 'code-invalid', 'fm-status');
    expectIssue(claim, 'Claim.use', 'code-invalid', 'claim-use');
  });

  it('Condition.clinicalStatus needs a coding from condition-clinical', () => {
    const base = { resourceType: 'Condition', subject: { reference: 'Patient/1' } };
    const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    expectIssue({ ...base, clinicalStatus: { coding: [{ system, code: 'cured' }] } }, 'Condition.clinicalStatus.coding[0].code', 'code-invalid', "'cured' is not in the required value set condition-clinical");
    expectIssue({ ...base, clinicalStatus: { text: 'active' } }, 'Condition.clinicalStatus', 'code-invalid', 'SHALL have a coding');
    expect(issuesOf({ ...base, clinicalStatus: { coding: [{ system: 'http://other.example', code: 'x' }, { system, code: 'active' }] } })).toEqual([]);
  });
});

describe('primitive formats', () => {
  it.each([
    ['birthDate', '12/04/1980', 'not a valid date'],
    ['birthDate', '1980-02-30', 'no such day'],
    ['birthDate', '1980-4-1', 'not a valid date'],
    ['id', 'has space', 'not a valid id'],
    ['id', 'x'.repeat(65), 'not a valid id'],
    ['implicitRules', 'http://a b', 'not a valid uri'],
    ['language', ' en', 'not a valid code'],
  ])('Patient.%s = %j', (element, value, text) => {
    expectIssue(patient({ [element]: value }), `Patient.${element}`, 'value', text);
  });

  it('dateTime: a time needs a time zone; instant needs seconds and a zone', () => {
    expectIssue(observation({ effectiveDateTime: '2024-06-30T09:30:00' }), 'Observation.effectiveDateTime', 'value', 'time zone required');
    expectIssue(observation({ issued: '2024-06-30T09:30Z' }), 'Observation.issued', 'value', 'not a valid instant');
    expect(issuesOf(observation({ effectiveDateTime: '2024', issued: '2024-06-30T09:30:00.5-03:00' }))).toEqual([]);
  });

  it('JSON types: booleans, numbers and strings are not interchangeable', () => {
    expectIssue(patient({ active: 'true' }), 'Patient.active', 'value', "expected a JSON boolean for boolean, got the string 'true'");
    expectIssue(observation({ valueQuantity: { value: '5' } }), 'Observation.valueQuantity.value', 'value', 'expected a JSON number for decimal');
    expectIssue(patient({ multipleBirthInteger: 1.5 }), 'Patient.multipleBirthInteger', 'value', 'whole number');
    const claim = fixture('claim.json');
    (claim.insurance as Array<Record<string, unknown>>)[0]!.sequence = 0;
    expectIssue(claim, 'Claim.insurance[0].sequence', 'value', 'out of range for positiveInt');
  });

  it('the path of a nested problem inside a Bundle is exact', () => {
    const bundle = {
      resourceType: 'Bundle', type: 'collection',
      entry: [0, 1, 2].map((i) => ({ fullUrl: uuid(i), resource: observation({ code: { coding: [{ system: i === 2 ? 'http://loinc .org' : 'http://loinc.org', code: '8867-4' }] } }) })),
    };
    expectIssue(bundle, 'Bundle.entry[2].resource.code.coding[0].system', 'value', "'http://loinc .org' is not a valid uri");
  });

  it('Money.currency is an ISO 4217 code and Period.start is not after end', () => {
    const claim = { ...fixture('claim.json'), total: { value: 1, currency: 'usd' }, billablePeriod: { start: '2024-07-02', end: '2024-06-28' } };
    expectIssue(claim, 'Claim.total.currency', 'code-invalid', 'ISO 4217');
    expectIssue(claim, 'Claim.billablePeriod', 'invariant', 'per-1');
  });
});

describe('unknown elements', () => {
  it('are reported, with a hint for a wrong case', () => {
    expectIssue(patient({ birthdate: '1980' }), 'Patient.birthdate', 'structure', "unknown element 'birthdate' in Patient (did you mean 'birthDate'?)");
    expectIssue(patient({ name: [{ first: 'Jane' }] }), 'Patient.name[0].first', 'structure', "unknown element 'first' in HumanName");
  });

  it('Bundle is a Resource: no text or extension at its root', () => {
    expectIssue({ resourceType: 'Bundle', type: 'collection', extension: [{ url: 'http://x.example', valueString: 'y' }] }, 'Bundle.extension', 'structure', 'unknown element');
  });

  it('a choice with a type it does not allow', () => {
    expectIssue(observation({ valueAge: { value: 3 } }), 'Observation.valueAge', 'structure', "'valueAge' is not a permitted type for value[x]");
  });

  it('prototype property names are just unknown elements', () => {
    const json = JSON.parse('{"resourceType":"Patient","__proto__":{"gender":"x"},"constructor":{}}') as unknown;
    expect(issuesOf(json).map((i) => i.path)).toEqual(['Patient.__proto__', 'Patient.constructor']);
  });

  it('common elements and primitive extensions are allowed; a bad _element is not', () => {
    expect(issuesOf(patient({ language: 'en', _gender: { extension: [{ url: 'http://x.example/e', valueString: 'a' }] } }))).toEqual([]);
    expectIssue(patient({ _gender: { value: 'x' } }), 'Patient._gender.value', 'structure', 'unknown element');
    expectIssue(patient({ _name: {} }), 'Patient._name', 'structure', 'unknown element');
  });

  it('extensions need a url and exactly one of value or extensions', () => {
    expectIssue(patient({ extension: [{ valueString: 'x' }] }), 'Patient.extension[0].url', 'required', "'url'");
    expectIssue(patient({ extension: [{ url: 'http://x.example/e' }] }), 'Patient.extension[0]', 'invariant', 'ext-1');
    expectIssue(patient({ extension: [{ url: 'http://x.example/e', valueDosage: {} }] }), 'Patient.extension[0].valueDosage', 'not-supported', 'Dosage');
  });

  it('accepts plain objects from another realm but not class instances', () => {
    expect(issuesOf(runInNewContext('({ resourceType: "Patient", name: [{ text: "x" }] })'))).toEqual([]);
    expectIssue(patient({ meta: new Map() }), 'Patient.meta', 'structure', 'not plain JSON');
  });

  it('resourceType must be present and supported', () => {
    expectIssue({ gender: 'male' }, 'Resource.resourceType', 'required', 'missing resourceType');
    expectIssue({ resourceType: 'Organization' }, 'Resource.resourceType', 'not-supported', "'Organization'");
    expectIssue('Patient', 'Resource', 'structure', 'expected a resource');
  });
});

describe('references and Bundle rules', () => {
  const bundle = (type: string, entry: unknown[]): Record<string, unknown> => ({ resourceType: 'Bundle', type, entry });
  const condition = (ref: string): Record<string, unknown> => ({ resourceType: 'Condition', subject: { reference: ref } });

  it('a urn:uuid reference must resolve to an entry fullUrl', () => {
    const b = bundle('collection', [
      { fullUrl: uuid(1), resource: patient() },
      { fullUrl: uuid(2), resource: condition(uuid(9)) },
    ]);
    expectIssue(b, 'Bundle.entry[1].resource.subject.reference', 'not-found', `'${uuid(9)}' does not resolve: no entry in this Bundle has that fullUrl`);
    expect(issuesOf(bundle('collection', [{ fullUrl: uuid(2), resource: condition(uuid(1)) }, { fullUrl: uuid(1), resource: patient() }]))).toEqual([]);
  });

  it('a reference must have a valid form and point at a permitted type', () => {
    expectIssue(condition('patient 1'), 'Condition.subject.reference', 'value', "'patient 1' is not a valid reference");
    expectIssue(condition('urn:uuid:NOT-A-UUID'), 'Condition.subject.reference', 'value', 'not a valid urn:uuid');
    expectIssue(condition('Observation/1'), 'Condition.subject.reference', 'value', 'may only refer to Patient | Group');
    const b = bundle('collection', [{ fullUrl: uuid(1), resource: observation() }, { fullUrl: uuid(2), resource: condition(uuid(1)) }]);
    expectIssue(b, 'Bundle.entry[1].resource.subject.reference', 'value', 'refers to a Observation');
  });

  it('duplicate fullUrls are refused (bdl-7)', () => {
    const b = bundle('collection', [{ fullUrl: uuid(1), resource: patient() }, { fullUrl: uuid(1), resource: patient({ gender: 'male' }) }]);
    expectIssue(b, 'Bundle.entry[1].fullUrl', 'invariant', `bdl-7: fullUrl '${uuid(1)}' is not unique in this Bundle (also entry[0])`);
  });

  it('transaction entries need a request; collection entries must not have one (bdl-3)', () => {
    expectIssue(bundle('transaction', [{ fullUrl: uuid(1), resource: patient() }]), 'Bundle.entry[0].request', 'invariant', 'bdl-3: entry.request is required in a transaction Bundle');
    expectIssue(bundle('collection', [{ fullUrl: uuid(1), resource: patient(), request: { method: 'POST', url: 'Patient' } }]), 'Bundle.entry[0].request', 'invariant', 'not allowed in a collection');
    expectIssue(bundle('transaction', [{ resource: patient(), request: { method: 'SEND', url: 'Patient' } }]), 'Bundle.entry[0].request.method', 'code-invalid', 'http-verb');
  });

  it('fullUrl is absolute and agrees with the resource', () => {
    expectIssue(bundle('collection', [{ fullUrl: 'Patient/1', resource: patient() }]), 'Bundle.entry[0].fullUrl', 'invariant', 'SHALL be an absolute URI');
    expectIssue(bundle('collection', [{ fullUrl: 'https://h.example/fhir/Patient/1', resource: patient({ id: '2' }) }]), 'Bundle.entry[0].fullUrl', 'invariant', "agree with the resource id '2'");
  });

  it('contained resources: #id must resolve (ref-1) and each must be referenced (dom-3)', () => {
    const contained = [{ resourceType: 'Patient', id: 'p' }];
    expect(issuesOf(observation({ contained, subject: { reference: '#p' } }))).toEqual([]);
    expectIssue(observation({ contained, subject: { reference: '#q' } }), 'Observation.subject.reference', 'not-found', 'ref-1');
    expectIssue(observation({ contained }), 'Observation.contained[0]', 'invariant', 'dom-3');
  });

  it('Observation, Condition and Narrative invariants', () => {
    expectIssue(observation({ valueString: 'x', dataAbsentReason: { text: 'n/a' } }), 'Observation.dataAbsentReason', 'invariant', 'obs-6');
    const ver = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] };
    const clinical = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] };
    expectIssue({ ...condition('Patient/1'), clinicalStatus: clinical, abatementString: 'gone' }, 'Condition.clinicalStatus', 'invariant', 'con-4');
    expectIssue({ ...condition('Patient/1'), clinicalStatus: clinical, verificationStatus: ver }, 'Condition.clinicalStatus', 'invariant',
      'con-5: clinicalStatus SHALL NOT be present if verificationStatus is entered-in-error');
    const div = '<div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></div>';
    expectIssue(patient({ text: { status: 'generated', div } }), 'Patient.text.div', 'invariant', 'txt-1');
  });
});

describe('aggregation and errors', () => {
  it('collects every issue instead of stopping at the first', () => {
    const issues = issuesOf({ resourceType: 'Patient', gender: 'x', birthDate: 'y', foo: 1, name: { text: 'z' } });
    expect(issues.map((i) => i.path)).toEqual(['Patient.gender', 'Patient.birthDate', 'Patient.foo', 'Patient.name']);
  });

  it('assertValidResource throws FhirValidationError with the issues', () => {
    let error: unknown;
    try {
      assertValidResource({ resourceType: 'Observation', status: 'final' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FhirValidationError);
    const e = error as FhirValidationError;
    expect(e.code).toBe('FHIR_INVALID');
    expect(e.issues).toEqual([{ path: 'Observation.code', code: 'required', message: "missing required element 'code' (cardinality 1..1)" }]);
    expect(e.message).toContain('Observation.code: missing required element');
  });

  it('caps the number of issues', () => {
    const json: Record<string, unknown> = { resourceType: 'Patient' };
    for (let i = 0; i < 5000; i++) json[`x${i}`] = 1;
    const { issues } = validateResource(json, { maxIssues: 100 });
    expect(issues).toHaveLength(101);
    expect(issues[100]!.code).toBe('too-costly');
  });
});

describe('hostile input', () => {
  it('refuses deep nesting, as text and as an object, without overflowing the stack', () => {
    const depth = 200_000;
    const text = `{"resourceType":"Patient","extension":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(validateJson(text).issues).toEqual([{ path: '(json)', code: 'too-costly', message: 'input nests deeper than 64 levels; refused' }]);
    let deep: unknown = {};
    for (let i = 0; i < depth; i++) deep = { extension: [deep] };
    expect(validateResource({ resourceType: 'Patient', extension: [deep] }).issues[0]!.code).toBe('too-costly');
  });

  it('refuses a cyclic object graph', () => {
    const p: Record<string, unknown> = { resourceType: 'Patient' };
    p.contained = [p];
    expect(validateResource(p).issues[0]!.code).toBe('too-costly');
  });

  it('refuses oversized input before parsing it', () => {
    const huge = 'a'.repeat(11 * 1024 * 1024);
    const text = `{"resourceType":"Patient","name":[{"text":"${huge}"}]}`;
    const r = validateJson(text);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]!.code).toBe('too-long');
    expect(validateResource({ resourceType: 'Patient', name: [{ text: huge }] }).issues[0]!.code).toBe('too-long');
  });

  it('refuses a string over the R4 1 MiB limit inside a resource', () => {
    expectIssue(patient({ name: [{ text: 'a'.repeat(2 * 1024 * 1024) }] }), 'Patient.name[0].text', 'value', 'exceeds the 1 MiB limit');
  });

  it('refuses duplicate JSON properties, which parsers resolve differently', () => {
    const r = validateJson('{"resourceType":"Patient","gender":"male","gender":"female"}');
    expect(r.issues[0]).toMatchObject({ code: 'structure', message: expect.stringContaining("duplicate property 'gender'") as unknown });
    expect(validateJson('{"resourceType":"Patient","name":[{"given":["a"]},{"given":["b"]}]}').valid).toBe(true);
  });

  it('checks a pathological narrative in linear time (no regex backtracking blow-up)', () => {
    const divs = [
      `<div${' xmlns="http://www.w3.org/1999/xhtml"'.repeat(20_000)}`,
      `<div xmlns="http://www.w3.org/1999/xhtml">${'<'.repeat(500_000)}</div>`,
      `<div xmlns="http://www.w3.org/1999/xhtml"><${' '.repeat(500_000)}x</div>`,
    ];
    const started = performance.now();
    for (const div of divs) validateResource(patient({ text: { status: 'generated', div } }));
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reports malformed JSON', () => {
    expect(validateJson('{"resourceType":"Patient",').issues[0]).toMatchObject({ path: '(json)', code: 'structure' });
  });
});
