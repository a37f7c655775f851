import { poseidon3, poseidon5 } from 'poseidon-lite';
import { ForcedKind, TxOp, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { emptyTreeRoot } from '../../prover/emptyTree.js';
import { SparseMerkleTree, rootFromPath, zeroNodes } from '../../prover/merkleTree.js';
import { ZERO_SIGNATURE, publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import {
  ForcedOpError,
  RollupState,
  TxRejected,
  accountLeafHash,
  consentLeafHash,
  emptyConsentRoot,
  type ForcedOpErrorCode,
  type TxRejectCode,
} from '../../prover/state.js';

const D = 4;
const S = 2;
const T = 1_700_000_000n; // batch timestamp
const FUTURE = T + 86_400n;

const PATIENT = 1;
const HOSPITAL = 2;
const INSURER = 3;
const STRANGER = 9; // never registered

const secrets = new Map<number, Uint8Array>([
  [PATIENT, randomSecret()],
  [HOSPITAL, randomSecret()],
  [INSURER, randomSecret()],
  [STRANGER, randomSecret()],
]);

function registerOp(index: number): ForcedOp {
  const key = publicKeyOf(secrets.get(index)!);
  return { kind: ForcedKind.RegisterAccount, account: index, counterpart: 0, a: key.x, b: key.y };
}

function freshState(): RollupState {
  const state = new RollupState({ treeDepth: D, consentDepth: S });
  for (const i of [PATIENT, HOSPITAL, INSURER]) expect(state.applyForced(registerOp(i))).toBe('registered');
  return state;
}

function tx(state: RollupState, fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>, opts: { nonce?: bigint; signer?: number } = {}): SignedTx {
  const record: TxRecord = { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
  const nonce = opts.nonce ?? (state.isRegistered(fields.actor) ? state.accountFields(fields.actor).nonce : 0n);
  return signTx(secrets.get(opts.signer ?? fields.actor)!, record, nonce);
}

const upload = (actor: number, payload = 0xabcdefn): Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'> => ({ op: TxOp.Upload, actor, payload });
const grant = (slot: number, target: number, scope: number, expiry = FUTURE) => ({ op: TxOp.Grant, actor: PATIENT, target, slot, scope, expiry });

function expectRejected(state: RollupState, signed: SignedTx, code: TxRejectCode, timestamp = T): void {
  const root = state.root;
  const before = state.account(signed.record.actor);
  let caught: unknown;
  try {
    state.applyTx(signed, timestamp);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TxRejected);
  expect((caught as TxRejected).code).toBe(code);
  expect(state.root).toBe(root);
  expect(state.account(signed.record.actor)).toEqual(before);
}

function expectForcedError(fn: () => unknown, code: ForcedOpErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ForcedOpError);
  expect((caught as ForcedOpError).code).toBe(code);
}

/** The state root recomputed from scratch out of the accounts' fields. */
function recomputeRoot(state: RollupState): bigint {
  const tree = new SparseMerkleTree(D);
  for (let i = 0; i < 2 ** D; i++) {
    const account = state.account(i);
    if (!account) continue;
    const consents = new SparseMerkleTree(S);
    for (const [slot, c] of account.consents) consents.set(slot, poseidon3([c.grantee, c.scope, c.expiry]));
    expect(account.consentRoot).toBe(consents.root);
    tree.set(i, poseidon5([account.pubX, account.pubY, account.nonce, account.indexHash, consents.root]));
  }
  return tree.root;
}

describe('RollupState: leaves and forced operations', () => {
  it('starts at the genesis root zero[D]', () => {
    expect(new RollupState({ treeDepth: D, consentDepth: S }).root).toBe(emptyTreeRoot(D));
    expect(emptyConsentRoot(S)).toBe(zeroNodes(S)[S]);
  });

  it('hashes leaves per SPEC, empty leaves being 0', () => {
    expect(accountLeafHash({ pubX: 0n, pubY: 0n, nonce: 5n, indexHash: 1n, consentRoot: 2n })).toBe(0n);
    expect(accountLeafHash({ pubX: 1n, pubY: 2n, nonce: 3n, indexHash: 4n, consentRoot: 5n })).toBe(poseidon5([1n, 2n, 3n, 4n, 5n]));
    expect(consentLeafHash({ grantee: 7n, scope: 0n, expiry: 9n })).toBe(0n);
    expect(consentLeafHash({ grantee: 7n, scope: 1n, expiry: 9n })).toBe(poseidon3([7n, 1n, 9n]));
  });

  it('RegisterAccount sets Poseidon5(a, b, 0, 0, EMPTY_CONSENT_ROOT)', () => {
    const state = new RollupState({ treeDepth: D, consentDepth: S });
    const op = registerOp(PATIENT);
    expect(state.applyForced(op)).toBe('registered');
    const leaf = poseidon5([op.a, op.b, 0n, 0n, emptyConsentRoot(S)]);
    expect(state.accountLeaf(PATIENT)).toBe(leaf);
    expect(rootFromPath(leaf, PATIENT, state.accountPath(PATIENT))).toBe(state.root);
    expect(state.accountFields(PATIENT)).toEqual({ pubX: op.a, pubY: op.b, nonce: 0n, indexHash: 0n, consentRoot: emptyConsentRoot(S) });
    expect(state.accountFields(5)).toEqual({ pubX: 0n, pubY: 0n, nonce: 0n, indexHash: 0n, consentRoot: 0n });
  });

  it('RegisterAccount preconditions the Gateway guarantees throw ForcedOpError', () => {
    const state = freshState();
    const root = state.root;
    expectForcedError(() => state.applyForced(registerOp(PATIENT)), 'ACCOUNT_EXISTS');
    expectForcedError(() => state.applyForced({ ...registerOp(PATIENT), account: 0 }), 'ACCOUNT_OUT_OF_RANGE');
    expectForcedError(() => state.applyForced({ ...registerOp(PATIENT), account: 16 }), 'ACCOUNT_OUT_OF_RANGE');
    expectForcedError(() => state.applyForced({ ...registerOp(PATIENT), account: 5, a: 0n, b: 0n }), 'INVALID_KEY');
    expectForcedError(() => state.applyForced({ ...registerOp(PATIENT), kind: 0 as ForcedKind }), 'UNKNOWN_KIND');
    expect(state.root).toBe(root);
  });

  it('RevokeConsent clears scope bits, empties the slot when none are left, and is otherwise a no-op', () => {
    const state = freshState();
    state.applyTx(tx(state, grant(1, HOSPITAL, 3)), T);
    const revoke = (fields: Partial<ForcedOp>): ForcedOp => ({ kind: ForcedKind.RevokeConsent, account: PATIENT, counterpart: HOSPITAL, a: 1n, b: 1n, ...fields });

    // no-ops: the root does not move
    const root = state.root;
    for (const op of [
      revoke({ counterpart: INSURER }), // another grantee
      revoke({ b: 0n }), // empty slot
      revoke({ b: 4n }), // past the 2^S slots
      revoke({ b: 255n }),
      revoke({ account: STRANGER }), // unregistered patient
      revoke({ account: 0 }),
    ]) {
      expect(state.applyForced(op)).toBe('noop');
      expect(state.root).toBe(root);
    }

    expect(state.applyForced(revoke({ a: 1n }))).toBe('revoked');
    expect(state.consent(PATIENT, 1)).toEqual({ grantee: BigInt(HOSPITAL), scope: 2n, expiry: FUTURE });
    expect(state.applyForced(revoke({ a: 1n }))).toBe('noop'); // READ already gone
    expect(state.applyForced(revoke({ a: 0xffn }))).toBe('revoked');
    expect(state.consent(PATIENT, 1)).toEqual({ grantee: 0n, scope: 0n, expiry: 0n });
    expect(state.accountFields(PATIENT).consentRoot).toBe(emptyConsentRoot(S));
    expect(state.accountFields(PATIENT).nonce).toBe(1n); // forced ops do not count
    expect(state.root).toBe(recomputeRoot(state));
  });
});

describe('RollupState: L2 transactions', () => {
  it('upload then update set the index hash and bump the nonce', () => {
    const state = freshState();
    state.applyTx(tx(state, upload(PATIENT, 111n)), T);
    expect(state.accountFields(PATIENT)).toMatchObject({ nonce: 1n, indexHash: 111n });
    state.applyTx(tx(state, { op: TxOp.Update, actor: PATIENT, payload: 222n }), T);
    expect(state.accountFields(PATIENT)).toMatchObject({ nonce: 2n, indexHash: 222n });
    expect(state.root).toBe(recomputeRoot(state));
  });

  it('grant writes (grantee, scope, expiry) into the chosen slot; revoke empties it', () => {
    const state = freshState();
    state.applyTx(tx(state, grant(2, HOSPITAL, 1)), T);
    expect(state.consent(PATIENT, 2)).toEqual({ grantee: BigInt(HOSPITAL), scope: 1n, expiry: FUTURE });
    const consents = new SparseMerkleTree(S);
    consents.set(2, poseidon3([BigInt(HOSPITAL), 1n, FUTURE]));
    expect(state.accountFields(PATIENT).consentRoot).toBe(consents.root);
    expect(state.root).toBe(recomputeRoot(state));

    state.applyTx(tx(state, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 2 }), T);
    expect(state.consent(PATIENT, 2)).toEqual({ grantee: 0n, scope: 0n, expiry: 0n });
    expect(state.accountFields(PATIENT)).toMatchObject({ nonce: 2n, consentRoot: emptyConsentRoot(S) });
  });

  it('a grant overwrites whatever the slot held', () => {
    const state = freshState();
    state.applyTx(tx(state, grant(0, HOSPITAL, 1)), T);
    state.applyTx(tx(state, grant(0, INSURER, 2)), T);
    expect(state.consent(PATIENT, 0)).toEqual({ grantee: BigInt(INSURER), scope: 2n, expiry: FUTURE });
  });

  it('access and claim need a live consent with the right scope and only bump the nonce', () => {
    const state = freshState();
    state.applyTx(tx(state, grant(0, HOSPITAL, 1, T + 10n)), T);
    state.applyTx(tx(state, grant(1, INSURER, 3)), T);
    const patientBefore = state.accountFields(PATIENT);
    // expiry == timestamp is still live
    state.applyTx(tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0x1234n }), T + 10n);
    state.applyTx(tx(state, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 1, payload: (1n << 248n) - 1n }), T);
    state.applyTx(tx(state, { op: TxOp.Access, actor: INSURER, target: PATIENT, slot: 1 }), T);
    expect(state.accountFields(PATIENT)).toEqual(patientBefore);
    expect(state.accountFields(HOSPITAL).nonce).toBe(1n);
    expect(state.accountFields(INSURER).nonce).toBe(2n);
    expect(state.root).toBe(recomputeRoot(state));
  });

  describe('rejections (the state is left unchanged)', () => {
    let state: RollupState;
    beforeEach(() => {
      state = freshState();
    });

    it('BAD_SIGNATURE', () => {
      expectRejected(state, tx(state, upload(PATIENT), { signer: HOSPITAL }), 'BAD_SIGNATURE');
      const good = tx(state, upload(PATIENT));
      expectRejected(state, { ...good, record: { ...good.record, payload: 1n } }, 'BAD_SIGNATURE');
    });

    it('BAD_NONCE', () => {
      expectRejected(state, tx(state, upload(PATIENT), { nonce: 1n }), 'BAD_NONCE');
      state.applyTx(tx(state, upload(PATIENT)), T);
      expectRejected(state, tx(state, { op: TxOp.Update, actor: PATIENT, payload: 5n }, { nonce: 0n }), 'BAD_NONCE'); // replay nonce
    });

    it('UNKNOWN_ACTOR', () => {
      expectRejected(state, tx(state, upload(STRANGER)), 'UNKNOWN_ACTOR');
      expectRejected(state, tx(state, { op: TxOp.Access, actor: 0, target: PATIENT }, { signer: STRANGER }), 'UNKNOWN_ACTOR');
      expectRejected(state, tx(state, { op: TxOp.Access, actor: 2 ** 32 - 1, target: PATIENT }, { signer: STRANGER }), 'UNKNOWN_ACTOR');
    });

    it('UNKNOWN_TARGET', () => {
      expectRejected(state, tx(state, grant(0, STRANGER, 1)), 'UNKNOWN_TARGET');
      expectRejected(state, tx(state, grant(0, 1000, 1)), 'UNKNOWN_TARGET');
      expectRejected(state, tx(state, { op: TxOp.Access, actor: HOSPITAL, target: STRANGER }), 'UNKNOWN_TARGET');
      expectRejected(state, tx(state, { op: TxOp.Claim, actor: INSURER, target: 0 }), 'UNKNOWN_TARGET');
    });

    it('NOT_OWNER', () => {
      expectRejected(state, tx(state, { ...upload(HOSPITAL), target: PATIENT }), 'NOT_OWNER');
      expectRejected(state, tx(state, { op: TxOp.Update, actor: HOSPITAL, target: PATIENT, payload: 1n }), 'NOT_OWNER');
    });

    it('NO_CONSENT', () => {
      expectRejected(state, tx(state, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0 }), 'NO_CONSENT');
      expectRejected(state, tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 }), 'NO_CONSENT');
      state.applyTx(tx(state, grant(0, HOSPITAL, 3)), T);
      expectRejected(state, tx(state, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 0 }), 'NO_CONSENT'); // slot is the hospital's
      expectRejected(state, tx(state, { op: TxOp.Revoke, actor: PATIENT, target: INSURER, slot: 0 }), 'NO_CONSENT');
      expectRejected(state, tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 1 }), 'NO_CONSENT');
    });

    it('CONSENT_EXPIRED', () => {
      state.applyTx(tx(state, grant(0, HOSPITAL, 1, T + 10n)), T);
      expectRejected(state, tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 }), 'CONSENT_EXPIRED', T + 11n);
    });

    it('WRONG_SCOPE', () => {
      state.applyTx(tx(state, grant(0, INSURER, 1)), T);
      state.applyTx(tx(state, grant(1, HOSPITAL, 2)), T);
      expectRejected(state, tx(state, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 0 }), 'WRONG_SCOPE');
      expectRejected(state, tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 1 }), 'WRONG_SCOPE');
    });

    it('ALREADY_UPLOADED and NOTHING_TO_UPDATE', () => {
      expectRejected(state, tx(state, { op: TxOp.Update, actor: PATIENT, payload: 1n }), 'NOTHING_TO_UPDATE');
      state.applyTx(tx(state, upload(PATIENT)), T);
      expectRejected(state, tx(state, upload(PATIENT, 99n)), 'ALREADY_UPLOADED');
    });

    it('SELF_GRANT', () => {
      expectRejected(state, tx(state, grant(0, PATIENT, 1)), 'SELF_GRANT');
    });

    it('BAD_FIELD: unused fields, payload range, scope bits, slot range, grant expiry', () => {
      const cases: (Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>)[] = [
        { ...upload(PATIENT), slot: 1 },
        { ...upload(PATIENT), scope: 1 },
        { ...upload(PATIENT), expiry: 1n },
        upload(PATIENT, 0n), // index hash 0
        { ...upload(PATIENT), payload: 1n << 248n },
        { op: TxOp.Update, actor: PATIENT, payload: 1n, expiry: 5n },
        { ...grant(0, HOSPITAL, 0) }, // empty scope
        { ...grant(0, HOSPITAL, 4) }, // unknown bit
        { ...grant(0, HOSPITAL, 5) }, // READ plus an unknown bit
        { ...grant(4, HOSPITAL, 1) }, // slot past 2^S
        { ...grant(0, HOSPITAL, 1, T) }, // expiry must be after the batch time
        { ...grant(0, HOSPITAL, 1, T - 1n) },
        { ...grant(0, HOSPITAL, 1, 1n << 40n) }, // not a uint40
        { ...grant(0, HOSPITAL, 1), payload: 1n },
        { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0, scope: 1 },
        { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0, payload: 3n },
        { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 7 },
        { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, scope: 1 },
        { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 0, expiry: FUTURE },
        { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 4 },
      ];
      for (const fields of cases) {
        let signed: SignedTx;
        try {
          signed = tx(state, fields);
        } catch {
          // out of the record's ranges: cannot even be encoded and signed; the check comes first
          signed = { record: { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields }, nonce: 0n, signature: ZERO_SIGNATURE };
        }
        expectRejected(state, signed, 'BAD_FIELD');
      }
      // op 0 (padding) and unknown ops are not transactions
      const padding: SignedTx = { record: { op: TxOp.Padding, actor: PATIENT, target: 0, slot: 0, scope: 0, expiry: 0n, payload: 0n }, nonce: 0n, signature: ZERO_SIGNATURE };
      expectRejected(state, padding, 'BAD_FIELD');
      expectRejected(state, { ...padding, record: { ...padding.record, op: 7 as TxOp } }, 'BAD_FIELD');
    });
  });
});

describe('RollupState: checkTx', () => {
  it('validates without applying, and applyTx re-validates unless the state and the call are unchanged', () => {
    const state = freshState();
    const first = tx(state, upload(PATIENT));
    const root = state.root;
    state.checkTx(first, T);
    expect(state.root).toBe(root);
    state.applyTx(first, T);

    const stale = tx(state, { op: TxOp.Update, actor: PATIENT, payload: 2n });
    state.checkTx(stale, T);
    state.applyTx(tx(state, { op: TxOp.Update, actor: PATIENT, payload: 3n }), T); // takes nonce 1 first
    expectRejected(state, stale, 'BAD_NONCE');

    state.applyTx(tx(state, grant(0, HOSPITAL, 1, T + 10n)), T);
    const access = tx(state, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0 });
    state.checkTx(access, T);
    expectRejected(state, access, 'CONSENT_EXPIRED', T + 11n); // checked at another batch time
    expect(() => state.checkTx(access, T + 11n)).toThrow(TxRejected);
  });
});

describe('RollupState: clone', () => {
  it('copies are independent in both directions', () => {
    const state = freshState();
    state.applyTx(tx(state, grant(0, HOSPITAL, 1)), T);
    const rootBefore = state.root;
    const copy = state.clone();
    expect(copy.root).toBe(rootBefore);

    copy.applyTx(tx(copy, upload(PATIENT)), T);
    copy.applyTx(tx(copy, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 0 }), T);
    expect(state.root).toBe(rootBefore);
    expect(state.accountFields(PATIENT)).toMatchObject({ nonce: 1n, indexHash: 0n });
    expect(state.consent(PATIENT, 0).grantee).toBe(BigInt(HOSPITAL));

    state.applyTx(tx(state, grant(3, INSURER, 2)), T);
    expect(copy.consent(PATIENT, 3).scope).toBe(0n);
    expect(copy.accountFields(PATIENT).nonce).toBe(3n);
    expect(state.root).toBe(recomputeRoot(state));
    expect(copy.root).toBe(recomputeRoot(copy));

    const third = copy.clone();
    copy.applyForced(registerOp(STRANGER));
    expect(third.isRegistered(STRANGER)).toBe(false);
    expect(state.isRegistered(STRANGER)).toBe(false);
  });
});

describe('RollupState: verifiedKey', () => {
  const keyOf = (index: number) => publicKeyOf(secrets.get(index)!);

  it('skips the signature check when the caller verified against the registered key', () => {
    const state = freshState();
    const signed = tx(state, upload(PATIENT));
    // A signature that does not verify: accepted only because the caller vouches for it.
    const unsigned: SignedTx = { ...signed, signature: ZERO_SIGNATURE };
    expectRejected(state, unsigned, 'BAD_SIGNATURE');
    state.checkTx(unsigned, T, { verifiedKey: keyOf(PATIENT) });
    const copy = state.clone();
    state.applyTx(unsigned, T, { verifiedKey: { ...keyOf(PATIENT) } }); // equal by value, not identity
    expect(state.accountFields(PATIENT)).toMatchObject({ nonce: 1n, indexHash: 0xabcdefn });
    copy.applyTx(signed, T);
    expect(state.root).toBe(copy.root);

    // Only the signature check is skipped: the nonce and the op's own checks still apply.
    const replay = tx(state, upload(PATIENT, 5n), { nonce: 0n });
    expect(() => state.checkTx(replay, T, { verifiedKey: keyOf(PATIENT) })).toThrow(expect.objectContaining({ code: 'BAD_NONCE' }));
    const again = { ...tx(state, upload(PATIENT, 5n)), signature: ZERO_SIGNATURE };
    expect(() => state.applyTx(again, T, { verifiedKey: keyOf(PATIENT) })).toThrow(expect.objectContaining({ code: 'ALREADY_UPLOADED' }));
  });

  it('verifies the signature as usual when the given key is not the registered one', () => {
    const state = freshState();
    // Signed by HOSPITAL's secret for PATIENT, and "verified" against HOSPITAL's key: not PATIENT's.
    const forged = tx(state, upload(PATIENT), { signer: HOSPITAL });
    for (const verifiedKey of [keyOf(HOSPITAL), { x: keyOf(PATIENT).x, y: keyOf(HOSPITAL).y }, { x: keyOf(HOSPITAL).x, y: keyOf(PATIENT).y }]) {
      expect(() => state.checkTx(forged, T, { verifiedKey })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
      const root = state.root;
      expect(() => state.applyTx(forged, T, { verifiedKey })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
      expect(state.root).toBe(root);
    }
    // A valid signature still passes with a wrong verifiedKey: the key is ignored, not held against it.
    state.applyTx(tx(state, upload(PATIENT)), T, { verifiedKey: keyOf(INSURER) });
    expect(state.accountFields(PATIENT).nonce).toBe(1n);
  });
});
