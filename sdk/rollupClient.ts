/**
 * HTTP client of the sequencer (prover/http.ts): what patients' and institutions' SDK sessions use
 * to read account state, submit signed transactions and follow their receipts.
 *
 *   account(index)            GET  /v1/accounts/<index>      the live (soft) L2 state: key, nonce, indexHash, consents
 *   submit(signedTx)          POST /v1/transactions          soft receipt, or RollupError with the sequencer's code
 *   receipt(txHash)           GET  /v1/transactions/<hash>   soft | finalized receipt, undefined when unknown
 *   waitFinal(txHash, ms)     polls receipt() until status is finalized (TIMEOUT otherwise)
 *   health()                  GET  /v1/health
 *
 * Integers travel as decimal strings where the README says so (expiry, nonce, payload, signature,
 * roots, index hashes) and come back as bigints. Every failure is a RollupError whose `code` is the
 * sequencer's own (BAD_NONCE, NO_CONSENT, MALFORMED, UNKNOWN_ACCOUNT, CLOSED, ...; `status` keeps
 * the HTTP status), or one of this client's: UNAVAILABLE (no answer: the message names the URL),
 * BAD_RESPONSE (an answer that is not the documented JSON), HTTP_ERROR (an error status without a
 * code), TIMEOUT (waitFinal). Messages never carry request bodies.
 */
import type { TxRecord } from '../prover/codec.js';
import type { SignedTx } from '../prover/signing.js';
import type { TxReceipt } from '../prover/node.js';
import type { AccountProof } from '../prover/stateHistory.js';
import type { SoftReceipt } from '../prover/sequencer.js';
import type { TxRejectCode } from '../prover/state.js';
import { SdkError } from './errors.js';

/** The sequencer's HTTP error codes (prover/http.ts) and the state's TxRejected codes. */
export type SequencerErrorCode =
  | TxRejectCode
  | 'MALFORMED'
  | 'NOT_FOUND'
  | 'UNKNOWN_ACCOUNT'
  | 'UNKNOWN_TRANSACTION'
  | 'UNKNOWN_PROOF'
  | 'METHOD_NOT_ALLOWED'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CLOSED'
  | 'INTERNAL';
/** This client's own codes. */
export type ClientErrorCode = 'UNAVAILABLE' | 'BAD_RESPONSE' | 'HTTP_ERROR' | 'TIMEOUT' | 'INVALID_ARGUMENT';
// `string & {}` keeps autocompletion for the known codes and still admits codes a newer sequencer adds.
export type RollupErrorCode = SequencerErrorCode | ClientErrorCode | (string & {});

export class RollupError extends SdkError<RollupErrorCode> {
  override readonly name = 'RollupError';
  constructor(
    code: RollupErrorCode,
    message: string,
    /** HTTP status of the sequencer's answer; undefined when there was none. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

export function isRollupError(err: unknown, code?: RollupErrorCode): err is RollupError {
  return err instanceof RollupError && (code === undefined || err.code === code);
}

export interface ConsentState {
  readonly slot: number;
  readonly grantee: number;
  /** Scope bits (prover/codec.ts Scope: Read 1, Claim 2). */
  readonly scope: number;
  /** Unix seconds. */
  readonly expiry: bigint;
}

export interface AccountState {
  readonly index: number;
  readonly publicKey: { readonly x: bigint; readonly y: bigint };
  /** The nonce the account's next transaction must carry. */
  readonly nonce: bigint;
  /** The uint248 index hash set by the last Upload/Update (0 before the first). */
  readonly indexHash: bigint;
  readonly consents: readonly ConsentState[];
}

// The sequencer's own receipt types: the client parses exactly what prover/http.ts serialises.
export type { SoftReceipt } from '../prover/sequencer.js';
export type { TxReceipt } from '../prover/node.js';
export type { AccountProof } from '../prover/stateHistory.js';

export interface Health {
  readonly ok: boolean;
  readonly root: bigint;
  readonly nextForcedIndex: number;
  readonly pendingForcedOps: number;
  readonly openBatch: null | { readonly index: number; readonly timestamp: bigint; readonly oldRoot: bigint; readonly forced: number; readonly txs: number };
}

export interface PipelineCounts {
  /** BullMQ job counts by state (waiting, active, completed, failed, delayed, ...). */
  readonly prove: Readonly<Record<string, number>>;
  readonly settle: Readonly<Record<string, number>>;
  /** Recent failed jobs the node reports. */
  readonly failures: number;
}

export interface RollupClientOptions {
  /** Deadline of each HTTP request (default 15 s). */
  readonly requestTimeoutMs?: number;
  /** Interval of waitFinal's polls (default 500 ms). */
  readonly pollMs?: number;
}

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The POST /v1/transactions body of a signed transaction. */
export function signedTxJson(tx: SignedTx): Record<string, unknown> {
  const r: TxRecord = tx.record;
  return {
    record: { op: r.op, actor: r.actor, target: r.target, slot: r.slot, scope: r.scope, expiry: r.expiry.toString(), payload: r.payload.toString() },
    nonce: tx.nonce.toString(),
    signature: { r8x: tx.signature.r8x.toString(), r8y: tx.signature.r8y.toString(), s: tx.signature.s.toString() },
  };
}

export class RollupClient {
  readonly baseUrl: string;
  private readonly requestTimeoutMs: number;
  private readonly pollMs: number;

  constructor(baseUrl: string, options: RollupClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new RollupError('INVALID_ARGUMENT', `not a URL: ${JSON.stringify(baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RollupError('INVALID_ARGUMENT', `the sequencer URL must be http(s), got ${url.protocol}`);
    this.baseUrl = url.toString().replace(/\/+$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.pollMs = options.pollMs ?? 500;
  }

  async account(index: number): Promise<AccountState> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** 32) throw new RollupError('INVALID_ARGUMENT', `account index must be a uint32, got ${String(index)}`);
    const { json } = await this.request('GET', `/v1/accounts/${index}`);
    return parseAccount(json);
  }

  /**
   * Account `index`'s leaf and Merkle path in the state root after batch `batch`: what another
   * chain checks against that root once the relay delivered it (ForeignRoots.verifyForeignRecord).
   * UNKNOWN_PROOF when the account or batch is unknown or the batch is older than the node keeps.
   */
  async accountProof(index: number, batch: number): Promise<AccountProof> {
    for (const [what, v] of [['account index', index], ['batch', batch]] as const) {
      if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** 32) throw new RollupError('INVALID_ARGUMENT', `${what} must be a uint32, got ${String(v)}`);
    }
    const { json } = await this.request('GET', `/v1/accounts/${index}/proof/${batch}`);
    const o = obj(json, 'proof');
    const leaf = obj(o.leaf, 'leaf');
    if (!Array.isArray(o.siblings)) bad('siblings', 'expected an array');
    return {
      account: int(o.account, 'account'),
      batch: int(o.batch, 'batch'),
      root: big(o.root, 'root'),
      pubX: big(leaf.pubX, 'leaf.pubX'),
      pubY: big(leaf.pubY, 'leaf.pubY'),
      nonce: big(leaf.nonce, 'leaf.nonce'),
      indexHash: big(leaf.indexHash, 'leaf.indexHash'),
      consentRoot: big(leaf.consentRoot, 'leaf.consentRoot'),
      siblings: (o.siblings as unknown[]).map((s, i) => big(s, `siblings[${i}]`)),
    };
  }

  async submit(tx: SignedTx): Promise<SoftReceipt> {
    const { json } = await this.request('POST', '/v1/transactions', signedTxJson(tx));
    const o = obj(json, 'receipt');
    return { batch: int(o.batch, 'batch'), position: int(o.position, 'position'), newRoot: big(o.newRoot, 'newRoot'), txHash: hash(o.txHash, 'txHash') };
  }

  /** The receipt, or undefined when the sequencer knows no accepted transaction with this hash. */
  async receipt(txHash: string): Promise<TxReceipt | undefined> {
    if (typeof txHash !== 'string' || !TX_HASH.test(txHash)) throw new RollupError('INVALID_ARGUMENT', 'a transaction hash is 0x and 64 hex digits');
    try {
      const { json } = await this.request('GET', `/v1/transactions/${txHash.toLowerCase()}`);
      return parseReceipt(json);
    } catch (err) {
      if (isRollupError(err, 'UNKNOWN_TRANSACTION')) return undefined;
      throw err;
    }
  }

  /**
   * Polls until the transaction's batch is finalized on L1. TIMEOUT after `timeoutMs`; a transaction
   * the sequencer does not know keeps being polled (it may be restarting), so it also ends in TIMEOUT.
   */
  async waitFinal(txHash: string, timeoutMs: number): Promise<TxReceipt> {
    const deadline = Date.now() + timeoutMs;
    let last: TxReceipt | undefined;
    for (;;) {
      try {
        last = await this.receipt(txHash);
        if (last?.status === 'finalized') return last;
      } catch (err) {
        // A node restarting answers nothing for a moment; anything else is final.
        if (!isRollupError(err, 'UNAVAILABLE') && !isRollupError(err, 'CLOSED')) throw err;
      }
      if (Date.now() >= deadline) {
        const where = last ? `batch ${last.batch} is ${last.batchClosed ? 'closed, not yet finalized' : 'still open'}` : 'the sequencer does not know it';
        throw new RollupError('TIMEOUT', `transaction ${txHash} not finalized within ${timeoutMs} ms (${where})`);
      }
      await new Promise((r) => setTimeout(r, Math.min(this.pollMs, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Job counts of the proving and settlement queues (GET /v1/pipeline). */
  async pipeline(): Promise<PipelineCounts> {
    const { json } = await this.request('GET', '/v1/pipeline');
    const o = obj(json, 'pipeline');
    const counts = (v: unknown, what: string): Readonly<Record<string, number>> => {
      const c = obj(v, what);
      return Object.fromEntries(Object.entries(c).map(([k, n]) => [k, int(n, `${what}.${k}`)]));
    };
    return { prove: counts(o.prove, 'prove'), settle: counts(o.settle, 'settle'), failures: Array.isArray(o.failures) ? o.failures.length : 0 };
  }

  async health(): Promise<Health> {
    const { json } = await this.request('GET', '/v1/health');
    const o = obj(json, 'health');
    const ob = o.openBatch;
    let openBatch: Health['openBatch'] = null;
    if (ob !== null) {
      const b = obj(ob, 'openBatch');
      openBatch = { index: int(b.index, 'openBatch.index'), timestamp: big(b.timestamp, 'openBatch.timestamp'), oldRoot: big(b.oldRoot, 'openBatch.oldRoot'), forced: int(b.forced, 'openBatch.forced'), txs: int(b.txs, 'openBatch.txs') };
    }
    return { ok: o.ok === true, root: big(o.root, 'root'), nextForcedIndex: int(o.nextForcedIndex, 'nextForcedIndex'), pendingForcedOps: int(o.pendingForcedOps, 'pendingForcedOps'), openBatch };
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.requestTimeoutMs} ms` : describeFetchError(err);
      throw new RollupError('UNAVAILABLE', `sequencer at ${this.baseUrl} unreachable (${method} ${path}): ${why}`, undefined, { cause: err });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new RollupError('UNAVAILABLE', `sequencer at ${this.baseUrl}: the answer to ${method} ${path} broke off`, res.status, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      if (!res.ok) throw new RollupError('HTTP_ERROR', `sequencer at ${this.baseUrl} answered ${method} ${path} with HTTP ${res.status}`, res.status);
      throw new RollupError('BAD_RESPONSE', `sequencer at ${this.baseUrl} answered ${method} ${path} with something other than JSON`, res.status);
    }
    if (!res.ok) {
      const e = typeof json === 'object' && json !== null ? (json as { error?: { code?: unknown; message?: unknown } }).error : undefined;
      if (e && typeof e.code === 'string') {
        const message = typeof e.message === 'string' ? e.message.replace(/^[A-Z_]+: /, '') : `HTTP ${res.status}`;
        throw new RollupError(e.code, `${message} (HTTP ${res.status} from ${method} ${path})`, res.status);
      }
      throw new RollupError('HTTP_ERROR', `sequencer at ${this.baseUrl} answered ${method} ${path} with HTTP ${res.status}`, res.status);
    }
    return { status: res.status, json };
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return (err as Error).message ?? String(err);
}

// ---------------------------------------------------------------------------------------------
// Answer parsing: a sequencer that answers something else is reported, not trusted.

function bad(field: string, why: string): never {
  throw new RollupError('BAD_RESPONSE', `sequencer answer field "${field}": ${why}`);
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, 'expected an object');
  return v as Record<string, unknown>;
}

function int(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(field, 'expected a non-negative integer');
  return v as number;
}

function big(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v)) bad(field, 'expected a decimal string');
  return BigInt(v as string);
}

function hash(v: unknown, field: string): string {
  if (typeof v !== 'string' || !TX_HASH.test(v)) bad(field, 'expected 0x and 64 hex digits');
  return (v as string).toLowerCase();
}

function parseAccount(json: unknown): AccountState {
  const o = obj(json, 'account');
  const pk = obj(o.publicKey, 'publicKey');
  if (!Array.isArray(o.consents)) bad('consents', 'expected an array');
  return {
    index: int(o.index, 'index'),
    publicKey: { x: big(pk.x, 'publicKey.x'), y: big(pk.y, 'publicKey.y') },
    nonce: big(o.nonce, 'nonce'),
    indexHash: big(o.indexHash, 'indexHash'),
    consents: (o.consents as unknown[]).map((c, i) => {
      const co = obj(c, `consents[${i}]`);
      return { slot: int(co.slot, `consents[${i}].slot`), grantee: int(co.grantee, `consents[${i}].grantee`), scope: int(co.scope, `consents[${i}].scope`), expiry: big(co.expiry, `consents[${i}].expiry`) };
    }),
  };
}

function parseReceipt(json: unknown): TxReceipt {
  const o = obj(json, 'receipt');
  if (o.status !== 'soft' && o.status !== 'finalized') bad('status', 'expected "soft" or "finalized"');
  return {
    txHash: hash(o.txHash, 'txHash'),
    batch: int(o.batch, 'batch'),
    position: int(o.position, 'position'),
    status: o.status as 'soft' | 'finalized',
    batchClosed: o.batchClosed === true,
    ...(o.l1Block === undefined || o.l1Block === null ? {} : { l1Block: int(o.l1Block, 'l1Block') }),
    ...(typeof o.l1TxHash === 'string' ? { l1TxHash: hash(o.l1TxHash, 'l1TxHash') } : {}),
  };
}
