/**
 * Transaction signature verification on worker threads (prover/verifyWorker.ts), so that the
 * sequencer's thread is not blocked by ~1 ms of curve arithmetic and Poseidon per transaction.
 *
 *   const pool = await VerifyPool.start();     // max(1, availableParallelism - 1) threads
 *   const key = state.publicKey(tx.record.actor)!;
 *   if (await pool.verify(key, tx)) state.checkTx(tx, timestamp, { verifiedKey: key });
 *   await pool.close();
 *
 * verify(key, tx) resolves to exactly verifyTx(key, tx). Requests made in the same tick are sent
 * in chunks (one postMessage per chunk, at most two chunks in flight per worker) as flat arrays of
 * bigints and numbers (structured clone keeps bigints). A request whose fields are not plain
 * bigints/numbers is verified on the calling thread instead: it fails fast, and cloning it could
 * change what verifyTx sees. Each worker keeps its own cache of recently used keys (signing.ts).
 *
 * A worker that dies (uncaught error, terminate, out of memory) is replaced and its unanswered
 * requests are sent again once; a request whose worker dies twice is rejected with a
 * VerifyPoolError, as are all requests still pending when close() is called. Idle workers do not
 * keep the process alive.
 *
 * Run from TypeScript sources (tsx, or jest, which transforms only the modules a test imports) the
 * worker is started from verifyWorker.ts with tsx's loader (`--import tsx`); from compiled
 * JavaScript it is verifyWorker.js, with no loader.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { TxOp } from './codec.js';
import { verifyTx, type PublicKey, type SignedTx } from './signing.js';

export interface VerifyRequest {
  readonly key: PublicKey;
  readonly tx: SignedTx;
}

export interface VerifyPoolOptions {
  /** Worker threads; default max(1, os.availableParallelism() - 1). */
  readonly threads?: number;
}

export class VerifyPoolError extends Error {
  override readonly name = 'VerifyPoolError';
}

// ---------------------------------------------------------------------------------------------
// Wire format, shared with verifyWorker.ts

/** A request on the wire: key x, y; record op, actor, target, slot, scope, expiry, payload; nonce; R8x, R8y, S. */
export const REQUEST_WIDTH = 13;

type Leaf = bigint | number;

/** The main thread's chunk of requests: REQUEST_WIDTH leaves per request. */
export interface ChunkRequest {
  readonly id: number;
  readonly data: Leaf[];
}

export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'results'; readonly id: number; readonly results: Uint8Array }
  | { readonly type: 'error'; readonly id: number; readonly error: string };

const isLeaf = (v: unknown): v is Leaf => typeof v === 'bigint' || typeof v === 'number';

/** The request's leaves, or undefined when they are not all plain bigints/numbers. */
function encodeRequest(key: PublicKey, tx: SignedTx): Leaf[] | undefined {
  try {
    const { record, signature: sig } = tx;
    if (record instanceof Uint8Array) return undefined;
    const leaves = [key.x, key.y, record.op, record.actor, record.target, record.slot, record.scope, record.expiry, record.payload, tx.nonce, sig.r8x, sig.r8y, sig.s];
    return leaves.every(isLeaf) ? leaves : undefined;
  } catch {
    return undefined; // e.g. tx.record is undefined: verifyTx on this thread says what it says
  }
}

/** Request `i` of a chunk, as the objects verifyTx takes. */
export function decodeRequest(data: readonly Leaf[], i: number): VerifyRequest {
  const at = (j: number) => data[i * REQUEST_WIDTH + j] as bigint;
  const n = (j: number) => data[i * REQUEST_WIDTH + j] as number;
  return {
    key: { x: at(0), y: at(1) },
    tx: {
      record: { op: n(2) as TxOp, actor: n(3), target: n(4), slot: n(5), scope: n(6), expiry: at(7), payload: at(8) },
      nonce: at(9),
      signature: { r8x: at(10), r8y: at(11), s: at(12) },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The pool

/** Requests per chunk at most: ~60 ms of work, against ~0.1 ms per message round trip. */
const MAX_CHUNK = 64;
/** Chunks a worker may hold: the next one is already there when it answers the current one. */
const MAX_IN_FLIGHT = 2;

const HERE = import.meta.url;
const FROM_TS = HERE.endsWith('.ts');
const WORKER_URL = new URL(FROM_TS ? './verifyWorker.ts' : './verifyWorker.js', HERE);

function workerOptions(): WorkerOptions {
  // Not inherited execArgv: under jest it has no TypeScript loader, under tsx it has one already.
  if (!FROM_TS) return { name: 'verify-worker' };
  const tsx = pathToFileURL(createRequire(HERE).resolve('tsx')).href;
  return { name: 'verify-worker', execArgv: ['--import', tsx] };
}

interface Pending {
  readonly data: Leaf[];
  readonly resolve: (ok: boolean) => void;
  readonly reject: (err: Error) => void;
  /** Times a worker died holding it. */
  crashes: number;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  readonly inFlight: Map<number, Pending[]>;
  /** Why it died, when it reported it ('error', 'messageerror'). */
  failure?: unknown;
  /** Settles start()'s wait for this worker. */
  readonly started: { resolve: () => void; reject: (err: Error) => void };
}

export class VerifyPool {
  /** The number of worker threads the pool keeps running. */
  readonly threads: number;
  private readonly slots = new Set<Slot>();
  /** Requests not sent yet: queue[head..]. */
  private queue: Pending[] = [];
  private head = 0;
  private scheduled = false;
  private nextChunk = 0;
  private closing?: Promise<void>;

  private constructor(threads: number) {
    this.threads = threads;
  }

  /** Starts the workers and resolves once all of them are ready; rejects if one fails to start. */
  static async start({ threads = Math.max(1, availableParallelism() - 1) }: VerifyPoolOptions = {}): Promise<VerifyPool> {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${String(threads)}`);
    const pool = new VerifyPool(threads);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Resolves to verifyTx(key, tx), computed on a worker thread. */
  verify(key: PublicKey, tx: SignedTx): Promise<boolean> {
    if (this.closing) return Promise.reject(new VerifyPoolError('VerifyPool is closed'));
    const data = encodeRequest(key, tx);
    // Not plain data (rare, and verifyTx rejects it without curve arithmetic): answer here.
    if (!data) return new Promise((resolve) => resolve(verifyTx(key, tx)));
    return new Promise((resolve, reject) => {
      this.queue.push({ data, resolve, reject, crashes: 0 });
      if (!this.scheduled) {
        this.scheduled = true;
        // Everything requested in this tick goes out together.
        queueMicrotask(() => this.dispatch());
      }
    });
  }

  /** verify() for each item, in order. */
  verifyMany(items: readonly VerifyRequest[]): Promise<boolean[]> {
    return Promise.all(items.map(({ key, tx }) => this.verify(key, tx)));
  }

  /** Terminates the workers; requests not answered yet reject with a VerifyPoolError. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const closed = () => new VerifyPoolError('VerifyPool closed before the verification finished');
    for (const p of this.takeAll()) p.reject(closed());
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) {
      for (const chunk of slot.inFlight.values()) for (const p of chunk) p.reject(closed());
      slot.inFlight.clear();
      slot.started.reject(new VerifyPoolError('VerifyPool closed while a worker was starting'));
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Starts one worker; resolves when it is ready. */
  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, workerOptions());
      const slot: Slot = { worker, ready: false, inFlight: new Map(), started: { resolve, reject } };
      this.slots.add(slot);
      worker.on('message', (msg: WorkerReply) => this.onMessage(slot, msg));
      worker.on('error', (err) => {
        slot.failure = err; // 'exit' follows
      });
      worker.on('messageerror', (err) => {
        slot.failure = err; // a reply that cannot be read: treat the worker as dead
        void worker.terminate();
      });
      worker.on('exit', (code) => this.onExit(slot, code));
    });
  }

  private onMessage(slot: Slot, msg: WorkerReply): void {
    if (this.closing) return;
    if (msg.type === 'ready') {
      slot.ready = true;
      slot.started.resolve();
    } else {
      const chunk = slot.inFlight.get(msg.id);
      if (!chunk) return;
      slot.inFlight.delete(msg.id);
      if (msg.type === 'results') chunk.forEach((p, i) => p.resolve(msg.results[i] === 1));
      else for (const p of chunk) p.reject(new VerifyPoolError(`verification worker failed: ${msg.error}`));
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    if (this.closing || !this.slots.delete(slot)) return;
    const why = slot.failure instanceof Error ? slot.failure.message : `exit code ${code}`;
    const cause = slot.failure ?? new Error(`exit code ${code}`);
    if (!slot.ready) {
      // Could not even start: do not loop on restarts.
      slot.started.reject(new VerifyPoolError(`verification worker failed to start (${why})`, { cause }));
    } else {
      const retry: Pending[] = [];
      for (const chunk of slot.inFlight.values()) {
        for (const p of chunk) {
          if (++p.crashes > 1) p.reject(new VerifyPoolError(`verification worker died twice while verifying this request (${why})`, { cause }));
          else retry.push(p);
        }
      }
      slot.inFlight.clear();
      this.queue.splice(this.head, 0, ...retry);
      // The replacement's own start failure ends up here again, with ready = false.
      this.spawn().catch(() => {});
    }
    if (this.slots.size === 0) {
      for (const p of this.takeAll()) p.reject(new VerifyPoolError(`no verification worker left (${why})`, { cause }));
    }
    this.dispatch();
  }

  /** Sends queued requests to ready workers with room, least busy first. */
  private dispatch(): void {
    this.scheduled = false;
    if (this.closing) return;
    const ready = [...this.slots].filter((s) => s.ready);
    while (this.queue.length > this.head) {
      let slot: Slot | undefined;
      for (const s of ready) if (s.inFlight.size < MAX_IN_FLIGHT && (!slot || s.inFlight.size < slot.inFlight.size)) slot = s;
      if (!slot) break;
      // Spread a small burst over the workers; cap a large one.
      const size = Math.min(MAX_CHUNK, Math.ceil((this.queue.length - this.head) / ready.length));
      const chunk = this.queue.slice(this.head, this.head + size);
      this.head += size;
      const id = this.nextChunk++;
      const data: Leaf[] = [];
      for (const p of chunk) data.push(...p.data);
      slot.inFlight.set(id, chunk);
      const request: ChunkRequest = { id, data };
      slot.worker.postMessage(request);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    // Idle workers do not hold the process open; busy or starting ones do.
    for (const s of this.slots) {
      if (s.ready && s.inFlight.size === 0) s.worker.unref();
      else s.worker.ref();
    }
  }

  private takeAll(): Pending[] {
    const rest = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return rest;
  }
}
