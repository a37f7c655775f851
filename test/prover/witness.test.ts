import { poseidon3, poseidon5 } from 'poseidon-lite';
import { ForcedKind, TxOp, batchCommitment, batchDataLength, decodeBatchData, publicInput, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { rootFromPath } from '../../prover/merkleTree.js';
import { publicKeyOf, randomSecret, signTx, verifyMessage, txMessage, type SignedTx } from '../../prover/signing.js';
import { RollupState, TxRejected, accountLeafHash, consentLeafHash, emptyConsentRoot, type AccountFields, type ConsentFields } from '../../prover/state.js';
import { WitnessError, buildBatchWitness, type BatchParams, type BatchWitness, type CircuitInput } from '../../prover/witness.js';

const params: BatchParams = { maxTxs: 2, maxForcedOps: 1, treeDepth: 4, consentDepth: 2 };
const S = params.consentDepth;
const T = 1_700_000_000n;
const FUTURE = T + 3600n;
const PATIENT = 1;
const HOSPITAL = 2;
const INSURER = 3;
const secrets = new Map([PATIENT, HOSPITAL, INSURER].map((i) => [i, randomSecret()]));

function register(index: number): ForcedOp {
  const key = publicKeyOf(secrets.get(index)!);
  return { kind: ForcedKind.RegisterAccount, account: index, counterpart: 0, a: key.x, b: key.y };
}

function sign(state: RollupState, fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>, nonceOffset = 0n): SignedTx {
  const record: TxRecord = { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
  return signTx(secrets.get(fields.actor)!, record, state.accountFields(fields.actor).nonce + nonceOffset);
}

/** The SPEC's signal table: name -> shape. */
function shapesFor({ maxTxs: K, maxForcedOps: F, treeDepth: D, consentDepth: S }: BatchParams): Record<keyof CircuitInput, number[]> {
  return {
    inputHash: [],
    oldRoot: [],
    newRoot: [],
    data: [48 + 73 * F + 47 * K],
    fLeaf: [F, 5],
    fPath: [F, D],
    fConsentLeaf: [F, 3],
    fConsentPath: [F, S],
    txSig: [K, 3],
    actorLeaf: [K, 5],
    actorPath: [K, D],
    targetLeaf: [K, 5],
    targetPath: [K, D],
    consentLeaf: [K, 3],
    consentPath: [K, S],
  };
}

function shapeOf(v: unknown): number[] {
  if (!Array.isArray(v)) return [];
  return [v.length, ...(v.length > 0 ? shapeOf(v[0]) : [])];
}

function expectShapes(input: CircuitInput, p: BatchParams): void {
  const SHAPES = shapesFor(p);
  expect(Object.keys(input).sort()).toEqual(Object.keys(SHAPES).sort());
  for (const [name, shape] of Object.entries(SHAPES)) {
    const value = input[name as keyof CircuitInput];
    expect([name, shapeOf(value)]).toEqual([name, shape]);
    const flat = [value].flat(2);
    for (const s of flat) expect(typeof s === 'string' && /^(0|[1-9][0-9]*)$/.test(s)).toBe(true);
  }
  // rows of a 2-D signal all have the same length
  for (const [name, shape] of Object.entries(SHAPES)) {
    if (shape.length === 2) for (const row of input[name as keyof CircuitInput] as string[][]) expect([name, row.length]).toEqual([name, shape[1]]);
  }
}

const big = (row: string[]) => row.map(BigInt);
const accountOf = (row: string[]): AccountFields => {
  const [pubX, pubY, nonce, indexHash, consentRoot] = big(row) as [bigint, bigint, bigint, bigint, bigint];
  return { pubX, pubY, nonce, indexHash, consentRoot };
};
const consentOf = (row: string[]): ConsentFields => {
  const [grantee, scope, expiry] = big(row) as [bigint, bigint, bigint];
  return { grantee, scope, expiry };
};
const isZeroRow = (row: string[]) => row.every((v) => v === '0');

/**
 * What the circuit does, from the witness and the batch data alone: checks every leaf against the
 * current root through its path, derives the new leaf and the new root from the same path, and
 * returns the roots after each operation.
 */
function replay(w: BatchWitness, p: BatchParams = params): bigint[] {
  const S = p.consentDepth;
  const { input } = w;
  const data = Uint8Array.from(input.data.map(Number));
  const { header, forced, txs } = decodeBatchData(data, p);
  let root = BigInt(input.oldRoot);
  const roots = [root];
  const E = emptyConsentRoot(S);

  forced.forEach((op, i) => {
    const leaf = accountOf(input.fLeaf[i]!);
    const path = big(input.fPath[i]!);
    expect(rootFromPath(accountLeafHash(leaf), op.account, path)).toBe(root);
    let next = leaf;
    if (op.kind === ForcedKind.RegisterAccount) {
      expect(accountLeafHash(leaf)).toBe(0n);
      next = { pubX: op.a, pubY: op.b, nonce: 0n, indexHash: 0n, consentRoot: E };
    } else if (accountLeafHash(leaf) !== 0n && op.b < BigInt(2 ** S)) {
      const c = consentOf(input.fConsentLeaf[i]!);
      const cPath = big(input.fConsentPath[i]!);
      expect(rootFromPath(consentLeafHash(c), Number(op.b), cPath)).toBe(leaf.consentRoot);
      if (c.scope !== 0n && c.grantee === BigInt(op.counterpart)) {
        const scope = c.scope & ~op.a;
        next = { ...leaf, consentRoot: rootFromPath(consentLeafHash({ ...c, scope }), Number(op.b), cPath) };
      }
    } else {
      expect(isZeroRow(input.fConsentLeaf[i]!) && isZeroRow(input.fConsentPath[i]!)).toBe(true);
    }
    root = rootFromPath(accountLeafHash(next), op.account, path);
    roots.push(root);
  });

  txs.forEach((tx, j) => {
    const actor = accountOf(input.actorLeaf[j]!);
    const actorPath = big(input.actorPath[j]!);
    expect(rootFromPath(accountLeafHash(actor), tx.actor, actorPath)).toBe(root);
    const [r8x, r8y, s] = big(input.txSig[j]!) as [bigint, bigint, bigint];
    expect(verifyMessage({ x: actor.pubX, y: actor.pubY }, txMessage(tx, actor.nonce), { r8x, r8y, s })).toBe(true);

    const usesTarget = tx.op === TxOp.Grant || tx.op === TxOp.Access || tx.op === TxOp.Claim;
    const target = accountOf(input.targetLeaf[j]!);
    if (usesTarget) {
      expect(rootFromPath(accountLeafHash(target), tx.target, big(input.targetPath[j]!))).toBe(root);
    } else {
      expect(isZeroRow(input.targetLeaf[j]!) && isZeroRow(input.targetPath[j]!)).toBe(true);
    }
    const c = consentOf(input.consentLeaf[j]!);
    const cPath = big(input.consentPath[j]!);
    let next: AccountFields = { ...actor, nonce: actor.nonce + 1n };
    switch (tx.op) {
      case TxOp.Upload:
      case TxOp.Update:
        expect(isZeroRow(input.consentLeaf[j]!) && isZeroRow(input.consentPath[j]!)).toBe(true);
        expect(tx.op === TxOp.Upload ? actor.indexHash === 0n : actor.indexHash !== 0n).toBe(true);
        next = { ...next, indexHash: tx.payload };
        break;
      case TxOp.Grant:
      case TxOp.Revoke: {
        expect(rootFromPath(consentLeafHash(c), tx.slot, cPath)).toBe(actor.consentRoot);
        const newLeaf = tx.op === TxOp.Grant ? poseidon3([BigInt(tx.target), BigInt(tx.scope), tx.expiry]) : 0n;
        if (tx.op === TxOp.Revoke) expect(c.grantee).toBe(BigInt(tx.target));
        next = { ...next, consentRoot: rootFromPath(newLeaf, tx.slot, cPath) };
        break;
      }
      default: {
        expect(rootFromPath(consentLeafHash(c), tx.slot, cPath)).toBe(target.consentRoot);
        expect(c.grantee).toBe(BigInt(tx.actor));
        expect(c.scope & BigInt(tx.op === TxOp.Access ? 1 : 2)).not.toBe(0n);
        expect(c.expiry >= header.timestamp).toBe(true);
      }
    }
    root = rootFromPath(poseidon5([next.pubX, next.pubY, next.nonce, next.indexHash, next.consentRoot]), tx.actor, actorPath);
    roots.push(root);
  });
  return roots;
}

function checkWitness(before: RollupState, w: BatchWitness, forcedCount: number, txCount: number, p: BatchParams = params): void {
  const { maxTxs: K, maxForcedOps: F } = p;
  expectShapes(w.input, p);
  expect(w.data).toHaveLength(batchDataLength(p));
  expect(w.oldRoot).toBe(before.root);
  expect(w.newRoot).toBe(w.state.root);
  expect(w.commitment).toBe(batchCommitment(w.data));
  expect(w.publicInput).toBe(publicInput(w.oldRoot, w.newRoot, w.commitment));
  expect(w.input.inputHash).toBe(w.publicInput.toString());
  expect(w.input.oldRoot).toBe(w.oldRoot.toString());
  expect(w.input.newRoot).toBe(w.newRoot.toString());
  expect(w.input.data).toEqual(Array.from(w.data, String));
  expect(w.roots).toHaveLength(forcedCount + txCount + 1);
  expect(w.roots[0]).toBe(w.oldRoot);
  expect(w.roots.at(-1)).toBe(w.newRoot);
  expect(replay(w, p)).toEqual(w.roots);
  // padding slots: all-zero witnesses
  for (let i = forcedCount; i < F; i++) {
    for (const name of ['fLeaf', 'fPath', 'fConsentLeaf', 'fConsentPath'] as const) expect(isZeroRow(w.input[name][i]!)).toBe(true);
  }
  for (let j = txCount; j < K; j++) {
    for (const name of ['txSig', 'actorLeaf', 'actorPath', 'targetLeaf', 'targetPath', 'consentLeaf', 'consentPath'] as const) {
      expect(isZeroRow(w.input[name][j]!)).toBe(true);
    }
  }
}

describe('buildBatchWitness (K=2, F=1, D=4, S=2)', () => {
  let genesis: RollupState;
  beforeAll(() => {
    genesis = new RollupState(params);
  });

  it('chains batches whose witnesses replay to the same roots', () => {
    // batch 1: one registration, no transactions
    const w1 = buildBatchWitness(genesis, { forced: [register(PATIENT)], txs: [], timestamp: T }, params);
    checkWitness(genesis, w1, 1, 0);
    expect(genesis.isRegistered(PATIENT)).toBe(false); // the state passed in is untouched

    // batch 2: registration, then upload and grant
    let s = w1.state;
    const b2 = { forced: [register(HOSPITAL)], txs: [sign(s, { op: TxOp.Upload, actor: PATIENT, payload: 0xfeedn }), sign(s, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 1, scope: 3, expiry: FUTURE }, 1n)], timestamp: T };
    const w2 = buildBatchWitness(s, b2, params);
    checkWitness(s, w2, 1, 2);
    expect(w2.oldRoot).toBe(w1.newRoot);
    // grant: target witness is the hospital's leaf, consent witness is the patient's (empty) slot 1
    expect(accountOf(w2.input.targetLeaf[1]!)).toEqual(w2.state.accountFields(HOSPITAL)); // registered by this batch's forced op
    expect(w2.input.consentLeaf[1]).toEqual(['0', '0', '0']);
    expect(w2.input.actorLeaf[1]![2]).toBe('1'); // nonce after the upload, before the grant

    // batch 3: forced revoke of READ, then claim (CLAIM is left) and update
    s = w2.state;
    const b3 = {
      forced: [{ kind: ForcedKind.RevokeConsent, account: PATIENT, counterpart: HOSPITAL, a: 1n, b: 1n }],
      txs: [sign(s, { op: TxOp.Claim, actor: HOSPITAL, target: PATIENT, slot: 1, payload: 42n }), sign(s, { op: TxOp.Update, actor: PATIENT, payload: 0xbeefn })],
      timestamp: T + 60n,
      provenanceRoot: `0x${'11'.repeat(32)}`,
    };
    const w3 = buildBatchWitness(s, b3, params);
    checkWitness(s, w3, 1, 2);
    expect(consentOf(w3.input.fConsentLeaf[0]!)).toEqual({ grantee: BigInt(HOSPITAL), scope: 3n, expiry: FUTURE });
    expect(w3.state.consent(PATIENT, 1).scope).toBe(2n);
    expect(decodeBatchData(w3.data, params).header).toEqual({ forcedCount: 1, txCount: 2, timestamp: T + 60n, provenanceRoot: b3.provenanceRoot });
    // claim: the consent witness comes from the target's (patient's) tree, after the forced revoke
    expect(w3.input.consentLeaf[0]).toEqual([String(HOSPITAL), '2', String(FUTURE)]);

    // batch 4: a no-op forced revoke (slot outside the tree) and a revoke transaction
    s = w3.state;
    const b4 = {
      forced: [{ kind: ForcedKind.RevokeConsent, account: PATIENT, counterpart: HOSPITAL, a: 2n, b: 200n }],
      txs: [sign(s, { op: TxOp.Revoke, actor: PATIENT, target: HOSPITAL, slot: 1 })],
      timestamp: T + 120n,
    };
    const w4 = buildBatchWitness(s, b4, params);
    checkWitness(s, w4, 1, 1);
    expect(w4.roots[1]).toBe(w4.roots[0]); // the forced op changed nothing
    expect(w4.state.accountFields(PATIENT).consentRoot).toBe(emptyConsentRoot(S));

    // batch 5: empty
    const w5 = buildBatchWitness(w4.state, { forced: [], txs: [], timestamp: T + 180n }, params);
    checkWitness(w4.state, w5, 0, 0);
    expect(w5.newRoot).toBe(w5.oldRoot);
    expect(w5.data.subarray(48).every((b) => b === 0)).toBe(true);
  });

  it('gives a no-op forced revoke on an unregistered account the real path and zero consent witness', () => {
    const state = buildBatchWitness(genesis, { forced: [register(PATIENT)], txs: [], timestamp: T }, params).state;
    const w = buildBatchWitness(state, { forced: [{ kind: ForcedKind.RevokeConsent, account: 7, counterpart: PATIENT, a: 3n, b: 0n }], txs: [], timestamp: T }, params);
    checkWitness(state, w, 1, 0);
    expect(w.input.fLeaf[0]).toEqual(['0', '0', '0', '0', '0']);
    expect(w.input.fPath[0]).toEqual(state.accountPath(7).map(String));
  });

  it('throws typed errors for too many operations, rejected transactions, failed forced ops and mismatched params', () => {
    const state = buildBatchWitness(genesis, { forced: [register(PATIENT)], txs: [], timestamp: T }, params).state;
    const root = state.root;
    const upload = sign(state, { op: TxOp.Upload, actor: PATIENT, payload: 1n });
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(WitnessError);
        return (err as WitnessError).code;
      }
      throw new Error('expected a WitnessError');
    };
    expect(code(() => buildBatchWitness(state, { forced: [], txs: [upload, upload, upload], timestamp: T }, params))).toBe('TOO_MANY_TXS');
    expect(code(() => buildBatchWitness(state, { forced: [register(HOSPITAL), register(INSURER)], txs: [], timestamp: T }, params))).toBe('TOO_MANY_FORCED');
    expect(code(() => buildBatchWitness(state, { forced: [register(PATIENT)], txs: [], timestamp: T }, params))).toBe('FORCED_OP_FAILED');
    expect(code(() => buildBatchWitness(state, { forced: [], txs: [], timestamp: T }, { ...params, treeDepth: 5 }))).toBe('PARAMS_MISMATCH');

    // the second upload reuses nonce 0: rejected with the state's code, in slot 1
    let caught: WitnessError | undefined;
    try {
      buildBatchWitness(state, { forced: [], txs: [upload, upload], timestamp: T }, params);
    } catch (err) {
      caught = err as WitnessError;
    }
    expect(caught?.code).toBe('TX_REJECTED');
    expect(caught?.slot).toBe(1);
    expect(caught?.rejection).toBeInstanceOf(TxRejected);
    expect(caught?.rejection?.code).toBe('BAD_NONCE');
    expect(state.root).toBe(root);
    expect(state.accountFields(PATIENT).nonce).toBe(0n);
  });

  it('produces JSON-able input', () => {
    const w = buildBatchWitness(genesis, { forced: [register(INSURER)], txs: [], timestamp: T }, params);
    expect(JSON.parse(JSON.stringify(w.input))).toEqual(w.input);
  });
});

describe('buildBatchWitness at the prod profile (K=64, F=4, D=20, S=4)', () => {
  const prod: BatchParams = { maxTxs: 64, maxForcedOps: 4, treeDepth: 20, consentDepth: 4 };

  it('builds and replays a batch on a state with 2000 accounts', () => {
    const state = new RollupState(prod);
    const spare = publicKeyOf(randomSecret());
    for (let i = 10; i < 2010; i++) state.applyForced({ kind: ForcedKind.RegisterAccount, account: i, counterpart: 0, a: spare.x, b: spare.y });
    const start = performance.now();
    const before = state.root; // hashes the 2000 registrations
    const loaded = performance.now() - start;

    const forced = [register(PATIENT), register(HOSPITAL), register(INSURER)];
    const afterForced = buildBatchWitness(state, { forced, txs: [], timestamp: T }, prod).state;
    const txs = [
      sign(afterForced, { op: TxOp.Upload, actor: PATIENT, payload: 5n }),
      sign(afterForced, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 15, scope: 1, expiry: FUTURE }, 1n),
      sign(afterForced, { op: TxOp.Grant, actor: PATIENT, target: INSURER, slot: 3, scope: 2, expiry: FUTURE }, 2n),
      sign(afterForced, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 15, payload: 5n }),
      sign(afterForced, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 3, payload: 77n }),
    ];
    const t0 = performance.now();
    const w = buildBatchWitness(state, { forced, txs, timestamp: T }, prod);
    const built = performance.now() - t0;
    expect(w.oldRoot).toBe(before);
    checkWitness(state, w, 3, 5, prod);
    expect(loaded).toBeLessThan(4000); // generous: guards against per-leaf rehashing, not a benchmark
    expect(built).toBeLessThan(15000);
  });
});
