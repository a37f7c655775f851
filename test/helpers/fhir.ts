/**
 * A small FHIR Bundle (a patient and a haemoglobin result) with unusual name and marker strings,
 * so that tests can scan storage, logs and chains for plaintext and be sure a hit is ours.
 */
export const FAMILY = 'Zyxwolski-Okonkwo';
export const GIVEN = 'Quentinabelle';
export const MARKER = 'Haemoglobin marker XQZ-7781';
/** Every string that must never appear outside the client. */
export const PLAINTEXT_MARKERS = [FAMILY, GIVEN, MARKER];

export function labBundle(value: number): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:0b8e9a3c-6a51-4f4e-9d3c-1f2a3b4c5d6e', resource: { resourceType: 'Patient', id: 'p1', name: [{ family: FAMILY, given: [GIVEN] }], gender: 'female', birthDate: '1980-04-12' } },
      {
        fullUrl: 'urn:uuid:1c9f0b4d-7b62-4a5f-8e4d-2a3b4c5d6e7f',
        resource: {
          resourceType: 'Observation',
          id: 'o1',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '718-7', display: 'Hemoglobin' }], text: MARKER },
          subject: { reference: 'urn:uuid:0b8e9a3c-6a51-4f4e-9d3c-1f2a3b4c5d6e' },
          effectiveDateTime: '2024-01-02T10:00:00Z',
          valueQuantity: { value, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
        },
      },
    ],
  };
}
