import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ForcedKind, Scope, TxOp, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { PROFILES } from '../../prover/profiles.js';
import { Sequencer, SequencerError, type BatchEvent, type ClosedBatch, type SequencerOptions } from '../../prover/sequencer.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { RollupState, TxRejected, type TxRejectCode } from '../../prover/state.js';
import { Wal } from '../../prover/wal.js';
import { buildBatchWitness } from '../../prover/witness.js';

const profile = PROFILES.test; // K=2, F=1, D=4, S=2
const T = 1_700_000_000n;
const PATIENT = 1;
const HOSPITAL = 2;
const INSURER = 3;
const LATE = 4;
const secrets = new Map([PATIENT, HOSPITAL, INSURER, LATE].map((i) => [i, randomSecret()]));

function registerOp(index: number): ForcedOp {
  const key = publicKeyOf(secrets.get(index)!);
  return { kind: ForcedKind.RegisterAccount, account: index, counterpart: 0, a: key.x, b: key.y };
}

let dir: string;
let walPath: string;
let clock: bigint;
const live: Sequencer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sequencer-test-'));
  walPath = join(dir, 'wal.db');
  clock = T;
});
afterEach(() => {
  for (const s of live.splice(0)) s.detach();
  rmSync(dir, { recursive: true, force: true });
});

async function openSeq(options: Partial<SequencerOptions> = {}): Promise<{ seq: Sequencer; events: BatchEvent[] }> {
  const seq = await Sequencer.open({ profile: 'test', walPath, batchTimeoutMs: 600_000, now: () => clock, ...options });
  live.push(seq);
  const events: BatchEvent[] = [];
  seq.on('batch', (e) => events.push(e));
  return { seq, events };
}

/** Registers PATIENT, HOSPITAL, INSURER (queue 0..2) and flushes: batches 0, 1, 2 (F = 1). */
function registerAll(seq: Sequencer): void {
  [PATIENT, HOSPITAL, INSURER].forEach((a, i) => seq.addForced(registerOp(a), i));
  seq.flush();
}

/** Signs with the nonce the sequencer's live state has for the actor (+ offset). */
function sign(seq: Sequencer, fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>, nonceOffset = 0n, secret?: Uint8Array): SignedTx {
  const record: TxRecord = { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
  const nonce = seq.snapshot().accountFields(fields.actor).nonce + nonceOffset;
  return signTx(secret ?? secrets.get(fields.actor)!, record, nonce);
}

function walCounts(): { entries: number; batches: number } {
  const wal = Wal.open(walPath, profile);
  try {
    return { entries: wal.entries().length, batches: wal.batches().length };
  } finally {
    wal.close();
  }
}

/** Every closed batch, rebuilt from genesis by buildBatchWitness, ends at the sequencer's new root. */
function expectWitnessChain(batches: readonly ClosedBatch[]): RollupState {
  let state = new RollupState(profile);
  batches.forEach((b, i) => {
    expect(b.index).toBe(i);
    expect(b.oldRoot).toBe(state.root);
    const w = buildBatchWitness(state, { forced: b.forced, txs: b.txs, timestamp: b.timestamp }, profile);
    expect(w.oldRoot).toBe(b.oldRoot);
    expect(w.newRoot).toBe(b.newRoot);
    state = w.state;
  });
  return state;
}

function expectRejected(fn: () => unknown, code: TxRejectCode): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TxRejected);
    expect((err as TxRejected).code).toBe(code);
    return;
  }
  throw new Error(`expected TxRejected ${code}`);
}

function expectSequencerError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SequencerError);
    expect((err as SequencerError).code).toBe(code);
    return;
  }
  throw new Error(`expected SequencerError ${code}`);
}

describe('Sequencer', () => {
  it('puts forced operations into forced slots, one batch each with F = 1, and emits reproducible batches', async () => {
    const { seq, events } = await openSeq();
    expect(seq.addForced(registerOp(PATIENT), 0)).toEqual({ queueIndex: 0, batch: 0, position: 0 });
    // The forced slot of batch 0 is taken: the next ones wait for batches 1 and 2.
    expect(seq.addForced(registerOp(HOSPITAL), 1)).toEqual({ queueIndex: 1, batch: 1, position: 0 });
    expect(seq.addForced(registerOp(INSURER), 2)).toEqual({ queueIndex: 2, batch: 2, position: 0 });
    expect(seq.snapshot().isRegistered(HOSPITAL)).toBe(false); // applied only when batch 1 opens
    seq.flush();
    expect(events.map((e) => [e.index, e.forced.length, e.txs.length])).toEqual([
      [0, 1, 0],
      [1, 1, 0],
      [2, 1, 0],
    ]);
    const state = expectWitnessChain(events);
    expect(state.root).toBe(seq.root);
    for (const e of events) expect(buildBatchWitness(e.before, { forced: e.forced, txs: e.txs, timestamp: e.timestamp }, profile).newRoot).toBe(e.newRoot);
  });

  it('answers soft receipts with positions and the root after each transaction, and closes at K transactions', async () => {
    const { seq, events } = await openSeq();
    registerAll(seq);
    const ref = seq.snapshot();
    const tx0 = sign(seq, { op: TxOp.Upload, actor: PATIENT, payload: 111n });
    const r0 = seq.submit(tx0);
    ref.applyTx(tx0, T);
    expect(r0).toEqual({ batch: 3, position: 0, newRoot: ref.root, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(seq.openBatch?.txs).toHaveLength(1);
    const tx1 = sign(seq, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 1, scope: Scope.Read, expiry: T + 3600n });
    const r1 = seq.submit(tx1);
    ref.applyTx(tx1, T);
    expect(r1).toMatchObject({ batch: 3, position: 1, newRoot: ref.root });
    expect(r1.txHash).not.toBe(r0.txHash);
    // K = 2: batch 3 closed on size.
    expect(events.at(-1)).toMatchObject({ index: 3, timestamp: T, newRoot: ref.root, txs: [tx0, tx1], forced: [] });
    expect(seq.openBatch).toBeUndefined();
    const r2 = seq.submit(sign(seq, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 1, payload: 111n }));
    expect(r2).toMatchObject({ batch: 4, position: 0 });
    seq.flush();
    expect(expectWitnessChain(events).root).toBe(seq.root);
  });

  it('passes every rejection through with its TxRejected code and changes nothing, log included', async () => {
    const { seq, events } = await openSeq();
    registerAll(seq);
    seq.submit(sign(seq, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: T + 10n }));
    const grantTx = sign(seq, { op: TxOp.Grant, actor: PATIENT, target: INSURER, slot: 1, scope: Scope.Claim, expiry: T + 3600n });
    seq.submit(grantTx); // closes batch 3
    const upload = sign(seq, { op: TxOp.Upload, actor: PATIENT, payload: 5n });
    seq.submit(upload); // batch 4 is open with one transaction

    const cases: [TxRejectCode, () => SignedTx][] = [
      ['BAD_SIGNATURE', () => sign(seq, { op: TxOp.Update, actor: PATIENT, payload: 6n }, 0n, secrets.get(HOSPITAL))],
      ['BAD_NONCE', () => upload], // the same transaction again: same actor, same nonce
      ['BAD_NONCE', () => sign(seq, { op: TxOp.Update, actor: PATIENT, payload: 6n }, 1n)],
      ['UNKNOWN_ACTOR', () => signTx(secrets.get(LATE)!, { op: TxOp.Upload, actor: LATE, target: LATE, slot: 0, scope: 0, expiry: 0n, payload: 1n }, 0n)],
      ['UNKNOWN_TARGET', () => sign(seq, { op: TxOp.Grant, actor: PATIENT, target: 9, slot: 2, scope: Scope.Read, expiry: T + 100n })],
      ['NOT_OWNER', () => sign(seq, { op: TxOp.Upload, actor: HOSPITAL, target: PATIENT, payload: 1n })],
      ['NO_CONSENT', () => sign(seq, { op: TxOp.Access, actor: INSURER, target: PATIENT, slot: 0 })],
      ['WRONG_SCOPE', () => sign(seq, { op: TxOp.Access, actor: INSURER, target: PATIENT, slot: 1 })],
      ['ALREADY_UPLOADED', () => sign(seq, { op: TxOp.Upload, actor: PATIENT, payload: 7n })],
      ['NOTHING_TO_UPDATE', () => sign(seq, { op: TxOp.Update, actor: HOSPITAL, payload: 7n })],
      ['BAD_FIELD', () => sign(seq, { op: TxOp.Upload, actor: HOSPITAL, payload: 0n })],
      ['SELF_GRANT', () => sign(seq, { op: TxOp.Grant, actor: PATIENT, target: PATIENT, slot: 2, scope: Scope.Read, expiry: T + 100n })],
    ];
    const check = (list: typeof cases) => {
      const root = seq.root;
      const open = seq.openBatch;
      const counts = walCounts();
      for (const [code, make] of list) {
        expectRejected(() => seq.submit(make()), code);
        expect(seq.root).toBe(root);
        expect(seq.openBatch).toEqual(open);
        expect(walCounts()).toEqual(counts);
      }
    };
    check(cases);

    // Consent expiry is judged at the batch timestamp, fixed when the batch opens.
    seq.flush();
    const batchesBefore = events.length;
    clock = T + 11n;
    const rootBefore = seq.root;
    const counts = walCounts();
    // No batch is open: a rejected first transaction must not open (nor log) one.
    expectRejected(() => seq.submit(sign(seq, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 })), 'CONSENT_EXPIRED');
    expect(seq.openBatch).toBeUndefined();
    expect(walCounts()).toEqual(counts);
    expect(seq.root).toBe(rootBefore);
    check([['CONSENT_EXPIRED', () => sign(seq, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 })]]);
    expect(events).toHaveLength(batchesBefore);
    seq.flush();
    expect(expectWitnessChain(events).root).toBe(seq.root);
  });

  it('validates against the timestamp fixed at opening, never earlier than the previous batch', async () => {
    const { seq, events } = await openSeq();
    registerAll(seq);
    seq.submit(sign(seq, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: T + 10n }));
    clock = T + 5n;
    seq.flush(); // batch 3 keeps timestamp T
    expect(events.at(-1)!.timestamp).toBe(T);
    seq.submit(sign(seq, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 })); // batch 4 opens at T + 5
    clock = T + 100n; // the consent has expired by the clock, but batch 4's time is T + 5
    seq.submit(sign(seq, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 }));
    expect(events.at(-1)).toMatchObject({ index: 4, timestamp: T + 5n });
    clock = T - 50n; // the clock goes back: the next batch takes the previous timestamp
    seq.submit(sign(seq, { op: TxOp.Upload, actor: PATIENT, payload: 3n }));
    seq.flush();
    expect(events.at(-1)).toMatchObject({ index: 5, timestamp: T + 5n });
    expectWitnessChain(events);
  });

  it('closes a batch after batchTimeoutMs from its first entry', async () => {
    const { seq, events } = await openSeq({ batchTimeoutMs: 40 });
    seq.addForced(registerOp(PATIENT), 0);
    await new Promise((resolve) => seq.once('batch', resolve));
    expect(events.map((e) => e.index)).toEqual([0]);
    const started = Date.now();
    seq.submit(sign(seq, { op: TxOp.Upload, actor: PATIENT, payload: 9n }));
    await new Promise((resolve) => seq.once('batch', resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
    expect(events.map((e) => [e.index, e.txs.length])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expectWitnessChain(events);
  });

  it('closes the batch at once after a priority transaction', async () => {
    const { seq, events } = await openSeq({ priority: (tx) => tx.record.op === TxOp.Access });
    registerAll(seq);
    seq.submit(sign(seq, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: T + 100n }));
    seq.flush();
    const r = seq.submit(sign(seq, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 }));
    expect(r).toMatchObject({ batch: 4, position: 0 });
    expect(events.at(-1)).toMatchObject({ index: 4, newRoot: r.newRoot });
    expect(events.at(-1)!.txs).toHaveLength(1);
    expect(seq.openBatch).toBeUndefined();
    expectWitnessChain(events);
  });

  it('takes forced operations in queue order only, and defers them past a batch that has transactions', async () => {
    const { seq, events } = await openSeq();
    expectSequencerError(() => seq.addForced(registerOp(PATIENT), 1), 'FORCED_OUT_OF_ORDER');
    registerAll(seq);
    expectSequencerError(() => seq.addForced(registerOp(LATE), 2), 'FORCED_OUT_OF_ORDER');
    expectSequencerError(() => seq.addForced(registerOp(LATE), 4), 'FORCED_OUT_OF_ORDER');
    // A Gateway-impossible operation (index taken) is refused before it is logged.
    const counts = walCounts();
    expectSequencerError(() => seq.addForced(registerOp(PATIENT), 3), 'FORCED_OP_FAILED');
    expect(walCounts()).toEqual(counts);

    const r0 = seq.submit(sign(seq, { op: TxOp.Upload, actor: PATIENT, payload: 1n }));
    expect(r0.batch).toBe(3);
    // Batch 3 has a transaction: the forced op goes to batch 4, and the live state does not see it yet.
    expect(seq.addForced(registerOp(LATE), 3)).toEqual({ queueIndex: 3, batch: 4, position: 0 });
    expect(seq.root).toBe(r0.newRoot);
    const r1 = seq.submit(sign(seq, { op: TxOp.Upload, actor: HOSPITAL, payload: 2n })); // closes batch 3 (K = 2)
    expect(events.at(-1)).toMatchObject({ index: 3, forced: [] });
    expect(events.at(-1)!.txs).toHaveLength(2);
    // Batch 4 opened at once with the forced op applied first.
    expect(seq.openBatch).toMatchObject({ index: 4, oldRoot: r1.newRoot, txs: [] });
    expect(seq.openBatch!.forced).toEqual([registerOp(LATE)]);
    expect(seq.snapshot().isRegistered(LATE)).toBe(true);
    const r2 = seq.submit(sign(seq, { op: TxOp.Upload, actor: LATE, payload: 3n }));
    expect(r2).toMatchObject({ batch: 4, position: 0 });
    seq.flush();
    const last = events.at(-1)!;
    expect(last).toMatchObject({ index: 4, newRoot: r2.newRoot });
    const w = buildBatchWitness(last.before, { forced: last.forced, txs: last.txs, timestamp: last.timestamp }, profile);
    expect(w.roots).toEqual([r1.newRoot, w.roots[1], r2.newRoot]);
    expect(expectWitnessChain(events).root).toBe(seq.root);
  });

  it('recovers after a crash: same root, same open batch, same closed batches, and continues', async () => {
    const { seq: a, events: eventsA } = await openSeq();
    registerAll(a);
    a.submit(sign(a, { op: TxOp.Upload, actor: PATIENT, payload: 1n }));
    a.submit(sign(a, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: T + 100n })); // closes 3
    clock = T + 7n;
    a.submit(sign(a, { op: TxOp.Upload, actor: HOSPITAL, payload: 2n })); // batch 4, open
    a.addForced(registerOp(LATE), 3); // waits for batch 5
    const rootA = a.root;
    const openA = a.openBatch;
    expect(openA).toMatchObject({ index: 4, timestamp: T + 7n });

    // Crash: no close(), no flush(): the log is let go as a dead process would; a new instance opens it.
    a.detach();
    clock = T + 50n;
    const { seq: b, events: eventsB } = await openSeq();
    expect(b.root).toBe(rootA);
    expect(b.openBatch).toEqual(openA);
    expect(b.lastForcedQueueIndex).toBe(3);
    expect(b.recovered).toEqual(eventsA.map(({ before: _before, ...rest }) => rest));

    // Continue: the open batch keeps its timestamp; the deferred forced op opens batch 5.
    const r = b.submit(sign(b, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 1n }));
    expect(r).toMatchObject({ batch: 4, position: 1 });
    expect(eventsB.at(-1)).toMatchObject({ index: 4, timestamp: T + 7n, newRoot: r.newRoot });
    expect(b.openBatch).toMatchObject({ index: 5, timestamp: T + 50n, forced: [registerOp(LATE)] });
    expect(b.addForced({ kind: ForcedKind.RevokeConsent, account: PATIENT, counterpart: HOSPITAL, a: 1n, b: 0n }, 4)).toMatchObject({ batch: 6 });
    b.flush();
    expect(eventsB.map((e) => e.index)).toEqual([4, 5, 6]);
    const all = [...b.recovered, ...eventsB];
    expect(expectWitnessChain(all).root).toBe(b.root);
    expect(b.snapshot().consent(PATIENT, 0).scope).toBe(0n);

    // A clean close and reopen recovers everything closed.
    const rootB = b.root;
    b.close();
    const { seq: c } = await openSeq();
    expect(c.root).toBe(rootB);
    expect(c.openBatch).toBeUndefined();
    expect(c.batchIndex).toBe(7);
    expect(c.recovered.map((x) => x.newRoot)).toEqual(all.map((x) => x.newRoot));
  });

  it('refuses to recover a log whose closed batch root the replay does not reproduce', async () => {
    const { seq } = await openSeq();
    registerAll(seq);
    seq.close();
    const db = new DatabaseSync(walPath);
    db.prepare('UPDATE batches SET new_root = ? WHERE idx = 1').run('12345');
    db.close();
    await expect(Sequencer.open({ profile: 'test', walPath })).rejects.toMatchObject({ name: 'SequencerError', code: 'RECOVERY_MISMATCH' });
  });

  it('refuses a log of another profile and use after close()', async () => {
    const { seq } = await openSeq();
    seq.close();
    await expect(Sequencer.open({ profile: 'dev', walPath })).rejects.toMatchObject({ name: 'WalError', code: 'PROFILE_MISMATCH' });
    expectSequencerError(() => seq.submit(sign(seq, { op: TxOp.Upload, actor: PATIENT, payload: 1n })), 'CLOSED');
  });
});
