import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForcedKind, TxOp, type TxRecord } from '../../prover/codec.js';
import { createSequencerHttpServer, type HttpLogEntry } from '../../prover/http.js';
import { Sequencer } from '../../prover/sequencer.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';

const T = 1_700_000_000n;
const PATIENT = 1;
const HOSPITAL = 2;
const secrets = new Map([PATIENT, HOSPITAL].map((i) => [i, randomSecret()]));

let dir: string;
let seq: Sequencer;
let server: http.Server;
let base: string;
let logs: HttpLogEntry[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sequencer-http-test-'));
  seq = await Sequencer.open({ profile: 'test', walPath: join(dir, 'wal.db'), batchTimeoutMs: 600_000, now: () => T });
  [PATIENT, HOSPITAL].forEach((account, i) => {
    const key = publicKeyOf(secrets.get(account)!);
    seq.addForced({ kind: ForcedKind.RegisterAccount, account, counterpart: 0, a: key.x, b: key.y }, i);
  });
  seq.flush();
  logs = [];
  // Receipts from the sequencer's own index (the node adds L1 finality on top: test/e2e/rollup.test.ts).
  server = createSequencerHttpServer(seq, { log: (e) => logs.push(e), receipt: async (hash) => seq.locate(hash) && { txHash: hash, ...seq.locate(hash) } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  server.closeAllConnections();
  await closed;
  seq.close();
  rmSync(dir, { recursive: true, force: true });
});

function sign(fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>, secret?: Uint8Array): SignedTx {
  const record: TxRecord = { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
  const nonce = seq.snapshot().accountFields(fields.actor).nonce;
  return signTx(secret ?? secrets.get(fields.actor)!, record, nonce);
}

function toJson(tx: SignedTx, payloadHex = false) {
  const { record: r, nonce, signature: s } = tx;
  return {
    record: { op: r.op, actor: r.actor, target: r.target, slot: r.slot, scope: r.scope, expiry: r.expiry.toString(), payload: payloadHex ? `0x${r.payload.toString(16)}` : r.payload.toString() },
    nonce: nonce.toString(),
    signature: { r8x: s.r8x.toString(), r8y: s.r8y.toString(), s: s.s.toString() },
  };
}

async function post(body: string | object, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/v1/transactions`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function errorOf(json: Record<string, unknown>): { code: string; message: string } {
  return json.error as { code: string; message: string };
}

describe('createSequencerHttpServer', () => {
  it('answers a valid upload with its soft receipt, then 422 BAD_NONCE on replay', async () => {
    const payload = 0xabcdef123456789n;
    const tx = sign({ op: TxOp.Upload, actor: PATIENT, payload });
    const ref = seq.snapshot();
    ref.applyTx(tx, T);
    const ok = await post(toJson(tx, true));
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ batch: 2, position: 0, newRoot: ref.root.toString(), txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(seq.root).toBe(ref.root);

    const replay = await post(toJson(tx));
    expect(replay.status).toBe(422);
    expect(errorOf(replay.json).code).toBe('BAD_NONCE');
    // The logs carry no payload.
    expect(JSON.stringify(logs)).not.toContain(payload.toString());
    expect(JSON.stringify(logs)).not.toContain(payload.toString(16));
    expect(logs.map((l) => [l.status, l.code])).toEqual([
      [200, undefined],
      [422, 'BAD_NONCE'],
    ]);
  });

  it('rejects a tampered signature with 422 BAD_SIGNATURE and changes nothing', async () => {
    const tx = sign({ op: TxOp.Upload, actor: PATIENT, payload: 42n });
    const body = toJson({ ...tx, signature: { ...tx.signature, s: tx.signature.s ^ 1n } });
    const root = seq.root;
    const res = await post(body);
    expect(res.status).toBe(422);
    expect(errorOf(res.json).code).toBe('BAD_SIGNATURE');
    expect(seq.root).toBe(root);
    expect(seq.openBatch).toBeUndefined();
    // Signed by someone else: same answer.
    const forged = await post(toJson(sign({ op: TxOp.Upload, actor: PATIENT, payload: 42n }, secrets.get(HOSPITAL))));
    expect(forged.status).toBe(422);
    expect(errorOf(forged.json).code).toBe('BAD_SIGNATURE');
  });

  it('answers 400 MALFORMED for bad JSON and for missing or invalid fields, naming them', async () => {
    const bad = await post('{"record": {');
    expect(bad.status).toBe(400);
    expect(errorOf(bad.json)).toEqual({ code: 'MALFORMED', message: 'the body is not valid JSON' });

    const valid = toJson(sign({ op: TxOp.Upload, actor: PATIENT, payload: 7n }));
    const cases: [object, string][] = [
      [{ ...valid, nonce: undefined }, 'missing field nonce'],
      [{ ...valid, record: { ...valid.record, expiry: undefined } }, 'missing field record.expiry'],
      [{ ...valid, signature: { r8x: '1', r8y: '2' } }, 'missing field signature.s'],
      [{ ...valid, nonce: 0 }, 'nonce must be a decimal string'],
      [{ ...valid, record: { ...valid.record, payload: 'secret-stuff' } }, 'record.payload must be a decimal or 0x hex string'],
      [{ ...valid, record: { ...valid.record, actor: -1 } }, 'record.actor must be an integer in [0, 2^32)'],
      [{ ...valid, record: { ...valid.record, op: 9 } }, 'record.op must be one of'],
      [{ ...valid, extra: true }, 'unknown field extra'],
      [[valid], 'body must be an object'],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(errorOf(res.json).code).toBe('MALFORMED');
      expect(errorOf(res.json).message).toContain(message);
      expect(errorOf(res.json).message).not.toContain('secret-stuff');
    }
    expect(seq.openBatch).toBeUndefined();
  });

  it('answers 413 for an oversized body and 415 for a wrong content type', async () => {
    const big = await post(JSON.stringify({ pad: 'x'.repeat(17 * 1024) }));
    expect(big.status).toBe(413);
    expect(errorOf(big.json).code).toBe('TOO_LARGE');

    // Without content-length (chunked): cut off while reading.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('x'.repeat(10 * 1024));
      req.end('y'.repeat(10 * 1024));
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: { code: 'TOO_LARGE' } });

    const valid = toJson(sign({ op: TxOp.Upload, actor: PATIENT, payload: 7n }));
    const text = await post(JSON.stringify(valid), 'text/plain');
    expect(text.status).toBe(415);
    expect(errorOf(text.json).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(seq.openBatch).toBeUndefined();
    // application/json with a charset is fine.
    expect((await post(valid, 'application/json; charset=utf-8')).status).toBe(200);
  });

  it('serves health, 404 and 405', async () => {
    const before = await fetch(`${base}/v1/health`);
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ ok: true, root: seq.root.toString(), nextForcedIndex: seq.lastForcedQueueIndex + 1, pendingForcedOps: 0, openBatch: null });

    await post(toJson(sign({ op: TxOp.Upload, actor: PATIENT, payload: 7n })));
    const after = (await (await fetch(`${base}/v1/health`)).json()) as Record<string, unknown>;
    expect(after).toEqual({ ok: true, root: seq.root.toString(), nextForcedIndex: seq.lastForcedQueueIndex + 1, pendingForcedOps: 0, openBatch: { index: 2, timestamp: T.toString(), oldRoot: expect.any(String), forced: 0, txs: 1 } });

    const missing = await fetch(`${base}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Record<string, unknown>).error).toMatchObject({ code: 'NOT_FOUND' });
    const wrongMethod = await fetch(`${base}/v1/transactions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await wrongMethod.json();
  });

  it('serves receipts by transaction hash; unknown hashes are 404 UNKNOWN_TRANSACTION', async () => {
    const res = await post(toJson(sign({ op: TxOp.Upload, actor: PATIENT, payload: 9n })));
    const { txHash, batch, position } = res.json as { txHash: string; batch: number; position: number };
    const found = await fetch(`${base}/v1/transactions/${txHash.toUpperCase().replace('0X', '0x')}`);
    expect(found.status).toBe(200);
    expect(await found.json()).toEqual({ txHash, batch, position });
    const unknown = await fetch(`${base}/v1/transactions/0x${'ab'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_TRANSACTION');
    const post405 = await fetch(`${base}/v1/transactions/${txHash}`, { method: 'POST' });
    expect(post405.status).toBe(405);
    await post405.json();
    // Not a hash: not this route.
    expect((await fetch(`${base}/v1/transactions/0x12`)).status).toBe(404);
  });

  it('serves an account\'s public L2 state; unknown ones are 404 UNKNOWN_ACCOUNT', async () => {
    const res = await fetch(`${base}/v1/accounts/${PATIENT}`);
    expect(res.status).toBe(200);
    const a = (await res.json()) as { index: number; nonce: string; publicKey: { x: string } };
    expect(a.index).toBe(PATIENT);
    expect(a.nonce).toBe(seq.account(PATIENT)!.nonce.toString());
    expect(a.publicKey.x).toBe(seq.publicKeyOf(PATIENT)!.x.toString());
    for (const path of ['/v1/accounts/999', '/v1/accounts/12345678901']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status).toBe(404);
      await r.json();
    }
    expect((await fetch(`${base}/v1/accounts/007`)).status).toBe(404);
  });

  it('answers 503 CLOSED once the sequencer is closed', async () => {
    const tx = sign({ op: TxOp.Upload, actor: PATIENT, payload: 7n });
    seq.close();
    const res = await post(toJson(tx));
    expect(res.status).toBe(503);
    expect(errorOf(res.json).code).toBe('CLOSED');
  });
});
