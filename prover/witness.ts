/**
 * The witness of one batch for the circuit `Batch(K, F, D, S)` (circuits/SPEC.md "Witness per
 * transaction slot" and "Circuit input names"): applies the forced operations, then the signed L2
 * transactions, in order, to a copy of the state, capturing every leaf and its siblings BEFORE the
 * operation that uses it, and encodes the batch data.
 */
import {
  ForcedKind,
  TxOp,
  batchCommitment,
  encodeBatchData,
  publicInput,
  type BatchShape,
  type ForcedOp,
} from './codec.js';
import type { SignedTx } from './signing.js';
import { ForcedOpError, TxRejected, type RollupState, type AccountFields, type ConsentFields, type StateParams } from './state.js';

/** K, F, D, S: the same field names as prover/profiles.ts's CircuitProfile. */
export interface BatchParams extends BatchShape, StateParams {}

export interface BatchInput {
  /** Forced operations, in Gateway queue order: at most F. */
  readonly forced: readonly ForcedOp[];
  /** Signed L2 transactions, in order: at most K. */
  readonly txs: readonly SignedTx[];
  /** Batch time (uint64 unix seconds) that consents are judged at. */
  readonly timestamp: bigint;
  /** bytes32 hex; zero when omitted. */
  readonly provenanceRoot?: string;
}

/** The circuit's input signals, values as decimal strings (snarkjs's input JSON). */
export interface CircuitInput {
  /** Public: publicInput. */
  inputHash: string;
  oldRoot: string;
  newRoot: string;
  /** [48 + 73F + 47K] bytes. */
  data: string[];
  /** [F][5] account leaf fields before the forced op. */
  fLeaf: string[][];
  /** [F][D] */
  fPath: string[][];
  /** [F][3] consent slot b of that account before (RevokeConsent). */
  fConsentLeaf: string[][];
  /** [F][S] */
  fConsentPath: string[][];
  /** [K][3] R8x, R8y, S. */
  txSig: string[][];
  /** [K][5] actor leaf fields before the tx. */
  actorLeaf: string[][];
  /** [K][D] */
  actorPath: string[][];
  /** [K][5] target leaf fields (grant, access, claim; zeros otherwise). */
  targetLeaf: string[][];
  /** [K][D] */
  targetPath: string[][];
  /** [K][3] grantee, scope, expiry of the consent slot used (grant, revoke, access, claim). */
  consentLeaf: string[][];
  /** [K][S] siblings in the owner's consent tree. */
  consentPath: string[][];
}

export interface BatchWitness {
  readonly data: Uint8Array;
  readonly oldRoot: bigint;
  readonly newRoot: bigint;
  /** sha256(data), bytes32 hex. */
  readonly commitment: string;
  readonly publicInput: bigint;
  readonly input: CircuitInput;
  /** The state after the batch (a copy: the state passed in is unchanged). */
  readonly state: RollupState;
  /** The root before the first operation and after each one: forced ops first, then txs. */
  readonly roots: readonly bigint[];
}

export type WitnessErrorCode = 'TOO_MANY_FORCED' | 'TOO_MANY_TXS' | 'PARAMS_MISMATCH' | 'FORCED_OP_FAILED' | 'TX_REJECTED';

export class WitnessError extends Error {
  override readonly name = 'WitnessError';
  constructor(
    readonly code: WitnessErrorCode,
    message: string,
    /** The forced-op or transaction slot concerned, when there is one. */
    readonly slot?: number,
    options?: { cause: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }

  /** The state's rejection when code is TX_REJECTED. */
  get rejection(): TxRejected | undefined {
    return this.cause instanceof TxRejected ? this.cause : undefined;
  }
}

const dec = (v: bigint | number) => v.toString();
const zeros = (n: number) => Array.from({ length: n }, () => '0');
const accountRow = (a: AccountFields) => [a.pubX, a.pubY, a.nonce, a.indexHash, a.consentRoot].map(dec);
const consentRow = (c: ConsentFields) => [c.grantee, c.scope, c.expiry].map(dec);

/**
 * Builds the batch's data and circuit input from the state before the batch. Throws WitnessError:
 * TOO_MANY_FORCED / TOO_MANY_TXS past F / K, PARAMS_MISMATCH when D or S differ from the state's,
 * FORCED_OP_FAILED (ForcedOpError as cause) and TX_REJECTED (TxRejected as cause, see `rejection`).
 * `checks: false` skips transaction validation and writes the witness a dishonest prover would:
 * for tests that show the circuit refuses what the sequencer would have rejected.
 */
export function buildBatchWitness(
  before: RollupState,
  batch: BatchInput,
  params: BatchShape & Partial<StateParams>,
  { checks = true }: { checks?: boolean } = {},
): BatchWitness {
  const { maxTxs: K, maxForcedOps: F } = params;
  const D = before.treeDepth;
  const S = before.consentDepth;
  if ((params.treeDepth ?? D) !== D || (params.consentDepth ?? S) !== S) {
    throw new WitnessError('PARAMS_MISMATCH', `params D=${params.treeDepth}, S=${params.consentDepth} but the state has D=${D}, S=${S}`);
  }
  if (batch.forced.length > F) throw new WitnessError('TOO_MANY_FORCED', `${batch.forced.length} forced operations exceed the ${F} slots`);
  if (batch.txs.length > K) throw new WitnessError('TOO_MANY_TXS', `${batch.txs.length} transactions exceed the ${K} slots`);

  const state = before.clone();
  const oldRoot = state.root;
  const roots = [oldRoot];
  const consentSlots = BigInt(state.consentSlots);

  const fLeaf: string[][] = [];
  const fPath: string[][] = [];
  const fConsentLeaf: string[][] = [];
  const fConsentPath: string[][] = [];
  batch.forced.forEach((op, i) => {
    const inTree = Number.isSafeInteger(op.account) && op.account >= 0 && op.account < state.capacity;
    fLeaf.push(inTree ? accountRow(state.accountFields(op.account)) : zeros(5));
    fPath.push(inTree ? state.accountPath(op.account).map(dec) : zeros(D));
    if (op.kind === ForcedKind.RevokeConsent && inTree && state.isRegistered(op.account) && op.b >= 0n && op.b < consentSlots) {
      const slot = Number(op.b);
      fConsentLeaf.push(consentRow(state.consent(op.account, slot)));
      fConsentPath.push(state.consentPath(op.account, slot).map(dec));
    } else {
      fConsentLeaf.push(zeros(3));
      fConsentPath.push(zeros(S));
    }
    try {
      state.applyForced(op);
    } catch (err) {
      if (err instanceof ForcedOpError) throw new WitnessError('FORCED_OP_FAILED', `forced operation ${i}: ${err.message}`, i, { cause: err });
      throw err;
    }
    roots.push(state.root);
  });

  const txSig: string[][] = [];
  const actorLeaf: string[][] = [];
  const actorPath: string[][] = [];
  const targetLeaf: string[][] = [];
  const targetPath: string[][] = [];
  const consentLeaf: string[][] = [];
  const consentPath: string[][] = [];
  batch.txs.forEach((tx, i) => {
    try {
      if (checks) state.checkTx(tx, batch.timestamp);
    } catch (err) {
      if (err instanceof TxRejected) throw new WitnessError('TX_REJECTED', `transaction ${i}: ${err.message}`, i, { cause: err });
      throw err;
    }
    const { op, actor, target, slot } = tx.record;
    txSig.push([tx.signature.r8x, tx.signature.r8y, tx.signature.s].map(dec));
    actorLeaf.push(accountRow(state.accountFields(actor)));
    actorPath.push(state.accountPath(actor).map(dec));
    const usesTarget = op === TxOp.Grant || op === TxOp.Access || op === TxOp.Claim;
    targetLeaf.push(usesTarget ? accountRow(state.accountFields(target)) : zeros(5));
    targetPath.push(usesTarget ? state.accountPath(target).map(dec) : zeros(D));
    const owner = op === TxOp.Grant || op === TxOp.Revoke ? actor : usesTarget ? target : undefined;
    consentLeaf.push(owner === undefined ? zeros(3) : consentRow(state.consent(owner, slot)));
    consentPath.push(owner === undefined ? zeros(S) : state.consentPath(owner, slot).map(dec));
    state.applyTx(tx, batch.timestamp, { unchecked: !checks });
    roots.push(state.root);
  });

  for (let i = batch.forced.length; i < F; i++) {
    fLeaf.push(zeros(5));
    fPath.push(zeros(D));
    fConsentLeaf.push(zeros(3));
    fConsentPath.push(zeros(S));
  }
  for (let i = batch.txs.length; i < K; i++) {
    txSig.push(zeros(3));
    actorLeaf.push(zeros(5));
    actorPath.push(zeros(D));
    targetLeaf.push(zeros(5));
    targetPath.push(zeros(D));
    consentLeaf.push(zeros(3));
    consentPath.push(zeros(S));
  }

  const data = encodeBatchData(
    {
      timestamp: batch.timestamp,
      provenanceRoot: batch.provenanceRoot,
      forced: batch.forced,
      txs: batch.txs.map((tx) => tx.record),
    },
    params,
  );
  const newRoot = state.root;
  const commitment = batchCommitment(data);
  const pub = publicInput(oldRoot, newRoot, commitment);
  return {
    data,
    oldRoot,
    newRoot,
    commitment,
    publicInput: pub,
    state,
    roots,
    input: {
      inputHash: dec(pub),
      oldRoot: dec(oldRoot),
      newRoot: dec(newRoot),
      data: Array.from(data, dec),
      fLeaf,
      fPath,
      fConsentLeaf,
      fConsentPath,
      txSig,
      actorLeaf,
      actorPath,
      targetLeaf,
      targetPath,
      consentLeaf,
      consentPath,
    },
  };
}
