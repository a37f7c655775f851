/**
 * Payload layout. A payload of at most MAX_BLOCK_BYTES is one raw block, so its CID is simply
 * CIDv1(raw, sha2-256(payload)). A larger one is cut into raw chunks of exactly CHUNK_BYTES (the
 * last one shorter) plus one dag-json manifest block listing them; the payload's CID is the
 * manifest's. The codec tells the two apart, so no payload can pass for a manifest.
 *
 * 1 MiB is Kubo's block-size limit (`block put` refuses more without --allow-big-block) and half
 * bitswap's 2 MiB message cap, so every block stays exchangeable between IPFS nodes. UnixFS
 * (@helia/unixfs) would chunk too, but it is not a dependency and a DAG of raw leaves plus one
 * flat list is all this store needs.
 *
 * Manifest v1 (canonical DAG-JSON: no whitespace, keys sorted; the three keys have the same
 * length, so bytewise and length-first orders agree and any DAG-JSON encoder produces the same
 * bytes):
 *   {"chunks":[{"/":"bafkrei..."},...],"format":"medrollup/chunks/1","length":<payload bytes>}
 * The links are real IPLD links: `ipfs pin add <manifest>` or `ipfs dag get` follow them.
 */
import type { CID } from 'multiformats/cid';
import { RAW_CODEC, parseCid } from './cid.js';
import { StorageError } from './errors.js';

export const MAX_BLOCK_BYTES = 1024 * 1024;
export const CHUNK_BYTES = MAX_BLOCK_BYTES;
/** Bounds what put accepts and what a get will allocate for a manifest's declared length. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
export const MANIFEST_FORMAT = 'medrollup/chunks/1';

export interface ChunkManifest {
  readonly chunks: readonly CID[];
  /** Payload length in bytes: CHUNK_BYTES per chunk except the last. */
  readonly length: number;
}

export function chunkCount(length: number): number {
  return Math.ceil(length / CHUNK_BYTES);
}

export function encodeManifest(manifest: ChunkManifest): Uint8Array {
  const links = manifest.chunks.map((cid) => `{"/":"${cid.toString()}"}`).join(',');
  return new TextEncoder().encode(`{"chunks":[${links}],"format":"${MANIFEST_FORMAT}","length":${manifest.length}}`);
}

/**
 * Strict: the bytes already match their CID, but the CID may have been handed to us by anyone, so
 * the shape is checked before any chunk is fetched or any memory is allocated.
 */
export function decodeManifest(cid: CID, bytes: Uint8Array): ChunkManifest {
  const bad = (why: string): StorageError => new StorageError('BAD_MANIFEST', `${cid} is not a chunk manifest: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw bad(`not UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isRecord(value)) throw bad('not a JSON object');
  const keys = Object.keys(value).sort().join(',');
  if (keys !== 'chunks,format,length') throw bad(`keys ${keys || '(none)'}`);
  if (value.format !== MANIFEST_FORMAT) throw bad(`format ${JSON.stringify(value.format)}, expected ${MANIFEST_FORMAT}`);
  const { length, chunks } = value;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length <= MAX_BLOCK_BYTES) throw bad(`length ${String(length)} (a manifest covers more than ${MAX_BLOCK_BYTES} bytes)`);
  if (length > MAX_PAYLOAD_BYTES) throw new StorageError('TOO_LARGE', `${cid} declares ${length} bytes, above the ${MAX_PAYLOAD_BYTES}-byte limit`);
  if (!Array.isArray(chunks) || chunks.length !== chunkCount(length)) throw bad(`needs ${chunkCount(length)} chunk links for ${length} bytes`);
  return {
    length,
    chunks: chunks.map((link: unknown, i) => {
      const target = isRecord(link) && Object.keys(link).length === 1 ? link['/'] : undefined;
      if (typeof target !== 'string') throw bad(`chunk ${i} is not a {"/": "<cid>"} link`);
      let chunk: CID;
      try {
        chunk = parseCid(target);
      } catch (err) {
        throw bad(`chunk ${i}: ${(err as Error).message}`);
      }
      if (chunk.code !== RAW_CODEC) throw bad(`chunk ${i} (${target}) is not a raw block`);
      return chunk;
    }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
