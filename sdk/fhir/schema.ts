/**
 * A small declarative model of FHIR structure definitions: each resource, datatype and backbone
 * element lists its elements (cardinality, type(s), required binding, reference targets) and the
 * invariants worth enforcing. The validator walks JSON against these; nothing here knows about paths
 * or issues. Element tables are Maps, never plain objects, so a JSON key such as `constructor` or
 * `__proto__` can never match an inherited property.
 */
import { isPrimitiveName, type PrimitiveName } from './primitives.js';

export type JsonObject = Record<string, unknown>;

/** A named datatype (resolved lazily, so datatypes can refer to each other), or an inline backbone. */
export type TypeRef = string | StructureDef;

/** A value set with a `required` binding: only these codes are conformant. */
export interface Binding {
  readonly valueSet: string;
  /** For CodeableConcept bindings: the code system the codes belong to. */
  readonly system?: string;
  readonly codes: ReadonlySet<string>;
}

export interface ElementDef {
  /** Name as in the spec, `value[x]` for a choice. */
  readonly name: string;
  readonly min: 0 | 1;
  readonly max: 1 | '*';
  readonly types: readonly TypeRef[];
  readonly binding?: Binding;
  /** Resource types a Reference may point to (unchecked when absent). */
  readonly targets?: readonly string[];
}

/** Calls `fail` once per violation; `at` is relative to the node (e.g. `entry[2].request`). */
export type InvariantCheck = (node: JsonObject, fail: (message: string, at?: string) => void) => void;
export interface Invariant {
  /** The spec's invariant id (e.g. `bdl-7`), prefixed to messages; absent for rules stated only in prose. */
  readonly key?: string;
  /** Issue code to report under; default `invariant` (a required binding checked by hand uses `code-invalid`). */
  readonly code?: 'invariant' | 'code-invalid';
  readonly check: InvariantCheck;
}

export interface StructureDef {
  readonly name: string;
  readonly kind: 'resource' | 'datatype' | 'backbone';
  readonly elements: ReadonlyMap<string, ElementDef>;
  /** JSON property name → element and the concrete type that property carries (choice expansion). */
  readonly jsonKeys: ReadonlyMap<string, { readonly def: ElementDef; readonly type: TypeRef }>;
  readonly invariants: readonly Invariant[];
}

type Card = '0..1' | '1..1' | '0..*' | '1..*';
export interface ElementSpec {
  readonly card: Card;
  readonly types: readonly TypeRef[];
  readonly binding?: Binding;
  readonly targets?: readonly string[];
}

/** `el('1..1', 'CodeableConcept')`, `el('0..1', ['dateTime', 'Period'])` for `x[x]`. */
export function el(
  card: Card,
  type: TypeRef | readonly TypeRef[],
  extra: { binding?: Binding; targets?: readonly string[] } = {},
): ElementSpec {
  return { card, types: Array.isArray(type) ? type : [type as TypeRef], ...extra };
}

export const ref = (card: Card, ...targets: string[]): ElementSpec =>
  el(card, 'Reference', targets.length > 0 ? { targets } : {});

export function valueSet(valueSet: string, codes: readonly string[], system?: string): Binding {
  return { valueSet, codes: new Set(codes), ...(system ? { system } : {}) };
}

export function typeName(t: TypeRef): string {
  return typeof t === 'string' ? t : t.name;
}

export function isPrimitiveType(t: TypeRef): t is PrimitiveName {
  return typeof t === 'string' && isPrimitiveName(t);
}

const EXTENSIONS = { extension: el('0..*', 'Extension') } as const;

/** A complex datatype (Element): id + extension come for free. */
export function datatype(name: string, elements: Record<string, ElementSpec>, invariants: Invariant[] = []): StructureDef {
  return build(name, 'datatype', { id: el('0..1', 'string'), ...EXTENSIONS, ...elements }, invariants);
}

/** A BackboneElement: id, extension and modifierExtension come for free. */
export function backbone(name: string, elements: Record<string, ElementSpec>, invariants: Invariant[] = []): StructureDef {
  return build(name, 'backbone', {
    id: el('0..1', 'string'), ...EXTENSIONS, modifierExtension: el('0..*', 'Extension'), ...elements,
  }, invariants);
}

const RESOURCE_BASE = {
  id: el('0..1', 'id'),
  meta: el('0..1', 'Meta'),
  implicitRules: el('0..1', 'uri'),
  language: el('0..1', 'code'),
};

/** A DomainResource (text, contained, extensions) or, with `domain: false`, a bare Resource like Bundle. */
export function resource(
  name: string,
  elements: Record<string, ElementSpec>,
  invariants: Invariant[] = [],
  { domain = true }: { domain?: boolean } = {},
): StructureDef {
  const base = domain
    ? { ...RESOURCE_BASE, text: el('0..1', 'Narrative'), contained: el('0..*', 'Resource'), ...EXTENSIONS, modifierExtension: el('0..*', 'Extension') }
    : RESOURCE_BASE;
  return build(name, 'resource', { ...base, ...elements }, invariants);
}

function build(name: string, kind: StructureDef['kind'], specs: Record<string, ElementSpec>, invariants: Invariant[]): StructureDef {
  const elements = new Map<string, ElementDef>();
  const jsonKeys = new Map<string, { def: ElementDef; type: TypeRef }>();
  for (const [elName, spec] of Object.entries(specs)) {
    const [min, max] = spec.card.split('..') as ['0' | '1', '1' | '*'];
    const def: ElementDef = {
      name: elName, min: min === '1' ? 1 : 0, max: max === '*' ? '*' : 1, types: spec.types,
      ...(spec.binding ? { binding: spec.binding } : {}), ...(spec.targets ? { targets: spec.targets } : {}),
    };
    elements.set(elName, def);
    if (elName.endsWith('[x]')) {
      const stem = elName.slice(0, -3);
      for (const t of spec.types) {
        const n = typeName(t);
        jsonKeys.set(stem + n.charAt(0).toUpperCase() + n.slice(1), { def, type: t });
      }
    } else {
      const [only] = spec.types;
      if (spec.types.length !== 1 || only === undefined) throw new Error(`${name}.${elName}: several types need a [x] name`);
      jsonKeys.set(elName, { def, type: only });
    }
  }
  return { name, kind, elements, jsonKeys, invariants };
}

// --- Helpers for invariants over raw (unvalidated) JSON ---------------------------------------------
export function asObject(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}
export function asArray(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}
export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
/** True when the node has the element in any JSON form (value, `_value` or any choice variant). */
export function has(node: JsonObject, name: string): boolean {
  if (name.endsWith('[x]')) {
    const stem = name.slice(0, -3);
    return Object.keys(node).some((k) => k.startsWith(stem) && k.length > stem.length && /^[A-Z]/.test(k.slice(stem.length)) && node[k] !== undefined);
  }
  return node[name] !== undefined || node[`_${name}`] !== undefined;
}
