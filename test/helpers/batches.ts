/**
 * Builds, proves (with the binding-only Groth16 circuit) and submits batches to the Rollup.
 */
import { randomBytes } from 'node:crypto';
import { hexlify, type ContractTransactionReceipt, type Signer } from 'ethers';
import type { Gateway, Rollup } from '../../contracts/types/index.js';
import { BN254_SCALAR_FIELD, proveBinding, toSolidityProof } from '../../prover/groth16.js';
import { batchCommitment, encodeBatchData, publicInput, type BatchContent, type ForcedOp } from '../../prover/batchData.js';

export function randomRecord(size: number): string {
  return hexlify(randomBytes(size));
}

export function randomRoot(): bigint {
  return BigInt(hexlify(randomBytes(32))) % BN254_SCALAR_FIELD;
}

/** Forced operations queued in a receipt, in queue order. */
export function queuedOps(gateway: Gateway, receipt: ContractTransactionReceipt): ForcedOp[] {
  return receipt.logs.flatMap((log) => {
    const parsed = gateway.interface.parseLog(log);
    if (!parsed || parsed.name !== 'ForcedOperationQueued') return [];
    const [, kind, account, counterpart, a, b] = parsed.args.toArray() as [bigint, bigint, bigint, bigint, bigint, bigint];
    return [{ kind: Number(kind), account: Number(account), counterpart: Number(counterpart), a, b }];
  });
}

export interface Submission {
  data: string;
  oldRoot: bigint;
  newRoot: bigint;
  commitment: string;
  proof: { a: [bigint, bigint]; b: [[bigint, bigint], [bigint, bigint]]; c: [bigint, bigint] };
}

/** Encodes and proves a batch moving the Rollup's current root to `newRoot`; the timestamp
 * defaults to the latest block's. */
export async function prepareBatch(
  rollup: Rollup,
  batch: Omit<BatchContent, 'timestamp'> & { timestamp?: bigint },
  newRoot = randomRoot(),
): Promise<Submission> {
  const oldRoot = await rollup.stateRoot();
  const timestamp = batch.timestamp ?? BigInt((await rollup.runner!.provider!.getBlock('latest'))!.timestamp);
  const layout = {
    txRecordBytes: Number(await rollup.txRecordBytes()),
    maxTxs: Number(await rollup.maxTxs()),
    maxForcedOps: Number(await rollup.maxForcedOps()),
  };
  const data = encodeBatchData({ ...batch, timestamp }, layout);
  const commitment = batchCommitment(data);
  const { proof, publicSignals } = await proveBinding(publicInput(oldRoot, newRoot, commitment));
  const s = toSolidityProof(proof, publicSignals);
  return { data, oldRoot, newRoot, commitment, proof: { a: s.pA, b: s.pB, c: s.pC } };
}

export function submit(rollup: Rollup, s: Submission, sender?: Signer) {
  const r = sender ? rollup.connect(sender) : rollup;
  return r.submitBatch(s.oldRoot, s.newRoot, s.data, s.proof);
}
