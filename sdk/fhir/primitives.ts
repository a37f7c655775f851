/**
 * FHIR R4 primitive types: which JSON type carries each one and the format rules from
 * https://hl7.org/fhir/R4/datatypes.html (regexes anchored here; the spec's are implicitly whole-value).
 * A checker returns an error message, or undefined when the value is fine.
 */

export type PrimitiveName =
  | 'boolean' | 'integer' | 'positiveInt' | 'unsignedInt' | 'decimal'
  | 'string' | 'markdown' | 'code' | 'id' | 'uri' | 'url' | 'canonical' | 'uuid' | 'oid'
  | 'base64Binary' | 'instant' | 'date' | 'dateTime' | 'time' | 'xhtml';

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const MONTH = '(0[1-9]|1[0-2])';
const DAY = '(0[1-9]|[1-2][0-9]|3[0-1])';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const TZ = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';

export const DATE_RE = new RegExp(`^${YEAR}(-${MONTH}(-${DAY})?)?$`);
// R4: a dateTime with a time part SHALL have a time zone.
export const DATETIME_RE = new RegExp(`^${YEAR}(-${MONTH}(-${DAY}(T${TIME}${TZ})?)?)?$`);
export const INSTANT_RE = new RegExp(`^${YEAR}-${MONTH}-${DAY}T${TIME}${TZ}$`);
export const TIME_RE = new RegExp(`^${TIME}$`);
export const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
export const CODE_RE = /^[^\s]+(\s[^\s]+)*$/;
export const UUID_URN_RE = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const OID_URN_RE = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
// The R4 base64Binary regex omits '/' (a known spec erratum); this is standard RFC 4648 base64.
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT32_MAX = 2_147_483_647;
const INT32_MIN = -2_147_483_648;
/** R4: "strings SHALL NOT exceed 1 MB"; counted in UTF-16 code units, which is close enough here. */
export const MAX_STRING_CHARS = 1024 * 1024;

type Json = 'string' | 'number' | 'boolean';
interface PrimitiveSpec {
  readonly json: Json;
  readonly check?: (v: never) => string | undefined;
}

const stringRule = (v: string): string | undefined =>
  v.length === 0 ? 'empty strings are not allowed in FHIR JSON'
    : v.length > MAX_STRING_CHARS ? `string of ${v.length} characters exceeds the 1 MiB limit` : undefined;

const regexRule = (re: RegExp, what: string) => (v: string): string | undefined =>
  stringRule(v) ?? (re.test(v) ? undefined : `'${preview(v)}' is not a valid ${what}`);

/** The regexes allow 2023-02-31; a date must also exist on the calendar. */
function calendarRule(re: RegExp, what: string) {
  const format = regexRule(re, what);
  return (v: string): string | undefined => {
    const err = format(v);
    if (err) return err;
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
    if (m && Number(m[3]) > daysInMonth(Number(m[1]), Number(m[2]))) return `'${v}' is not a valid ${what}: no such day`;
    return undefined;
  };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const intRule = (min: number, what: string) => (v: number): string | undefined =>
  !Number.isInteger(v) ? `${v} is not a valid ${what} (whole number expected)`
    : v < min || v > INT32_MAX ? `${v} is out of range for ${what} (${min}..${INT32_MAX})` : undefined;

export const PRIMITIVES: ReadonlyMap<PrimitiveName, PrimitiveSpec> = new Map<PrimitiveName, PrimitiveSpec>([
  ['boolean', { json: 'boolean' }],
  ['integer', { json: 'number', check: intRule(INT32_MIN, 'integer') }],
  ['positiveInt', { json: 'number', check: intRule(1, 'positiveInt') }],
  ['unsignedInt', { json: 'number', check: intRule(0, 'unsignedInt') }],
  ['decimal', { json: 'number', check: (v: number) => (Number.isFinite(v) ? undefined : `${v} is not a valid decimal`) }],
  ['string', { json: 'string', check: stringRule }],
  ['markdown', { json: 'string', check: stringRule }],
  ['xhtml', { json: 'string', check: stringRule }],
  ['code', { json: 'string', check: regexRule(CODE_RE, 'code (no leading, trailing or repeated whitespace)') }],
  ['id', { json: 'string', check: regexRule(ID_RE, 'id (1-64 of A-Z a-z 0-9 - .)') }],
  ['uri', { json: 'string', check: regexRule(/^\S+$/, 'uri (no whitespace)') }],
  ['url', { json: 'string', check: regexRule(/^\S+$/, 'url (no whitespace)') }],
  ['canonical', { json: 'string', check: regexRule(/^\S+$/, 'canonical (no whitespace)') }],
  ['uuid', { json: 'string', check: regexRule(UUID_URN_RE, 'uuid (urn:uuid: + lowercase RFC 4122 form)') }],
  ['oid', { json: 'string', check: regexRule(OID_URN_RE, 'oid (urn:oid:…)') }],
  ['base64Binary', { json: 'string', check: (v: string) => (BASE64_RE.test(v.replace(/\s+/g, '')) && v.length > 0 ? undefined : 'not valid base64') }],
  ['date', { json: 'string', check: calendarRule(DATE_RE, 'date (YYYY, YYYY-MM or YYYY-MM-DD)') }],
  ['dateTime', { json: 'string', check: calendarRule(DATETIME_RE, 'dateTime (YYYY[-MM[-DD[Thh:mm:ss[.s]+zz:zz]]], time zone required with a time)') }],
  ['instant', { json: 'string', check: calendarRule(INSTANT_RE, 'instant (YYYY-MM-DDThh:mm:ss[.s]+zz:zz)') }],
  ['time', { json: 'string', check: regexRule(TIME_RE, 'time (hh:mm:ss[.s])') }],
]);

export function isPrimitiveName(name: string): name is PrimitiveName {
  return PRIMITIVES.has(name as PrimitiveName);
}

/** Checks the JSON type and the format; returns an error message or undefined. */
export function checkPrimitive(type: PrimitiveName, value: unknown): string | undefined {
  const spec = PRIMITIVES.get(type);
  if (!spec) return `unknown primitive type ${type}`;
  if (typeof value !== spec.json) {
    return `expected a JSON ${spec.json} for ${type}, got ${describe(value)}`;
  }
  return spec.check ? (spec.check as (v: unknown) => string | undefined)(value) : undefined;
}

/**
 * Earliest and latest instant (ms) a date/dateTime may denote, for ordering checks such as per-1.
 * A value without a time zone is taken as UTC widened by ±14 h, so only certain inversions are flagged.
 */
export function dateBounds(v: string): [number, number] | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(v);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  if (h !== undefined) {
    const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? `.${frac.slice(0, 3)}` : ''}${tz ?? 'Z'}`);
    return Number.isNaN(t) ? undefined : [t, t];
  }
  const slack = 14 * 3600_000;
  if (d !== undefined) {
    const t = Date.UTC(year, Number(mo) - 1, Number(d));
    return [t - slack, t + 86_400_000 - 1 + slack];
  }
  if (mo !== undefined) return [Date.UTC(year, Number(mo) - 1, 1) - slack, Date.UTC(year, Number(mo), 1) - 1 + slack];
  return [Date.UTC(year, 0, 1) - slack, Date.UTC(year + 1, 0, 1) - 1 + slack];
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string '${preview(v)}'`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Keeps hostile values from bloating error messages. */
export function preview(s: string, max = 40): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}
