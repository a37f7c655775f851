import type { Worker } from 'node:worker_threads';
import { TxOp, type TxRecord } from '../../prover/codec.js';
import { SNARK_FIELD } from '../../prover/merkleTree.js';
import { ZERO_SIGNATURE, publicKeyOf, randomSecret, signTx, verifyTx, type PublicKey } from '../../prover/signing.js';
import { VerifyPool, VerifyPoolError, type VerifyRequest } from '../../prover/verifyPool.js';

const record = (payload: bigint): TxRecord => ({ op: TxOp.Upload, actor: 1, target: 1, slot: 0, scope: 0, expiry: 0n, payload });

// @zk-kit signs in ~60 ms: a few real signatures, reused.
const signers = Array.from({ length: 3 }, () => randomSecret());
const keys = signers.map(publicKeyOf);
const signed: VerifyRequest[] = signers.flatMap((secret, k) => [0n, 1n].map((nonce) => ({ key: keys[k]!, tx: signTx(secret, record(100n + nonce), nonce) })));

/** Valid requests and every way of spoiling one, including inputs that are not plain data. */
function mixedRequests(): VerifyRequest[] {
  const out: VerifyRequest[] = [];
  for (const { key, tx } of signed) {
    const other = keys.find((k) => k !== key)!;
    out.push(
      { key, tx },
      { key, tx: { ...tx, nonce: tx.nonce + 1n } },
      { key, tx: { ...tx, record: { ...tx.record, payload: tx.record.payload + 1n } } },
      { key, tx: { ...tx, signature: { ...tx.signature, s: tx.signature.s + 1n } } },
      { key, tx: { ...tx, signature: { ...tx.signature, r8x: tx.signature.r8x + 1n } } },
      { key, tx: { ...tx, signature: ZERO_SIGNATURE } },
      { key: other, tx },
      { key: { x: key.x, y: key.y + SNARK_FIELD }, tx },
      { key: { x: 0n, y: SNARK_FIELD - 1n }, tx }, // small order
      { key, tx: { ...tx, record: { ...tx.record, op: 9 as TxOp } } },
      { key, tx: { ...tx, nonce: -1n } },
      // not plain bigints/numbers: verified on the calling thread
      { key, tx: { ...tx, nonce: String(tx.nonce) as unknown as bigint } },
      { key: { x: key.x } as PublicKey, tx },
      { key, tx: { ...tx, record: undefined as unknown as TxRecord } },
    );
  }
  return out;
}

/** The pool's workers, for the crash tests. */
function workersOf(pool: VerifyPool): { worker: Worker; ready: boolean; inFlight: Map<number, unknown> }[] {
  return [...(pool as unknown as { slots: Set<{ worker: Worker; ready: boolean; inFlight: Map<number, unknown> }> }).slots];
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 2) {
    if (waited > 20_000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('VerifyPool', () => {
  let pool: VerifyPool;
  beforeAll(async () => {
    pool = await VerifyPool.start({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('answers exactly what verifyTx answers, for valid and invalid transactions', async () => {
    const requests = mixedRequests();
    const expected = requests.map(({ key, tx }) => verifyTx(key, tx));
    expect(expected.filter(Boolean)).toHaveLength(signed.length);
    expect(await pool.verifyMany(requests)).toEqual(expected);
    expect(await pool.verify(signed[0]!.key, signed[0]!.tx)).toBe(true);
    expect(await pool.verify(signed[0]!.key, { ...signed[0]!.tx, nonce: 5n })).toBe(false);
    expect(await pool.verifyMany([])).toEqual([]);
  });

  it('verifyTx throwing on garbage makes verify reject, not throw', async () => {
    const garbage = pool.verify(null as unknown as PublicKey, signed[0]!.tx);
    await expect(garbage).rejects.toThrow(TypeError);
  });

  it('serves many concurrent callers, within a tick and across ticks', async () => {
    const requests = mixedRequests();
    const expected = requests.map(({ key, tx }) => verifyTx(key, tx));
    const calls: Promise<boolean[]>[] = [];
    for (let round = 0; round < 6; round++) {
      calls.push(Promise.all(requests.map(({ key, tx }) => pool.verify(key, tx))));
      calls.push(pool.verifyMany(requests));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const results of await Promise.all(calls)) expect(results).toEqual(expected);
    expect(pool.threads).toBe(2);
  });
});

describe('VerifyPool: shutdown and crashes', () => {
  it('close() rejects what is pending, is idempotent, and later calls reject', async () => {
    const pool = await VerifyPool.start({ threads: 1 });
    const pending = Array.from({ length: 200 }, (_, i) => pool.verify(signed[i % signed.length]!.key, signed[i % signed.length]!.tx));
    await new Promise((resolve) => setTimeout(resolve, 20)); // some are on the worker by now
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    const outcomes = await Promise.allSettled(pending);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const o of rejected) {
      expect(o.reason).toBeInstanceOf(VerifyPoolError);
      expect((o.reason as Error).message).toMatch(/closed before the verification finished/);
    }
    for (const o of outcomes) if (o.status === 'fulfilled') expect(o.value).toBe(true);
    await closing;
    await pool.close();
    await expect(pool.verify(signed[0]!.key, signed[0]!.tx)).rejects.toThrow(/VerifyPool is closed/);
    expect(workersOf(pool)).toHaveLength(0);
  });

  it('a worker that dies is replaced and its requests are answered by the replacement', async () => {
    const pool = await VerifyPool.start({ threads: 2 });
    try {
      const requests = [...mixedRequests(), ...mixedRequests()];
      const expected = requests.map(({ key, tx }) => verifyTx(key, tx));
      const results = pool.verifyMany(requests);
      const [victim] = workersOf(pool);
      await until(() => victim!.inFlight.size > 0, 'the worker holds a chunk');
      await victim!.worker.terminate();
      expect(await results).toEqual(expected);
      await until(() => workersOf(pool).filter((w) => w.ready).length === 2, 'the replacement is ready');
      expect(workersOf(pool).some((w) => w.worker === victim!.worker)).toBe(false);
      expect(await pool.verifyMany(requests)).toEqual(expected);
    } finally {
      await pool.close();
    }
  });

  it('a request whose worker dies twice is rejected, not lost', async () => {
    const pool = await VerifyPool.start({ threads: 1 });
    try {
      const pending = Array.from({ length: 150 }, (_, i) => pool.verify(signed[i % signed.length]!.key, signed[i % signed.length]!.tx));
      const settled = Promise.allSettled(pending);
      for (let death = 0; death < 2; death++) {
        await until(() => workersOf(pool).some((w) => w.inFlight.size > 0), 'a worker holds a chunk');
        await workersOf(pool)[0]!.worker.terminate();
      }
      const outcomes = await settled;
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const o of rejected) {
        expect(o.reason).toBeInstanceOf(VerifyPoolError);
        expect((o.reason as Error).message).toMatch(/died twice/);
      }
      for (const o of outcomes) if (o.status === 'fulfilled') expect(o.value).toBe(true);
      // The pool is still usable.
      expect(await pool.verify(signed[1]!.key, signed[1]!.tx)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(VerifyPool.start({ threads: 0 })).rejects.toThrow(RangeError);
    await expect(VerifyPool.start({ threads: 1.5 })).rejects.toThrow(RangeError);
  });
});
