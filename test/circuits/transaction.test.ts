/**
 * circuits/src/transaction.circom: ProcessTx(D = 4, S = 2), one L2 transaction slot, against the
 * prover's RollupState: rootOut is the state root after the transaction for every op, and a
 * dishonest witness (a leaf or sibling that is not in the root) is refused. The template inputs are
 * built from the state as prover/witness.ts does (leaf fields and siblings BEFORE the transaction).
 */
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { ForcedKind, Scope, TxOp, head, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { RollupState, type AccountFields, type ConsentFields } from '../../prover/state.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness, type CircuitInput } from '../helpers/circuit.js';

const D = 4;
const S = 2;
const T = 1_700_000_000n;
const PATIENT = 1;
const HOSPITAL = 2;
const INSURER = 3;
const LAB = 4;
/** Never registered. */
const STRANGER = 9;
const secrets = new Map([PATIENT, HOSPITAL, INSURER, LAB, STRANGER].map((i) => [i, randomSecret()]));

let circuit: CompiledCircuit;

beforeAll(async () => {
  circuit = await compileCircuit({
    source: 'circuits/src/transaction.circom',
    name: 'test_process_tx4_2',
    main: `component main = ProcessTx(${D}, ${S});`,
    log: () => {},
  });
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

function register(index: number): ForcedOp {
  const key = publicKeyOf(secrets.get(index)!);
  return { kind: ForcedKind.RegisterAccount, account: index, counterpart: 0, a: key.x, b: key.y };
}

type TxFields = Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>;

/** A transaction signed by the actor at its current nonce (+ nonceOffset). */
function tx(state: RollupState, fields: TxFields, nonceOffset = 0n): SignedTx {
  const record: TxRecord = { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
  const nonce = (state.isRegistered(fields.actor) ? state.accountFields(fields.actor).nonce : 0n) + nonceOffset;
  return signTx(secrets.get(fields.actor)!, record, nonce);
}

/** Patient (with an index), hospital, insurer and lab registered; the patient's consents: slot 0 READ
 * for the hospital, slot 1 CLAIM for the insurer, slot 2 READ | CLAIM for the lab (all until T + 100). */
function baseState(): RollupState {
  const state = new RollupState({ treeDepth: D, consentDepth: S });
  for (const i of [PATIENT, HOSPITAL, INSURER, LAB]) state.applyForced(register(i));
  const steps: TxFields[] = [
    { op: TxOp.Upload, actor: PATIENT, payload: 0xabcn },
    { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: T + 100n },
    { op: TxOp.Grant, actor: PATIENT, target: INSURER, slot: 1, scope: Scope.Claim, expiry: T + 100n },
    { op: TxOp.Grant, actor: PATIENT, target: LAB, slot: 2, scope: Scope.Read | Scope.Claim, expiry: T + 100n },
  ];
  for (const fields of steps) state.applyTx(tx(state, fields), T - 10n);
  return state;
}

const accountRow = (a: AccountFields): bigint[] => [a.pubX, a.pubY, a.nonce, a.indexHash, a.consentRoot];
const consentRow = (c: ConsentFields): bigint[] => [c.grantee, c.scope, c.expiry];
const zeros = (n: number): bigint[] => new Array<bigint>(n).fill(0n);

/** Mutable ProcessTx input (values as bigint) so tests can tamper with any part. */
interface TxInput {
  rootIn: bigint;
  timestamp: bigint;
  op: number;
  actor: number;
  target: number;
  slot: number;
  scope: number;
  expiry: bigint;
  payload: bigint;
  head: bigint;
  sig: bigint[];
  actorLeaf: bigint[];
  actorPath: bigint[];
  targetLeaf: bigint[];
  targetPath: bigint[];
  consentLeaf: bigint[];
  consentPath: bigint[];
}

/** The ProcessTx input of `t` on `state` at batch time `timestamp`, as prover/witness.ts builds it. */
function txInput(state: RollupState, t: SignedTx, timestamp = T): TxInput {
  const { op, actor, target, slot } = t.record;
  const usesTarget = op === TxOp.Grant || op === TxOp.Access || op === TxOp.Claim;
  const owner = op === TxOp.Grant || op === TxOp.Revoke ? actor : usesTarget ? target : undefined;
  const ownerRegistered = owner !== undefined && state.isRegistered(owner);
  return {
    rootIn: state.root,
    timestamp,
    ...t.record,
    head: head(t.record),
    sig: [t.signature.r8x, t.signature.r8y, t.signature.s],
    actorLeaf: accountRow(state.accountFields(actor)),
    actorPath: state.accountPath(actor),
    targetLeaf: usesTarget ? accountRow(state.accountFields(target)) : zeros(5),
    targetPath: usesTarget ? state.accountPath(target) : zeros(D),
    consentLeaf: owner === undefined ? zeros(3) : consentRow(state.consent(owner, slot)),
    consentPath: ownerRegistered ? state.consentPath(owner, slot) : zeros(S),
  };
}

const asInput = (i: TxInput): CircuitInput => ({ ...i }) as unknown as CircuitInput;

/** Checks the transaction with the prover, runs the circuit and compares rootOut with the state after it. */
async function expectRootAfter(state: RollupState, t: SignedTx, timestamp = T, check = false): Promise<bigint> {
  const after = state.clone();
  after.applyTx(t, timestamp); // validates: the prover accepts it
  const w = await witness(circuit, asInput(txInput(state, t, timestamp)), { check });
  const rootOut = signal(w, 'main.rootOut');
  expect(rootOut).toBe(after.root);
  expect(rootOut).not.toBe(state.root); // every transaction bumps the actor's nonce
  return rootOut;
}

async function refused(input: TxInput): Promise<void> {
  await expectWitnessFailure(circuit, asInput(input));
}

describe('ProcessTx(4, 2): rootOut is the prover state root after the transaction', () => {
  it('grant (new slot, R1CS-checked) and grant over an occupied slot', async () => {
    const state = baseState();
    await expectRootAfter(state, tx(state, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 3, scope: 3, expiry: T + 1n }), T, true);
    await expectRootAfter(state, tx(state, { op: TxOp.Grant, actor: PATIENT, target: LAB, slot: 0, scope: Scope.Claim, expiry: T + 50n }));
    // The hospital grants the patient: the grantee's own consent tree is untouched.
    await expectRootAfter(state, tx(state, { op: TxOp.Grant, actor: HOSPITAL, target: PATIENT, slot: 0, scope: Scope.Read, expiry: T + 50n }));
  });

  it('upload (account without an index) and update (account with one)', async () => {
    const state = baseState();
    await expectRootAfter(state, tx(state, { op: TxOp.Upload, actor: HOSPITAL, payload: 0x1234n }));
    await expectRootAfter(state, tx(state, { op: TxOp.Update, actor: PATIENT, payload: (1n << 248n) - 1n }));
  });

  it('revoke', async () => {
    const state = baseState();
    await expectRootAfter(state, tx(state, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0 }));
    await expectRootAfter(state, tx(state, { op: TxOp.Revoke, actor: PATIENT, target: LAB, slot: 2 }));
  });

  it('access and claim (only the actor nonce changes), also at expiry == timestamp', async () => {
    const state = baseState();
    await expectRootAfter(state, tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0xabcn }));
    await expectRootAfter(state, tx(state, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 1, payload: 9n }));
    await expectRootAfter(state, tx(state, { op: TxOp.Access, actor: LAB, target: PATIENT, slot: 2 }), T + 100n);
    await expectRootAfter(state, tx(state, { op: TxOp.Claim, actor: LAB, target: PATIENT, slot: 2, payload: 1n }), T + 100n);
  });

  it('a sequence of transactions, each proven against the root the previous one produced', async () => {
    let state = baseState();
    const steps: TxFields[] = [
      { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0xabcn },
      { op: TxOp.Update, actor: PATIENT, payload: 0xdefn },
      { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0 },
      { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: 3, expiry: T + 7n },
      { op: TxOp.Claim, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 5n },
    ];
    for (const fields of steps) {
      const t = tx(state, fields);
      const w = await witness(circuit, asInput(txInput(state, t)), { check: false });
      state = state.clone();
      state.applyTx(t, T);
      expect(signal(w, 'main.rootOut')).toBe(state.root);
    }
  });

  it('padding: the all-zero slot leaves the root unchanged', async () => {
    const state = baseState();
    const pad: TxInput = {
      rootIn: state.root,
      timestamp: T,
      op: 0,
      actor: 0,
      target: 0,
      slot: 0,
      scope: 0,
      expiry: 0n,
      payload: 0n,
      head: 0n,
      sig: zeros(3),
      actorLeaf: zeros(5),
      actorPath: zeros(D),
      targetLeaf: zeros(5),
      targetPath: zeros(D),
      consentLeaf: zeros(3),
      consentPath: zeros(S),
    };
    const w = await witness(circuit, asInput(pad), { check: false });
    expect(signal(w, 'main.rootOut')).toBe(state.root);
    await refused({ ...pad, payload: 1n });
  });
});

describe('ProcessTx(4, 2): dishonest witnesses are refused', () => {
  const state = baseState();
  const access = (s: RollupState = state, actor = HOSPITAL, slot = 0): SignedTx => tx(s, { op: TxOp.Access, actor, target: PATIENT, slot, payload: 0xabcn });

  it('the honest access witness used below is accepted', async () => {
    await witness(circuit, asInput(txInput(state, access())), { check: false });
  });

  it('a wrong actor path sibling (any level) or actor leaf field', async () => {
    const good = txInput(state, access());
    for (let level = 0; level < D; level++) {
      const actorPath = [...good.actorPath];
      actorPath[level] = actorPath[level]! + 1n;
      await refused({ ...good, actorPath });
    }
    for (let field = 0; field < 5; field++) {
      const actorLeaf = [...good.actorLeaf];
      actorLeaf[field] = actorLeaf[field]! + 1n;
      await refused({ ...good, actorLeaf });
    }
    // The path of another account is not the actor's.
    await refused({ ...good, actorPath: state.accountPath(INSURER) });
  });

  it('an unregistered actor (its empty leaf is in the root), even with a valid signature', async () => {
    await refused(txInput(state, tx(state, { op: TxOp.Upload, actor: STRANGER, payload: 5n })));
  });

  it('a signature over the wrong nonce, or by another key', async () => {
    const wrongNonce = tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0xabcn }, 1n);
    await refused(txInput(state, wrongNonce));
    const good = txInput(state, access());
    const byLab = signTx(secrets.get(LAB)!, access().record, state.accountFields(HOSPITAL).nonce);
    await refused({ ...good, sig: [byLab.signature.r8x, byLab.signature.r8y, byLab.signature.s] });
  });

  it('a target leaf not in the root (grant, access)', async () => {
    const grant = txInput(state, tx(state, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 3, scope: 1, expiry: T + 5n }));
    await witness(circuit, asInput(grant), { check: false });
    const targetLeaf = [...grant.targetLeaf];
    targetLeaf[2] = targetLeaf[2]! + 1n; // nonce
    await refused({ ...grant, targetLeaf });
    const targetPath = [...grant.targetPath];
    targetPath[2] = targetPath[2]! + 1n;
    await refused({ ...grant, targetPath });
    // A registered-looking leaf for an unregistered target.
    const stranger = txInput(state, tx(state, { op: TxOp.Grant, actor: PATIENT, target: STRANGER, slot: 3, scope: 1, expiry: T + 5n }));
    await refused({ ...stranger, targetLeaf: grant.targetLeaf });
    // An honest empty leaf for it: in the root, but the target must be registered.
    await refused(stranger);
    // Access: the patient's leaf as it would be had the patient granted the insurer READ in slot 3,
    // with that forged consent tree's leaf and path. Accepted against the forged root, refused
    // against the real one: only the target's membership in rootIn stands in the way.
    const forged = state.clone();
    forged.applyTx(tx(forged, { op: TxOp.Grant, actor: PATIENT, target: INSURER, slot: 3, scope: Scope.Read, expiry: T + 50n }), T);
    const insurerAccess = tx(state, { op: TxOp.Access, actor: INSURER, target: PATIENT, slot: 3, payload: 1n });
    await witness(circuit, asInput(txInput(forged, insurerAccess)), { check: false });
    const real = txInput(state, insurerAccess);
    await refused(real); // honest: slot 3 is empty
    await refused({
      ...real,
      targetLeaf: accountRow(forged.accountFields(PATIENT)),
      consentLeaf: consentRow(forged.consent(PATIENT, 3)),
      consentPath: forged.consentPath(PATIENT, 3),
    });
  });

  it("a consent leaf not in the owner's consent tree", async () => {
    // The lab has no consent in slot 3 (empty); it shows one.
    const lab = txInput(state, access(state, LAB, 3));
    await refused(lab); // the honest (empty) slot: no READ
    await refused({ ...lab, consentLeaf: [BigInt(LAB), 1n, T + 100n] });
    // The hospital's real consent in slot 0, with the expiry pushed (it ended at T + 100).
    const late = txInput(state, access(), T + 200n);
    await refused(late);
    await refused({ ...late, consentLeaf: [BigInt(HOSPITAL), 1n, T + 300n] });
    // Slot 1 (the insurer's CLAIM) dressed as READ for the insurer.
    const insurer = txInput(state, access(state, INSURER, 1));
    await refused(insurer);
    await refused({ ...insurer, consentLeaf: [BigInt(INSURER), 3n, T + 100n] });
    // The right leaf at the wrong slot: slot 0's leaf and path presented for slot 3.
    const moved = txInput(state, access(state, HOSPITAL, 3));
    await refused({ ...moved, consentLeaf: consentRow(state.consent(PATIENT, 0)), consentPath: state.consentPath(PATIENT, 0) });
    // A consent the hospital really holds, but from the lab (in the lab's consent tree), presented
    // as the patient's.
    const selfTree = baseState();
    selfTree.applyTx(tx(selfTree, { op: TxOp.Grant, actor: LAB, target: HOSPITAL, slot: 3, scope: 1, expiry: T + 100n }), T);
    const viaOwn = txInput(selfTree, access(selfTree, HOSPITAL, 3));
    await refused({ ...viaOwn, consentLeaf: consentRow(selfTree.consent(LAB, 3)), consentPath: selfTree.consentPath(LAB, 3) });
  });

  it('a revoke of another grantee or of an empty slot, honest or with a forged consent leaf', async () => {
    const other = txInput(state, tx(state, { op: TxOp.Revoke, actor: PATIENT, target: INSURER, slot: 0 }));
    await refused(other);
    await refused({ ...other, consentLeaf: [BigInt(INSURER), 1n, T + 100n] });
    const empty = txInput(state, tx(state, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 3 }));
    await refused(empty);
    await refused({ ...empty, consentLeaf: [BigInt(HOSPITAL), 1n, T + 100n] });
  });

  it('an upload over an existing index shown as absent', async () => {
    const upload = txInput(state, tx(state, { op: TxOp.Upload, actor: PATIENT, payload: 5n }));
    await refused(upload);
    const actorLeaf = [...upload.actorLeaf];
    actorLeaf[3] = 0n;
    await refused({ ...upload, actorLeaf });
  });

  it('a payload other than the signed one', async () => {
    // (ProcessTx takes head and the decoded fields as separate inputs; Batch feeds both from the
    // same DecodeTx, which binds them.)
    const good = txInput(state, access());
    await refused({ ...good, payload: good.payload + 1n });
  });
});
