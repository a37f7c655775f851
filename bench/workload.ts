/**
 * A full batch for a circuit profile: F forced registrations and K signed transactions mixing
 * the six operations, from a state where the accounts they need already exist.
 */
import { ForcedKind, Scope, TxOp, type ForcedOp, type TxRecord } from '../prover/codec.js';
import type { CircuitProfile } from '../prover/profiles.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../prover/signing.js';
import { RollupState } from '../prover/state.js';
import type { BatchInput } from '../prover/witness.js';

export interface FullBatch {
  state: RollupState;
  batch: BatchInput;
}

export function fullBatch(profile: CircuitProfile, timestamp: bigint): FullBatch {
  const K = profile.maxTxs;
  const secrets = new Map<number, Uint8Array>();
  const register = (index: number): ForcedOp => {
    const secret = randomSecret();
    secrets.set(index, secret);
    const key = publicKeyOf(secret);
    return { kind: ForcedKind.RegisterAccount, account: index, counterpart: 0, a: key.x, b: key.y };
  };
  // Pairs (patient, institution) per transaction, then the F accounts the batch registers.
  const pairs = Math.ceil(K / 4);
  const state = new RollupState(profile);
  for (let i = 1; i <= 2 * pairs; i++) state.applyForced(register(i));
  const forced = Array.from({ length: profile.maxForcedOps }, (_, j) => register(2 * pairs + 1 + j));

  const sim = state.clone();
  const txs: SignedTx[] = [];
  const add = (fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>): void => {
    const record: TxRecord = { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
    const tx = signTx(secrets.get(fields.actor)!, record, sim.accountFields(fields.actor).nonce);
    sim.applyTx(tx, timestamp);
    txs.push(tx);
  };
  // Each pair contributes up to four transactions: upload, grant (read + claim), access, claim.
  for (let p = 0; p < pairs && txs.length < K; p++) {
    const patient = 2 * p + 1;
    const institution = 2 * p + 2;
    const steps: (Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>)[] = [
      { op: TxOp.Upload, actor: patient, payload: BigInt(1000 + p) },
      { op: TxOp.Grant, actor: patient, target: institution, slot: 0, scope: Scope.Read | Scope.Claim, expiry: timestamp + 86_400n },
      { op: TxOp.Access, actor: institution, target: patient, slot: 0, payload: BigInt(1000 + p) },
      { op: TxOp.Claim, actor: institution, target: patient, slot: 0, payload: BigInt(2000 + p) },
    ];
    for (const step of steps) if (txs.length < K) add(step);
  }
  return { state, batch: { forced, txs, timestamp } };
}
