/**
 * circuits/src/merkle.circom: MerkleRoot and MerkleUpdate (depth 4) against a poseidon-lite
 * reference tree, for every index; wrong paths, out-of-range indexes and disabled updates.
 */
import { randomBytes } from 'node:crypto';
import { poseidon2 } from 'poseidon-lite';
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness } from '../helpers/circuit.js';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const DEPTH = 4;
const SIZE = 1 << DEPTH;
const SOURCE = 'circuits/src/merkle.circom';

function randomField(): bigint {
  return BigInt(`0x${randomBytes(32).toString('hex')}`) % R;
}

/** Reference binary Poseidon tree: levels[0] = leaves, levels[DEPTH] = [root]. */
class RefTree {
  readonly leaves: bigint[];
  constructor(leaves: bigint[]) {
    this.leaves = [...leaves];
  }
  private levels(): bigint[][] {
    const levels: bigint[][] = [this.leaves];
    for (let d = 0; d < DEPTH; d++) {
      const prev = levels[d] as bigint[];
      const next: bigint[] = [];
      for (let i = 0; i < prev.length; i += 2) next.push(poseidon2([prev[i] as bigint, prev[i + 1] as bigint]));
      levels.push(next);
    }
    return levels;
  }
  root(): bigint {
    return (this.levels()[DEPTH] as bigint[])[0] as bigint;
  }
  /** Siblings from the leaf level up. */
  path(index: number): bigint[] {
    const levels = this.levels();
    const out: bigint[] = [];
    for (let d = 0; d < DEPTH; d++) out.push((levels[d] as bigint[])[(index >> d) ^ 1] as bigint);
    return out;
  }
  withLeaf(index: number, value: bigint): RefTree {
    const leaves = [...this.leaves];
    leaves[index] = value;
    return new RefTree(leaves);
  }
}

/** Half the leaves set (including a run of empty ones), so empty subtrees appear in the paths. */
function sampleTree(): RefTree {
  return new RefTree(Array.from({ length: SIZE }, (_, i) => (i % 3 === 0 || i >= 12 ? 0n : randomField())));
}

let root: CompiledCircuit;
let rootIs: CompiledCircuit;
let update: CompiledCircuit;

beforeAll(async () => {
  root = await compileCircuit({ source: SOURCE, name: 'test_merkle_root4', main: `component main = MerkleRoot(${DEPTH});` });
  rootIs = await compileCircuit({
    source: SOURCE,
    name: 'test_merkle_root_is4',
    main: `
template MerkleRootIs(depth) {
    signal input leaf;
    signal input index;
    signal input siblings[depth];
    signal input expectedRoot;
    signal output root <== MerkleRoot(depth)(leaf, index, siblings);
    root === expectedRoot;
}
component main {public [expectedRoot]} = MerkleRootIs(${DEPTH});`,
  });
  update = await compileCircuit({ source: SOURCE, name: 'test_merkle_update4', main: `component main = MerkleUpdate(${DEPTH});` });
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

describe('MerkleRoot(4)', () => {
  it('matches the reference root at every index (empty and non-empty leaves)', async () => {
    const tree = sampleTree();
    const expected = tree.root();
    for (let index = 0; index < SIZE; index++) {
      const w = await witness(root, { leaf: tree.leaves[index] as bigint, index, siblings: tree.path(index) });
      expect(signal(w, 'main.root')).toBe(expected);
    }
  });

  it('gives the empty-tree root zero[4] for an all-zero tree', async () => {
    let zero = 0n;
    for (let d = 0; d < DEPTH; d++) zero = poseidon2([zero, zero]);
    const tree = new RefTree(new Array<bigint>(SIZE).fill(0n));
    const w = await witness(root, { leaf: 0n, index: 5, siblings: tree.path(5) });
    expect(signal(w, 'main.root')).toBe(zero);
  });

  it('with root === expectedRoot: accepts every correct (leaf, index, path)', async () => {
    const tree = sampleTree();
    for (let index = 0; index < SIZE; index++) {
      await witness(rootIs, { leaf: tree.leaves[index] as bigint, index, siblings: tree.path(index), expectedRoot: tree.root() });
    }
  });

  it('with root === expectedRoot: rejects a wrong sibling at any level, a wrong leaf and a wrong index', async () => {
    const tree = sampleTree();
    const index = 6;
    const good = { leaf: tree.leaves[index] as bigint, index, siblings: tree.path(index), expectedRoot: tree.root() };
    for (let level = 0; level < DEPTH; level++) {
      const siblings = [...good.siblings];
      siblings[level] = (siblings[level] as bigint) + 1n;
      expect(await expectWitnessFailure(rootIs, { ...good, siblings })).toMatch(/Assert Failed/);
    }
    await expectWitnessFailure(rootIs, { ...good, leaf: good.leaf + 1n });
    // The sibling path of index 6 is not a path for 7 (nor for 14: same leaf level, other subtree).
    await expectWitnessFailure(rootIs, { ...good, index: 7 });
    await expectWitnessFailure(rootIs, { ...good, index: 14 });
    // The path of another index is not a path for this one.
    await expectWitnessFailure(rootIs, { ...good, siblings: tree.path(9) });
  });

  it('rejects an index >= 2^depth (no aliasing of 16 to 0) and a "negative" index', async () => {
    const tree = sampleTree();
    const input = { leaf: tree.leaves[0] as bigint, siblings: tree.path(0) };
    await expectWitnessFailure(root, { ...input, index: SIZE });
    await expectWitnessFailure(root, { ...input, index: SIZE + 3 });
    await expectWitnessFailure(root, { ...input, index: R - 1n });
    await expectWitnessFailure(rootIs, { ...input, index: SIZE, expectedRoot: tree.root() });
  });
});

describe('MerkleUpdate(4)', () => {
  it('computes the updated root at every index, enforcing the old root', async () => {
    const tree = sampleTree();
    for (let index = 0; index < SIZE; index++) {
      const newLeaf = index % 4 === 1 ? 0n : randomField(); // also deletions (leaf -> 0)
      const w = await witness(update, {
        oldLeaf: tree.leaves[index] as bigint,
        newLeaf,
        index,
        siblings: tree.path(index),
        oldRoot: tree.root(),
        enabled: 1,
      });
      expect(signal(w, 'main.newRoot')).toBe(tree.withLeaf(index, newLeaf).root());
    }
  });

  it('applies a sequence of updates, each proven against the previous root', async () => {
    let tree = sampleTree();
    for (const index of [3, 3, 0, 15, 8]) {
      const newLeaf = randomField();
      const w = await witness(update, {
        oldLeaf: tree.leaves[index] as bigint,
        newLeaf,
        index,
        siblings: tree.path(index),
        oldRoot: tree.root(),
        enabled: 1,
      });
      tree = tree.withLeaf(index, newLeaf);
      expect(signal(w, 'main.newRoot')).toBe(tree.root());
    }
  });

  it('rejects a wrong old root, old leaf, sibling or index when enabled', async () => {
    const tree = sampleTree();
    const index = 10;
    const good = {
      oldLeaf: tree.leaves[index] as bigint,
      newLeaf: 12345n,
      index,
      siblings: tree.path(index),
      oldRoot: tree.root(),
      enabled: 1,
    };
    await witness(update, good);
    await expectWitnessFailure(update, { ...good, oldRoot: good.oldRoot + 1n });
    await expectWitnessFailure(update, { ...good, oldLeaf: good.oldLeaf + 1n });
    const siblings = [...good.siblings];
    siblings[3] = 0n;
    await expectWitnessFailure(update, { ...good, siblings });
    await expectWitnessFailure(update, { ...good, index: 11 });
    await expectWitnessFailure(update, { ...good, index: index + SIZE });
  });

  it('enabled = 0: newRoot = oldRoot and nothing else is enforced', async () => {
    const tree = sampleTree();
    const oldRoot = tree.root();
    const cases = [
      { oldLeaf: 0n, newLeaf: 0n, index: 0, siblings: [0n, 0n, 0n, 0n] }, // padding: all zero
      { oldLeaf: randomField(), newLeaf: randomField(), index: 3, siblings: tree.path(9) }, // wrong path
      { oldLeaf: 1n, newLeaf: 2n, index: 999, siblings: [1n, 2n, 3n, 4n] }, // index out of range
      { oldLeaf: 1n, newLeaf: 2n, index: R - 1n, siblings: [randomField(), randomField(), randomField(), randomField()] },
    ];
    for (const c of cases) {
      const w = await witness(update, { ...c, oldRoot, enabled: 0 });
      expect(signal(w, 'main.newRoot')).toBe(oldRoot);
    }
  });

  it('rejects a non-boolean enabled', async () => {
    const tree = sampleTree();
    const index = 2;
    const input = { oldLeaf: tree.leaves[index] as bigint, newLeaf: 7n, index, siblings: tree.path(index), oldRoot: tree.root() };
    await expectWitnessFailure(update, { ...input, enabled: 2 });
    await expectWitnessFailure(update, { ...input, enabled: R - 1n });
  });
});
