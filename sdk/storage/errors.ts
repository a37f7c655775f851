/**
 * Typed storage failures: callers branch on `code`, never on message text.
 */
import { SdkError } from '../errors.js';

export type StorageErrorCode =
  /** Not a CIDv1 with sha2-256 and a codec this store writes (raw, or dag-json for a chunk manifest). */
  | 'BAD_CID'
  /** Bytes came back that do not hash to the CID asked for (disk corruption or a lying node). */
  | 'CID_MISMATCH'
  /** The store does not hold this content. */
  | 'NOT_FOUND'
  /** The backend could not answer: Kubo unreachable or too slow, or a local I/O failure. */
  | 'UNAVAILABLE'
  /** Payload (or a manifest's declared length) above MAX_PAYLOAD_BYTES. */
  | 'TOO_LARGE'
  /** A dag-json block that hashes correctly but is not a chunk manifest of ours. */
  | 'BAD_MANIFEST'
  /** Used after close(). */
  | 'CLOSED';

export class StorageError extends SdkError<StorageErrorCode> {
  override readonly name = 'StorageError';
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
