/**
 * A sparse binary Poseidon Merkle tree of fixed depth (circuits/SPEC.md "Hash and field"):
 * leaves at depth `depth`, inner node = Poseidon2(left, right), empty leaf 0, and an empty subtree
 * of height i hashes to zero[i] (prover/emptyTree.ts). Only nodes that differ from the empty
 * subtree's hash are stored, one Map per level.
 *
 * Hashing is lazy: `set` records the leaf and marks it dirty; the inner nodes above all dirty
 * leaves are recomputed together (each shared ancestor once) the next time a root, a sibling or an
 * inner node is read. Poseidon in pure JavaScript costs about 0.15 ms per hash, so filling a
 * depth-20 tree leaf by leaf would cost 20 hashes a leaf; loading many leaves before the first
 * read costs one hash per distinct ancestor instead.
 */
import { poseidon2 } from 'poseidon-lite';
import { zeroHashes } from './emptyTree.js';

/** BN254 scalar field order r: every leaf and node is an element of [0, r). */
export const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Largest supported depth: indices are JavaScript numbers and the batch layout's indices are uint32. */
export const MAX_TREE_DEPTH = 32;

export class MerkleTreeError extends Error {
  override readonly name = 'MerkleTreeError';
}

const zeroCache = new Map<number, readonly bigint[]>();

/** zero[i] for i = 0..depth, cached per depth (the consent trees of every account share them). */
export function zeroNodes(depth: number): readonly bigint[] {
  checkDepth(depth);
  let zeros = zeroCache.get(depth);
  if (!zeros) {
    zeros = Object.freeze(zeroHashes(depth));
    zeroCache.set(depth, zeros);
  }
  return zeros;
}

function checkDepth(depth: number): void {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_TREE_DEPTH) {
    throw new MerkleTreeError(`tree depth must be an integer in 1..${MAX_TREE_DEPTH}, got ${depth}`);
  }
}

function checkFieldElement(value: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value >= SNARK_FIELD) {
    throw new MerkleTreeError(`${what} must be a bigint field element in [0, r), got ${String(value)}`);
  }
}

/**
 * The root reached from `leaf` at `index` through `siblings` (leaf level first): bit i of the index
 * says whether the level-i node is a right child.
 */
export function rootFromPath(leaf: bigint, index: number, siblings: readonly bigint[]): bigint {
  checkDepth(siblings.length);
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** siblings.length) {
    throw new MerkleTreeError(`leaf index ${index} is outside a tree of depth ${siblings.length}`);
  }
  let node = leaf;
  let i = index;
  for (const sibling of siblings) {
    node = i % 2 === 0 ? poseidon2([node, sibling]) : poseidon2([sibling, node]);
    i = Math.floor(i / 2);
  }
  return node;
}

export function verifyPath(root: bigint, leaf: bigint, index: number, siblings: readonly bigint[]): boolean {
  return rootFromPath(leaf, index, siblings) === root;
}

export class SparseMerkleTree {
  readonly depth: number;
  /** Number of leaves: 2^depth. */
  readonly capacity: number;
  private readonly zeros: readonly bigint[];
  /** levels[0] holds leaves, levels[depth] the root (key 0); absent keys are empty subtrees. */
  private readonly levels: Map<number, bigint>[];
  /** Leaves set since the inner nodes were last brought up to date. */
  private dirty: Set<number>;

  constructor(depth: number) {
    checkDepth(depth);
    this.depth = depth;
    this.capacity = 2 ** depth;
    this.zeros = zeroNodes(depth);
    this.levels = Array.from({ length: depth + 1 }, () => new Map<number, bigint>());
    this.dirty = new Set();
  }

  /** The root of the empty tree of this depth. */
  get emptyRoot(): bigint {
    return this.zeros[this.depth]!;
  }

  get root(): bigint {
    return this.node(this.depth, 0);
  }

  /** Number of non-empty leaves. */
  get size(): number {
    return this.levels[0]!.size;
  }

  get(index: number): bigint {
    this.checkIndex(index);
    return this.levels[0]!.get(index) ?? 0n;
  }

  set(index: number, value: bigint): void {
    this.checkIndex(index);
    checkFieldElement(value, `leaf ${index}`);
    const leaves = this.levels[0]!;
    if ((leaves.get(index) ?? 0n) === value) return;
    if (value === 0n) leaves.delete(index);
    else leaves.set(index, value);
    this.dirty.add(index);
  }

  /** The non-empty leaves, in no particular order. */
  *entries(): IterableIterator<[number, bigint]> {
    yield* this.levels[0]!.entries();
  }

  /** The node at `level` (0 = leaves, depth = root) and position `index` within that level. */
  node(level: number, index: number): bigint {
    if (!Number.isInteger(level) || level < 0 || level > this.depth) {
      throw new MerkleTreeError(`level ${level} is outside 0..${this.depth}`);
    }
    if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** (this.depth - level)) {
      throw new MerkleTreeError(`node index ${index} is outside level ${level} of a tree of depth ${this.depth}`);
    }
    if (level > 0) this.flush();
    return this.levels[level]!.get(index) ?? this.zeros[level]!;
  }

  /** The siblings of the path from leaf `index` to the root, leaf level first (`depth` values). */
  siblings(index: number): bigint[] {
    this.checkIndex(index);
    this.flush();
    const out: bigint[] = [];
    let i = index;
    for (let level = 0; level < this.depth; level++) {
      const sibling = i % 2 === 0 ? i + 1 : i - 1;
      out.push(this.levels[level]!.get(sibling) ?? this.zeros[level]!);
      i = Math.floor(i / 2);
    }
    return out;
  }

  /** An independent copy: later changes to either tree do not affect the other. */
  clone(): SparseMerkleTree {
    const copy = new SparseMerkleTree(this.depth);
    for (let level = 0; level <= this.depth; level++) {
      copy.levels[level] = new Map(this.levels[level]!);
    }
    copy.dirty = new Set(this.dirty);
    return copy;
  }

  private checkIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.capacity) {
      throw new MerkleTreeError(`leaf index ${String(index)} is outside 0..${this.capacity - 1} (depth ${this.depth})`);
    }
  }

  /** Recomputes every inner node above a dirty leaf, level by level, each node once. */
  private flush(): void {
    if (this.dirty.size === 0) return;
    let current: Iterable<number> = this.dirty;
    for (let level = 0; level < this.depth; level++) {
      const nodes = this.levels[level]!;
      const parents = this.levels[level + 1]!;
      const zero = this.zeros[level]!;
      const next = new Set<number>();
      for (const i of current) next.add(Math.floor(i / 2));
      for (const p of next) {
        const left = nodes.get(2 * p);
        const right = nodes.get(2 * p + 1);
        if (left === undefined && right === undefined) parents.delete(p);
        else parents.set(p, poseidon2([left ?? zero, right ?? zero]));
      }
      current = next;
    }
    this.dirty = new Set();
  }
}
