/**
 * The content-addressed store the SDK uses, over either backend. Hashing, chunking and
 * verification live here, once, so a backend is only trusted to move bytes: every block that
 * comes back, from disk or from a remote Kubo node, is hashed against its CID before use.
 */
import type { CID } from 'multiformats/cid';
import { DAG_JSON_CODEC, RAW_CODEC, cidOf, parseCid, verifyBlock, type ContentCodec } from './cid.js';
import { StorageError } from './errors.js';
import { CHUNK_BYTES, MAX_BLOCK_BYTES, MAX_PAYLOAD_BYTES, chunkCount, decodeManifest, encodeManifest } from './manifest.js';

/** What the rest of the SDK sees. CIDs travel as strings (base32 CIDv1, e.g. `bafkrei...`). */
export interface BlockStorage {
  /** `embedded Helia at <dir>` or `Kubo at <url>`, for logs. */
  readonly location: string;
  /**
   * Stores `bytes` (at most MAX_PAYLOAD_BYTES; do not modify them until this resolves) and returns
   * their CID: CIDv1 raw sha2-256 up to MAX_BLOCK_BYTES, else the CIDv1 dag-json of a chunk manifest.
   * The same bytes always give the same CID.
   */
  put(bytes: Uint8Array): Promise<string>;
  /** The content, verified against `cid`: BAD_CID, NOT_FOUND, CID_MISMATCH, UNAVAILABLE, BAD_MANIFEST, TOO_LARGE. */
  get(cid: string): Promise<Uint8Array>;
  /**
   * Whether the store holds the content (for a manifest: it and all its chunks). Presence only:
   * damage shows on get. Kubo answers from its own blockstore, without searching the network.
   */
  has(cid: string): Promise<boolean>;
  /** Waits for operations in flight, then releases the backend; idempotent. Later calls fail with CLOSED. */
  close(): Promise<void>;
}

/** A backend moves blocks; it does not need to verify them. */
export interface BlockBackend {
  readonly location: string;
  put(cid: CID, bytes: Uint8Array): Promise<void>;
  /** The bytes as stored (unverified); NOT_FOUND or UNAVAILABLE as StorageError. */
  get(cid: CID): Promise<Uint8Array>;
  has(cid: CID): Promise<boolean>;
  close(): Promise<void>;
}

/** Chunk transfers in parallel: enough to hide Kubo round trips, few enough to bound memory. */
const CHUNK_CONCURRENCY = 4;

export class ContentStore implements BlockStorage {
  readonly location: string;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(private readonly backend: BlockBackend) {
    this.location = backend.location;
  }

  put(bytes: Uint8Array): Promise<string> {
    return this.track(async () => {
      if (!(bytes instanceof Uint8Array)) throw new TypeError('put expects a Uint8Array');
      if (bytes.byteLength > MAX_PAYLOAD_BYTES) throw new StorageError('TOO_LARGE', `${bytes.byteLength} bytes is above the ${MAX_PAYLOAD_BYTES}-byte limit`);
      if (bytes.byteLength <= MAX_BLOCK_BYTES) return (await this.putBlock(RAW_CODEC, bytes)).toString();
      const chunks = await mapLimit(chunkCount(bytes.byteLength), CHUNK_CONCURRENCY, (i) => this.putBlock(RAW_CODEC, bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)));
      // The manifest goes last: once its CID is handed out, every chunk is already stored.
      return (await this.putBlock(DAG_JSON_CODEC, encodeManifest({ chunks, length: bytes.byteLength }))).toString();
    });
  }

  get(cidText: string): Promise<Uint8Array> {
    return this.track(async () => {
      const cid = parseCid(cidText);
      const block = await this.getBlock(cid);
      if (cid.code === RAW_CODEC) return block;
      const manifest = decodeManifest(cid, block);
      const out = new Uint8Array(manifest.length);
      await mapLimit(manifest.chunks.length, CHUNK_CONCURRENCY, async (i) => {
        const chunk = await this.getBlock(manifest.chunks[i] as CID);
        const expected = Math.min(CHUNK_BYTES, manifest.length - i * CHUNK_BYTES);
        if (chunk.byteLength !== expected) throw new StorageError('BAD_MANIFEST', `${cid}: chunk ${i} holds ${chunk.byteLength} bytes, expected ${expected}`);
        out.set(chunk, i * CHUNK_BYTES);
      });
      return out;
    });
  }

  has(cidText: string): Promise<boolean> {
    return this.track(async () => {
      const cid = parseCid(cidText);
      if (!(await this.backend.has(cid))) return false;
      if (cid.code === RAW_CODEC) return true;
      const manifest = decodeManifest(cid, await this.getBlock(cid));
      const held = await mapLimit(manifest.chunks.length, CHUNK_CONCURRENCY, (i) => this.backend.has(manifest.chunks[i] as CID));
      return held.every(Boolean);
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.backend.close();
    })();
    return this.closing;
  }

  private async putBlock(codec: ContentCodec, bytes: Uint8Array): Promise<CID> {
    const cid = await cidOf(codec, bytes);
    await this.backend.put(cid, bytes);
    return cid;
  }

  private async getBlock(cid: CID): Promise<Uint8Array> {
    const bytes = await this.backend.get(cid);
    await verifyBlock(cid, bytes, this.location);
    return bytes;
  }

  /** Refuses work once close() began and lets close() wait for what already started. */
  private track<T>(op: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(new StorageError('CLOSED', `storage (${this.location}) is closed`));
    const running = op();
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return running;
  }
}

/**
 * Runs fn(0..count-1), at most `limit` at once, results in index order. After a failure no new
 * item starts, and the first error is thrown only once all running items have settled, so close()
 * never pulls the backend from under a straggler.
 */
async function mapLimit<T>(count: number, limit: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      const i = next++;
      try {
        results[i] = await fn(i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
