/**
 * The sequencer's HTTP front: node:http only, JSON in and out.
 *
 *   POST /v1/transactions   body: { record: { op, actor, target, slot, scope, expiry, payload }, nonce, signature: { r8x, r8y, s } }
 *                           op/actor/target/slot/scope: JSON integers; expiry, nonce, r8x, r8y, s: decimal
 *                           strings; payload: decimal or 0x hex string.
 *                           200 { batch, position, newRoot (decimal string), txHash }
 *   GET  /v1/transactions/<txHash>   (with options.receipt) 200 the receipt: { txHash, batch, position,
 *                           status: soft | finalized, batchClosed, l1Block?, l1TxHash? }; 404 UNKNOWN_TRANSACTION
 *   GET  /v1/accounts/<index>  200 { index, publicKey: { x, y }, nonce, indexHash, consents: [{ slot, grantee, scope, expiry }] }
 *                           (the live, soft state; decimal strings); 404 UNKNOWN_ACCOUNT
 *   GET  /v1/pipeline       (with options.pipeline) job counts of the prove and settle queues, recent failures
 *   GET  /v1/health         200 { ok: true, root (decimal string), nextForcedIndex (Gateway queue index expected next),
 *                           pendingForcedOps (accepted, waiting for a batch with a free forced slot),
 *                           openBatch: null | { index, timestamp, oldRoot, forced, txs } }
 *
 * Errors are { error: { code, message } }:
 *   400 MALFORMED (bad JSON, missing/invalid/unknown field, named in the message), 404 NOT_FOUND,
 *   405 METHOD_NOT_ALLOWED (with Allow), 413 TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE,
 *   422 the TxRejected code (BAD_SIGNATURE, BAD_NONCE, NO_CONSENT...), 503 CLOSED (the sequencer is closed),
 *   500 INTERNAL.
 *
 * Request bodies never reach the log: the logger gets the method, path, status and error code only,
 * and error messages name fields, never their values.
 */
import http from 'node:http';
import { TxOp, type TxRecord } from './codec.js';
import { SNARK_FIELD } from './merkleTree.js';
import { SequencerError, type Sequencer, type SoftReceipt } from './sequencer.js';
import type { SignedTx } from './signing.js';
import type { AccountProof } from './stateHistory.js';
import type { Registry } from 'prom-client';
import { sendMetrics } from '../sdk/metrics.js';
import { EXPIRY_LIMIT, PAYLOAD_LIMIT, TxRejected } from './state.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

export interface HttpLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The error code of a failed request. */
  readonly code?: string;
}

export interface SequencerHttpOptions {
  /** Largest accepted request body. Default 16 KiB. */
  readonly maxBodyBytes?: number;
  /** Called once per answered request (never with the body). Default: logs 5xx to console.error. */
  readonly log?: (entry: HttpLogEntry) => void;
  /** Replaces sequencer.submit for POST /v1/transactions (e.g. signature checks on a thread pool first). */
  readonly submit?: (tx: SignedTx) => Promise<SoftReceipt>;
  /** Serves GET /v1/pipeline (job counts, recent failures). */
  readonly pipeline?: () => Promise<object>;
  /** Serves GET /v1/transactions/<txHash> (a JSON-serialisable receipt, undefined: 404). */
  readonly receipt?: (txHash: string) => Promise<object | undefined>;
  /** Serves GET /v1/accounts/<index>/proof/<batch>: the account's leaf and path in the root after that batch. */
  readonly accountProof?: (account: number, batch: number) => AccountProof | undefined;
  /** Serves GET /metrics (Prometheus text format). */
  readonly metrics?: Registry;
}

/** A request the server answers with an error status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const malformed = (message: string) => new HttpError(400, 'MALFORMED', message);

/** The default request log: 5xx answers to console.error. */
export const logServerErrors = (e: HttpLogEntry): void => {
  if (e.status >= 500) console.error(`sequencer http: ${e.method} ${e.path} -> ${e.status}${e.code ? ` ${e.code}` : ''}`);
};

// ---------------------------------------------------------------------------------------------
// Body parsing

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const HEX = /^0x[0-9a-fA-F]{1,64}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function expectObject(v: unknown, name: string, keys: readonly string[]): Record<string, unknown> {
  if (v === undefined) throw malformed(`missing field ${name}`);
  if (!isObject(v)) throw malformed(`${name} must be an object`);
  for (const k of keys) if (!(k in v) || v[k] === undefined) throw malformed(`missing field ${name === 'body' ? k : `${name}.${k}`}`);
  const extra = Object.keys(v).find((k) => !keys.includes(k));
  if (extra !== undefined) throw malformed(`unknown field ${name === 'body' ? '' : `${name}.`}${extra.slice(0, 64)}`);
  return v;
}

function uintNumber(v: unknown, name: string, bits: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= 2 ** bits) {
    throw malformed(`${name} must be an integer in [0, 2^${bits})`);
  }
  return v;
}

function decimal(v: unknown, name: string, limit: bigint, limitText: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v)) throw malformed(`${name} must be a decimal string`);
  const n = BigInt(v);
  if (n >= limit) throw malformed(`${name} must be below ${limitText}`);
  return n;
}

function decimalOrHex(v: unknown, name: string, limit: bigint, limitText: string): bigint {
  if (typeof v !== 'string' || !(DECIMAL.test(v) || HEX.test(v))) throw malformed(`${name} must be a decimal or 0x hex string`);
  const n = BigInt(v);
  if (n >= limit) throw malformed(`${name} must be below ${limitText}`);
  return n;
}

const RECORD_KEYS = ['op', 'actor', 'target', 'slot', 'scope', 'expiry', 'payload'] as const;
const SIGNATURE_KEYS = ['r8x', 'r8y', 's'] as const;
const TX_OPS = new Set<number>(Object.values(TxOp).filter((op) => op !== TxOp.Padding));

/** Validates the JSON shape of a signed transaction; whether the state accepts it is the sequencer's job. */
export function parseSignedTx(body: unknown): SignedTx {
  const top = expectObject(body, 'body', ['record', 'nonce', 'signature']);
  const r = expectObject(top.record, 'record', RECORD_KEYS);
  const op = uintNumber(r.op, 'record.op', 8);
  if (!TX_OPS.has(op)) throw malformed(`record.op must be one of ${[...TX_OPS].join(', ')}`);
  const record: TxRecord = {
    op: op as TxOp,
    actor: uintNumber(r.actor, 'record.actor', 32),
    target: uintNumber(r.target, 'record.target', 32),
    slot: uintNumber(r.slot, 'record.slot', 8),
    scope: uintNumber(r.scope, 'record.scope', 8),
    expiry: decimal(r.expiry, 'record.expiry', EXPIRY_LIMIT, '2^40'),
    payload: decimalOrHex(r.payload, 'record.payload', PAYLOAD_LIMIT, '2^248'),
  };
  const nonce = decimal(top.nonce, 'nonce', SNARK_FIELD, 'the SNARK field modulus');
  const s = expectObject(top.signature, 'signature', SIGNATURE_KEYS);
  const signature = {
    r8x: decimal(s.r8x, 'signature.r8x', SNARK_FIELD, 'the SNARK field modulus'),
    r8y: decimal(s.r8y, 'signature.r8y', SNARK_FIELD, 'the SNARK field modulus'),
    s: decimal(s.s, 'signature.s', 1n << 256n, '2^256'),
  };
  return { record, nonce, signature };
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  const charset = params.find((p) => p.startsWith('charset='));
  return charset === undefined || ['charset=utf-8', 'charset="utf-8"'].includes(charset);
}

/** Reads the body, at most `max` bytes; rejects with 413 as soon as it is known to be larger. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) {
    return Promise.reject(new HttpError(413, 'TOO_LARGE', `the body exceeds ${max} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        chunks.length = 0;
        reject(new HttpError(413, 'TOO_LARGE', `the body exceeds ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

function parseJson(raw: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw malformed('the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    throw malformed('the body is not valid JSON');
  }
}

// ---------------------------------------------------------------------------------------------
// Server

function receiptJson(r: SoftReceipt): Record<string, unknown> {
  return { batch: r.batch, position: r.position, newRoot: r.newRoot.toString(), txHash: r.txHash };
}

function healthJson(sequencer: Sequencer): Record<string, unknown> {
  const open = sequencer.openBatch;
  return {
    ok: true,
    root: sequencer.root.toString(),
    nextForcedIndex: sequencer.lastForcedQueueIndex + 1,
    pendingForcedOps: sequencer.pendingForcedCount,
    openBatch: open
      ? { index: open.index, timestamp: open.timestamp.toString(), oldRoot: open.oldRoot.toString(), forced: open.forced.length, txs: open.txs.length }
      : null,
  };
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof TxRejected) return new HttpError(422, err.code, err.message);
  if (err instanceof SequencerError && err.code === 'CLOSED') return new HttpError(503, err.code, 'the sequencer is closed');
  return new HttpError(500, 'INTERNAL', 'internal error');
}

const ROUTES: Readonly<Record<string, string>> = { '/v1/transactions': 'POST', '/v1/health': 'GET' };
const RECEIPT_ROUTE = /^\/v1\/transactions\/(0x[0-9a-fA-F]{64})$/;
const ACCOUNT_ROUTE = /^\/v1\/accounts\/(0|[1-9][0-9]{0,9})$/;
const PROOF_ROUTE = /^\/v1\/accounts\/(0|[1-9][0-9]{0,9})\/proof\/(0|[1-9][0-9]{0,9})$/;

function proofJson(p: AccountProof): Record<string, unknown> {
  return {
    account: p.account,
    batch: p.batch,
    root: p.root.toString(),
    leaf: { pubX: p.pubX.toString(), pubY: p.pubY.toString(), nonce: p.nonce.toString(), indexHash: p.indexHash.toString(), consentRoot: p.consentRoot.toString() },
    siblings: p.siblings.map(String),
  };
}

/** Public L2 state of an account (all of it is in the batches' calldata anyway): what clients sign against. */
function accountJson(sequencer: Sequencer, index: number): Record<string, unknown> | undefined {
  if (index >= 2 ** sequencer.profile.treeDepth) return undefined;
  const a = sequencer.account(index);
  if (!a) return undefined;
  return {
    index,
    publicKey: { x: a.pubX.toString(), y: a.pubY.toString() },
    nonce: a.nonce.toString(),
    indexHash: a.indexHash.toString(),
    consents: [...a.consents].sort(([x], [y]) => x - y).map(([slot, c]) => ({ slot, grantee: Number(c.grantee), scope: Number(c.scope), expiry: c.expiry.toString() })),
  };
}

export function createSequencerHttpServer(sequencer: Sequencer, options: SequencerHttpOptions = {}): http.Server {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new RangeError('maxBodyBytes must be a positive integer');
  const log = options.log ?? logServerErrors;

  const send = (req: http.IncomingMessage, res: http.ServerResponse, path: string, status: number, body: unknown, headers: Record<string, string> = {}, code?: string) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
    res.end(text);
    try {
      log({ method: req.method ?? '', path, status, ...(code === undefined ? {} : { code }) });
    } catch {
      // a logger must not break the server
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> => {
    const accountOf = ACCOUNT_ROUTE.exec(path)?.[1];
    if (accountOf !== undefined) {
      if (req.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' });
      const found = accountJson(sequencer, Number(accountOf));
      if (!found) throw new HttpError(404, 'UNKNOWN_ACCOUNT', 'no registered account has this index');
      send(req, res, '/v1/accounts/:index', 200, found);
      return;
    }
    if (path === '/metrics' && options.metrics) {
      await sendMetrics(options.metrics, req, res);
      return;
    }
    const proofOf = options.accountProof && PROOF_ROUTE.exec(path);
    if (proofOf) {
      if (req.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' });
      const found = options.accountProof!(Number(proofOf[1]), Number(proofOf[2]));
      if (!found) throw new HttpError(404, 'UNKNOWN_PROOF', 'no registered account has this index after that batch, or the batch is not closed or no longer kept');
      send(req, res, '/v1/accounts/:index/proof/:batch', 200, proofJson(found));
      return;
    }
    const receiptOf = options.receipt && RECEIPT_ROUTE.exec(path)?.[1];
    if (receiptOf) {
      if (req.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' });
      const found = await options.receipt!(receiptOf.toLowerCase());
      if (!found) throw new HttpError(404, 'UNKNOWN_TRANSACTION', 'no accepted transaction has this hash');
      send(req, res, '/v1/transactions/:hash', 200, found);
      return;
    }
    if (path === '/v1/pipeline' && options.pipeline) {
      if (req.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' });
      send(req, res, path, 200, await options.pipeline());
      return;
    }
    const allowed = ROUTES[path];
    if (allowed === undefined) throw new HttpError(404, 'NOT_FOUND', 'no such route');
    if (req.method !== allowed) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allowed}`, { allow: allowed });
    if (path === '/v1/health') {
      send(req, res, path, 200, healthJson(sequencer));
      return;
    }
    if (!isJsonContentType(req.headers['content-type'])) {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the content type must be application/json');
    }
    const tx = parseSignedTx(parseJson(await readBody(req, maxBodyBytes)));
    send(req, res, path, 200, receiptJson(options.submit ? await options.submit(tx) : sequencer.submit(tx)));
  };

  return http.createServer((req, res) => {
    // Only the path is logged or routed on: the query string is ignored.
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    handle(req, res, path).catch((err: unknown) => {
      const e = toHttpError(err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A request whose body was not (fully) read: close the connection rather than drain it.
      const unread = !req.complete;
      send(req, res, path, e.status, { error: { code: e.code, message: e.message } }, { ...e.headers, ...(unread ? { connection: 'close' } : {}) }, e.code);
      if (unread) req.resume();
    });
  });
}
