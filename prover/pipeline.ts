/**
 * The proving and settlement pipeline on BullMQ (Redis):
 *
 *   Sequencer 'batch' --(witness built here)--> queue `prove`  (job `batch-<index>`)
 *   prove workers, any number, any process     --> proof in the job's return value
 *                                               --> queue `settle` (job `settle-<index>`)
 *   ONE settlement worker, concurrency 1        --> Rollup.submitBatch, strictly in batch order
 *
 * Jobs carry everything they need: a prove job holds the batch data (hex) and the circuit input
 * JSON, so any worker can prove it without the sequencer's memory; a settle job holds the data and
 * the proof. Job ids are derived from the batch index, so enqueueing a batch twice is a no-op
 * (BullMQ ignores an add whose jobId exists; completed and failed jobs are kept by default so the
 * id stays taken).
 *
 * Crash safety:
 * - Prove jobs: a worker that dies mid-proof stops renewing its job lock; after `lockDuration` the
 *   lock expires and the next stalled-job check (every `stalledInterval`, run by every live worker
 *   of the queue) moves the job back to waiting for another worker. Defaults: lockDuration 60 s
 *   (renewed every 30 s), stalledInterval 15 s, maxStalledCount 2: a killed worker's batch is
 *   picked up again within about 75 s. The lock is renewed from the event loop, and witness
 *   generation (circom's wasm) runs on it synchronously: keep lockDuration above twice the longest
 *   witness time of the profile (seconds for test/dev) or a healthy worker's job is seen as stalled
 *   and proved twice (harmless: same jobId, same settle job, but wasted work).
 * - The prove worker enqueues the settle job itself, as the last step of the job, before the job
 *   completes: a crash in between re-proves and re-enqueues the same settle-<index> (a no-op).
 * - Settle jobs: the processor reads Rollup.batchCount() first, so a retry after a crash between
 *   sending the transaction and recording the result sees the batch settled and succeeds with the
 *   block recorded on L1 (Rollup.batch(index).l1Block).
 */
import { EventEmitter } from 'node:events';
import { hexlify, NonceManager, type Signer } from 'ethers';
import {
  DelayedError,
  Queue,
  QueueEvents,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
  type JobsOptions,
} from 'bullmq';
import { Gateway__factory, type Rollup } from '../contracts/types/index.js';
import type { CircuitProfile } from './profiles.js';
import { proveBatch, WitnessGenerationError, type ProvingArtifacts } from './prove.js';
import type { BatchEvent } from './sequencer.js';
import { buildBatchWitness, type CircuitInput } from './witness.js';

export const PROVE_QUEUE = 'prove';
export const SETTLE_QUEUE = 'settle';

export const proveJobId = (index: number): string => `batch-${index}`;
export const settleJobId = (index: number): string => `settle-${index}`;

/** The batch index of a pipeline job id (batch-<n> / settle-<n>), or undefined. */
export function batchOfJobId(jobId: string | undefined): number | undefined {
  const m = /^(?:batch|settle)-(\d+)$/.exec(jobId ?? '');
  return m ? Number(m[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Job payloads (JSON: bigints as decimal strings)

export interface ProveJobData {
  readonly index: number;
  /** Decimal strings. */
  readonly oldRoot: string;
  readonly newRoot: string;
  /** Batch timestamp, unix seconds, decimal string. */
  readonly timestamp: string;
  /** The batch data bytes, 0x hex (what Rollup.submitBatch takes). */
  readonly data: string;
  /** The circuit input from buildBatchWitness (its inputHash is the proof's public signal). */
  readonly input: CircuitInput;
}

/** A Groth16 proof in the Rollup's Proof struct order, decimal strings. */
export interface SettleProof {
  readonly a: [string, string];
  readonly b: [[string, string], [string, string]];
  readonly c: [string, string];
}

export interface ProveJobResult {
  readonly index: number;
  readonly proof: SettleProof;
  readonly publicSignals: string[];
  readonly witnessMs: number;
  readonly proveMs: number;
}

export interface SettleJobData {
  readonly index: number;
  readonly oldRoot: string;
  readonly newRoot: string;
  readonly data: string;
  readonly proof: SettleProof;
}

/** The final receipt of a batch (Algorithm 2): the L2 batch and the L1 block that settled it. */
export interface SettleJobResult {
  readonly index: number;
  readonly newRoot: string;
  readonly l1Block: number;
  /** The submitBatch transaction, when this job sent it (absent when it found the batch settled). */
  readonly l1TxHash?: string;
  /** True when the batch was already on L1 (a retry, a duplicate, or another submitter). */
  readonly alreadySettled: boolean;
}

export type ProveQueue = Queue<ProveJobData, ProveJobResult>;
export type SettleQueue = Queue<SettleJobData, SettleJobResult>;

/** The batch a prove job needs, without the sequencer: (index, roots, data, circuit input). */
export function proveJobData(batch: Pick<BatchEvent, 'index' | 'timestamp' | 'oldRoot' | 'newRoot' | 'forced' | 'txs' | 'before'>, profile: CircuitProfile): ProveJobData {
  const w = buildBatchWitness(batch.before, { forced: batch.forced, txs: batch.txs, timestamp: batch.timestamp }, profile);
  if (w.oldRoot !== batch.oldRoot || w.newRoot !== batch.newRoot) {
    throw new Error(`batch ${batch.index}: the witness goes ${w.oldRoot} -> ${w.newRoot}, the sequencer ${batch.oldRoot} -> ${batch.newRoot}`);
  }
  return {
    index: batch.index,
    oldRoot: w.oldRoot.toString(),
    newRoot: w.newRoot.toString(),
    timestamp: batch.timestamp.toString(),
    data: hexlify(w.data),
    input: w.input,
  };
}

// ---------------------------------------------------------------------------------------------
// Queues

export interface RetryOptions {
  /** Tries per job (first run included). Prove default 3, settle default 10. */
  attempts?: number;
  /** First backoff in ms; doubles each retry. Prove default 5000, settle default 2000. */
  backoffMs?: number;
}

export function proveJobOptions(index: number, retry: RetryOptions = {}): JobsOptions {
  return {
    jobId: proveJobId(index),
    attempts: retry.attempts ?? 3,
    backoff: { type: 'exponential', delay: retry.backoffMs ?? 5_000 },
    removeOnComplete: false,
    removeOnFail: false,
  };
}

export function settleJobOptions(index: number, retry: RetryOptions = {}): JobsOptions {
  return {
    jobId: settleJobId(index),
    attempts: retry.attempts ?? 10,
    backoff: { type: 'exponential', delay: retry.backoffMs ?? 2_000 },
    removeOnComplete: false,
    removeOnFail: false,
  };
}

const logError = (where: string) => (err: Error) => console.error(`[pipeline:${where}] ${err.message}`);

/**
 * Where the queues live: a Redis connection and a key prefix. The prefix keeps deployments apart
 * on one Redis (prover/node.ts derives it from the chain and Rollup address): job ids restart at
 * batch-0 with every deployment and must never meet an older deployment's jobs.
 */
export interface QueueTarget {
  connection: ConnectionOptions;
  /** BullMQ key prefix; default 'bull'. */
  prefix?: string;
}

const withPrefix = (prefix: string | undefined) => (prefix === undefined ? {} : { prefix });

/** The BullMQ key prefix of a deployment's pipeline. */
export function pipelinePrefix(chainId: number, rollupAddress: string): string {
  return `medrollup:${chainId}:${rollupAddress.toLowerCase()}`;
}

export function createProveQueue(connection: ConnectionOptions, prefix?: string): ProveQueue {
  const q: ProveQueue = new Queue<ProveJobData, ProveJobResult>(PROVE_QUEUE, { connection, ...withPrefix(prefix) });
  q.on('error', logError('prove-queue'));
  return q;
}

export function createSettleQueue(connection: ConnectionOptions, prefix?: string): SettleQueue {
  const q: SettleQueue = new Queue<SettleJobData, SettleJobResult>(SETTLE_QUEUE, { connection, ...withPrefix(prefix) });
  q.on('error', logError('settle-queue'));
  return q;
}

/** Adds prove job batch-<index>; an existing job with that id (any state) is returned unchanged. */
export async function enqueueProve(queue: ProveQueue, data: ProveJobData, retry?: RetryOptions): Promise<Job<ProveJobData, ProveJobResult>> {
  return queue.add(`prove ${data.index}`, data, proveJobOptions(data.index, retry));
}

/** Adds settle job settle-<index> for a proven batch; idempotent like enqueueProve. */
export async function enqueueSettle(queue: SettleQueue, batch: ProveJobData, proven: ProveJobResult, retry?: RetryOptions): Promise<Job<SettleJobData, SettleJobResult>> {
  const data: SettleJobData = { index: batch.index, oldRoot: batch.oldRoot, newRoot: batch.newRoot, data: batch.data, proof: proven.proof };
  return queue.add(`settle ${batch.index}`, data, settleJobOptions(batch.index, retry));
}

// ---------------------------------------------------------------------------------------------
// Prove workers

/** Proves a prove job's batch; deterministic failures (the circuit refuses it) are UnrecoverableError. */
export async function proveJob(artifacts: ProvingArtifacts, data: ProveJobData): Promise<ProveJobResult> {
  let p;
  try {
    p = await proveBatch(artifacts, data.input);
  } catch (err) {
    if (err instanceof WitnessGenerationError) throw new UnrecoverableError(`batch ${data.index}: ${err.message}`);
    throw err;
  }
  if (p.publicSignals[0] !== data.input.inputHash) {
    throw new UnrecoverableError(`batch ${data.index}: the proof's public signal ${String(p.publicSignals[0])} is not the batch's input hash ${data.input.inputHash}`);
  }
  const s = p.solidity;
  const str = (v: bigint) => v.toString();
  return {
    index: data.index,
    proof: {
      a: [str(s.pA[0]), str(s.pA[1])],
      b: [
        [str(s.pB[0][0]), str(s.pB[0][1])],
        [str(s.pB[1][0]), str(s.pB[1][1])],
      ],
      c: [str(s.pC[0]), str(s.pC[1])],
    },
    publicSignals: p.publicSignals,
    witnessMs: p.witnessMs,
    proveMs: p.proveMs,
  };
}

export interface LockOptions {
  /** See the file header. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
}

export interface ProveWorkerOptions extends LockOptions, QueueTarget {
  artifacts: ProvingArtifacts;
  /** Jobs this worker proves at once (they share snarkjs's thread pool). Default 1. */
  concurrency?: number;
  /** Shown as the jobs' processedBy. */
  name?: string;
  /** Enqueue settle-<index> when a proof is done (default true). */
  settle?: boolean;
  settleRetry?: RetryOptions;
  onError?: (err: Error) => void;
}

export interface WorkerHandle<D = unknown, R = unknown> {
  readonly worker: Worker<D, R>;
  /** Waits for the active jobs (unless force), then closes the worker and its connections. */
  close(force?: boolean): Promise<void>;
}

export function createProveWorker(opts: ProveWorkerOptions): WorkerHandle<ProveJobData, ProveJobResult> {
  const settleQueue = opts.settle === false ? undefined : createSettleQueue(opts.connection, opts.prefix);
  const worker = new Worker<ProveJobData, ProveJobResult>(
    PROVE_QUEUE,
    async (job) => {
      const result = await proveJob(opts.artifacts, job.data);
      if (settleQueue) await enqueueSettle(settleQueue, job.data, result, opts.settleRetry);
      return result;
    },
    {
      connection: opts.connection,
      ...withPrefix(opts.prefix),
      concurrency: opts.concurrency ?? 1,
      lockDuration: opts.lockDurationMs ?? 60_000,
      stalledInterval: opts.stalledIntervalMs ?? 15_000,
      maxStalledCount: opts.maxStalledCount ?? 2,
      ...(opts.name === undefined ? {} : { name: opts.name }),
    },
  );
  worker.on('error', opts.onError ?? logError('prove-worker'));
  return {
    worker,
    async close(force = false) {
      await worker.close(force);
      await settleQueue?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Settlement

/** A retryable "the previous batch is not on L1 yet" (or "L1's clock is behind the batch"). */
export class NotYetError extends Error {
  override readonly name = 'NotYetError';
}

/** The batch is inconsistent with L1: never retried (UnrecoverableError), the job stays failed. */
export class SettlementMismatchError extends UnrecoverableError {
  override readonly name = 'SettlementMismatchError';
}

const GATEWAY_ERRORS = Gateway__factory.createInterface();

function revertName(rollup: Rollup, err: unknown): { name: string; args: readonly unknown[] } | undefined {
  let e = err as { data?: unknown; revert?: { name?: string; args?: readonly unknown[] }; info?: { error?: { data?: unknown } }; error?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.revert?.name) return { name: e.revert.name, args: e.revert.args ?? [] };
    const data = typeof e.data === 'string' ? e.data : typeof e.info?.error?.data === 'string' ? e.info.error.data : undefined;
    if (data?.startsWith('0x')) {
      try {
        // The Rollup's own errors, or the Gateway's bubbling up from consumeForcedOps.
        const parsed = rollup.interface.parseError(data) ?? GATEWAY_ERRORS.parseError(data);
        if (parsed) return { name: parsed.name, args: parsed.args.toArray() };
      } catch {
        // not one of the Rollup's errors
      }
    }
    e = e.error as typeof e;
  }
  return undefined;
}

function isNonceError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; error?: { message?: unknown } };
  if (e.code === 'NONCE_EXPIRED' || e.code === 'REPLACEMENT_UNDERPRICED') return true;
  const msg = `${String(e.message ?? '')} ${String(e.error?.message ?? '')}`;
  return /nonce (too low|too high|has already been used)|invalid nonce|replacement transaction underpriced/i.test(msg);
}

async function alreadySettled(rollup: Rollup, data: SettleJobData): Promise<SettleJobResult> {
  const info = await rollup.batch(data.index);
  if (info.stateRoot !== BigInt(data.newRoot)) {
    throw new SettlementMismatchError(`batch ${data.index} is settled on L1 with root ${info.stateRoot}, but this job carries root ${data.newRoot}: the sequencer and L1 disagree`);
  }
  return { index: data.index, newRoot: data.newRoot, l1Block: Number(info.l1Block), alreadySettled: true };
}

/**
 * Settles one batch if it is next: NotYetError when an earlier batch is not on L1 yet, the
 * recorded result when it is already there (SettlementMismatchError when with another root), else
 * submitBatch. `onSubmitted` runs once the transaction is sent.
 */
export async function settleBatch(
  rollup: Rollup,
  data: SettleJobData,
  hooks: { onSubmitted?: (txHash: string) => Promise<void> | void; onNonceError?: () => void } = {},
): Promise<SettleJobResult> {
  const count = Number(await rollup.batchCount());
  if (data.index > count) throw new NotYetError(`batch ${data.index} waits: L1 has ${count} batches`);
  if (data.index < count) return alreadySettled(rollup, data);
  const root = await rollup.stateRoot();
  if (root !== BigInt(data.oldRoot)) {
    // Between our two reads someone may have settled it.
    if (Number(await rollup.batchCount()) > data.index) return alreadySettled(rollup, data);
    throw new SettlementMismatchError(`batch ${data.index} starts at root ${data.oldRoot}, but L1 is at ${root} after ${count} batches`);
  }
  const proof = { a: data.proof.a, b: data.proof.b, c: data.proof.c };
  try {
    const tx = await rollup.submitBatch(data.oldRoot, data.newRoot, data.data, proof);
    await hooks.onSubmitted?.(tx.hash);
    const receipt = await tx.wait();
    if (!receipt) throw new Error(`batch ${data.index}: no receipt for ${tx.hash}`);
    return { index: data.index, newRoot: data.newRoot, l1Block: receipt.blockNumber, l1TxHash: tx.hash, alreadySettled: false };
  } catch (err) {
    const revert = revertName(rollup, err);
    if (revert?.name === 'WrongOldRoot') {
      // A race (a retry whose first try landed, another submitter): settled if L1 has our root.
      if (Number(await rollup.batchCount()) > data.index) return alreadySettled(rollup, data);
      throw new SettlementMismatchError(`batch ${data.index}: WrongOldRoot(${revert.args.map(String).join(', ')}) and the batch is not on L1`);
    }
    if (revert?.name === 'BadTimestamp') {
      const [ts, notBefore, notAfter] = revert.args.map((v) => BigInt(v as bigint));
      if (ts !== undefined && notAfter !== undefined && ts > notAfter && (notBefore === undefined || ts >= notBefore)) {
        throw new NotYetError(`batch ${data.index}: timestamp ${ts} is ahead of L1's ${notAfter}`);
      }
    }
    if (revert && revert.name !== 'NotOperator') {
      throw new SettlementMismatchError(`batch ${data.index}: Rollup.submitBatch reverts with ${revert.name}(${revert.args.map(String).join(', ')})`);
    }
    if (isNonceError(err)) hooks.onNonceError?.();
    throw err;
  }
}

export interface SettleWorkerOptions extends LockOptions, QueueTarget {
  /** The Rollup contract; it is reconnected to a NonceManager over `operator`. */
  rollup: Rollup;
  /** The operator's signer (a wallet with a provider). */
  operator: Signer;
  /** How long a batch waits for its predecessor before it checks again (default 2000 ms; a settled predecessor promotes it at once). */
  notYetDelayMs?: number;
  name?: string;
  onError?: (err: Error) => void;
}

export interface SettleWorkerHandle extends WorkerHandle<SettleJobData, SettleJobResult> {
  readonly nonces: NonceManager;
}

/** The single settlement worker (concurrency 1: batches are submitted one at a time, in order). */
export function createSettleWorker(opts: SettleWorkerOptions): SettleWorkerHandle {
  const nonces = new NonceManager(opts.operator);
  const rollup = opts.rollup.connect(nonces) as Rollup;
  const queue = createSettleQueue(opts.connection, opts.prefix);
  const waitMs = opts.notYetDelayMs ?? 2_000;
  const worker = new Worker<SettleJobData, SettleJobResult>(
    SETTLE_QUEUE,
    async (job, token) => {
      try {
        return await settleBatch(rollup, job.data, {
          onSubmitted: (txHash) => job.updateProgress({ stage: 'submitted', l1TxHash: txHash }),
          onNonceError: () => nonces.reset(),
        });
      } catch (err) {
        if (!(err instanceof NotYetError)) throw err;
        // Not a failure: back to delayed without using an attempt.
        await job.moveToDelayed(Date.now() + waitMs, token);
        throw new DelayedError(err.message);
      }
    },
    {
      connection: opts.connection,
      ...withPrefix(opts.prefix),
      concurrency: 1,
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.stalledIntervalMs ?? 15_000,
      maxStalledCount: opts.maxStalledCount ?? 2,
      ...(opts.name === undefined ? {} : { name: opts.name }),
    },
  );
  const onError = opts.onError ?? logError('settle-worker');
  worker.on('error', onError);
  // The next batch need not sit out its delay once its predecessor is on L1.
  worker.on('completed', (job) => {
    void (async () => {
      const next = await queue.getJob(settleJobId(job.data.index + 1));
      if (next && (await next.isDelayed())) await next.promote();
    })().catch(() => undefined); // it may have been promoted or started meanwhile
  });
  return {
    worker,
    nonces,
    async close(force = false) {
      await worker.close(force);
      await queue.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Events

export type PipelineStage = 'sequenced' | 'proving' | 'proven' | 'submitted' | 'finalized' | 'failed';

export interface PipelineEvent {
  readonly batch: number;
  readonly stage: PipelineStage;
  readonly queue: typeof PROVE_QUEUE | typeof SETTLE_QUEUE;
  readonly jobId: string;
  /** Date.now() when this process saw it. */
  readonly at: number;
  /** proven. */
  readonly proveMs?: number;
  readonly witnessMs?: number;
  /** submitted, finalized (when this job sent it). */
  readonly l1TxHash?: string;
  /** finalized. */
  readonly l1Block?: number;
  readonly alreadySettled?: boolean;
  /** failed. */
  readonly reason?: string;
}

/**
 * The pipeline's progress from BullMQ's QueueEvents (a Redis stream, so it sees the jobs of
 * every process): 'sequenced' when a closed batch is enqueued for proving, 'proving' when a prove
 * job starts, 'proven' when it completes, 'submitted' when the settlement transaction is sent,
 * 'finalized' when it is mined (with the L1 block), 'failed' for a job that failed for good. Listen with on(), or iterate (`for await`) until close().
 */
export class PipelineEvents {
  private readonly emitter = new EventEmitter<{ event: [PipelineEvent]; close: [] }>();
  private closed = false;

  private constructor(
    readonly prove: QueueEvents,
    readonly settle: QueueEvents,
  ) {
    const emit = (queue: PipelineEvent['queue'], jobId: string, stage: PipelineStage, extra: Partial<PipelineEvent> = {}) => {
      const batch = batchOfJobId(jobId);
      if (batch !== undefined) this.emitter.emit('event', { batch, stage, queue, jobId, at: Date.now(), ...extra });
    };
    prove.on('added', ({ jobId }) => emit(PROVE_QUEUE, jobId, 'sequenced'));
    prove.on('active', ({ jobId }) => emit(PROVE_QUEUE, jobId, 'proving'));
    prove.on('completed', ({ jobId, returnvalue }) => {
      const r = returnvalue as unknown as Partial<ProveJobResult> | undefined;
      emit(PROVE_QUEUE, jobId, 'proven', { ...(r?.proveMs === undefined ? {} : { proveMs: r.proveMs }), ...(r?.witnessMs === undefined ? {} : { witnessMs: r.witnessMs }) });
    });
    prove.on('failed', ({ jobId, failedReason }) => emit(PROVE_QUEUE, jobId, 'failed', { reason: failedReason }));
    settle.on('progress', ({ jobId, data }) => {
      const p = data as { stage?: string; l1TxHash?: string } | undefined;
      if (p && typeof p === 'object' && p.stage === 'submitted') emit(SETTLE_QUEUE, jobId, 'submitted', p.l1TxHash ? { l1TxHash: p.l1TxHash } : {});
    });
    settle.on('completed', ({ jobId, returnvalue }) => {
      const r = returnvalue as unknown as Partial<SettleJobResult> | undefined;
      emit(SETTLE_QUEUE, jobId, 'finalized', {
        ...(r?.l1Block === undefined ? {} : { l1Block: r.l1Block }),
        ...(r?.l1TxHash === undefined ? {} : { l1TxHash: r.l1TxHash }),
        ...(r?.alreadySettled === undefined ? {} : { alreadySettled: r.alreadySettled }),
      });
    });
    settle.on('failed', ({ jobId, failedReason }) => emit(SETTLE_QUEUE, jobId, 'failed', { reason: failedReason }));
  }

  /** Subscribes from now on (QueueEvents reads the stream from its end). */
  static async open(connection: ConnectionOptions, onError: (err: Error) => void = logError('events'), prefix?: string): Promise<PipelineEvents> {
    const prove = new QueueEvents(PROVE_QUEUE, { connection, ...withPrefix(prefix) });
    const settle = new QueueEvents(SETTLE_QUEUE, { connection, ...withPrefix(prefix) });
    prove.on('error', onError);
    settle.on('error', onError);
    await Promise.all([prove.waitUntilReady(), settle.waitUntilReady()]);
    return new PipelineEvents(prove, settle);
  }

  /** Returns the unsubscribe function. */
  on(listener: (event: PipelineEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Events from the moment of the call until close(). */
  async *[Symbol.asyncIterator](): AsyncGenerator<PipelineEvent, void, undefined> {
    const buffer: PipelineEvent[] = [];
    let wake: (() => void) | undefined;
    const off = this.on((e) => {
      buffer.push(e);
      wake?.();
    });
    const onClose = () => wake?.();
    this.emitter.on('close', onClose);
    try {
      for (;;) {
        const next = buffer.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      off();
      this.emitter.off('close', onClose);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emitter.emit('close');
    await Promise.all([this.prove.close(), this.settle.close()]);
  }
}

// ---------------------------------------------------------------------------------------------
// The wiring

export interface PipelineOptions extends QueueTarget {
  profile: CircuitProfile;
  /** Start prove workers in this process (needs artifacts). Default 0: workers run elsewhere. */
  proveWorkers?: number;
  /** Per prove worker; default 1. */
  proveConcurrency?: number;
  artifacts?: ProvingArtifacts;
  /** Start the settlement worker in this process (run exactly one in the deployment). */
  settlement?: { rollup: Rollup; operator: Signer; notYetDelayMs?: number };
  proveLocks?: LockOptions;
  settleLocks?: LockOptions;
  proveRetry?: RetryOptions;
  settleRetry?: RetryOptions;
}

export interface PipelineStatus {
  readonly prove: Record<string, number>;
  readonly settle: Record<string, number>;
  /** Newest first: jobs that failed for good (a settle job for a batch L1 refuses, a batch the circuit refuses). */
  readonly failures: readonly { queue: string; jobId: string; batch: number; reason: string; attempts: number; failedAt: number }[];
}

interface PipelineEventMap {
  error: [Error];
}

/**
 * Queues, workers and events in one object: attach(sequencer) enqueues every closed batch;
 * close() stops everything this object started. Enqueue failures are emitted as 'error' (the
 * sequencer's listener must not throw): listen for them.
 */
export class Pipeline extends EventEmitter<PipelineEventMap> {
  readonly proveQueue: ProveQueue;
  readonly settleQueue: SettleQueue;
  readonly proveWorkers: readonly WorkerHandle<ProveJobData, ProveJobResult>[];
  readonly settleWorker: SettleWorkerHandle | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly detachers = new Set<() => void>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly opts: PipelineOptions,
    readonly events: PipelineEvents,
  ) {
    super();
    const onError = (err: Error) => this.fail(err);
    this.proveQueue = createProveQueue(opts.connection, opts.prefix);
    this.settleQueue = createSettleQueue(opts.connection, opts.prefix);
    const n = opts.proveWorkers ?? 0;
    if (n > 0 && !opts.artifacts) throw new Error('Pipeline: proveWorkers needs artifacts');
    this.proveWorkers = Array.from({ length: n }, (_, i) =>
      createProveWorker({
        connection: opts.connection,
        ...withPrefix(opts.prefix),
        artifacts: opts.artifacts!,
        concurrency: opts.proveConcurrency ?? 1,
        name: `prove-${i}`,
        onError,
        ...opts.proveLocks,
        ...(opts.settleRetry ? { settleRetry: opts.settleRetry } : {}),
      }),
    );
    this.settleWorker = opts.settlement
      ? createSettleWorker({ connection: opts.connection, ...withPrefix(opts.prefix), ...opts.settlement, name: 'settle', onError, ...opts.settleLocks })
      : undefined;
  }

  static async start(opts: PipelineOptions): Promise<Pipeline> {
    const events = await PipelineEvents.open(opts.connection, undefined, opts.prefix);
    const p = new Pipeline(opts, events);
    await Promise.all([
      p.proveQueue.waitUntilReady(),
      p.settleQueue.waitUntilReady(),
      ...p.proveWorkers.map((w) => w.worker.waitUntilReady()),
      ...(p.settleWorker ? [p.settleWorker.worker.waitUntilReady()] : []),
    ]);
    return p;
  }

  /** Builds the witness of a closed batch and adds its prove job (a no-op for a known batch). */
  async enqueueBatch(batch: Parameters<typeof proveJobData>[0]): Promise<Job<ProveJobData, ProveJobResult>> {
    return enqueueProve(this.proveQueue, proveJobData(batch, this.opts.profile), this.opts.proveRetry);
  }

  /** Enqueues every batch the sequencer closes from now on; returns the detach function. */
  attach(sequencer: { on(e: 'batch', l: (b: BatchEvent) => void): unknown; off(e: 'batch', l: (b: BatchEvent) => void): unknown }): () => void {
    const listener = (batch: BatchEvent) => {
      let p: Promise<unknown>;
      try {
        p = this.enqueueBatch(batch); // the witness is built synchronously, while `before` is fresh
      } catch (err) {
        p = Promise.reject(err as Error);
      }
      const tracked = p.catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err)))).finally(() => this.pending.delete(tracked));
      this.pending.add(tracked);
    };
    sequencer.on('batch', listener);
    const detach = () => {
      sequencer.off('batch', listener);
      this.detachers.delete(detach);
    };
    this.detachers.add(detach);
    return detach;
  }

  /** Resolves when every enqueue started by attached sequencers has finished. */
  async flushed(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /**
   * Enqueues the settle job of every completed prove job (a no-op for those that have one): for a
   * restart after the settle queue lost jobs, or prove workers started with settle: false.
   */
  async reconcile(): Promise<number> {
    const done = await this.proveQueue.getCompleted();
    let n = 0;
    for (const job of done) {
      if (!job.returnvalue) continue;
      await enqueueSettle(this.settleQueue, job.data, job.returnvalue, this.opts.settleRetry);
      n++;
    }
    return n;
  }

  /** Job counts per queue and the most recent failures (what GET /v1/pipeline shows). */
  async status(recentFailures = 20): Promise<PipelineStatus> {
    const states = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children'] as const;
    const [prove, settle, proveFailed, settleFailed] = await Promise.all([
      this.proveQueue.getJobCounts(...states),
      this.settleQueue.getJobCounts(...states),
      this.proveQueue.getFailed(0, recentFailures - 1),
      this.settleQueue.getFailed(0, recentFailures - 1),
    ]);
    const failures = [...proveFailed.map((j) => ({ queue: PROVE_QUEUE, job: j })), ...settleFailed.map((j) => ({ queue: SETTLE_QUEUE, job: j }))]
      .map(({ queue, job }) => ({ queue, jobId: job.id ?? '', batch: batchOfJobId(job.id) ?? -1, reason: job.failedReason, attempts: job.attemptsMade, failedAt: job.finishedOn ?? 0 }))
      .sort((x, y) => y.failedAt - x.failedAt)
      .slice(0, recentFailures);
    return { prove, settle, failures };
  }

  /**
   * Detaches, waits for pending enqueues and (unless `force`) active jobs, then closes workers,
   * queues and events. With force, a job in flight is left to BullMQ's stalled-job check: another
   * worker (or this one after a restart) takes it again. Idempotent.
   */
  close(force = false): Promise<void> {
    this.closing ??= (async () => {
      for (const d of [...this.detachers]) d();
      await this.flushed();
      await Promise.all([...this.proveWorkers.map((w) => w.close(force)), this.settleWorker?.close(force)]);
      await Promise.all([this.proveQueue.close(), this.settleQueue.close(), this.events.close()]);
    })();
    return this.closing;
  }

  private fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else console.error(`[pipeline] ${err.message}`);
  }
}
