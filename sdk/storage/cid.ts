/**
 * CIDs as this store writes them: CIDv1, sha2-256 (32-byte digest), codec raw (0x55) for content
 * and dag-json (0x0129) for chunk manifests. Anything else is refused up front (BAD_CID), so a
 * caller can never make a backend look up, or us trust, content under a weaker or foreign hash.
 */
import { equals } from 'multiformats/bytes';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { StorageError } from './errors.js';

export const RAW_CODEC = raw.code; // 0x55
export const DAG_JSON_CODEC = 0x0129;
const SHA2_256_DIGEST_BYTES = 32;

export type ContentCodec = typeof RAW_CODEC | typeof DAG_JSON_CODEC;

/** Kubo's names for the codecs, as its block/put `cid-codec` parameter expects them. */
export const CODEC_NAMES: Readonly<Record<ContentCodec, string>> = { [RAW_CODEC]: 'raw', [DAG_JSON_CODEC]: 'dag-json' };

export async function cidOf(codec: ContentCodec, bytes: Uint8Array): Promise<CID> {
  return CID.createV1(codec, await sha256.digest(bytes));
}

/** Parses and validates a CID string; every malformed or foreign one is BAD_CID. */
export function parseCid(text: string): CID {
  if (typeof text !== 'string') throw new StorageError('BAD_CID', `a CID must be a string, got ${typeof text}`);
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch (err) {
    throw new StorageError('BAD_CID', `"${clip(text)}" is not a CID (${(err as Error).message})`);
  }
  if (cid.version !== 1) throw new StorageError('BAD_CID', `${text} is a CIDv${cid.version}; this store holds CIDv1 only`);
  if (cid.code !== RAW_CODEC && cid.code !== DAG_JSON_CODEC) {
    throw new StorageError('BAD_CID', `${text} has codec 0x${cid.code.toString(16)}; expected raw (0x55) or dag-json (0x129)`);
  }
  if (cid.multihash.code !== sha256.code || cid.multihash.size !== SHA2_256_DIGEST_BYTES) {
    throw new StorageError('BAD_CID', `${text} is not a sha2-256 CID (multihash 0x${cid.multihash.code.toString(16)}, ${cid.multihash.size} bytes)`);
  }
  return cid;
}

/** Refuses bytes that do not hash to `cid`: disk rot, a truncated write, or a node that lies. */
export async function verifyBlock(cid: CID, bytes: Uint8Array, source: string): Promise<void> {
  const digest = await sha256.digest(bytes);
  if (!equals(digest.digest, cid.multihash.digest)) {
    throw new StorageError('CID_MISMATCH', `${source} returned ${bytes.byteLength} bytes for ${cid} that hash to ${CID.createV1(cid.code, digest)}`);
  }
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
