/**
 * Builds, proves (with the binding-only Groth16 circuit) and submits batches to the Rollup.
 */
import { randomBytes } from 'node:crypto';
import { ZeroHash, concat, getBytes, hexlify, solidityPacked, type ContractTransactionReceipt, type Signer } from 'ethers';
import type { Gateway, Rollup } from '../../contracts/types/index.js';
import { BN254_SCALAR_FIELD, proveBinding, toSolidityProof } from '../../prover/groth16.js';
import { batchCommitment, encodeForcedOp, publicInput, type ForcedKind, type ForcedOp } from '../../prover/codec.js';
import { FORCED_OP_BYTES } from '../../prover/profiles.js';

/** A batch for the contract tests: forced operations as queued, transaction records opaque bytes
 * (the contracts never decode them; the circuit tests use the real codec). */
export interface BatchContent {
  forcedOps: readonly ForcedOp[];
  txRecords: readonly string[];
  timestamp: bigint | number;
  provenanceRoot?: string;
}

interface BatchLayout {
  maxTxs: number;
  maxForcedOps: number;
  txRecordBytes: number;
}

/** The Rollup's fixed-size batch data; checks only what the contract checks (counts, sizes). */
export function encodeBatchData(batch: BatchContent, layout: BatchLayout): Uint8Array {
  if (batch.forcedOps.length > layout.maxForcedOps || batch.txRecords.length > layout.maxTxs) {
    throw new RangeError(`batch of ${batch.forcedOps.length} forced ops and ${batch.txRecords.length} txs exceeds ${layout.maxForcedOps} / ${layout.maxTxs} slots`);
  }
  const header = getBytes(solidityPacked(['uint32', 'uint32', 'uint64', 'bytes32'], [batch.forcedOps.length, batch.txRecords.length, batch.timestamp, batch.provenanceRoot ?? ZeroHash]));
  return getBytes(
    concat([
      header,
      ...batch.forcedOps.map(encodeForcedOp),
      new Uint8Array((layout.maxForcedOps - batch.forcedOps.length) * FORCED_OP_BYTES),
      ...batch.txRecords,
      new Uint8Array((layout.maxTxs - batch.txRecords.length) * layout.txRecordBytes),
    ]),
  );
}

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
    return [{ kind: Number(kind) as ForcedKind, account: Number(account), counterpart: Number(counterpart), a, b }];
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
  const bytes = encodeBatchData({ ...batch, timestamp }, layout);
  const data = hexlify(bytes);
  const commitment = batchCommitment(bytes);
  const { proof, publicSignals } = await proveBinding(publicInput(oldRoot, newRoot, commitment));
  const s = toSolidityProof(proof, publicSignals);
  return { data, oldRoot, newRoot, commitment, proof: { a: s.pA, b: s.pB, c: s.pC } };
}

export function submit(rollup: Rollup, s: Submission, sender?: Signer) {
  const r = sender ? rollup.connect(sender) : rollup;
  return r.submitBatch(s.oldRoot, s.newRoot, s.data, s.proof);
}
