/**
 * The L1 record of a batch's transactions (Rollup.batch(i).txRoot): an OpenZeppelin
 * SimpleMerkleTree (unsorted leaves) over Leaves.txLeaf(batch, position, keccak256(record)).
 * Inclusion proofs from it are what Algorithm 3's Exit checks with Rollup.isTxFinalized.
 */
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, keccak256 } from 'ethers';

const coder = AbiCoder.defaultAbiCoder();

/** Leaves.txLeaf: the standard double-hashed leaf of (batch, position, keccak256(record)). */
export function txLeaf(batchIndex: bigint | number, position: number, txHash: string): string {
  return keccak256(keccak256(coder.encode(['uint64', 'uint32', 'bytes32'], [batchIndex, position, txHash])));
}

/** The tree whose root the Rollup stores for a batch; records are the hex transaction records in slot order. */
export function txTree(batchIndex: bigint | number, txRecords: readonly string[]): SimpleMerkleTree {
  if (txRecords.length === 0) throw new RangeError('a transaction tree needs at least one record');
  return SimpleMerkleTree.of(
    txRecords.map((record, position) => txLeaf(batchIndex, position, keccak256(record))),
    { sortLeaves: false },
  );
}
