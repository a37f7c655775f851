/**
 * The composed batch circuit (test profile: K=2, F=1, D=4, S=2) against witnesses from the
 * prover library: honest batches are accepted; every rule the sequencer enforces is also enforced
 * by the circuit when a dishonest prover skips it (prover/witness.ts with `checks: false`).
 */
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { ForcedKind, Scope, TxOp, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { PROFILES } from '../../prover/profiles.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { RollupState } from '../../prover/state.js';
import { buildBatchWitness, type BatchWitness } from '../../prover/witness.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness, type CircuitInput } from '../helpers/circuit.js';

const profile = PROFILES.test;
const T = 1_700_000_000n;
const PATIENT = 1;
const HOSPITAL = 2;
const INSURER = 3;
const LAB = 4;
const secrets = new Map([PATIENT, HOSPITAL, INSURER, LAB].map((i) => [i, randomSecret()]));

let circuit: CompiledCircuit;

beforeAll(async () => {
  circuit = await compileCircuit({ source: 'circuits/main/test.circom', name: 'batch_test', log: () => {} });
}, 300_000);
afterAll(async () => {
  await releaseCircuitResources();
});

function register(index: number): ForcedOp {
  const key = publicKeyOf(secrets.get(index)!);
  return { kind: ForcedKind.RegisterAccount, account: index, counterpart: 0, a: key.x, b: key.y };
}

function tx(state: RollupState, fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>, nonceOffset = 0n): SignedTx {
  const record: TxRecord = { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
  return signTx(secrets.get(fields.actor)!, record, state.accountFields(fields.actor).nonce + nonceOffset);
}

/** Patient, hospital and insurer registered; the patient has an index and READ consent for the
 * hospital in slot 0 (expires at T + 100) and CLAIM for the insurer in slot 1. */
function baseState(): RollupState {
  const state = new RollupState(profile);
  for (const i of [PATIENT, HOSPITAL, INSURER]) state.applyForced(register(i));
  const steps: [Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>][] = [
    [{ op: TxOp.Upload, actor: PATIENT, payload: 0xabcn }],
    [{ op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: T + 100n }],
    [{ op: TxOp.Grant, actor: PATIENT, target: INSURER, slot: 1, scope: Scope.Claim, expiry: T + 100n }],
  ];
  for (const [fields] of steps) state.applyTx(tx(state, fields), T - 10n);
  return state;
}

const input = (w: BatchWitness): CircuitInput => w.input as unknown as CircuitInput;
const clone = (i: CircuitInput): CircuitInput => JSON.parse(JSON.stringify(i)) as CircuitInput;

async function accepted(w: BatchWitness): Promise<void> {
  const values = await witness(circuit, input(w), { check: false });
  expect(signal(values, 'main.inputHash')).toBe(w.publicInput);
}

describe('batch circuit, honest batches', () => {
  it('proves registrations, uploads and grants, and the public input is the contract hash', async () => {
    const state = new RollupState(profile);
    state.applyForced(register(PATIENT));
    const w = buildBatchWitness(state, { forced: [register(HOSPITAL)], txs: [tx(state, { op: TxOp.Upload, actor: PATIENT, payload: 7n })], timestamp: T }, profile);
    const values = await witness(circuit, input(w)); // also checked against the R1CS
    expect(signal(values, 'main.inputHash')).toBe(w.publicInput);
    const w2 = buildBatchWitness(
      w.state,
      { forced: [], txs: [tx(w.state, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 3, scope: 3, expiry: T + 5n })], timestamp: T },
      profile,
    );
    await accepted(w2);
  });

  it('proves access, claim, update and revoke, and a forced revocation', async () => {
    const state = baseState();
    const w = buildBatchWitness(
      state,
      {
        forced: [{ kind: ForcedKind.RevokeConsent, account: PATIENT, counterpart: INSURER, a: 2n, b: 1n }],
        txs: [tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0xabcn }), tx(state, { op: TxOp.Update, actor: PATIENT, payload: 0xdefn })],
        timestamp: T,
      },
      profile,
    );
    await accepted(w);
    expect(w.state.consent(PATIENT, 1).scope).toBe(0n);
    const w2 = buildBatchWitness(
      baseState(),
      { forced: [], txs: [tx(state, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 1, payload: 9n }), tx(state, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0 })], timestamp: T },
      profile,
    );
    await accepted(w2);
  });

  it('proves a forced revocation that matches nothing as a no-op, and an empty-transaction batch', async () => {
    const state = baseState();
    const w = buildBatchWitness(state, { forced: [{ kind: ForcedKind.RevokeConsent, account: PATIENT, counterpart: LAB, a: 1n, b: 0n }], txs: [], timestamp: T }, profile);
    expect(w.newRoot).toBe(w.oldRoot);
    await accepted(w);
  });
});

describe('batch circuit, dishonest prover', () => {
  const state = baseState();
  const access = (s: RollupState, slot = 0, actor = HOSPITAL) => tx(s, { op: TxOp.Access, actor, target: PATIENT, slot, payload: 0xabcn });
  const forge = (txs: SignedTx[], timestamp = T, s = state) => buildBatchWitness(s, { forced: [], txs, timestamp }, profile, { checks: false });

  it('refuses a bad signature', async () => {
    const good = input(forge([access(state)]));
    const bad = clone(good);
    (bad.txSig as string[][])[0]![2] = String(BigInt((bad.txSig as string[][])[0]![2]!) + 1n);
    await expectWitnessFailure(circuit, bad);
  });

  it('refuses a signature over the wrong nonce', async () => {
    await expectWitnessFailure(circuit, input(forge([tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0xabcn }, 1n)])));
  });

  it('refuses access without consent, with the wrong scope, after expiry and after revocation', async () => {
    // The lab holds no consent at all.
    const s = baseState();
    s.applyForced(register(LAB));
    await expectWitnessFailure(circuit, input(forge([access(s, 0, LAB)], T, s)));
    // The insurer's consent (slot 1) is CLAIM only.
    await expectWitnessFailure(circuit, input(forge([access(state, 1, INSURER)])));
    // Expired: the hospital's consent ends at T + 100.
    await expectWitnessFailure(circuit, input(forge([access(state)], T + 101n)));
    // Revoked in an earlier batch.
    const revoked = baseState();
    revoked.applyTx(tx(revoked, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0 }), T);
    await expectWitnessFailure(circuit, input(forge([access(revoked)], T, revoked)));
  });

  it('refuses uploads over an existing index and writes to another account', async () => {
    await expectWitnessFailure(circuit, input(forge([tx(state, { op: TxOp.Upload, actor: PATIENT, payload: 5n })])));
    await expectWitnessFailure(circuit, input(forge([tx(state, { op: TxOp.Update, actor: HOSPITAL, target: PATIENT, payload: 5n })])));
  });

  it('refuses a wrong sibling path', async () => {
    const bad = clone(input(forge([access(state)])));
    const path = (bad.actorPath as string[][])[0]!;
    path[1] = String(BigInt(path[1]!) + 1n);
    await expectWitnessFailure(circuit, bad);
  });

  it('refuses a tampered public input, data or new root', async () => {
    const good = input(buildBatchWitness(state, { forced: [], txs: [access(state)], timestamp: T }, profile));
    const hash = clone(good);
    hash.inputHash = String(BigInt(hash.inputHash as string) + 1n);
    await expectWitnessFailure(circuit, hash);
    const data = clone(good);
    (data.data as string[])[20] = String((Number((data.data as string[])[20]) + 1) % 256);
    await expectWitnessFailure(circuit, data);
    const root = clone(good);
    root.newRoot = String(BigInt(root.newRoot as string) + 1n);
    await expectWitnessFailure(circuit, root);
  });

  it('refuses a transaction count that disagrees with the filled slots', async () => {
    const bad = clone(input(buildBatchWitness(state, { forced: [], txs: [access(state)], timestamp: T }, profile)));
    (bad.data as string[])[7] = '2'; // header txCount = 2, one slot filled (the hash changes too)
    await expectWitnessFailure(circuit, bad);
  });
});
