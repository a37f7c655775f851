/**
 * The batch data the Rollup receives in calldata and the values derived from it, exactly as
 * contracts/src/Rollup.sol derives them (layout in circuits/SPEC.md):
 *
 *   uint32 forcedCount | uint32 txCount | uint64 timestamp | bytes32 provenanceRoot
 *   | F x 73-byte forced operations | K x 47-byte transaction records   (zero padded)
 *
 *   commitment  = sha256(batchData)
 *   publicInput = sha256(oldRoot || newRoot || commitment) with the top 3 bits cleared
 */
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, ZeroHash, concat, getBytes, hexlify, keccak256, sha256, solidityPacked, toBeHex, zeroPadValue } from 'ethers';
import { FORCED_OP_BYTES } from './profiles.js';

const INPUT_MASK = (1n << 253n) - 1n;

export enum ForcedOpKind {
  RegisterAccount = 1,
  RevokeConsent = 2,
}

/** One entry of the Gateway's L1->L2 forced-operation queue. */
export interface ForcedOp {
  kind: ForcedOpKind;
  account: number;
  counterpart: number;
  a: bigint;
  b: bigint;
}

export interface BatchLayout {
  readonly maxTxs: number;
  readonly maxForcedOps: number;
  readonly txRecordBytes: number;
}

export interface BatchContent {
  forcedOps: readonly ForcedOp[];
  /** Hex-encoded transaction records, each exactly txRecordBytes long. */
  txRecords: readonly string[];
  /** Unix seconds the batch's consent checks are judged at. */
  timestamp: bigint | number;
  /** Merkle root of the record versions this batch touched, or zero. */
  provenanceRoot?: string;
}

export class BatchEncodingError extends Error {
  override readonly name = 'BatchEncodingError';
}

export function encodeForcedOp(op: ForcedOp): string {
  return solidityPacked(['uint8', 'uint32', 'uint32', 'uint256', 'uint256'], [op.kind, op.account, op.counterpart, op.a, op.b]);
}

export function encodeBatchData(batch: BatchContent, layout: BatchLayout): string {
  if (batch.forcedOps.length > layout.maxForcedOps) {
    throw new BatchEncodingError(`${batch.forcedOps.length} forced operations exceed the ${layout.maxForcedOps} slots`);
  }
  if (batch.txRecords.length > layout.maxTxs) {
    throw new BatchEncodingError(`${batch.txRecords.length} transactions exceed the ${layout.maxTxs} slots`);
  }
  for (const [i, record] of batch.txRecords.entries()) {
    const length = getBytes(record).length;
    if (length !== layout.txRecordBytes) throw new BatchEncodingError(`transaction record ${i} is ${length} bytes, expected ${layout.txRecordBytes}`);
  }
  const header = solidityPacked(
    ['uint32', 'uint32', 'uint64', 'bytes32'],
    [batch.forcedOps.length, batch.txRecords.length, batch.timestamp, batch.provenanceRoot ?? ZeroHash],
  );
  const zeros = (n: number) => new Uint8Array(n);
  return hexlify(
    concat([
      header,
      ...batch.forcedOps.map(encodeForcedOp),
      zeros((layout.maxForcedOps - batch.forcedOps.length) * FORCED_OP_BYTES),
      ...batch.txRecords,
      zeros((layout.maxTxs - batch.txRecords.length) * layout.txRecordBytes),
    ]),
  );
}

export function batchCommitment(batchData: string): string {
  return sha256(batchData);
}

export function publicInput(oldRoot: bigint, newRoot: bigint, commitment: string): bigint {
  const packed = concat([zeroPadValue(toBeHex(oldRoot), 32), zeroPadValue(toBeHex(newRoot), 32), commitment]);
  return BigInt(sha256(packed)) & INPUT_MASK;
}

const coder = AbiCoder.defaultAbiCoder();

/** Leaves.txLeaf: the standard double-hashed leaf of (batch, position, keccak256(record)). */
export function txLeaf(batchIndex: bigint | number, position: number, txHash: string): string {
  return keccak256(keccak256(coder.encode(['uint64', 'uint32', 'bytes32'], [batchIndex, position, txHash])));
}

/** The L1 record of a batch's transactions: the tree whose root Rollup.batch(i).txRoot holds. */
export function txTree(batchIndex: bigint | number, txRecords: readonly string[]): SimpleMerkleTree {
  if (txRecords.length === 0) throw new BatchEncodingError('a transaction tree needs at least one record');
  return SimpleMerkleTree.of(
    txRecords.map((record, position) => txLeaf(batchIndex, position, keccak256(record))),
    { sortLeaves: false },
  );
}
