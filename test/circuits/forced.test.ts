/**
 * circuits/src/forced.circom: ProcessForced(D = 4, S = 2), one forced-operation slot, against the
 * prover's RollupState: rootOut is the state root after RegisterAccount / RevokeConsent (including
 * every no-op case of a revocation), and a dishonest witness is refused, in particular one that
 * turns a real revocation into a no-op by showing another consent leaf. Inputs are built from the
 * state as prover/witness.ts does.
 */
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { ForcedKind, Scope, TxOp, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { publicKeyOf, randomSecret, signTx } from '../../prover/signing.js';
import { RollupState, type AccountFields, type ConsentFields, type ForcedOutcome } from '../../prover/state.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness, type CircuitInput } from '../helpers/circuit.js';

const D = 4;
const S = 2;
const T = 1_700_000_000n;
const PATIENT = 1;
const HOSPITAL = 2;
const INSURER = 3;
const LAB = 4;
/** Not registered in baseState(). */
const NEWCOMER = 5;
const STRANGER = 9;
const secrets = new Map([PATIENT, HOSPITAL, INSURER, LAB, NEWCOMER].map((i) => [i, randomSecret()]));

let circuit: CompiledCircuit;

beforeAll(async () => {
  circuit = await compileCircuit({
    source: 'circuits/src/forced.circom',
    name: 'test_process_forced4_2',
    main: `component main = ProcessForced(${D}, ${S});`,
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

function revoke(account: number, counterpart: number, a: bigint, b: bigint): ForcedOp {
  return { kind: ForcedKind.RevokeConsent, account, counterpart, a, b };
}

/** Patient, hospital, insurer and lab registered; the patient's consents: slot 0 READ for the
 * hospital, slot 1 CLAIM for the insurer (expired at T - 5), slot 2 READ | CLAIM for the lab. */
function baseState(): RollupState {
  const state = new RollupState({ treeDepth: D, consentDepth: S });
  for (const i of [PATIENT, HOSPITAL, INSURER, LAB]) state.applyForced(register(i));
  const grants: Array<Pick<TxRecord, 'target' | 'slot' | 'scope' | 'expiry'>> = [
    { target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: T + 100n },
    { target: INSURER, slot: 1, scope: Scope.Claim, expiry: T - 5n },
    { target: LAB, slot: 2, scope: Scope.Read | Scope.Claim, expiry: T + 100n },
  ];
  for (const g of grants) {
    const record: TxRecord = { op: TxOp.Grant, actor: PATIENT, payload: 0n, ...g };
    state.applyTx(signTx(secrets.get(PATIENT)!, record, state.accountFields(PATIENT).nonce), T - 10n);
  }
  return state;
}

const accountRow = (a: AccountFields): bigint[] => [a.pubX, a.pubY, a.nonce, a.indexHash, a.consentRoot];
const consentRow = (c: ConsentFields): bigint[] => [c.grantee, c.scope, c.expiry];
const zeros = (n: number): bigint[] => new Array<bigint>(n).fill(0n);

interface ForcedInput {
  rootIn: bigint;
  emptyConsentRoot: bigint;
  kind: number;
  account: number;
  counterpart: number;
  a: bigint;
  b: bigint;
  leaf: bigint[];
  path: bigint[];
  consentLeaf: bigint[];
  consentPath: bigint[];
}

/** The ProcessForced input of `op` on `state`, as prover/witness.ts builds it. */
function forcedInput(state: RollupState, op: ForcedOp): ForcedInput {
  const inTree = op.account >= 0 && op.account < state.capacity;
  const revokesExisting = op.kind === ForcedKind.RevokeConsent && inTree && state.isRegistered(op.account) && op.b >= 0n && op.b < BigInt(state.consentSlots);
  return {
    rootIn: state.root,
    emptyConsentRoot: state.emptyConsentRoot,
    ...op,
    leaf: inTree ? accountRow(state.accountFields(op.account)) : zeros(5),
    path: inTree ? state.accountPath(op.account) : zeros(D),
    consentLeaf: revokesExisting ? consentRow(state.consent(op.account, Number(op.b))) : zeros(3),
    consentPath: revokesExisting ? state.consentPath(op.account, Number(op.b)) : zeros(S),
  };
}

const asInput = (i: ForcedInput): CircuitInput => ({ ...i }) as unknown as CircuitInput;

/** Applies `op` to a copy of the state, checks the prover's outcome, and that rootOut is its root. */
async function expectRootAfter(state: RollupState, op: ForcedOp, outcome: ForcedOutcome, check = false): Promise<RollupState> {
  const after = state.clone();
  expect(after.applyForced(op)).toBe(outcome);
  const w = await witness(circuit, asInput(forcedInput(state, op)), { check });
  const rootOut = signal(w, 'main.rootOut');
  expect(rootOut).toBe(after.root);
  if (outcome === 'noop') expect(rootOut).toBe(state.root);
  else expect(rootOut).not.toBe(state.root);
  return after;
}

async function refused(input: ForcedInput): Promise<void> {
  await expectWitnessFailure(circuit, asInput(input));
}

describe('ProcessForced(4, 2): rootOut is the prover state root after the operation', () => {
  it('RegisterAccount on a fresh index (R1CS-checked), in an empty and in a populated tree', async () => {
    const empty = new RollupState({ treeDepth: D, consentDepth: S });
    const one = await expectRootAfter(empty, register(PATIENT), 'registered', true);
    await expectRootAfter(one, register(HOSPITAL), 'registered');
    await expectRootAfter(baseState(), register(NEWCOMER), 'registered');
    await expectRootAfter(baseState(), { ...register(NEWCOMER), account: 15 }, 'registered');
  });

  it('RegisterAccount: the unused fields of the empty leaf do not matter (its value is 0 all the same)', async () => {
    const state = baseState();
    const op = register(NEWCOMER);
    const after = state.clone();
    after.applyForced(op);
    const w = await witness(circuit, asInput({ ...forcedInput(state, op), leaf: [0n, 0n, 5n, 7n, 9n] }), { check: false });
    expect(signal(w, 'main.rootOut')).toBe(after.root);
  });

  it('RevokeConsent matching the grantee: clears the slot', async () => {
    const state = baseState();
    const after = await expectRootAfter(state, revoke(PATIENT, HOSPITAL, 1n, 0n), 'revoked');
    expect(after.consent(PATIENT, 0).scope).toBe(0n);
    await expectRootAfter(state, revoke(PATIENT, HOSPITAL, 255n, 0n), 'revoked');
    await expectRootAfter(state, revoke(PATIENT, LAB, 3n, 2n), 'revoked');
    await expectRootAfter(state, revoke(PATIENT, LAB, 0xffn, 2n), 'revoked');
    // An expired consent is revoked all the same (the SPEC puts no condition on expiry).
    await expectRootAfter(state, revoke(PATIENT, INSURER, 2n, 1n), 'revoked');
  });

  it('RevokeConsent clearing one of two scope bits keeps the other', async () => {
    const state = baseState();
    const readLeft = await expectRootAfter(state, revoke(PATIENT, LAB, BigInt(Scope.Claim), 2n), 'revoked');
    expect(readLeft.consent(PATIENT, 2)).toEqual({ grantee: BigInt(LAB), scope: 1n, expiry: T + 100n });
    const claimLeft = await expectRootAfter(state, revoke(PATIENT, LAB, BigInt(Scope.Read) | 0xf0n, 2n), 'revoked');
    expect(claimLeft.consent(PATIENT, 2).scope).toBe(2n);
    // Then the other bit, from the state the first revocation produced.
    await expectRootAfter(readLeft, revoke(PATIENT, LAB, 1n, 2n), 'revoked');
  });

  it('RevokeConsent no-ops: another grantee, an empty slot, an unregistered account, bits not held', async () => {
    const state = baseState();
    await expectRootAfter(state, revoke(PATIENT, INSURER, 3n, 0n), 'noop'); // slot 0 is the hospital's
    await expectRootAfter(state, revoke(PATIENT, 0, 3n, 0n), 'noop');
    await expectRootAfter(state, revoke(PATIENT, HOSPITAL, 3n, 3n), 'noop'); // slot 3 is empty
    await expectRootAfter(state, revoke(STRANGER, HOSPITAL, 3n, 0n), 'noop'); // not registered
    await expectRootAfter(state, revoke(NEWCOMER, PATIENT, 1n, 2n), 'noop');
    await expectRootAfter(state, revoke(PATIENT, HOSPITAL, BigInt(Scope.Claim), 0n), 'noop'); // READ only held
    await expectRootAfter(state, revoke(PATIENT, HOSPITAL, 4n, 0n), 'noop'); // no scope bit
    await expectRootAfter(state, revoke(HOSPITAL, PATIENT, 3n, 0n), 'noop'); // registered, no consents at all
  });

  it('padding: the all-zero slot leaves the root unchanged', async () => {
    const state = baseState();
    const pad = { ...forcedInput(state, { kind: ForcedKind.Padding, account: 0, counterpart: 0, a: 0n, b: 0n }), path: zeros(D) };
    const w = await witness(circuit, asInput(pad), { check: false });
    expect(signal(w, 'main.rootOut')).toBe(state.root);
  });
});

describe('ProcessForced(4, 2): dishonest witnesses are refused', () => {
  const state = baseState();

  it('a wrong path sibling (register and revoke), or the path of another index', async () => {
    for (const op of [register(NEWCOMER), revoke(PATIENT, HOSPITAL, 1n, 0n), revoke(PATIENT, INSURER, 1n, 0n)]) {
      const good = forcedInput(state, op);
      await witness(circuit, asInput(good), { check: false });
      for (let level = 0; level < D; level++) {
        const path = [...good.path];
        path[level] = path[level]! + 1n;
        await refused({ ...good, path });
      }
      await refused({ ...good, path: state.accountPath(LAB) });
    }
  });

  it('RegisterAccount on an occupied index, with its real leaf or shown as empty', async () => {
    const op = { ...register(NEWCOMER), account: HOSPITAL };
    const honest = forcedInput(state, op);
    await refused(honest);
    await refused({ ...honest, leaf: zeros(5) });
  });

  it('a consent leaf not in the account consent tree', async () => {
    // A revocation of the insurer in slot 0 (the hospital's): the prover shows slot 0 as the insurer's.
    const good = forcedInput(state, revoke(PATIENT, INSURER, 1n, 0n));
    await refused({ ...good, consentLeaf: [BigInt(INSURER), 1n, T + 100n] });
    // The consent of slot 2 (the lab's) with its own path, presented as slot 0.
    await refused({ ...good, consentLeaf: consentRow(state.consent(PATIENT, 2)), consentPath: state.consentPath(PATIENT, 2) });
    // Wrong consent path sibling.
    const consentPath = [...good.consentPath];
    consentPath[1] = consentPath[1]! + 1n;
    await refused({ ...good, consentPath });
  });

  it('a dishonest "no-op" revoke: a real revocation shown with another consent leaf than the real one', async () => {
    const good = forcedInput(state, revoke(PATIENT, HOSPITAL, 1n, 0n));
    // Honest: it revokes (see above). Each of these would make it a no-op if accepted.
    await refused({ ...good, consentLeaf: zeros(3) }); // slot shown empty
    await refused({ ...good, consentLeaf: [BigInt(HOSPITAL), 0n, T + 100n] }); // scope 0 (empty) with the grantee
    await refused({ ...good, consentLeaf: [BigInt(LAB), 1n, T + 100n] }); // another grantee
    await refused({ ...good, consentLeaf: [BigInt(HOSPITAL), 2n, T + 100n] }); // a scope without the bit cleared
    // The empty slot 3 with its real (empty) leaf and path, presented for slot 0.
    await refused({ ...good, consentLeaf: zeros(3), consentPath: state.consentPath(PATIENT, 3) });
    // The account shown as unregistered (a revocation of an unregistered account is a no-op).
    await refused({ ...good, leaf: zeros(5) });
    await refused({ ...good, leaf: zeros(5), consentLeaf: zeros(3), consentPath: zeros(S) });
    // The partial revocation of the lab (3 -> 2) shown as the lab holding CLAIM only already.
    const partial = forcedInput(state, revoke(PATIENT, LAB, 1n, 2n));
    await refused({ ...partial, consentLeaf: [BigInt(LAB), 2n, T + 100n] });
  });

  it('a padding slot with any non-zero field, and an unknown kind', async () => {
    const pad = { ...forcedInput(state, { kind: ForcedKind.Padding, account: 0, counterpart: 0, a: 0n, b: 0n }), path: zeros(D) };
    await refused({ ...pad, account: 1 });
    await refused({ ...pad, counterpart: 1 });
    await refused({ ...pad, a: 1n });
    await refused({ ...pad, b: 1n });
    for (const kind of [3, 255]) await refused({ ...forcedInput(state, revoke(PATIENT, HOSPITAL, 1n, 0n)), kind });
  });
});
