/**
 * The sequencer's write-ahead log: every accepted entry (signed L2 transaction or forced
 * operation) and every batch boundary, durable before the sequencer acts on it.
 *
 * Storage: Node's built-in `node:sqlite` (DatabaseSync). Embedded and transactional with an fsync
 * on every commit (journal_mode=WAL, synchronous=FULL), and nothing native to build: better-sqlite3
 * needs node-gyp or a matching prebuild, which is shaky on Node 22+ here.
 *
 * Schema (format version 1):
 *
 *   meta(key, value)          profile name, K/F/D/S, format version
 *   batches(idx, timestamp, old_root, new_root, closed_at)
 *                             a row per batch that has OPENED; new_root/closed_at are set when it
 *                             closes. The timestamp is fixed at opening (see prover/sequencer.ts).
 *   entries(seq, kind, batch, position, record, queue_index)
 *                             accepted entries in acceptance order. kind 'tx': record = the 47-byte
 *                             transaction record || nonce || r8x || r8y || s (uint256 big-endian
 *                             each, 175 bytes); kind 'forced': record = the 73-byte forced operation,
 *                             queue_index = its Gateway queue index. position = the slot within the
 *                             batch's forced (0..F-1) or transaction (0..K-1) slots.
 *
 * Every write method commits (and so fsyncs) before it returns: an entry is durable once append()
 * returns. Roots and timestamps are stored as decimal text (they exceed SQLite's int64).
 */
import { DatabaseSync } from 'node:sqlite';
import {
  FORCED_OP_BYTES,
  TX_RECORD_BYTES,
  decodeForcedOp,
  decodeTxRecord,
  encodeForcedOp,
  encodeTxRecord,
  type ForcedOp,
} from './codec.js';
import type { CircuitProfile } from './profiles.js';
import type { SignedTx } from './signing.js';

export const WAL_FORMAT_VERSION = 1;
/** 47-byte record, then nonce, r8x, r8y, s as uint256 big-endian. */
export const WAL_TX_BYTES = TX_RECORD_BYTES + 4 * 32;

export type WalErrorCode =
  | 'OPEN_FAILED'
  | 'PROFILE_MISMATCH'
  | 'FORMAT_MISMATCH'
  | 'CLOSED'
  | 'WRITE_FAILED'
  | 'CORRUPT'
  | 'BAD_ENTRY'
  | 'UNKNOWN_BATCH';

export class WalError extends Error {
  override readonly name = 'WalError';
  constructor(
    readonly code: WalErrorCode,
    message: string,
    options?: { cause: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

export type WalEntry =
  | { readonly kind: 'tx'; readonly batch: number; readonly position: number; readonly tx: SignedTx }
  | { readonly kind: 'forced'; readonly batch: number; readonly position: number; readonly op: ForcedOp; readonly queueIndex: number };

/** An entry as read back: with its sequence number (acceptance order, from 1). */
export type StoredEntry = WalEntry & { readonly seq: number };

/** A batch that has opened: its timestamp and old root are fixed; the rest is set when it closes. */
export interface BatchOpening {
  readonly index: number;
  /** uint64 unix seconds: the batch time its transactions were validated at. */
  readonly timestamp: bigint;
  readonly oldRoot: bigint;
}

export interface BatchBoundary extends BatchOpening {
  /** Undefined while the batch is open. */
  readonly newRoot?: bigint;
  /** Unix milliseconds of closing; undefined while open. */
  readonly closedAt?: number;
}

// ---------------------------------------------------------------------------------------------
// Binary transaction encoding

function writeUint256(out: Uint8Array, offset: number, value: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << 256n) throw new WalError('BAD_ENTRY', `${what} must be a uint256 bigint, got ${String(value)}`);
  let v = value;
  for (let i = offset + 31; i >= offset; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function readUint256(data: Uint8Array, offset: number): bigint {
  let v = 0n;
  for (let i = offset; i < offset + 32; i++) v = (v << 8n) | BigInt(data[i]!);
  return v;
}

export function encodeSignedTx(tx: SignedTx): Uint8Array {
  const out = new Uint8Array(WAL_TX_BYTES);
  out.set(encodeTxRecord(tx.record), 0);
  writeUint256(out, TX_RECORD_BYTES, tx.nonce, 'nonce');
  writeUint256(out, TX_RECORD_BYTES + 32, tx.signature.r8x, 'signature r8x');
  writeUint256(out, TX_RECORD_BYTES + 64, tx.signature.r8y, 'signature r8y');
  writeUint256(out, TX_RECORD_BYTES + 96, tx.signature.s, 'signature s');
  return out;
}

export function decodeSignedTx(data: Uint8Array): SignedTx {
  if (data.length !== WAL_TX_BYTES) throw new WalError('CORRUPT', `a logged transaction is ${data.length} bytes, expected ${WAL_TX_BYTES}`);
  const b = TX_RECORD_BYTES;
  return {
    record: decodeTxRecord(data.subarray(0, b)),
    nonce: readUint256(data, b),
    signature: { r8x: readUint256(data, b + 32), r8y: readUint256(data, b + 64), s: readUint256(data, b + 96) },
  };
}

// ---------------------------------------------------------------------------------------------

type ProfileParams = Pick<CircuitProfile, 'name' | 'maxTxs' | 'maxForcedOps' | 'treeDepth' | 'consentDepth'>;

function paramsString(p: ProfileParams): string {
  return `K=${p.maxTxs},F=${p.maxForcedOps},D=${p.treeDepth},S=${p.consentDepth}`;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS batches (
  idx INTEGER PRIMARY KEY,
  timestamp TEXT NOT NULL,
  old_root TEXT NOT NULL,
  new_root TEXT,
  closed_at INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('tx', 'forced')),
  batch INTEGER NOT NULL,
  position INTEGER NOT NULL,
  record BLOB NOT NULL,
  queue_index INTEGER,
  UNIQUE (batch, kind, position),
  CHECK ((kind = 'forced') = (queue_index IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS entries_queue_index ON entries (queue_index) WHERE queue_index IS NOT NULL;
`;

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export class Wal {
  private db: DatabaseSync | undefined;

  private constructor(
    db: DatabaseSync,
    readonly path: string,
    readonly profile: ProfileParams,
  ) {
    this.db = db;
  }

  /**
   * Opens (creating when absent) the log at `path` for `profile`. A log written for another
   * profile (name or K/F/D/S) or format version is refused with PROFILE_MISMATCH / FORMAT_MISMATCH.
   */
  static open(path: string, profile: ProfileParams): Wal {
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (err) {
      throw new WalError('OPEN_FAILED', `cannot open the write-ahead log ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const mode = (db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }).journal_mode;
      if (mode !== 'wal') throw new WalError('OPEN_FAILED', `${path}: SQLite refused journal_mode=WAL (got ${mode}); the log must be a file`);
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(SCHEMA);
        const meta = new Map(
          (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
        );
        if (meta.size === 0) {
          const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
          put.run('format_version', String(WAL_FORMAT_VERSION));
          put.run('profile', profile.name);
          put.run('params', paramsString(profile));
        } else {
          const version = meta.get('format_version');
          if (version !== String(WAL_FORMAT_VERSION)) {
            throw new WalError('FORMAT_MISMATCH', `${path} has log format version ${String(version)}, this build reads version ${WAL_FORMAT_VERSION}`);
          }
          const name = meta.get('profile');
          const params = meta.get('params');
          if (name !== profile.name || params !== paramsString(profile)) {
            throw new WalError(
              'PROFILE_MISMATCH',
              `${path} was written for profile '${String(name)}' (${String(params)}), not '${profile.name}' (${paramsString(profile)}); use the matching profile or another log file`,
            );
          }
        }
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      db.close();
      if (err instanceof WalError) throw err;
      throw new WalError('OPEN_FAILED', `cannot open the write-ahead log ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new Wal(db, path, profile);
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  /**
   * Appends one entry, durably. `opening`: the batch the entry opens (its row is written in the
   * same SQLite transaction, so a batch never exists without its first entry and vice versa).
   */
  append(entry: WalEntry, opening?: BatchOpening): number {
    const record = this.encodeEntry(entry);
    return this.transaction(() => {
      if (opening) this.insertOpening(opening);
      const result = this.live()
        .prepare('INSERT INTO entries (kind, batch, position, record, queue_index) VALUES (?, ?, ?, ?, ?)')
        .run(entry.kind, entry.batch, entry.position, record, entry.kind === 'forced' ? entry.queueIndex : null);
      return Number(result.lastInsertRowid);
    });
  }

  /** Records that a batch opened without a new entry (e.g. one whose forced operations were logged earlier). */
  openBatch(opening: BatchOpening): void {
    this.transaction(() => this.insertOpening(opening));
  }

  /** Closes batch `index` with `newRoot`; `next`: a batch that opens at the same moment (same transaction). */
  closeBatch(index: number, newRoot: bigint, closedAt: number = Date.now(), next?: BatchOpening): void {
    if (typeof newRoot !== 'bigint' || newRoot < 0n) throw new WalError('BAD_ENTRY', `newRoot must be a non-negative bigint, got ${String(newRoot)}`);
    this.transaction(() => {
      const result = this.live()
        .prepare('UPDATE batches SET new_root = ?, closed_at = ? WHERE idx = ? AND closed_at IS NULL')
        .run(newRoot.toString(), closedAt, index);
      if (Number(result.changes) !== 1) throw new WalError('UNKNOWN_BATCH', `batch ${index} is not an open batch of this log`);
      if (next) this.insertOpening(next);
    });
  }

  /** Every entry in acceptance order. */
  entries(): StoredEntry[] {
    const rows = this.live().prepare('SELECT seq, kind, batch, position, record, queue_index FROM entries ORDER BY seq').all() as {
      seq: number;
      kind: string;
      batch: number;
      position: number;
      record: Uint8Array;
      queue_index: number | null;
    }[];
    return rows.map((r) => {
      try {
        if (r.kind === 'tx') return { seq: r.seq, kind: 'tx', batch: r.batch, position: r.position, tx: decodeSignedTx(r.record) };
        if (r.kind === 'forced' && r.queue_index !== null) {
          if (r.record.length !== FORCED_OP_BYTES) throw new WalError('CORRUPT', `forced operation is ${r.record.length} bytes, expected ${FORCED_OP_BYTES}`);
          return { seq: r.seq, kind: 'forced', batch: r.batch, position: r.position, op: decodeForcedOp(r.record), queueIndex: r.queue_index };
        }
        throw new WalError('CORRUPT', `unknown kind ${r.kind}`);
      } catch (err) {
        throw new WalError('CORRUPT', `entry ${r.seq} of ${this.path} cannot be decoded: ${(err as Error).message}`, { cause: err });
      }
    });
  }

  /** Every batch that has opened, by index. */
  batches(): BatchBoundary[] {
    const rows = this.live().prepare('SELECT idx, timestamp, old_root, new_root, closed_at FROM batches ORDER BY idx').all() as {
      idx: number;
      timestamp: string;
      old_root: string;
      new_root: string | null;
      closed_at: number | null;
    }[];
    return rows.map((r) => ({
      index: r.idx,
      timestamp: BigInt(r.timestamp),
      oldRoot: BigInt(r.old_root),
      ...(r.new_root === null ? {} : { newRoot: BigInt(r.new_root) }),
      ...(r.closed_at === null ? {} : { closedAt: r.closed_at }),
    }));
  }

  close(): void {
    if (!this.db) return;
    this.db.close();
    this.db = undefined;
  }

  // -------------------------------------------------------------------------------------------

  private live(): DatabaseSync {
    if (!this.db) throw new WalError('CLOSED', `the write-ahead log ${this.path} is closed`);
    return this.db;
  }

  private transaction<T>(fn: () => T): T {
    const db = this.live();
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw new WalError('WRITE_FAILED', `cannot begin a transaction on ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const result = fn();
      db.exec('COMMIT');
      return result;
    } catch (err) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // the failed statement may already have rolled back
      }
      if (err instanceof WalError) throw err;
      throw new WalError('WRITE_FAILED', `write to ${this.path} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private insertOpening(o: BatchOpening): void {
    if (!isIndex(o.index)) throw new WalError('BAD_ENTRY', `batch index must be a non-negative integer, got ${String(o.index)}`);
    if (typeof o.timestamp !== 'bigint' || o.timestamp < 0n || o.timestamp >= 1n << 64n) {
      throw new WalError('BAD_ENTRY', `batch timestamp must be a uint64 bigint, got ${String(o.timestamp)}`);
    }
    this.live()
      .prepare('INSERT INTO batches (idx, timestamp, old_root) VALUES (?, ?, ?)')
      .run(o.index, o.timestamp.toString(), o.oldRoot.toString());
  }

  private encodeEntry(entry: WalEntry): Uint8Array {
    if (!isIndex(entry.batch) || !isIndex(entry.position)) {
      throw new WalError('BAD_ENTRY', `batch and position must be non-negative integers, got ${String(entry.batch)}, ${String(entry.position)}`);
    }
    const slots = entry.kind === 'tx' ? this.profile.maxTxs : this.profile.maxForcedOps;
    if (entry.position >= slots) throw new WalError('BAD_ENTRY', `${entry.kind} position ${entry.position} is past the ${slots} slots of a batch`);
    try {
      if (entry.kind === 'tx') return encodeSignedTx(entry.tx);
      if (!isIndex(entry.queueIndex)) throw new WalError('BAD_ENTRY', `queue index must be a non-negative integer, got ${String(entry.queueIndex)}`);
      return encodeForcedOp(entry.op);
    } catch (err) {
      if (err instanceof WalError) throw err;
      throw new WalError('BAD_ENTRY', `cannot encode the ${entry.kind} entry: ${(err as Error).message}`, { cause: err });
    }
  }
}
