/**
 * Name-based UUIDs (RFC 4122 version 5). Importing the same CSV twice yields the same fullUrls, so
 * records are reproducible and, once encrypted, map to stable content the rollup can reference.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

/** Fixed namespace for this project's synthetic-dataset resources (random, generated once). */
export const MEDROLLUP_UUID_NAMESPACE = '6f1c2a57-1f0e-4d8a-9a43-5b7e2c9d0e11';

export function uuidV5(name: string, namespace: string = MEDROLLUP_UUID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`namespace ${namespace} is not a UUID`);
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const urnUuid = (name: string, namespace?: string): string => `urn:uuid:${uuidV5(name, namespace)}`;
