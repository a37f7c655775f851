/**
 * Refuses hostile input before the (recursive) validator sees it: oversized documents, deep nesting,
 * cyclic object graphs and, for JSON text, duplicate property names (which FHIR JSON forbids and which
 * different parsers resolve differently). Both scans are iterative, so they cannot overflow the stack.
 */
import { Buffer } from 'node:buffer';

export interface Limits {
  /** Serialized size cap; for parsed values an estimate (string lengths + keys + a few bytes per node). */
  readonly maxBytes: number;
  /** Nesting of objects and arrays. Real R4 records stay well under 30 (Bundle → Claim.item.detail.subDetail …). */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: Limits = { maxBytes: 10 * 1024 * 1024, maxDepth: 64 };

export interface LimitViolation {
  readonly code: 'too-long' | 'too-costly' | 'structure';
  readonly message: string;
}

/** Walks a parsed value without recursion; stops at the first limit crossed. */
export function checkValueLimits(value: unknown, limits: Limits): LimitViolation | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let bytes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') bytes += v.length + 2;
    else if (typeof v !== 'object' || v === null) bytes += 8;
    else {
      // A cyclic graph never ends, so it is caught here as excessive depth.
      if (depth > limits.maxDepth) return tooDeep(limits);
      bytes += 2;
      if (Array.isArray(v)) {
        for (const item of v) stack.push([item, depth + 1]);
      } else {
        for (const [k, item] of Object.entries(v)) {
          bytes += k.length + 4;
          stack.push([item, depth + 1]);
        }
      }
    }
    if (bytes > limits.maxBytes) return tooLarge(limits, `more than ${limits.maxBytes} bytes (estimated)`);
  }
  return undefined;
}

/**
 * Scans JSON text for nesting depth and duplicate keys before JSON.parse; syntax errors are left to
 * JSON.parse. Tracks one key set per open object.
 */
export function checkTextLimits(text: string, limits: Limits): LimitViolation | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) return tooLarge(limits, `${bytes} bytes`);
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return undefined; // malformed string: JSON.parse reports it with a position
        }
        if (top.has(key)) return { code: 'structure', message: `duplicate property '${key.slice(0, 64)}' at offset ${i} (FHIR JSON forbids repeated properties)` };
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push(c === 0x7b ? new Set() : null);
      if (stack.length > limits.maxDepth) return tooDeep(limits);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (c === 0x3a /* : */) {
      expectKey = false;
    }
  }
  return undefined;
}

const tooDeep = (l: Limits): LimitViolation => ({ code: 'too-costly', message: `input nests deeper than ${l.maxDepth} levels; refused` });
const tooLarge = (l: Limits, what: string): LimitViolation => ({
  code: 'too-long', message: `input is ${what}, over the ${l.maxBytes}-byte limit; refused`,
});
