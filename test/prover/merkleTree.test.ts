import { randomBytes } from 'node:crypto';
import { poseidon2 } from 'poseidon-lite';
import { emptyTreeRoot } from '../../prover/emptyTree.js';
import { MerkleTreeError, SNARK_FIELD, SparseMerkleTree, rootFromPath, verifyPath, zeroNodes } from '../../prover/merkleTree.js';

function randomField(): bigint {
  return BigInt(`0x${randomBytes(32).toString('hex')}`) % SNARK_FIELD;
}

/** Root of a full tree computed level by level over all 2^depth leaves. */
function naiveRoot(leaves: bigint[]): bigint {
  let level = leaves;
  while (level.length > 1) {
    const next: bigint[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(poseidon2([level[i]!, level[i + 1]!]));
    level = next;
  }
  return level[0]!;
}

describe('SparseMerkleTree', () => {
  it('has the empty root of prover/emptyTree.ts', () => {
    for (const depth of [1, 2, 4, 10, 20]) expect(new SparseMerkleTree(depth).root).toBe(emptyTreeRoot(depth));
  });

  it('matches a naive full-tree computation for depth 4 with random leaves', () => {
    const depth = 4;
    for (let round = 0; round < 5; round++) {
      const tree = new SparseMerkleTree(depth);
      const leaves = Array.from({ length: 16 }, () => 0n);
      for (let k = 0; k < 6 + round; k++) {
        const i = Math.floor(Math.random() * 16);
        const v = randomField();
        leaves[i] = v;
        tree.set(i, v);
        expect(tree.root).toBe(naiveRoot(leaves)); // root after every write, not only at the end
      }
      expect(tree.get(3)).toBe(leaves[3]);
    }
  });

  it('gives siblings that recompute the root, leaf level first', () => {
    const tree = new SparseMerkleTree(4);
    const leaves = Array.from({ length: 16 }, () => 0n);
    for (const i of [0, 5, 6, 15]) {
      leaves[i] = randomField();
      tree.set(i, leaves[i]);
    }
    for (let i = 0; i < 16; i++) {
      const siblings = tree.siblings(i);
      expect(siblings).toHaveLength(4);
      expect(rootFromPath(leaves[i]!, i, siblings)).toBe(tree.root);
      expect(verifyPath(tree.root, leaves[i]!, i, siblings)).toBe(true);
      expect(verifyPath(tree.root, leaves[i]! + 1n, i, siblings)).toBe(false);
    }
    // leaf level first: the first sibling of leaf 4 is leaf 5
    expect(tree.siblings(4)[0]).toBe(leaves[5]);
    expect(tree.siblings(14)[0]).toBe(leaves[15]);
    expect(tree.siblings(0)[1]).toBe(zeroNodes(4)[1]);
  });

  it('stores only non-empty nodes and returns to the empty root when leaves are cleared', () => {
    const tree = new SparseMerkleTree(8);
    tree.set(7, 1n);
    tree.set(200, 2n);
    expect(tree.size).toBe(2);
    expect(tree.root).not.toBe(emptyTreeRoot(8));
    tree.set(7, 0n);
    tree.set(200, 0n);
    expect(tree.size).toBe(0);
    expect(tree.root).toBe(emptyTreeRoot(8));
    for (let level = 1; level <= 8; level++) expect(tree.node(level, 0)).toBe(zeroNodes(8)[level]);
  });

  it('clones independently', () => {
    const a = new SparseMerkleTree(6);
    a.set(1, 11n);
    const rootA = a.root;
    const b = a.clone();
    b.set(2, 22n);
    a.set(3, 33n);
    expect(b.get(3)).toBe(0n);
    expect(a.get(2)).toBe(0n);
    const c = new SparseMerkleTree(6);
    c.set(1, 11n);
    c.set(2, 22n);
    expect(b.root).toBe(c.root);
    a.set(3, 0n);
    expect(a.root).toBe(rootA);
  });

  it('rejects bad depths, indices and values with MerkleTreeError', () => {
    expect(() => new SparseMerkleTree(0)).toThrow(MerkleTreeError);
    expect(() => new SparseMerkleTree(33)).toThrow(MerkleTreeError);
    const tree = new SparseMerkleTree(4);
    expect(() => tree.set(16, 1n)).toThrow(/outside 0\.\.15/);
    expect(() => tree.set(-1, 1n)).toThrow(MerkleTreeError);
    expect(() => tree.set(1.5, 1n)).toThrow(MerkleTreeError);
    expect(() => tree.set(1, SNARK_FIELD)).toThrow(/field element/);
    expect(() => tree.set(1, -1n)).toThrow(MerkleTreeError);
    expect(() => tree.siblings(16)).toThrow(MerkleTreeError);
    expect(() => rootFromPath(0n, 16, tree.siblings(0))).toThrow(MerkleTreeError);
  });

  it('loads 1000 leaves at depth 20 in under a second', () => {
    const start = performance.now();
    const tree = new SparseMerkleTree(20);
    // Account indices are handed out in order by the Gateway, from 1.
    for (let i = 1; i <= 1000; i++) tree.set(i, BigInt(i) * 7919n + 1n);
    const root = tree.root;
    const elapsed = performance.now() - start;
    expect(elapsed).toBeLessThan(1000);
    // spot-check against paths and an incremental update
    expect(verifyPath(root, tree.get(500), 500, tree.siblings(500))).toBe(true);
    tree.set(500, 5n);
    expect(rootFromPath(5n, 500, tree.siblings(500))).toBe(tree.root);
  });

  it('keeps a depth-20 tree with scattered leaves consistent under interleaved writes and reads', () => {
    const tree = new SparseMerkleTree(20);
    const written = new Map<number, bigint>();
    for (let k = 0; k < 40; k++) {
      const i = Math.floor(Math.random() * 2 ** 20);
      const v = randomField();
      tree.set(i, v);
      written.set(i, v);
      if (k % 10 === 9) {
        for (const [j, w] of written) expect(verifyPath(tree.root, w, j, tree.siblings(j))).toBe(true);
      }
    }
  });
});
