/**
 * Content-addressed storage for encrypted records (ciphertext only: encryption is sdk/crypto.ts's
 * job). `openStorage(config)` picks the backend from the configuration:
 * - IPFS_API_URL unset: an embedded Helia node over a filesystem blockstore in IPFS_DIR, with no
 *   networking at all (sdk/storage/embedded.ts);
 * - IPFS_API_URL set: that Kubo node through kubo-rpc-client (sdk/storage/kubo.ts).
 * Either way CIDs are CIDv1 sha2-256, and every block read is re-hashed against its CID
 * (sdk/storage/store.ts); payload layout and limits are in sdk/storage/manifest.ts.
 */
import type { Config } from './config.js';
import type { BlockStorage } from './storage/store.js';

export { StorageError, isStorageError, type StorageErrorCode } from './storage/errors.js';
export { DAG_JSON_CODEC, RAW_CODEC } from './storage/cid.js';
export { CHUNK_BYTES, MAX_BLOCK_BYTES, MAX_PAYLOAD_BYTES, MANIFEST_FORMAT } from './storage/manifest.js';
export type { BlockStorage } from './storage/store.js';
export type { EmbeddedStorage } from './storage/embedded.js';
export type { KuboStorageOptions } from './storage/kubo.js';

export interface OpenStorageOptions {
  /** Deadline of each Kubo RPC request (default 30 s); ignored by the embedded node. */
  readonly kuboTimeoutMs?: number;
}

/**
 * The backends are imported on demand (Helia alone takes ~0.8 s to load), so importing this module
 * for its types and errors stays cheap and a Kubo user never loads Helia. For the embedded node's
 * Helia instance use openEmbeddedStorage from sdk/storage/embedded.ts.
 */
export async function openStorage(config: Pick<Config, 'ipfs'>, options: OpenStorageOptions = {}): Promise<BlockStorage> {
  const { apiUrl, dir } = config.ipfs;
  if (apiUrl !== undefined) {
    const { openKuboStorage } = await import('./storage/kubo.js');
    return openKuboStorage({ url: apiUrl, timeoutMs: options.kuboTimeoutMs });
  }
  const { openEmbeddedStorage } = await import('./storage/embedded.js');
  return openEmbeddedStorage(dir);
}
