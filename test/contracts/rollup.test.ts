import { Interface, ZeroHash, getBytes, keccak256, sha256 } from 'ethers';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { useSettlementChain, babyJubKey } from '../helpers/chain.js';
import { expectRevert } from '../helpers/revert.js';
import { GasTable } from '../helpers/gas.js';
import { prepareBatch, queuedOps, randomRecord, randomRoot, submit } from '../helpers/batches.js';
import { publicInput, type ForcedOp } from '../../prover/codec.js';
import { txTree, txLeaf } from '../../prover/l1Record.js';
import { BN254_SCALAR_FIELD, shutdownProver } from '../../prover/groth16.js';
import { Gateway__factory } from '../../contracts/types/index.js';

const DEADLINE = 20;
const gas = new GasTable('Rollup');
const { chain, c } = useSettlementChain({ gas, deploy: DEADLINE, after: shutdownProver });
// Reverts bubbling up from the Gateway carry its errors; decode with both ABIs.
const errors = new Interface([...Gateway__factory.abi.filter((f) => f.type === 'error')]);

async function registerPatients(n: number): Promise<ForcedOp[]> {
  const ops: ForcedOp[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = babyJubKey();
    const receipt = await (await c.gateway.connect(chain.accounts[5]!).registerPatient(x, y, chain.accounts[5]!.address)).wait();
    ops.push(...queuedOps(c.gateway, receipt!));
  }
  return ops;
}

const records = (n: number) => Array.from({ length: n }, () => randomRecord(c.txRecordBytes));

describe('Rollup.submitBatch', () => {
  it('verifies a real Groth16 proof, moves the root and records the batch', async () => {
    const txRecords = records(5);
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords });
    const receipt = await gas.track('Rollup.submitBatch (5 txs)', submit(c.rollup, s));

    expect(await c.rollup.stateRoot()).toBe(s.newRoot);
    expect(await c.rollup.batchCount()).toBe(1n);
    const info = await c.rollup.batch(0);
    expect(info.stateRoot).toBe(s.newRoot);
    expect(info.commitment).toBe(sha256(s.data));
    expect(getBytes(s.data).length).toBe(Number(await c.rollup.batchDataBytes()));
    expect(info.txCount).toBe(5n);
    expect(info.l1Block).toBe(BigInt(receipt.blockNumber));
    // The L1 record is the SimpleMerkleTree of the transaction leaves, rebuilt off chain.
    const tree = txTree(0, txRecords);
    expect(info.txRoot).toBe(tree.root);

    const event = receipt.logs.map((l) => c.rollup.interface.parseLog(l)).find((e) => e?.name === 'BatchFinalized');
    expect(event?.args.toObject()).toMatchObject({
      batchIndex: 0n,
      oldRoot: c.genesisRoot,
      newRoot: s.newRoot,
      commitment: sha256(s.data),
      txRoot: tree.root,
      txCount: 5n,
      forcedCount: 0n,
      timestamp: info.timestamp,
      provenanceRoot: ZeroHash,
    });
    expect(info.timestamp).toBe(BigInt((await chain.provider.getBlock(receipt.blockNumber - 1))!.timestamp));
  });

  it('computes the same public input as the off-chain library', async () => {
    const old = randomRoot();
    const next = randomRoot();
    const commitment = keccak256('0x1234');
    expect(await c.rollup.publicInput(old, next, commitment)).toBe(publicInput(old, next, commitment));
    expect(publicInput(old, next, commitment) < BN254_SCALAR_FIELD).toBe(true);
  });

  it('chains batches: each starts from the previous root', async () => {
    for (const size of [1, 2, 8]) {
      const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(size) });
      await gas.track(`Rollup.submitBatch (${size} txs)`, submit(c.rollup, s));
    }
    expect(await c.rollup.batchCount()).toBe(3n);
  });

  it('proves transaction inclusion against the L1 record for every position', async () => {
    const txRecords = records(7);
    await (await submit(c.rollup, await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) }))).wait();
    await (await submit(c.rollup, await prepareBatch(c.rollup, { forcedOps: [], txRecords }))).wait();
    const tree = txTree(1, txRecords);
    for (let i = 0; i < txRecords.length; i++) {
      const leaf = txLeaf(1, i, keccak256(txRecords[i]!));
      expect(await c.rollup.isTxFinalized(1, leaf, tree.getProof(i))).toBe(true);
      // Same transaction claimed in another batch or position is not in the record.
      expect(await c.rollup.isTxFinalized(0, leaf, tree.getProof(i))).toBe(false);
      expect(await c.rollup.isTxFinalized(1, txLeaf(1, i + 1, keccak256(txRecords[i]!)), tree.getProof(i))).toBe(false);
    }
    expect(await c.rollup.isTxFinalized(9, txLeaf(9, 0, keccak256(txRecords[0]!)), [])).toBe(false);
  });

  it('anchors the batch provenance root', async () => {
    const tree = StandardMerkleTree.of([[1, keccak256('0x01'), 1, keccak256('0x02')]], ['uint32', 'bytes32', 'uint32', 'bytes32']);
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), provenanceRoot: tree.root });
    await gas.track('Rollup.submitBatch (1 tx + provenance)', submit(c.rollup, s));
    expect(await c.provenance.isAnchored(tree.root)).toBe(true);
    const anchor = await c.provenance.rollupAnchorOf(tree.root);
    expect(anchor.batchIndex).toBe(0n);
    expect(anchor.l1Block).toBeGreaterThan(0n);
  });

  it('is not stopped by an institution anchoring the batch provenance root first', async () => {
    const tree = StandardMerkleTree.of([[1, keccak256('0x03'), 1, keccak256('0x04')]], ['uint32', 'bytes32', 'uint32', 'bytes32']);
    const [x, y] = babyJubKey();
    const lab = chain.accounts[3]!;
    await (await c.gateway.registerInstitution(lab.address, 2, x, y, 'did:web:lab.example')).wait();
    await (await c.provenance.connect(lab).anchor(tree.root)).wait();
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), provenanceRoot: tree.root });
    await (await submit(c.rollup, s)).wait();
    expect((await c.provenance.rollupAnchorOf(tree.root)).l1Block).toBeGreaterThan(0n);
    expect((await c.provenance.institutionAnchorOf(tree.root)).anchoredBy).toBe(lab.address);
    // A later batch touching the same record set keeps the first batch's anchor.
    const again = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), provenanceRoot: tree.root });
    await (await submit(c.rollup, again)).wait();
    expect((await c.provenance.rollupAnchorOf(tree.root)).batchIndex).toBe(0n);
  });

  it('rejects a wrong old root', async () => {
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) });
    await expectRevert(c.rollup.submitBatch(s.oldRoot + 1n, s.newRoot, s.data, s.proof), c.rollup.interface, 'WrongOldRoot', [
      s.oldRoot,
      s.oldRoot + 1n,
    ]);
    // A batch proven against a root that has since moved is stale.
    await (await submit(c.rollup, s)).wait();
    await expectRevert(submit(c.rollup, s), c.rollup.interface, 'WrongOldRoot');
  });

  it('rejects a proof that does not match the batch', async () => {
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(2) });
    const other = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(2) });
    // Proof of another batch's public input.
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot, s.data, other.proof), c.rollup.interface, 'InvalidProof');
    // Same proof, tampered data (changes the commitment).
    const tampered = s.data.slice(0, -2) + (s.data.endsWith('00') ? '01' : '00');
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot, tampered, s.proof), c.rollup.interface, 'InvalidProof');
    // Same proof, another new root.
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot + 1n, s.data, s.proof), c.rollup.interface, 'InvalidProof');
    // Tampered proof point.
    const bad = { ...s.proof, c: [s.proof.c[0], s.proof.c[1] + 1n] as [bigint, bigint] };
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot, s.data, bad), c.rollup.interface, 'InvalidProof');
    expect(await c.rollup.batchCount()).toBe(0n);
  });

  it('rejects malformed, empty and out-of-field batches', async () => {
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) });
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot, '0x0000', s.proof), c.rollup.interface, 'MalformedBatch', [2n]);
    // Counts beyond the slots.
    const tooMany = '0x' + '00000003' + '00000009' + s.data.slice(2 + 16);
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot, tooMany, s.proof), c.rollup.interface, 'TooManyOperations', [3n, 9n]);
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot, s.data + 'ff', s.proof), c.rollup.interface, 'MalformedBatch');
    await expectRevert(c.rollup.submitBatch(s.oldRoot, s.newRoot, s.data.slice(0, -2), s.proof), c.rollup.interface, 'MalformedBatch');
    const empty = await prepareBatch(c.rollup, { forcedOps: [], txRecords: [] });
    await expectRevert(submit(c.rollup, empty), c.rollup.interface, 'EmptyBatch');
    await expectRevert(c.rollup.submitBatch(s.oldRoot, BN254_SCALAR_FIELD, s.data, s.proof), c.rollup.interface, 'RootOutOfField', [
      BN254_SCALAR_FIELD,
    ]);
  });

  it('rejects a batch timestamp ahead of L1 or behind the previous batch', async () => {
    const now = BigInt((await chain.provider.getBlock('latest'))!.timestamp);
    const future = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), timestamp: now + 3600n });
    await expectRevert(submit(c.rollup, future), c.rollup.interface, 'BadTimestamp');
    await (await submit(c.rollup, await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), timestamp: now }))).wait();
    expect(await c.rollup.lastTimestamp()).toBe(now);
    const past = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), timestamp: now - 1n });
    await expectRevert(submit(c.rollup, past), c.rollup.interface, 'BadTimestamp');
  });

  it('accepts batches only from the operator while nothing is overdue', async () => {
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) });
    await expectRevert(submit(c.rollup, s, chain.accounts[7]), c.rollup.interface, 'NotOperator', [chain.accounts[7]!.address]);
  });
});

describe('forced operations', () => {
  it('consumes queued operations in order, split across batches', async () => {
    const ops = await registerPatients(3);
    expect(await c.gateway.forcedQueueLength()).toBe(3n);
    const first = await prepareBatch(c.rollup, { forcedOps: ops.slice(0, 2), txRecords: records(1) });
    await gas.track('Rollup.submitBatch (2 forced + 1 tx)', submit(c.rollup, first));
    expect(await c.gateway.forcedHead()).toBe(2n);
    const second = await prepareBatch(c.rollup, { forcedOps: ops.slice(2), txRecords: [] });
    await gas.track('Rollup.submitBatch (1 forced)', submit(c.rollup, second));
    expect(await c.gateway.forcedHead()).toBe(3n);
    expect((await c.rollup.batch(1)).forcedCount).toBe(1n);
  });

  it('consumes a forced consent revocation', async () => {
    const ops = await registerPatients(2);
    const receipt = await (await c.gateway.connect(chain.accounts[5]!).forceRevokeConsent(1, 2, 1, 3)).wait();
    ops.push(...queuedOps(c.gateway, receipt!));
    expect(ops[2]).toMatchObject({ kind: 2, account: 1, counterpart: 2, a: 1n, b: 3n });
    // Three operations, two slots per batch: two batches.
    await (await submit(c.rollup, await prepareBatch(c.rollup, { forcedOps: ops.slice(0, 2), txRecords: [] }))).wait();
    await (await submit(c.rollup, await prepareBatch(c.rollup, { forcedOps: ops.slice(2), txRecords: [] }))).wait();
    expect(await c.gateway.forcedHead()).toBe(3n);
  });

  it('rejects a batch that skips a forced operation', async () => {
    const ops = await registerPatients(2);
    const skipping = await prepareBatch(c.rollup, { forcedOps: [ops[1]!], txRecords: records(1) });
    await expectRevert(submit(c.rollup, skipping), errors, 'ForcedOperationMismatch');
    const reordered = await prepareBatch(c.rollup, { forcedOps: [ops[1]!, ops[0]!], txRecords: [] });
    await expectRevert(submit(c.rollup, reordered), errors, 'ForcedOperationMismatch');
    const altered = await prepareBatch(c.rollup, { forcedOps: [{ ...ops[0]!, a: ops[0]!.a + 1n }], txRecords: [] });
    await expectRevert(submit(c.rollup, altered), errors, 'ForcedOperationMismatch');
    expect(await c.gateway.forcedHead()).toBe(0n);
  });

  it('rejects a batch claiming operations that were never queued', async () => {
    const ops = await registerPatients(1);
    const invented: ForcedOp = { kind: 1, account: 2, counterpart: 0, a: 1n, b: 2n };
    const s = await prepareBatch(c.rollup, { forcedOps: [ops[0]!, invented], txRecords: [] });
    await expectRevert(submit(c.rollup, s), errors, 'ForcedOperationNotQueued', [1n]);
  });

  it('rejects batches that leave an overdue operation out, and then lets anyone include it', async () => {
    const ops = await registerPatients(1);
    await chain.provider.send('evm_increaseTime', [DEADLINE + 1]);
    await chain.mine(DEADLINE + 1);
    expect(await c.gateway.forcedQueueOverdue()).toBe(true);
    const ignoring = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) });
    await expectRevert(submit(c.rollup, ignoring), errors, 'ForcedOperationOverdue');
    // The operator stalls: any account may now submit a batch that includes the operation.
    const outsider = chain.accounts[8]!;
    const including = await prepareBatch(c.rollup, { forcedOps: ops, txRecords: [] });
    await gas.track('Rollup.submitBatch (overdue, by anyone)', submit(c.rollup, including, outsider));
    expect(await c.gateway.forcedQueueOverdue()).toBe(false);
    // Once nothing is overdue, the operator alone submits again.
    const next = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) });
    await expectRevert(submit(c.rollup, next, outsider), c.rollup.interface, 'NotOperator');
  });

  it('accepts a batch that fills its forced slots while later operations are overdue: a backlog drains', async () => {
    const ops = await registerPatients(3);
    await chain.provider.send('evm_increaseTime', [DEADLINE + 1]);
    await chain.mine(DEADLINE + 1);
    expect(await c.rollup.maxForcedOps()).toBe(2n);
    // ops[2] is overdue and left out, but both forced slots are used.
    const full = await prepareBatch(c.rollup, { forcedOps: [ops[0]!, ops[1]!], txRecords: records(1) });
    await (await submit(c.rollup, full)).wait();
    expect(await c.gateway.forcedHead()).toBe(2n);
    // A free slot and ops[2] still out: refused.
    const skipping = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) });
    await expectRevert(submit(c.rollup, skipping), errors, 'ForcedOperationOverdue');
    const last = await prepareBatch(c.rollup, { forcedOps: [ops[2]!], txRecords: [] });
    await (await submit(c.rollup, last)).wait();
    expect(await c.gateway.forcedHead()).toBe(3n);
  });

  it('judges a batch that skips an overdue operation by its own timestamp, not by when its proof lands', async () => {
    await registerPatients(1);
    const [, , queuedAtTime] = await c.gateway.forcedOpAt(0);
    // Opened within D seconds of the queueing: its proof may land long after the block deadline.
    const early = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), timestamp: queuedAtTime + BigInt(DEADLINE) });
    await chain.provider.send('evm_increaseTime', [DEADLINE + 5]);
    await chain.mine(DEADLINE + 1);
    expect(await c.gateway.forcedQueueOverdue()).toBe(true);
    await (await submit(c.rollup, early)).wait();
    expect(await c.gateway.forcedHead()).toBe(0n);
    // Opened later than that with a free forced slot: the sequencer could have included it.
    const lateNow = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1), timestamp: queuedAtTime + BigInt(DEADLINE) + 1n });
    await expectRevert(submit(c.rollup, lateNow), errors, 'ForcedOperationOverdue', [0n, expect.any(BigInt)]);
  });

  it('accepts an operation not yet overdue being left for a later batch', async () => {
    await registerPatients(1);
    const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: records(1) });
    await (await submit(c.rollup, s)).wait();
    expect(await c.gateway.forcedHead()).toBe(0n);
  });
});

describe('Rollup deployment checks', () => {
  it('refuses a genesis root outside the field and a zero record size', async () => {
    const { Rollup__factory } = await import('../../contracts/types/index.js');
    const factory = new Rollup__factory(c.governance);
    const args = [await c.gateway.getAddress(), await c.rollup.verifier(), await c.provenance.getAddress()] as const;
    await expectRevert(factory.deploy(...args, BN254_SCALAR_FIELD, 47, 8, 2), c.rollup.interface, 'InvalidConfig');
    await expectRevert(factory.deploy(...args, 0n, 0, 8, 2), c.rollup.interface, 'InvalidConfig');
    await expectRevert(factory.deploy(...args, 0n, 47, 0, 2), c.rollup.interface, 'InvalidConfig');
  });
});
