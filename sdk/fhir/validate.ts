/**
 * Client-side FHIR R4 validation of the resources this project exchanges.
 *
 * Hand-written on purpose: there is no maintained FHIR R4 validator for Node that installs offline
 * (the reference validator is a Java program that fetches packages at run time), and records are
 * checked in the browser/CLI before encryption, where neither is available. The rules come from the
 * R4 (4.0.1) spec pages of each resource and datatype; see schema.ts for the model and
 * datatypes.ts / resources.ts for what is covered. Every issue is collected (no early exit) up to
 * `maxIssues`; hostile input is refused by limits.ts before the recursive walk.
 */
import { DATATYPES, UNMODELLED_EXTENSION_VALUE_TYPES } from './datatypes.js';
import { FhirValidationError, type IssueCode, type ValidationIssue, type ValidationResult } from './errors.js';
import { checkTextLimits, checkValueLimits, DEFAULT_LIMITS, type Limits } from './limits.js';
import { checkPrimitive, describe, OID_URN_RE, preview, UUID_URN_RE } from './primitives.js';
import { RESOURCES, SUPPORTED_RESOURCE_TYPES } from './resources.js';
import { isPrimitiveType, type Binding, type ElementDef, type JsonObject, type StructureDef, type TypeRef } from './schema.js';
import type { FhirResource } from './types.js';

export interface ValidateOptions extends Partial<Limits> {
  /** Stop collecting after this many issues (default 500): a hostile document cannot flood the caller. */
  readonly maxIssues?: number;
}

/** Validates a parsed JSON value as one FHIR R4 resource (any supported type, Bundles included). */
export function validateResource(json: unknown, opts: ValidateOptions = {}): ValidationResult {
  const limits = limitsOf(opts);
  const refused = checkValueLimits(json, limits);
  if (refused) return fail(rootLabel(json), refused.code, refused.message);
  const walker = new Walker(opts.maxIssues ?? 500);
  try {
    walker.resource(json, undefined, false);
  } catch (e) {
    if (!(e instanceof TooManyIssues)) throw e;
  }
  return { valid: walker.issues.length === 0, issues: walker.issues };
}

/**
 * Parses and validates JSON text. Size, depth and duplicate property names are checked on the text
 * first, so an oversized or hostile document is never parsed.
 */
export function validateJson(text: string, opts: ValidateOptions = {}): ValidationResult & { readonly resource?: FhirResource } {
  const refused = checkTextLimits(text, limitsOf(opts));
  if (refused) return fail('(json)', refused.code, refused.message);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail('(json)', 'structure', `not valid JSON: ${(e as Error).message}`);
  }
  const result = validateResource(json, opts);
  return result.valid ? { ...result, resource: json as FhirResource } : result;
}

/** Throws FhirValidationError (with every issue) unless `json` is a valid resource. */
export function assertValidResource(json: unknown, opts: ValidateOptions = {}): asserts json is FhirResource {
  const { valid, issues } = validateResource(json, opts);
  if (!valid) throw new FhirValidationError(issues);
}

export function isValidResource(json: unknown, opts: ValidateOptions = {}): json is FhirResource {
  return validateResource(json, opts).valid;
}

function limitsOf(opts: ValidateOptions): Limits {
  return { maxBytes: opts.maxBytes ?? DEFAULT_LIMITS.maxBytes, maxDepth: opts.maxDepth ?? DEFAULT_LIMITS.maxDepth };
}

function fail(path: string, code: IssueCode, message: string): ValidationResult {
  return { valid: false, issues: [{ path, code, message }] };
}

function rootLabel(json: unknown): string {
  const rt = plainObject(json)?.resourceType;
  return typeof rt === 'string' && RESOURCES.has(rt) ? rt : 'Resource';
}

/**
 * Only JSON-shaped objects: class instances, Maps, Dates… are not FHIR JSON. The prototype test is
 * realm-independent (any realm's Object.prototype, or none), so objects from structuredClone, a
 * worker or another vm context are accepted.
 */
function plainObject(v: unknown): JsonObject | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null ? (v as JsonObject) : undefined;
}

function what(v: unknown): string {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? 'an object that is not plain JSON (e.g. a class instance)' : describe(v);
}

class TooManyIssues extends Error {}

/** `#id` references inside one resource and its contained resources (ref-1, dom-3). */
interface ContainerScope {
  readonly ids: ReadonlyMap<string, { index: number; type: string | undefined }>;
  readonly referenced: Set<string>;
  /** Contained resources that refer back to their container with `#`. */
  readonly refersToContainer: Set<string>;
  current: string | undefined;
}

const REL_REF_RE = /^([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABS_REF_RE = /^https?:\/\/\S+$/;
const ABS_TAIL_RE = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

class Walker {
  readonly issues: ValidationIssue[] = [];
  /** Per enclosing Bundle: fullUrl → resourceType of that entry. */
  private readonly bundles: Map<string, string | undefined>[] = [];
  private readonly containers: ContainerScope[] = [];

  constructor(private readonly maxIssues: number) {}

  private report(path: string, code: IssueCode, message: string): void {
    if (this.issues.length >= this.maxIssues) {
      this.issues.push({ path, code: 'too-costly', message: `more than ${this.maxIssues} issues; validation stopped` });
      throw new TooManyIssues();
    }
    this.issues.push({ path, code, message });
  }

  resource(value: unknown, path: string | undefined, contained: boolean): void {
    const obj = plainObject(value);
    if (!obj) {
      this.report(path ?? 'Resource', 'structure', `expected a resource (a JSON object), got ${what(value)}`);
      return;
    }
    const rt = obj.resourceType;
    if (typeof rt !== 'string') {
      this.report(`${path ?? 'Resource'}.resourceType`, 'required', 'missing resourceType (a string naming the resource type)');
      return;
    }
    const def = RESOURCES.get(rt);
    if (!def) {
      this.report(`${path ?? 'Resource'}.resourceType`, 'not-supported',
        `unknown or unsupported resourceType '${preview(rt)}' (supported: ${SUPPORTED_RESOURCE_TYPES.join(', ')})`);
      return;
    }
    const root = path ?? rt;
    if (rt === 'Bundle') this.bundles.push(fullUrlsOf(obj));
    const parent = this.containers[this.containers.length - 1];
    const scope = def.elements.has('contained') && !contained ? containerScope(obj) : undefined;
    if (scope) this.containers.push(scope);
    const previous = parent?.current;
    if (contained) {
      this.containedRules(obj, root);
      if (parent) parent.current = typeof obj.id === 'string' ? obj.id : undefined;
    }
    try {
      this.structure(obj, def, root);
    } finally {
      if (contained && parent) parent.current = previous;
      if (scope) this.containers.pop();
      if (rt === 'Bundle') this.bundles.pop();
    }
    if (scope) {
      for (const [id, { index }] of scope.ids) {
        if (!scope.referenced.has(id) && !scope.refersToContainer.has(id)) {
          this.report(`${root}.contained[${index}]`, 'invariant',
            `dom-3: contained resource '${id}' SHALL be referred to from elsewhere in the resource (as '#${id}') or refer to its container`);
        }
      }
    }
  }

  /** dom-2, dom-4, dom-5 and the id a contained resource needs to be referenced. */
  private containedRules(obj: JsonObject, root: string): void {
    if (obj.contained !== undefined) this.report(`${root}.contained`, 'invariant', 'dom-2: a contained resource SHALL NOT contain nested resources');
    if (typeof obj.id !== 'string') this.report(`${root}.id`, 'invariant', 'dom-3: a contained resource needs an id so it can be referenced');
    const meta = plainObject(obj.meta);
    if (meta && (meta.versionId !== undefined || meta.lastUpdated !== undefined)) {
      this.report(`${root}.meta`, 'invariant', 'dom-4: a contained resource SHALL NOT have meta.versionId or meta.lastUpdated');
    }
    if (meta?.security !== undefined) this.report(`${root}.meta.security`, 'invariant', 'dom-5: a contained resource SHALL NOT have a security label');
  }

  private structure(value: unknown, def: StructureDef, path: string): void {
    const obj = plainObject(value);
    if (!obj) {
      this.report(path, 'structure', `expected a JSON object (${def.name}), got ${what(value)}`);
      return;
    }
    // `undefined` properties vanish in JSON.stringify, so they count as absent, not as errors.
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    if (keys.length === 0 && def.kind !== 'resource') {
      this.report(path, 'structure', 'ele-1: empty objects are not allowed (an element needs a value or children)');
      return;
    }
    const present = new Map<ElementDef, Set<string>>();
    for (const key of keys) {
      if (def.kind === 'resource' && key === 'resourceType') continue;
      const isExt = key.startsWith('_');
      const name = isExt ? key.slice(1) : key;
      const entry = def.jsonKeys.get(name);
      if (!entry || (isExt && !isPrimitiveType(entry.type))) {
        this.unknownElement(key, def, path);
        continue;
      }
      const seen = present.get(entry.def) ?? new Set<string>();
      seen.add(name);
      present.set(entry.def, seen);
      if (isExt) this.primitiveExtension(obj[key], entry.def, obj[name], `${path}.${key}`);
      else this.element(obj[key], entry.def, entry.type, `${path}.${key}`, obj[`_${key}`]);
    }
    for (const d of def.elements.values()) {
      const seen = present.get(d);
      if (d.min === 1 && !seen) {
        this.report(`${path}.${d.name}`, 'required', `missing required element '${d.name}' (cardinality ${d.min}..${d.max})`);
      } else if (seen && seen.size > 1) {
        this.report(`${path}.${d.name}`, 'structure', `${d.name} takes one type only, found ${[...seen].join(' and ')}`);
      }
    }
    for (const inv of def.invariants) {
      const prefix = inv.key ? `${inv.key}: ` : '';
      inv.check(obj, (message, at) => this.report(at ? `${path}.${at}` : path, inv.code ?? 'invariant', prefix + message));
    }
  }

  private unknownElement(key: string, def: StructureDef, path: string): void {
    const at = `${path}.${preview(key, 64)}`;
    for (const d of def.elements.values()) {
      if (!d.name.endsWith('[x]')) continue;
      const stem = d.name.slice(0, -3);
      const type = key.startsWith(stem) ? key.slice(stem.length) : '';
      if (!/^[A-Z]/.test(type)) continue;
      if (def.name === 'Extension' && (UNMODELLED_EXTENSION_VALUE_TYPES as readonly string[]).includes(type)) {
        this.report(at, 'not-supported', `value${type} is valid R4 but this validator does not model ${type}`);
      } else {
        const allowed = [...def.jsonKeys].filter(([, e]) => e.def === d).map(([k]) => k);
        this.report(at, 'structure', `'${preview(key, 64)}' is not a permitted type for ${d.name} (allowed: ${allowed.join(', ')})`);
      }
      return;
    }
    const lower = key.toLowerCase();
    const near = [...def.jsonKeys.keys()].find((k) => k.toLowerCase() === lower);
    const hint = near ? ` (did you mean '${near}'?)` : '';
    this.report(at, 'structure', `unknown element '${preview(key, 64)}' in ${def.name}${hint}; FHIR JSON does not allow unknown elements`);
  }

  private element(raw: unknown, d: ElementDef, type: TypeRef, path: string, ext: unknown): void {
    if (d.max === 1) {
      if (Array.isArray(raw)) {
        this.report(path, 'structure', `${d.name} has cardinality ${d.min}..1: expected a single value, not an array`);
        return;
      }
      this.value(raw, d, type, path);
      return;
    }
    if (!Array.isArray(raw)) {
      this.report(path, 'structure', `${d.name} has cardinality ${d.min}..*: expected an array, even for one value`);
      return;
    }
    if (raw.length === 0) {
      this.report(path, 'structure', 'empty arrays are not allowed in FHIR JSON (leave the element out)');
      return;
    }
    const extensions = Array.isArray(ext) ? ext : [];
    raw.forEach((item, i) => {
      // In a primitive array, null holds the place of a value carried only by its `_name` extension.
      if (item === null && isPrimitiveType(type) && plainObject(extensions[i])) return;
      this.value(item, d, type, `${path}[${i}]`);
    });
  }

  private value(v: unknown, d: ElementDef, type: TypeRef, path: string): void {
    if (v === null || v === undefined) {
      this.report(path, 'structure', 'null is not allowed (leave the element out)');
      return;
    }
    if (isPrimitiveType(type)) {
      const err = checkPrimitive(type, v);
      if (err) this.report(path, 'value', err);
      else if (d.binding && type === 'code' && !d.binding.codes.has(v as string)) {
        this.report(path, 'code-invalid', `'${preview(v as string)}' is not in the required value set ${d.binding.valueSet} (${[...d.binding.codes].join(' | ')})`);
      }
      return;
    }
    if (type === 'Resource') {
      this.resource(v, path, d.name === 'contained');
      return;
    }
    const def = typeof type === 'string' ? DATATYPES.get(type) : type;
    if (!def) {
      this.report(path, 'not-supported', `datatype ${String(type)} is not modelled`);
      return;
    }
    this.structure(v, def, path);
    const obj = plainObject(v);
    if (!obj) return;
    if (def.name === 'Reference') this.reference(obj, d, path);
    if (d.binding && def.name === 'CodeableConcept') this.conceptBinding(obj, d.binding, path);
  }

  /** `_name`: the id/extensions of a primitive, an object (or an array aligned with the values). */
  private primitiveExtension(ext: unknown, d: ElementDef, values: unknown, path: string): void {
    const element = DATATYPES.get('Element')!;
    if (d.max === 1) {
      this.structure(ext, element, path);
      return;
    }
    if (!Array.isArray(ext)) {
      this.report(path, 'structure', `_${d.name} must be an array aligned with ${d.name}`);
      return;
    }
    if (Array.isArray(values) && values.length !== ext.length) {
      this.report(path, 'structure', `_${d.name} has ${ext.length} items but ${d.name} has ${values.length}`);
    }
    ext.forEach((item, i) => {
      if (item === null) {
        if (!Array.isArray(values) || values[i] === null || values[i] === undefined) this.report(`${path}[${i}]`, 'structure', 'value and extension are both null');
        return;
      }
      this.structure(item, element, `${path}[${i}]`);
    });
  }

  private reference(ref: JsonObject, d: ElementDef, path: string): void {
    const r = ref.reference;
    let target: string | undefined;
    if (typeof r === 'string') {
      const at = `${path}.reference`;
      if (r.startsWith('#')) {
        const scope = this.containers[this.containers.length - 1];
        if (r === '#') {
          if (scope?.current !== undefined) scope.refersToContainer.add(scope.current);
          return;
        }
        const found = scope?.ids.get(r.slice(1));
        if (!scope || !found) {
          this.report(at, 'not-found', `ref-1: local reference '${preview(r)}' does not match the id of any contained resource`);
          return;
        }
        scope.referenced.add(r.slice(1));
        target = found.type;
      } else if (r.startsWith('urn:')) {
        if (!UUID_URN_RE.test(r) && !OID_URN_RE.test(r)) {
          this.report(at, 'value', `'${preview(r)}' is not a valid urn:uuid (lowercase RFC 4122 form) or urn:oid reference`);
          return;
        }
        const bundle = this.bundles[this.bundles.length - 1];
        if (bundle) {
          if (!bundle.has(r)) {
            this.report(at, 'not-found', `'${r}' does not resolve: no entry in this Bundle has that fullUrl`);
            return;
          }
          target = bundle.get(r);
        }
      } else if (REL_REF_RE.test(r)) {
        target = REL_REF_RE.exec(r)?.[1];
      } else if (ABS_REF_RE.test(r)) {
        target = this.bundles[this.bundles.length - 1]?.get(r) ?? ABS_TAIL_RE.exec(r)?.[1];
      } else {
        this.report(at, 'value', `'${preview(r)}' is not a valid reference: expected 'Type/id', an absolute URL, 'urn:uuid:…', 'urn:oid:…' or '#id'`);
        return;
      }
      if (target && d.targets && !d.targets.includes(target)) {
        this.report(at, 'value', `refers to a ${target}, but ${d.name} may only refer to ${d.targets.join(' | ')}`);
      }
    }
    const declared = ref.type;
    if (typeof declared === 'string') {
      if (d.targets && !d.targets.includes(declared)) {
        this.report(`${path}.type`, 'value', `'${preview(declared)}' is not a permitted target of ${d.name} (${d.targets.join(' | ')})`);
      } else if (target && declared !== target) {
        this.report(`${path}.type`, 'value', `type '${preview(declared)}' disagrees with the referenced ${target}`);
      }
    }
  }

  /** A required binding on a CodeableConcept: some coding SHALL come from the value set. */
  private conceptBinding(cc: JsonObject, b: Binding, path: string): void {
    const allowed = `${b.valueSet} (${b.system ?? ''}: ${[...b.codes].join(' | ')})`;
    let matched = false;
    let reported = false;
    (Array.isArray(cc.coding) ? cc.coding : []).forEach((c, i) => {
      const coding = plainObject(c);
      if (!coding || (b.system !== undefined && coding.system !== b.system) || typeof coding.code !== 'string') return;
      if (b.codes.has(coding.code)) matched = true;
      else {
        reported = true;
        this.report(`${path}.coding[${i}].code`, 'code-invalid', `'${preview(coding.code)}' is not in the required value set ${allowed}`);
      }
    });
    if (!matched && !reported) this.report(path, 'code-invalid', `SHALL have a coding from the required value set ${allowed}`);
  }
}

function fullUrlsOf(bundle: JsonObject): Map<string, string | undefined> {
  const urls = new Map<string, string | undefined>();
  for (const e of Array.isArray(bundle.entry) ? bundle.entry : []) {
    const entry = plainObject(e);
    if (!entry || typeof entry.fullUrl !== 'string' || urls.has(entry.fullUrl)) continue;
    const rt = plainObject(entry.resource)?.resourceType;
    urls.set(entry.fullUrl, typeof rt === 'string' ? rt : undefined);
  }
  return urls;
}

function containerScope(res: JsonObject): ContainerScope {
  const ids = new Map<string, { index: number; type: string | undefined }>();
  (Array.isArray(res.contained) ? res.contained : []).forEach((c, index) => {
    const o = plainObject(c);
    if (o && typeof o.id === 'string' && !ids.has(o.id)) ids.set(o.id, { index, type: typeof o.resourceType === 'string' ? o.resourceType : undefined });
  });
  return { ids, referenced: new Set(), refersToContainer: new Set(), current: undefined };
}
