/**
 * Roots of the empty Poseidon binary state tree: the rollup's genesis root. Leaves of unused
 * accounts are 0 and an inner node is Poseidon(left, right), as in the batch circuit.
 */
import { poseidon2 } from 'poseidon-lite';

export const DEFAULT_TREE_DEPTH = 20;

/** zeroHashes[i] is the root of an empty subtree of height i. */
export function zeroHashes(depth: number): bigint[] {
  if (!Number.isInteger(depth) || depth < 1 || depth > 64) throw new RangeError(`tree depth must be 1..64, got ${depth}`);
  const out: bigint[] = [0n];
  for (let i = 0; i < depth; i++) out.push(poseidon2([out[i]!, out[i]!]));
  return out;
}

export function emptyTreeRoot(depth: number = DEFAULT_TREE_DEPTH): bigint {
  return zeroHashes(depth)[depth]!;
}
