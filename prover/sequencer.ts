/**
 * The sequencer: orders signed L2 transactions and Gateway forced operations into batches of the
 * circuit's shape (F forced slots, K transaction slots), answers soft receipts at once, and logs
 * everything in a write-ahead log (prover/wal.ts) BEFORE it changes its state, so a restart
 * reproduces the same roots and the same open batch.
 *
 * Rules (each keeps the state that soft receipts are answered from identical to what
 * buildBatchWitness(stateBefore, { forced, txs, timestamp }, profile) computes for the batch):
 *
 * - Batch timestamp: fixed when the batch OPENS (its first entry), as max(now(), previous batch's
 *   timestamp), and logged with the opening. Every transaction of the batch is validated against
 *   that timestamp, so consent expiry is judged exactly as the circuit judges it; opening time is
 *   never later than L1's block.timestamp at submission, so the Rollup's bound holds too.
 * - Forced operations: the SPEC applies them before the batch's transactions. A forced op joins the
 *   current batch only while that batch has no transaction and a free forced slot; otherwise it is
 *   queued (and logged) for the next batch with a free forced slot, and is applied to the live
 *   state when that batch opens. The current batch is NOT closed early for it: the batch timeout
 *   bounds the delay. They must arrive in Gateway queue order (index = last + 1, from 0).
 * - A batch closes when it holds batchSize transactions (K unless the policy says fewer),
 *   batchTimeoutMs after its first entry, right after a priority transaction was added, and on
 *   flush()/close(). An empty batch never closes. setPolicy() changes the three at run time (the
 *   council's decision, prover/governance.ts); the policy is not logged, since it never changes
 *   what a batch proves, only where batches end. When
 *   forced operations wait for the next batch, it opens at once (same WAL commit as the closing).
 * - Recovery (Sequencer.open) replays the log from genesis: every closed batch must end at its
 *   logged new root and every batch must start at the previous one's, else SequencerError
 *   RECOVERY_MISMATCH (fatal: the log and the code disagree). The open batch's timeout restarts
 *   from the recovery.
 *
 * The 'batch' event is emitted synchronously, after the WAL commit and the state update, from
 * submit()/addForced()/flush() or the timer; a listener must not throw. WAL failures in the timer
 * are emitted as 'error'.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { encodeTxRecord, type ForcedOp } from './codec.js';
import { PROFILES, type CircuitProfile, type ProfileName } from './profiles.js';
import type { PublicKey, SignedTx } from './signing.js';
import { ForcedOpError, RollupState, TxRejected, type Account, type TxCheckOptions } from './state.js';
import { LogLock } from './logLock.js';
import { Wal, WalError, type BatchOpening } from './wal.js';

export type SequencerErrorCode = 'CLOSED' | 'FORCED_OUT_OF_ORDER' | 'FORCED_OP_FAILED' | 'RECOVERY_MISMATCH' | 'INVALID_POLICY';

export class SequencerError extends Error {
  override readonly name = 'SequencerError';
  constructor(
    readonly code: SequencerErrorCode,
    message: string,
    options?: { cause: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

export interface SequencerOptions {
  readonly profile: CircuitProfile | ProfileName;
  readonly walPath: string;
  /** A batch closes this long after its first entry. Default 2000. */
  readonly batchTimeoutMs?: number;
  /** A batch closes when it holds this many transactions: 1..K, 0 or undefined = K. */
  readonly batchSize?: number;
  /** Unix seconds for batch timestamps. Default: the system clock. */
  readonly now?: () => bigint;
  /** Emergency-access lane: a priority transaction closes its batch right after it is added. */
  readonly priority?: (tx: SignedTx) => boolean;
  /**
   * Recovered closed batches from this index on keep the state before them (`recovered[i].before`),
   * so they can be proved again: pass the number of batches already settled on L1. Default: none.
   */
  readonly retainStatesFrom?: number;
  /** Notes worth an operator's eye (a stale log lock taken over). */
  readonly log?: (line: string) => void;
}

/** What setPolicy() takes; an undefined field keeps its current value. */
export interface SequencerPolicy {
  /** 1..K; 0 = K (the circuit's full capacity). */
  readonly batchSize?: number;
  /** 1 ms .. 2^31-1 ms (setTimeout's range). */
  readonly batchTimeoutMs?: number;
  readonly priority?: (tx: SignedTx) => boolean;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface SoftReceipt {
  /** The batch (L2 block number, = the Rollup's batchIndex once finalized). */
  readonly batch: number;
  /** The transaction slot within the batch. */
  readonly position: number;
  /** The state root right after this transaction. */
  readonly newRoot: bigint;
  /** sha256(47-byte record || nonce as uint256 big-endian), 0x hex. */
  readonly txHash: string;
}

export interface ForcedReceipt {
  readonly queueIndex: number;
  /** The batch whose forced slots hold the operation. */
  readonly batch: number;
  readonly position: number;
}

export interface ClosedBatch {
  readonly index: number;
  readonly timestamp: bigint;
  readonly oldRoot: bigint;
  readonly newRoot: bigint;
  readonly forced: readonly ForcedOp[];
  readonly txs: readonly SignedTx[];
  /** The state before the batch: on recovered batches only from options.retainStatesFrom on. */
  readonly before?: RollupState;
}

/** Where an accepted transaction sits. */
export interface TxLocation {
  readonly batch: number;
  readonly position: number;
}

/** What 'batch' listeners get: the batch and the state before it (a private copy: build the witness from it). */
export interface BatchEvent extends ClosedBatch {
  readonly before: RollupState;
}

interface SequencerEvents {
  batch: [BatchEvent];
  error: [Error];
}

interface OpenBatch {
  readonly index: number;
  readonly timestamp: bigint;
  readonly before: RollupState;
  readonly forced: ForcedOp[];
  readonly txs: SignedTx[];
}

interface PendingForced {
  readonly op: ForcedOp;
  readonly queueIndex: number;
  readonly batch: number;
  readonly position: number;
}

function resolveProfile(p: CircuitProfile | ProfileName): CircuitProfile {
  return typeof p === 'string' ? PROFILES[p] : p;
}

const systemNow = (): bigint => BigInt(Math.floor(Date.now() / 1000));

export function txHash(tx: SignedTx): string {
  const nonce = new Uint8Array(32);
  let v = tx.nonce;
  for (let i = 31; i >= 0; i--) {
    nonce[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return `0x${createHash('sha256').update(encodeTxRecord(tx.record)).update(nonce).digest('hex')}`;
}

export class Sequencer extends EventEmitter<SequencerEvents> {
  readonly profile: CircuitProfile;
  private timeoutMs: number;
  /** Effective size, 1..K. */
  private size: number;
  private readonly now: () => bigint;
  private priority: (tx: SignedTx) => boolean;
  /** Wall-clock ms when the open batch's timeout started (a policy change re-arms from it). */
  private timerStartedAt = 0;
  private wal: Wal;
  private state: RollupState;
  /** The batch receiving entries; undefined until its first entry. */
  private current: OpenBatch | undefined;
  /** Index of the next batch to open when `current` is undefined. */
  private nextIndex = 0;
  private lastTimestamp = 0n;
  private lastQueueIndex = -1;
  /** Forced operations logged for batches after `current`, in queue order. */
  private pending: PendingForced[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** txHash -> where the transaction sits (every accepted transaction, recovered ones included). */
  private readonly locations = new Map<string, TxLocation>();
  /** The batches closed before this instance started, reconstructed by recovery. */
  readonly recovered: readonly ClosedBatch[];
  private readonly retainStatesFrom: number;
  /** One writer per log (prover/logLock.ts). */
  private readonly lock: LogLock;

  /** Opens (or creates) the log and recovers; prefer Sequencer.open. */
  constructor(options: SequencerOptions) {
    super();
    this.profile = resolveProfile(options.profile);
    this.timeoutMs = 2000;
    this.size = this.profile.maxTxs;
    this.checkPolicy({ batchSize: options.batchSize, batchTimeoutMs: options.batchTimeoutMs });
    if (options.batchSize !== undefined) this.size = options.batchSize === 0 ? this.profile.maxTxs : options.batchSize;
    if (options.batchTimeoutMs !== undefined) this.timeoutMs = options.batchTimeoutMs;
    this.now = options.now ?? systemNow;
    this.priority = options.priority ?? (() => false);
    this.retainStatesFrom = options.retainStatesFrom ?? Number.POSITIVE_INFINITY;
    this.state = new RollupState(this.profile);
    this.lock = LogLock.acquire(options.walPath, options.log);
    try {
      this.wal = Wal.open(options.walPath, this.profile);
    } catch (err) {
      this.lock.release();
      throw err;
    }
    try {
      this.recovered = this.recover();
    } catch (err) {
      this.wal.close();
      this.lock.release();
      throw err;
    }
  }

  /** Opens the log at options.walPath and replays it (see the file header). */
  static async open(options: SequencerOptions): Promise<Sequencer> {
    return new Sequencer(options);
  }

  get batchTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** Transactions that close a batch (1..K). */
  get batchSize(): number {
    return this.size;
  }

  /**
   * Changes where batches end. The open batch keeps its entries: a smaller batchSize closes it at
   * the next submit (not at once), and its timeout is re-armed to end batchTimeoutMs after it
   * started (at once when that is past). Throws SequencerError INVALID_POLICY and changes nothing
   * on an out-of-range value.
   */
  setPolicy(policy: SequencerPolicy): void {
    this.checkOpen();
    this.checkPolicy(policy);
    if (policy.batchSize !== undefined) this.size = policy.batchSize === 0 ? this.profile.maxTxs : policy.batchSize;
    if (policy.priority !== undefined) this.priority = policy.priority;
    if (policy.batchTimeoutMs !== undefined && policy.batchTimeoutMs !== this.timeoutMs) {
      this.timeoutMs = policy.batchTimeoutMs;
      if (this.timer !== undefined) this.armTimer(Math.max(0, this.timerStartedAt + this.timeoutMs - Date.now()), this.timerStartedAt);
    }
  }

  /** The state root after every accepted entry (what soft receipts report). */
  get root(): bigint {
    return this.state.root;
  }

  /** A copy of the live state. */
  snapshot(): RollupState {
    return this.state.clone();
  }

  /** The open batch, if it has entries. */
  get openBatch(): { index: number; timestamp: bigint; oldRoot: bigint; forced: readonly ForcedOp[]; txs: readonly SignedTx[] } | undefined {
    const c = this.current;
    return c && { index: c.index, timestamp: c.timestamp, oldRoot: c.before.root, forced: [...c.forced], txs: [...c.txs] };
  }

  /** The index the next entry that opens a batch would get, or the open batch's. */
  get batchIndex(): number {
    return this.current?.index ?? this.nextIndex;
  }

  get lastForcedQueueIndex(): number {
    return this.lastQueueIndex;
  }

  /** An account as the live state holds it (soft: includes accepted transactions not yet on L1). */
  account(index: number): Account | undefined {
    return this.state.account(index);
  }

  /** The registered key of an account (what its signatures must verify under), if registered. */
  publicKeyOf(account: number): PublicKey | undefined {
    return this.state.publicKey(account);
  }

  /** Forced operations accepted but waiting for a later batch (not yet in the live state). */
  get pendingForcedCount(): number {
    return this.pending.length;
  }

  /** Where the accepted transaction with this hash (see txHash()) sits, if it was accepted. */
  locate(hash: string): TxLocation | undefined {
    return this.locations.get(hash.toLowerCase());
  }

  /**
   * Validates `tx` at the batch timestamp, logs it, applies it and answers a soft receipt.
   * Throws TxRejected (unchanged from the state) and changes nothing, log included.
   * `verifiedKey`: the caller verified the signature against this key (prover/verifyPool.ts); it
   * counts only when it is the actor's registered key.
   */
  submit(tx: SignedTx, options: TxCheckOptions = {}): SoftReceipt {
    this.checkOpen();
    const opening = this.current ? undefined : this.opening();
    const timestamp = this.current?.timestamp ?? opening!.timestamp;
    // The snapshot comes first: clone() after checkTx would void its cached validation.
    const before = opening && this.state.clone();
    this.state.checkTx(tx, timestamp, options); // TxRejected passes through
    const batch = this.current?.index ?? opening!.index;
    const position = this.current?.txs.length ?? 0;
    this.wal.append({ kind: 'tx', batch, position, tx }, opening);
    const open = this.current ?? this.startBatch(opening!, before);
    this.state.applyTx(tx, timestamp); // reuses checkTx's validation
    open.txs.push(tx);
    const receipt: SoftReceipt = { batch, position, newRoot: this.state.root, txHash: txHash(tx) };
    this.locations.set(receipt.txHash, { batch, position });
    if (open.txs.length >= this.size || this.priority(tx)) this.closeCurrent();
    return receipt;
  }

  /**
   * Accepts the Gateway's forced operation `queueIndex` (must be the last one + 1, from 0). It
   * goes into the current batch when that batch has no transaction yet and a free forced slot,
   * else into the next batch with room (see the file header).
   */
  addForced(op: ForcedOp, queueIndex: number): ForcedReceipt {
    this.checkOpen();
    if (queueIndex !== this.lastQueueIndex + 1) {
      throw new SequencerError('FORCED_OUT_OF_ORDER', `forced operation ${String(queueIndex)} arrived, expected queue index ${this.lastQueueIndex + 1}`);
    }
    const joinsCurrent = this.pending.length === 0 && (this.current === undefined || (this.current.txs.length === 0 && this.current.forced.length < this.profile.maxForcedOps));
    if (joinsCurrent) {
      const opening = this.current ? undefined : this.opening();
      const batch = this.current?.index ?? opening!.index;
      const position = this.current?.forced.length ?? 0;
      // The Gateway guarantees the preconditions; check them on a copy before logging anyway.
      this.tryForced(this.state.clone(), op, queueIndex);
      this.wal.append({ kind: 'forced', batch, position, op, queueIndex }, opening);
      const open = this.current ?? this.startBatch(opening!);
      this.state.applyForced(op);
      open.forced.push(op);
      this.lastQueueIndex = queueIndex;
      return { queueIndex, batch, position };
    }
    const last = this.pending.at(-1);
    const base = this.current!.index;
    const { batch, position } =
      last === undefined
        ? { batch: base + 1, position: 0 }
        : last.position + 1 < this.profile.maxForcedOps
          ? { batch: last.batch, position: last.position + 1 }
          : { batch: last.batch + 1, position: 0 };
    // Preconditions are checked when the batch opens (the state then differs); a ForcedOpError
    // there is fatal either way, since L1 disagrees with us.
    this.wal.append({ kind: 'forced', batch, position, op, queueIndex });
    this.pending.push({ op, queueIndex, batch, position });
    this.lastQueueIndex = queueIndex;
    return { queueIndex, batch, position };
  }

  /** Closes the open batch and every batch that waiting forced operations need. */
  flush(): void {
    this.checkOpen();
    while (this.current) this.closeCurrent();
  }

  /** flush(), then closes the log. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.stopTimer();
      this.closed = true;
      this.wal.close();
      this.lock.release();
    }
  }

  /**
   * Stops the timer and closes the log WITHOUT closing the open batch: it stays in the log and the
   * next Sequencer.open continues it (a graceful stop that keeps the batch open; also for tests).
   */
  detach(): void {
    if (this.closed) return;
    this.stopTimer();
    this.closed = true;
    this.wal.close();
    this.lock.release();
  }

  // -------------------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new SequencerError('CLOSED', 'the sequencer is closed');
  }

  private checkPolicy(policy: SequencerPolicy): void {
    const { batchSize, batchTimeoutMs, priority } = policy;
    const k = this.profile.maxTxs;
    if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 0 || batchSize > k)) {
      throw new SequencerError('INVALID_POLICY', `batchSize ${String(batchSize)} must be an integer in 1..${k} (0 = ${k})`);
    }
    if (batchTimeoutMs !== undefined && (!Number.isInteger(batchTimeoutMs) || batchTimeoutMs < 1 || batchTimeoutMs > MAX_TIMEOUT_MS)) {
      throw new SequencerError('INVALID_POLICY', `batchTimeoutMs ${String(batchTimeoutMs)} must be an integer in 1..${MAX_TIMEOUT_MS}`);
    }
    if (priority !== undefined && typeof priority !== 'function') throw new SequencerError('INVALID_POLICY', 'priority must be a function');
  }

  private tryForced(state: RollupState, op: ForcedOp, queueIndex: number): void {
    try {
      state.applyForced(op);
    } catch (err) {
      if (err instanceof ForcedOpError) {
        throw new SequencerError('FORCED_OP_FAILED', `forced operation ${queueIndex}: ${err.message} (the L2 state disagrees with the Gateway)`, { cause: err });
      }
      throw err;
    }
  }

  /** The opening of the next batch: timestamp max(now, previous), old root = the live root. */
  private opening(): BatchOpening {
    const now = this.now();
    return { index: this.nextIndex, timestamp: now > this.lastTimestamp ? now : this.lastTimestamp, oldRoot: this.state.root };
  }

  /** Makes `opening` the current batch (the caller has logged it); starts its timeout. */
  private startBatch(opening: BatchOpening, before: RollupState = this.state.clone(), armTimer = true): OpenBatch {
    this.current = { index: opening.index, timestamp: opening.timestamp, before, forced: [], txs: [] };
    this.nextIndex = opening.index + 1;
    this.lastTimestamp = opening.timestamp;
    if (armTimer) this.armTimer();
    return this.current;
  }

  private armTimer(delayMs = this.timeoutMs, startedAt = Date.now()): void {
    this.stopTimer();
    this.timerStartedAt = startedAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        if (!this.closed) this.closeCurrent();
      } catch (err) {
        this.emit('error', err as Error);
      }
    }, delayMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Closes the current batch (no-op without one); opens the next one when forced ops wait for it. */
  private closeCurrent(): void {
    const open = this.current;
    if (!open) return;
    this.stopTimer();
    const newRoot = this.state.root;
    const waiting = this.pending.filter((p) => p.batch === open.index + 1);
    let next: BatchOpening | undefined;
    if (waiting.length > 0) {
      const now = this.now();
      next = { index: open.index + 1, timestamp: now > open.timestamp ? now : open.timestamp, oldRoot: newRoot };
      // Check before logging the opening: a failure is fatal and must not leave a half-open batch.
      const probe = this.state.clone();
      for (const p of waiting) this.tryForced(probe, p.op, p.queueIndex);
    }
    this.wal.closeBatch(open.index, newRoot, Date.now(), next);
    this.current = undefined;
    if (next) {
      const started = this.startBatch(next);
      for (const p of waiting) {
        this.state.applyForced(p.op);
        started.forced.push(p.op);
      }
      this.pending = this.pending.filter((p) => p.batch !== next.index);
    }
    this.emit('batch', { index: open.index, timestamp: open.timestamp, oldRoot: open.before.root, newRoot, forced: open.forced, txs: open.txs, before: open.before });
  }

  /** Replays the log from genesis into this.state; returns the closed batches. */
  private recover(): ClosedBatch[] {
    const mismatch = (msg: string, cause?: unknown): never => {
      throw new SequencerError('RECOVERY_MISMATCH', `${this.wal.path}: ${msg}`, cause === undefined ? undefined : { cause });
    };
    const batches = this.wal.batches();
    const entries = this.wal.entries();
    const byBatch = new Map<number, typeof entries>();
    for (const e of entries) {
      if (e.kind === 'forced') {
        if (e.queueIndex !== this.lastQueueIndex + 1) mismatch(`forced operation ${e.queueIndex} follows ${this.lastQueueIndex}`);
        this.lastQueueIndex = e.queueIndex;
      }
      const list = byBatch.get(e.batch) ?? [];
      list.push(e);
      byBatch.set(e.batch, list);
    }
    const closed: ClosedBatch[] = [];
    batches.forEach((b, i) => {
      if (b.index !== i) mismatch(`batch ${b.index} found where batch ${i} was expected`);
      if (this.current) mismatch(`batch ${b.index} follows batch ${this.current.index}, which never closed`);
      if (b.timestamp < this.lastTimestamp) mismatch(`batch ${b.index} has timestamp ${b.timestamp} before the previous ${this.lastTimestamp}`);
      if (b.oldRoot !== this.state.root) mismatch(`batch ${b.index} logged old root ${b.oldRoot}, replay reached ${this.state.root}`);
      const open = this.startBatch(b, undefined, false);
      const list = byBatch.get(b.index) ?? [];
      byBatch.delete(b.index);
      const forced = list.filter((e) => e.kind === 'forced').sort((x, y) => x.position - y.position);
      const txs = list.filter((e) => e.kind === 'tx').sort((x, y) => x.position - y.position);
      forced.forEach((e, pos) => {
        if (e.position !== pos) mismatch(`batch ${b.index} has forced slot ${e.position} where ${pos} was expected`);
        try {
          this.state.applyForced(e.op);
        } catch (err) {
          mismatch(`batch ${b.index}, forced slot ${pos}: ${(err as Error).message}`, err);
        }
        open.forced.push(e.op);
      });
      txs.forEach((e, pos) => {
        if (e.position !== pos) mismatch(`batch ${b.index} has transaction slot ${e.position} where ${pos} was expected`);
        try {
          this.state.applyTx(e.tx, b.timestamp);
        } catch (err) {
          if (err instanceof TxRejected) mismatch(`batch ${b.index}, transaction slot ${pos} no longer applies: ${err.message}`, err);
          throw err;
        }
        open.txs.push(e.tx);
        this.locations.set(txHash(e.tx), { batch: b.index, position: pos });
      });
      if (b.closedAt !== undefined) {
        if (b.newRoot !== this.state.root) mismatch(`batch ${b.index} logged new root ${String(b.newRoot)}, replay reached ${this.state.root}`);
        const batch: ClosedBatch = { index: b.index, timestamp: b.timestamp, oldRoot: b.oldRoot, newRoot: this.state.root, forced: open.forced, txs: open.txs };
        closed.push(b.index >= this.retainStatesFrom ? { ...batch, before: open.before } : batch);
        this.current = undefined;
      } else if (open.forced.length === 0 && open.txs.length === 0) {
        mismatch(`open batch ${b.index} has no entry`);
      }
    });
    // What is left: forced operations logged for batches that have not opened yet.
    for (const [index, list] of [...byBatch].sort(([x], [y]) => x - y)) {
      for (const e of list.sort((x, y) => x.position - y.position)) {
        if (e.kind !== 'forced') mismatch(`transaction entry ${e.seq} belongs to batch ${index}, which never opened`);
        if (e.kind === 'forced') this.pending.push({ op: e.op, queueIndex: e.queueIndex, batch: e.batch, position: e.position });
      }
    }
    this.pending.sort((x, y) => x.queueIndex - y.queueIndex);
    if (this.pending.length > 0 && this.current === undefined) {
      // Crash between closing a batch and... cannot happen: the closing and the next opening share a commit.
      mismatch(`forced operations wait for batch ${this.pending[0]!.batch} but no batch is open`);
    }
    if (this.current) this.armTimer();
    return closed;
  }
}

export { WalError };
