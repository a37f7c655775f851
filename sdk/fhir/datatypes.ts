/**
 * R4 complex datatypes used by the supported resources (https://hl7.org/fhir/R4/datatypes.html),
 * with their required bindings and the invariants that carry weight for exchanged records.
 */
import { dateBounds } from './primitives.js';
import {
  asArray, asObject, asString, datatype, el, has, ref, valueSet, type Invariant, type StructureDef,
} from './schema.js';

const QUANTITY_ELEMENTS = {
  value: el('0..1', 'decimal'),
  comparator: el('0..1', 'code', { binding: valueSet('quantity-comparator', ['<', '<=', '>=', '>']) }),
  unit: el('0..1', 'string'),
  system: el('0..1', 'uri'),
  code: el('0..1', 'code'),
};

const qty3: Invariant = {
  key: 'qty-3',
  check: (n, fail) => { if (has(n, 'code') && !has(n, 'system')) fail('if a code for the unit is present, the system SHALL also be present'); },
};
const sqty1: Invariant = {
  key: 'sqty-1',
  check: (n, fail) => { if (has(n, 'comparator')) fail('the comparator is not used on a SimpleQuantity', 'comparator'); },
};

const quantityLike = (name: string, extra: Invariant[] = []): StructureDef => datatype(name, QUANTITY_ELEMENTS, [qty3, ...extra]);

/** Value types Extension.value[x] may take that this validator models (R4 allows a few more). */
export const EXTENSION_VALUE_TYPES = [
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer', 'markdown',
  'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'Address', 'Age', 'Annotation',
  'Attachment', 'CodeableConcept', 'Coding', 'ContactPoint', 'Count', 'Distance', 'Duration', 'HumanName', 'Identifier',
  'Money', 'Period', 'Quantity', 'Range', 'Ratio', 'Reference', 'SampledData', 'Signature', 'Timing',
] as const;
/** R4 Extension.value[x] types we recognise but do not model: reported as not-supported, not unknown. */
export const UNMODELLED_EXTENSION_VALUE_TYPES = [
  'ContactDetail', 'Contributor', 'DataRequirement', 'Expression', 'ParameterDefinition', 'RelatedArtifact',
  'TriggerDefinition', 'UsageContext', 'Dosage', 'Meta',
] as const;

// txt-1 only permits basic (X)HTML; refusing active content is the part that protects a viewer.
// Every pattern here is linear-time: div is attacker-controlled and up to 1 MiB.
const ACTIVE_HTML = /<\/?(script|iframe|object|embed|form|input|button|style|link|meta|base|frame|frameset|applet)\b|[\s/"']on[a-z]+\s*=|javascript:/i;
const XHTML_NS = /\sxmlns\s*=\s*["']http:\/\/www\.w3\.org\/1999\/xhtml["']/;

/** Checks the outer element by hand (no regex backtracking over the whole fragment). */
function isXhtmlDiv(div: string): boolean {
  const s = div.trim();
  const open = s.indexOf('>');
  return /^<div[\s>/]/.test(s) && open > 0 && XHTML_NS.test(s.slice(0, open)) && s.endsWith('</div>');
}

/** True if any non-whitespace text lies outside tags (txt-2), in one pass. */
function hasText(div: string): boolean {
  let inTag = false;
  for (const c of div) {
    if (c === '<') inTag = true;
    else if (c === '>') inTag = false;
    else if (!inTag && c.trim() !== '') return true;
  }
  return false;
}

const narrativeRules: Invariant[] = [
  {
    key: 'txt-1',
    check: (n, fail) => {
      const div = asString(n.div);
      if (div === undefined) return;
      if (!isXhtmlDiv(div)) {
        fail('the narrative SHALL be an XHTML <div xmlns="http://www.w3.org/1999/xhtml"> element', 'div');
      } else if (ACTIVE_HTML.test(div)) {
        fail('the narrative SHALL contain only basic HTML formatting (no scripts, forms, event handlers or javascript: URLs)', 'div');
      }
    },
  },
  {
    key: 'txt-2',
    check: (n, fail) => {
      const div = asString(n.div);
      if (div !== undefined && !/<img\b/i.test(div) && !hasText(div)) fail('the narrative SHALL have some non-whitespace content', 'div');
    },
  },
];

const timingRepeat = datatype('Timing.repeat', {
  'bounds[x]': el('0..1', ['Duration', 'Range', 'Period']),
  count: el('0..1', 'positiveInt'),
  countMax: el('0..1', 'positiveInt'),
  duration: el('0..1', 'decimal'),
  durationMax: el('0..1', 'decimal'),
  durationUnit: el('0..1', 'code', { binding: valueSet('units-of-time', ['s', 'min', 'h', 'd', 'wk', 'mo', 'a']) }),
  frequency: el('0..1', 'positiveInt'),
  frequencyMax: el('0..1', 'positiveInt'),
  period: el('0..1', 'decimal'),
  periodMax: el('0..1', 'decimal'),
  periodUnit: el('0..1', 'code', { binding: valueSet('units-of-time', ['s', 'min', 'h', 'd', 'wk', 'mo', 'a']) }),
  dayOfWeek: el('0..*', 'code', { binding: valueSet('days-of-week', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) }),
  timeOfDay: el('0..*', 'time'),
  when: el('0..*', 'code', {
    binding: valueSet('event-timing', [
      'MORN', 'MORN.early', 'MORN.late', 'NOON', 'AFT', 'AFT.early', 'AFT.late', 'EVE', 'EVE.early', 'EVE.late', 'NIGHT',
      'PHS', 'HS', 'WAKE', 'C', 'CM', 'CD', 'CV', 'AC', 'ACM', 'ACD', 'ACV', 'PC', 'PCM', 'PCD', 'PCV',
    ]),
  }),
  offset: el('0..1', 'unsignedInt'),
});

const DEFS: StructureDef[] = [
  // What `_name` carries for a primitive: its id and extensions.
  datatype('Element', {}),
  datatype('Extension', {
    url: el('1..1', 'uri'),
    'value[x]': el('0..1', [...EXTENSION_VALUE_TYPES]),
  }, [{
    key: 'ext-1',
    check: (n, fail) => {
      const hasValue = has(n, 'value[x]');
      const hasExt = asArray(n.extension).length > 0;
      if (hasValue === hasExt) fail('an extension SHALL have either extensions or a value[x], not both');
    },
  }]),
  datatype('Narrative', {
    status: el('1..1', 'code', { binding: valueSet('narrative-status', ['generated', 'extensions', 'additional', 'empty']) }),
    div: el('1..1', 'xhtml'),
  }, narrativeRules),
  datatype('Meta', {
    versionId: el('0..1', 'id'),
    lastUpdated: el('0..1', 'instant'),
    source: el('0..1', 'uri'),
    profile: el('0..*', 'canonical'),
    security: el('0..*', 'Coding'),
    tag: el('0..*', 'Coding'),
  }),
  datatype('Coding', {
    system: el('0..1', 'uri'),
    version: el('0..1', 'string'),
    code: el('0..1', 'code'),
    display: el('0..1', 'string'),
    userSelected: el('0..1', 'boolean'),
  }),
  datatype('CodeableConcept', { coding: el('0..*', 'Coding'), text: el('0..1', 'string') }),
  datatype('Identifier', {
    use: el('0..1', 'code', { binding: valueSet('identifier-use', ['usual', 'official', 'temp', 'secondary', 'old']) }),
    type: el('0..1', 'CodeableConcept'),
    system: el('0..1', 'uri'),
    value: el('0..1', 'string'),
    period: el('0..1', 'Period'),
    assigner: ref('0..1', 'Organization'),
  }),
  datatype('Reference', {
    reference: el('0..1', 'string'),
    type: el('0..1', 'uri'),
    identifier: el('0..1', 'Identifier'),
    display: el('0..1', 'string'),
  }),
  datatype('Period', { start: el('0..1', 'dateTime'), end: el('0..1', 'dateTime') }, [{
    key: 'per-1',
    check: (n, fail) => {
      const s = dateBounds(asString(n.start) ?? '');
      const e = dateBounds(asString(n.end) ?? '');
      if (s && e && s[0] > e[1]) fail('if present, start SHALL have a lower value than end');
    },
  }]),
  datatype('HumanName', {
    use: el('0..1', 'code', { binding: valueSet('name-use', ['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden']) }),
    text: el('0..1', 'string'),
    family: el('0..1', 'string'),
    given: el('0..*', 'string'),
    prefix: el('0..*', 'string'),
    suffix: el('0..*', 'string'),
    period: el('0..1', 'Period'),
  }),
  datatype('ContactPoint', {
    system: el('0..1', 'code', { binding: valueSet('contact-point-system', ['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other']) }),
    value: el('0..1', 'string'),
    use: el('0..1', 'code', { binding: valueSet('contact-point-use', ['home', 'work', 'temp', 'old', 'mobile']) }),
    rank: el('0..1', 'positiveInt'),
    period: el('0..1', 'Period'),
  }, [{
    key: 'cpt-2',
    check: (n, fail) => { if (has(n, 'value') && !has(n, 'system')) fail('a system is required if a value is provided'); },
  }]),
  datatype('Address', {
    use: el('0..1', 'code', { binding: valueSet('address-use', ['home', 'work', 'temp', 'old', 'billing']) }),
    type: el('0..1', 'code', { binding: valueSet('address-type', ['postal', 'physical', 'both']) }),
    text: el('0..1', 'string'),
    line: el('0..*', 'string'),
    city: el('0..1', 'string'),
    district: el('0..1', 'string'),
    state: el('0..1', 'string'),
    postalCode: el('0..1', 'string'),
    country: el('0..1', 'string'),
    period: el('0..1', 'Period'),
  }),
  quantityLike('Quantity'),
  quantityLike('SimpleQuantity', [sqty1]),
  // Age, Duration, Count and Distance constrain units to UCUM; that profile check is not modelled.
  quantityLike('Age'),
  quantityLike('Duration'),
  quantityLike('Count'),
  quantityLike('Distance'),
  datatype('Money', {
    value: el('0..1', 'decimal'),
    // Required binding to ISO 4217; checked as a 3-letter upper-case code rather than the full list.
    currency: el('0..1', 'code'),
  }, [{
    code: 'code-invalid',
    check: (n, fail) => {
      const c = asString(n.currency);
      if (c !== undefined && !/^[A-Z]{3}$/.test(c)) fail(`'${c}' is not an ISO 4217 currency code (three upper-case letters)`, 'currency');
    },
  }]),
  datatype('Range', { low: el('0..1', 'SimpleQuantity'), high: el('0..1', 'SimpleQuantity') }, [{
    key: 'rng-2',
    check: (n, fail) => {
      const lo = asObject(n.low);
      const hi = asObject(n.high);
      if (lo && hi && typeof lo.value === 'number' && typeof hi.value === 'number' && lo.code === hi.code && lo.value > hi.value) {
        fail('if present, low SHALL have a lower value than high');
      }
    },
  }]),
  datatype('Ratio', { numerator: el('0..1', 'Quantity'), denominator: el('0..1', 'Quantity') }, [{
    key: 'rat-1',
    check: (n, fail) => {
      if (has(n, 'numerator') !== has(n, 'denominator')) fail('numerator and denominator SHALL both be present, or both absent');
    },
  }]),
  datatype('SampledData', {
    origin: el('1..1', 'SimpleQuantity'),
    period: el('1..1', 'decimal'),
    factor: el('0..1', 'decimal'),
    lowerLimit: el('0..1', 'decimal'),
    upperLimit: el('0..1', 'decimal'),
    dimensions: el('1..1', 'positiveInt'),
    data: el('0..1', 'string'),
  }),
  datatype('Attachment', {
    // Required binding to BCP 13 mime types: checked as type/subtype syntax.
    contentType: el('0..1', 'code'),
    language: el('0..1', 'code'),
    data: el('0..1', 'base64Binary'),
    url: el('0..1', 'url'),
    size: el('0..1', 'unsignedInt'),
    hash: el('0..1', 'base64Binary'),
    title: el('0..1', 'string'),
    creation: el('0..1', 'dateTime'),
  }, [
    {
      key: 'att-1',
      check: (n, fail) => { if (has(n, 'data') && !has(n, 'contentType')) fail('if the attachment has data, it SHALL have a contentType'); },
    },
    {
      code: 'code-invalid',
      check: (n, fail) => {
        const t = asString(n.contentType);
        if (t !== undefined && !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;.*)?$/i.test(t)) {
          fail(`'${t}' is not a mime type (type/subtype)`, 'contentType');
        }
      },
    },
  ]),
  datatype('Annotation', {
    'author[x]': el('0..1', ['Reference', 'string']),
    time: el('0..1', 'dateTime'),
    text: el('1..1', 'markdown'),
  }),
  datatype('Timing', { event: el('0..*', 'dateTime'), repeat: el('0..1', timingRepeat), code: el('0..1', 'CodeableConcept') }),
  datatype('Signature', {
    type: el('1..*', 'Coding'),
    when: el('1..1', 'instant'),
    who: el('1..1', 'Reference'),
    onBehalfOf: el('0..1', 'Reference'),
    targetFormat: el('0..1', 'code'),
    sigFormat: el('0..1', 'code'),
    data: el('0..1', 'base64Binary'),
  }),
];

export const DATATYPES: ReadonlyMap<string, StructureDef> = new Map(DEFS.map((d) => [d.name, d]));
