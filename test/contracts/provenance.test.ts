/**
 * Provenance: record leaves must match OpenZeppelin's StandardMerkleTree with types
 * ["uint32", "bytes32", "uint32", "bytes32"] = (patient account, record id, version, content hash),
 * institution anchoring, verifyProof / verifyAnchored / verifyRecord for every leaf of trees of
 * several sizes, and the access control of anchoring and wiring. Institution anchors and rollup
 * anchors are kept apart (institutionAnchorOf / rollupAnchorOf), so that nobody can make a batch
 * revert by anchoring its root first.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { ZeroAddress, ZeroHash, ethers, type HDNodeWallet, type LogDescription, type TransactionReceipt } from 'ethers';
import { useSettlementChain, babyJubKey } from '../helpers/chain.js';
import { expectRevert } from '../helpers/revert.js';
import { GasTable } from '../helpers/gas.js';
import { Provenance__factory, type Provenance } from '../../contracts/types/index.js';

type RecordValue = [patientAccount: number, recordId: string, version: number, contentHash: string];
const LEAF_TYPES = ['uint32', 'bytes32', 'uint32', 'bytes32'];
const SIZES = [1, 2, 3, 7, 16];

const gas = new GasTable('Provenance');
const { chain, c } = useSettlementChain({ gas });

/** Account 2: an active Laboratory, registered in beforeAll. */
let lab: HDNodeWallet;

beforeAll(async () => {
  lab = acct(2);
  const [x, y] = babyJubKey();
  await gas.track('Gateway.registerInstitution', c.gateway.registerInstitution(lab.address, 2, x, y, 'did:web:lab.example'));
});

function acct(i: number): HDNodeWallet {
  const a = chain.accounts[i];
  if (!a) throw new Error(`no account ${i}`);
  return a;
}

function record(seed: string, i: number): RecordValue {
  return [1000 + (i % 5), ethers.id(`${seed}/record/${i}`), 1 + (i % 3), ethers.id(`${seed}/content/${i}`)];
}

function makeTree(seed: string, size: number): StandardMerkleTree<RecordValue> {
  return StandardMerkleTree.of(
    Array.from({ length: size }, (_, i) => record(seed, i)),
    LEAF_TYPES,
  );
}

/** The one event named `name` that `p` emitted in `receipt`. */
function oneEvent(receipt: TransactionReceipt, name: string, p: Provenance = c.provenance): LogDescription {
  const found = receipt.logs
    .map((l) => p.interface.parseLog(l))
    .filter((d): d is LogDescription => d !== null && d.name === name);
  expect(found).toHaveLength(1);
  return found[0] as LogDescription;
}

function rootAnchored(receipt: TransactionReceipt, p: Provenance = c.provenance): LogDescription {
  return oneEvent(receipt, 'RootAnchored', p);
}

async function anchorByLab(root: string): Promise<TransactionReceipt> {
  return gas.track('Provenance.anchor', c.provenance.connect(lab).anchor(root));
}

function valueAt(tree: StandardMerkleTree<RecordValue>, i: number): RecordValue {
  const v = tree.at(i);
  if (!v) throw new Error(`no leaf ${i}`);
  return v;
}

/** Runs named boolean checks concurrently and compares them all at once (readable on failure). */
async function expectChecks(checks: [label: string, result: Promise<boolean>, expected: boolean][]): Promise<void> {
  const results = await Promise.all(checks.map(([, r]) => r));
  expect(Object.fromEntries(checks.map(([label], k) => [label, results[k]]))).toEqual(Object.fromEntries(checks.map(([label, , e]) => [label, e])));
}

/** Leaf `i` of an anchored `tree`: the positive checks and every negative one; `other` is another anchored tree. */
async function checkLeaf(tree: StandardMerkleTree<RecordValue>, other: StandardMerkleTree<RecordValue>, i: number): Promise<void> {
  const p = c.provenance;
  const size = tree.length;
  const v = valueAt(tree, i);
  const leaf = tree.leafHash(v);
  const proof = tree.getProof(i);
  const root = tree.root;
  const wrong: RecordValue = [v[0], v[1], v[2] + 1, v[3]];
  const singleHashed = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(LEAF_TYPES, v));
  const checks: [string, Promise<boolean>, boolean][] = [
    ['verifyProof', p.verifyProof(leaf, proof, root), true],
    ['verifyAnchored', p.verifyAnchored(leaf, proof, root), true],
    ['verifyRecord', p.verifyRecord(...v, proof, root), true],
    // Wrong leaf: same record, another version / content; and the single-hashed encoding.
    ['wrong leaf: verifyProof', p.verifyProof(tree.leafHash(wrong), proof, root), false],
    ['wrong leaf: verifyAnchored', p.verifyAnchored(tree.leafHash(wrong), proof, root), false],
    ['wrong leaf: verifyRecord (version)', p.verifyRecord(...wrong, proof, root), false],
    ['wrong leaf: verifyRecord (content)', p.verifyRecord(v[0], v[1], v[2], ethers.id('tampered'), proof, root), false],
    ['single-hashed leaf: verifyProof', p.verifyProof(singleHashed, proof, root), false],
    // An extra sibling appended.
    ['extended proof: verifyProof', p.verifyProof(leaf, [...proof, ethers.id('extra')], root), false],
    // Against another (anchored) root.
    ['other root: verifyProof', p.verifyProof(leaf, proof, other.root), false],
    ['other root: verifyAnchored', p.verifyAnchored(leaf, proof, other.root), false],
    ['other root: verifyRecord', p.verifyRecord(...v, proof, other.root), false],
  ];
  if (size > 1) {
    // The proof of another leaf.
    const otherProof = tree.getProof((i + 1) % size);
    checks.push(
      ["another leaf's proof: verifyProof", p.verifyProof(leaf, otherProof, root), false],
      ["another leaf's proof: verifyAnchored", p.verifyAnchored(leaf, otherProof, root), false],
      ["another leaf's proof: verifyRecord", p.verifyRecord(...v, otherProof, root), false],
    );
  }
  if (proof.length > 0) {
    // Truncated proof: the last sibling dropped.
    const truncated = proof.slice(0, -1);
    checks.push(
      ['truncated proof: verifyProof', p.verifyProof(leaf, truncated, root), false],
      ['truncated proof: verifyAnchored', p.verifyAnchored(leaf, truncated, root), false],
      ['truncated proof: verifyRecord', p.verifyRecord(...v, truncated, root), false],
    );
  } else {
    // A single-leaf tree: the root is the leaf and the proof is empty.
    expect(size).toBe(1);
    expect(root).toBe(leaf);
  }
  await expectChecks(checks);
}

describe('recordLeaf', () => {
  it('equals StandardMerkleTree.leafHash for several values, including the extremes', async () => {
    const values: RecordValue[] = [
      record('a', 0),
      record('a', 1),
      [0, ZeroHash, 0, ZeroHash],
      [0xffffffff, ethers.hexlify(new Uint8Array(32).fill(0xff)), 0xffffffff, ethers.hexlify(new Uint8Array(32).fill(0xff))],
      [7, ethers.id('record-7'), 42, ethers.keccak256(ethers.toUtf8Bytes('{"resourceType":"Observation"}'))],
    ];
    const tree = StandardMerkleTree.of(values, LEAF_TYPES);
    for (const v of values) {
      const onChain = await c.provenance.recordLeaf(...v);
      expect(onChain).toBe(tree.leafHash(v));
      // The documented encoding: keccak256(bytes.concat(keccak256(abi.encode(...)))).
      const inner = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(LEAF_TYPES, v));
      expect(onChain).toBe(ethers.keccak256(inner));
    }
    // Every field matters.
    const base = values[4] as RecordValue;
    const leaf = await c.provenance.recordLeaf(...base);
    expect(await c.provenance.recordLeaf(base[0] + 1, base[1], base[2], base[3])).not.toBe(leaf);
    expect(await c.provenance.recordLeaf(base[0], ethers.id('other'), base[2], base[3])).not.toBe(leaf);
    expect(await c.provenance.recordLeaf(base[0], base[1], base[2] + 1, base[3])).not.toBe(leaf);
    expect(await c.provenance.recordLeaf(base[0], base[1], base[2], ethers.id('other'))).not.toBe(leaf);
  });
});

describe('anchor by an institution', () => {
  it('an active institution anchors a tree root: RootAnchored, isAnchored, institutionAnchorOf (no rollup anchor)', async () => {
    const tree = makeTree('anchor', 5);
    expect(await c.provenance.isAnchored(tree.root)).toBe(false);
    const empty = await c.provenance.institutionAnchorOf(tree.root);
    expect(empty.l1Block).toBe(0n);
    expect(empty.anchoredBy).toBe(ZeroAddress);

    const receipt = await anchorByLab(tree.root);
    expect(rootAnchored(receipt).args.toArray()).toEqual([tree.root, lab.address, false, 0n]);
    expect(await c.provenance.isAnchored(tree.root)).toBe(true);
    const a = await c.provenance.institutionAnchorOf(tree.root);
    expect(a.anchoredBy).toBe(lab.address);
    expect(a.l1Block).toBe(BigInt(receipt.blockNumber));
    // Not a rollup anchor: that record stays empty.
    const r = await c.provenance.rollupAnchorOf(tree.root);
    expect(r.l1Block).toBe(0n);
    expect(r.batchIndex).toBe(0n);
  });

  it('every role may anchor (Hospital, Insurer too), each its own root', async () => {
    const [hx, hy] = babyJubKey();
    const [ix, iy] = babyJubKey();
    await gas.track('Gateway.registerInstitution', c.gateway.registerInstitution(acct(3).address, 1, hx, hy, 'did:web:hospital.example'));
    await gas.track('Gateway.registerInstitution', c.gateway.registerInstitution(acct(4).address, 3, ix, iy, 'did:web:insurer.example'));
    for (const i of [3, 4]) {
      const root = makeTree(`role-${i}`, 3).root;
      const receipt = await gas.track('Provenance.anchor', c.provenance.connect(acct(i)).anchor(root));
      expect(rootAnchored(receipt).args.toArray()).toEqual([root, acct(i).address, false, 0n]);
      expect((await c.provenance.institutionAnchorOf(root)).anchoredBy).toBe(acct(i).address);
    }
  });

  it('reverts NotInstitution for an unregistered sender, governance, and a patient controller', async () => {
    const root = makeTree('x', 2).root;
    await gas.track('Gateway.registerPatient', c.gateway.connect(acct(5)).registerPatient(...babyJubKey(), acct(5).address));
    for (const i of [0, 1, 5, 6]) {
      await expectRevert(c.provenance.connect(acct(i)).anchor(root), c.provenance.interface, 'NotInstitution', [acct(i).address]);
    }
    expect(await c.provenance.isAnchored(root)).toBe(false);
  });

  it('reverts NotInstitution for a deactivated institution, and works again once reactivated', async () => {
    const root = makeTree('deactivated', 3).root;
    await gas.track('Gateway.setInstitutionActive', c.gateway.setInstitutionActive(lab.address, false));
    await expectRevert(c.provenance.connect(lab).anchor(root), c.provenance.interface, 'NotInstitution', [lab.address]);
    await gas.track('Gateway.setInstitutionActive', c.gateway.setInstitutionActive(lab.address, true));
    await anchorByLab(root);
    expect(await c.provenance.isAnchored(root)).toBe(true);
  });

  it('reverts AlreadyAnchored for a root anchored before, by the same or another institution', async () => {
    const root = makeTree('twice', 4).root;
    const first = await anchorByLab(root);
    await expectRevert(c.provenance.connect(lab).anchor(root), c.provenance.interface, 'AlreadyAnchored', [root]);
    const [x, y] = babyJubKey();
    await gas.track('Gateway.registerInstitution', c.gateway.registerInstitution(acct(3).address, 1, x, y, 'did:web:h.example'));
    await expectRevert(c.provenance.connect(acct(3)).anchor(root), c.provenance.interface, 'AlreadyAnchored', [root]);
    // The first anchor is unchanged.
    const a = await c.provenance.institutionAnchorOf(root);
    expect(a.anchoredBy).toBe(lab.address);
    expect(a.l1Block).toBe(BigInt(first.blockNumber));
  });

  it('reverts ZeroRoot for bytes32(0) (institution check first)', async () => {
    await expectRevert(c.provenance.connect(lab).anchor(ZeroHash), c.provenance.interface, 'ZeroRoot', []);
    await expectRevert(c.provenance.connect(acct(6)).anchor(ZeroHash), c.provenance.interface, 'NotInstitution', [acct(6).address]);
  });
});

describe('proofs', () => {
  it.each(SIZES)('tree of %i: every leaf verifies, before and after anchoring', async (size) => {
    const tree = makeTree(`tree-${size}`, size);
    const other = makeTree(`other-${size}`, size);
    await anchorByLab(other.root);

    // Before anchoring: the pure check passes, the anchored ones do not.
    await Promise.all(
      Array.from({ length: size }, async (_, i) => {
        const v = valueAt(tree, i);
        const proof = tree.getProof(i);
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
        await expectChecks([
          ['verifyProof', c.provenance.verifyProof(tree.leafHash(v), proof, tree.root), true],
          ['verifyAnchored', c.provenance.verifyAnchored(tree.leafHash(v), proof, tree.root), false],
          ['verifyRecord', c.provenance.verifyRecord(...v, proof, tree.root), false],
        ]);
      }),
    );

    await anchorByLab(tree.root);
    await Promise.all(Array.from({ length: size }, (_, i) => checkLeaf(tree, other, i)));
  });

  it('verifyAnchored / verifyRecord on a valid proof against an un-anchored root are false', async () => {
    const tree = makeTree('unanchored', 7);
    await anchorByLab(makeTree('someone-else', 7).root);
    for (let i = 0; i < tree.length; i++) {
      const v = valueAt(tree, i);
      const proof = tree.getProof(i);
      expect(await c.provenance.verifyProof(tree.leafHash(v), proof, tree.root)).toBe(true);
      expect(await c.provenance.verifyAnchored(tree.leafHash(v), proof, tree.root)).toBe(false);
      expect(await c.provenance.verifyRecord(...v, proof, tree.root)).toBe(false);
    }
  });

  it('verifyProof takes a raw leaf: an inner node with the rest of the path verifies (verifyRecord derives the leaf itself)', async () => {
    // Documents the API: verifyProof / verifyAnchored answer "is this node on a path to root",
    // so callers that take a leaf from users must derive it themselves (as verifyRecord and
    // InsurerBonds do with Leaves.recordLeaf).
    const tree = makeTree('inner', 4);
    await anchorByLab(tree.root);
    const nodes = tree.dump().tree; // array-heap layout: 0 = root, 1 and 2 = its children
    const [root, left, right] = nodes as [string, string, string];
    expect(root).toBe(tree.root);
    expect(await c.provenance.verifyProof(left, [right], root)).toBe(true);
    expect(await c.provenance.verifyAnchored(left, [right], root)).toBe(true);
  });
});

describe('rollup wiring', () => {
  it('anchorFromRollup from any account but the rollup reverts NotRollup', async () => {
    const root = makeTree('rollup', 2).root;
    expect(await c.provenance.rollup()).toBe(await c.rollup.getAddress());
    for (const i of [0, 1, 2, 6]) {
      await expectRevert(c.provenance.connect(acct(i)).anchorFromRollup(root, 0), c.provenance.interface, 'NotRollup', [acct(i).address]);
    }
  });

  it('setRollup again reverts AlreadyWired for governance and NotGovernance for others; ZeroAddress is checked before AlreadyWired', async () => {
    await expectRevert(c.provenance.setRollup(acct(8).address), c.provenance.interface, 'AlreadyWired', []);
    await expectRevert(c.provenance.setRollup(ZeroAddress), c.provenance.interface, 'ZeroAddress', []);
    for (const i of [1, 2, 8]) {
      await expectRevert(c.provenance.connect(acct(i)).setRollup(acct(8).address), c.provenance.interface, 'NotGovernance', [acct(i).address]);
    }
    // Governance is checked first of all.
    await expectRevert(c.provenance.connect(acct(2)).setRollup(ZeroAddress), c.provenance.interface, 'NotGovernance', [acct(2).address]);
    expect(await c.provenance.rollup()).toBe(await c.rollup.getAddress());
  });

  describe('a fresh Provenance on the same Gateway, with an EOA standing in for the rollup', () => {
    let fresh: Provenance;
    let fakeRollup: HDNodeWallet;

    beforeEach(async () => {
      fakeRollup = acct(8);
      fresh = await new Provenance__factory(acct(0)).deploy(await c.gateway.getAddress());
      await fresh.waitForDeployment();
      fresh = fresh.connect(acct(0));
    });

    it('unwired: anchorFromRollup reverts NotRollup for everyone; institutions can already anchor', async () => {
      expect(await fresh.rollup()).toBe(ZeroAddress);
      expect(await fresh.gateway()).toBe(await c.gateway.getAddress());
      const root = makeTree('fresh', 3).root;
      for (const i of [0, 2, 8]) {
        await expectRevert(fresh.connect(acct(i)).anchorFromRollup(root, 1), fresh.interface, 'NotRollup', [acct(i).address]);
      }
      await gas.track('Provenance.anchor', fresh.connect(lab).anchor(root));
      expect(await fresh.isAnchored(root)).toBe(true);
    });

    it('setRollup: NotGovernance, then once by governance (RollupWired), then AlreadyWired', async () => {
      await expectRevert(fresh.connect(acct(2)).setRollup(fakeRollup.address), fresh.interface, 'NotGovernance', [acct(2).address]);
      const receipt = await gas.track('Provenance.setRollup', fresh.setRollup(fakeRollup.address));
      expect(oneEvent(receipt, 'RollupWired', fresh).args.toArray()).toEqual([fakeRollup.address]);
      expect(await fresh.rollup()).toBe(fakeRollup.address);
      await expectRevert(fresh.setRollup(acct(9).address), fresh.interface, 'AlreadyWired', []);
    });

    it('anchorFromRollup by the rollup: fromRollup = true, batchIndex kept in rollupAnchorOf; ZeroRoot applies', async () => {
      await gas.track('Provenance.setRollup', fresh.setRollup(fakeRollup.address));
      const tree = makeTree('from-rollup', 7);
      const receipt = await gas.track('Provenance.anchorFromRollup', fresh.connect(fakeRollup).anchorFromRollup(tree.root, 5));
      expect(rootAnchored(receipt, fresh).args.toArray()).toEqual([tree.root, fakeRollup.address, true, 5n]);
      expect(await fresh.isAnchored(tree.root)).toBe(true);
      const a = await fresh.rollupAnchorOf(tree.root);
      expect(a.batchIndex).toBe(5n);
      expect(a.l1Block).toBe(BigInt(receipt.blockNumber));
      // Not an institution anchor: that record stays empty.
      const inst = await fresh.institutionAnchorOf(tree.root);
      expect(inst.l1Block).toBe(0n);
      expect(inst.anchoredBy).toBe(ZeroAddress);
      for (let i = 0; i < tree.length; i++) {
        expect(await fresh.verifyRecord(...valueAt(tree, i), tree.getProof(i), tree.root)).toBe(true);
      }
      await expectRevert(fresh.connect(fakeRollup).anchorFromRollup(ZeroHash, 6), fresh.interface, 'ZeroRoot', []);
      // NotRollup is checked before ZeroRoot.
      await expectRevert(fresh.connect(lab).anchorFromRollup(ZeroHash, 6), fresh.interface, 'NotRollup', [lab.address]);
    });

    it('anchorFromRollup of a root the rollup anchored before: no revert, no event, the first anchor is kept', async () => {
      // A finalized batch must never fail on its provenance root.
      await gas.track('Provenance.setRollup', fresh.setRollup(fakeRollup.address));
      const root = makeTree('rollup-twice', 4).root;
      const first = await gas.track('Provenance.anchorFromRollup', fresh.connect(fakeRollup).anchorFromRollup(root, 5));
      await chain.mine(3);
      const again = await gas.track('Provenance.anchorFromRollup (already anchored)', fresh.connect(fakeRollup).anchorFromRollup(root, 6));
      expect(again.logs).toHaveLength(0);
      expect(again.blockNumber).toBeGreaterThan(first.blockNumber);
      const a = await fresh.rollupAnchorOf(root);
      expect(a.batchIndex).toBe(5n);
      expect(a.l1Block).toBe(BigInt(first.blockNumber));
      expect((await fresh.institutionAnchorOf(root)).l1Block).toBe(0n);
    });

    it('an institution anchoring a root first does not stop the rollup from anchoring it (both records kept)', async () => {
      // Rollup.submitBatch calls anchorFromRollup for the batch's provenance root and does not
      // catch a revert, so an active institution that anchors that root first (e.g. by
      // front-running the submission) must not make the batch revert.
      await gas.track('Provenance.setRollup', fresh.setRollup(fakeRollup.address));
      const tree = makeTree('race', 4);
      const root = tree.root;
      const byLab = await gas.track('Provenance.anchor', fresh.connect(lab).anchor(root));
      const byRollup = await gas.track('Provenance.anchorFromRollup', fresh.connect(fakeRollup).anchorFromRollup(root, 3));
      expect(rootAnchored(byRollup, fresh).args.toArray()).toEqual([root, fakeRollup.address, true, 3n]);
      const inst = await fresh.institutionAnchorOf(root);
      expect(inst.anchoredBy).toBe(lab.address);
      expect(inst.l1Block).toBe(BigInt(byLab.blockNumber));
      const r = await fresh.rollupAnchorOf(root);
      expect(r.batchIndex).toBe(3n);
      expect(r.l1Block).toBe(BigInt(byRollup.blockNumber));
      expect(await fresh.isAnchored(root)).toBe(true);
      expect(await fresh.verifyRecord(...valueAt(tree, 0), tree.getProof(0), root)).toBe(true);
      // A second institution anchor still reverts.
      await expectRevert(fresh.connect(lab).anchor(root), fresh.interface, 'AlreadyAnchored', [root]);
    });

    it('an institution may anchor a root the rollup anchored first; a second institution anchor then reverts AlreadyAnchored', async () => {
      await gas.track('Provenance.setRollup', fresh.setRollup(fakeRollup.address));
      const root = makeTree('rollup-first', 3).root;
      const byRollup = await gas.track('Provenance.anchorFromRollup', fresh.connect(fakeRollup).anchorFromRollup(root, 2));
      const byLab = await gas.track('Provenance.anchor', fresh.connect(lab).anchor(root));
      expect(rootAnchored(byLab, fresh).args.toArray()).toEqual([root, lab.address, false, 0n]);
      expect((await fresh.institutionAnchorOf(root)).anchoredBy).toBe(lab.address);
      const r = await fresh.rollupAnchorOf(root);
      expect(r.batchIndex).toBe(2n);
      expect(r.l1Block).toBe(BigInt(byRollup.blockNumber));
      await expectRevert(fresh.connect(lab).anchor(root), fresh.interface, 'AlreadyAnchored', [root]);
    });

    it('setRollup(address(0)) reverts ZeroAddress and leaves Provenance unwired and wireable', async () => {
      await expectRevert(fresh.setRollup(ZeroAddress), fresh.interface, 'ZeroAddress', []);
      expect(await fresh.rollup()).toBe(ZeroAddress);
      // Nobody can anchor from the rollup meanwhile.
      await expectRevert(fresh.connect(acct(0)).anchorFromRollup(makeTree('z', 1).root, 0), fresh.interface, 'NotRollup', [acct(0).address]);
      const receipt = await gas.track('Provenance.setRollup', fresh.setRollup(fakeRollup.address));
      expect(oneEvent(receipt, 'RollupWired', fresh).args.toArray()).toEqual([fakeRollup.address]);
      expect(await fresh.rollup()).toBe(fakeRollup.address);
    });

    it('setRollup follows the Gateway governance after a hand-over', async () => {
      await gas.track('Gateway.transferGovernance', c.gateway.transferGovernance(acct(3).address));
      await gas.track('Gateway.acceptGovernance', c.gateway.connect(acct(3)).acceptGovernance());
      await expectRevert(fresh.setRollup(fakeRollup.address), fresh.interface, 'NotGovernance', [acct(0).address]);
      await gas.track('Provenance.setRollup', fresh.connect(acct(3)).setRollup(fakeRollup.address));
      expect(await fresh.rollup()).toBe(fakeRollup.address);
    });
  });
});
