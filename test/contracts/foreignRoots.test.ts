/**
 * ForeignRoots and RootPublisher over real Hyperlane core on two anvil chains: settlement 31337
 * (Rollup, RootPublisher, Mailbox, MerkleTreeHook) and partner 31338 (Mailbox, 3-of-4
 * StorageMessageIdMultisigIsm, ForeignRoots). Batch roots are real Poseidon state roots of a
 * RollupState, so account proofs against the relayed roots are real.
 */
import { AbiCoder, Wallet, concat, getBytes, hexlify } from 'ethers';
import { ForeignRoots__factory, RootPublisher__factory } from '../../contracts/types/index.js';
import { shutdownProver } from '../../prover/groth16.js';
import type { RollupState } from '../../prover/state.js';
import { checkpointSigner, messageIdMultisigMetadata, signCheckpoint } from '../../relay/checkpoint.js';
import { addressToBytes32, mailboxAt, merkleTreeHookAt, multisigIsmAt } from '../../relay/hyperlane.js';
import { decodeRootMessage, encodeRootMessage, hyperlaneMessage } from '../../relay/message.js';
import { GasTable } from '../helpers/gas.js';
import {
  MAX_UINT64,
  PARTNER_ID,
  PROFILE,
  SETTLEMENT_ID,
  checkpointFor,
  checkpointTreeOf,
  dispatchedIn,
  finalizeBatch,
  metadataFor,
  partnerMailbox,
  patientState,
  publishAll,
  setIndexHash,
  signatures,
  startRelayChains,
  type Dispatched,
  type RelayChains,
} from '../helpers/relay.js';
import { expectRevert, revertData } from '../helpers/revert.js';

const gas = new GasTable('relay (Hyperlane multisig ISM 3 of 4, ForeignRoots)');
let r: RelayChains;
let snaps: [string, string] | undefined;

const INDEX_HASH_0 = 0xabc123n;
const INDEX_HASH_1 = 0xdef456n;
/** State after batch 0 and after batch 1 (account 1 updates its index hash in batch 1). */
let states: RollupState[] = [];
let patient: { secret: Uint8Array; account: number };

beforeAll(async () => {
  r = await startRelayChains();
  const { state, secret, account } = patientState();
  patient = { secret, account };
  setIndexHash(state, secret, account, INDEX_HASH_0);
  const after0 = state.clone();
  setIndexHash(state, secret, account, INDEX_HASH_1);
  states = [after0, state];
}, 90_000);

beforeEach(async () => {
  snaps = [await r.settlement.snapshot(), await r.partner.snapshot()];
});

afterEach(async () => {
  if (snaps) await Promise.all([r.settlement.revert(snaps[0]), r.partner.revert(snaps[1])]);
  snaps = undefined;
});

afterAll(async () => {
  gas.print();
  await r?.stop();
  await shutdownProver();
});

/** Asserts a revert with require(..., reason): Error(string). */
async function expectReason(call: Promise<unknown>, reason: string): Promise<void> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeDefined();
  const data = revertData(err);
  expect(data?.slice(0, 10)).toBe('0x08c379a0');
  expect(AbiCoder.defaultAbiCoder().decode(['string'], `0x${data!.slice(10)}`)[0]).toBe(reason);
}

async function finalizeStates(n = states.length): Promise<void> {
  for (let i = 0; i < n; i++) await finalizeBatch(r.c, states[i]!.root);
}

async function deliver(d: Dispatched, metadata?: string) {
  return gas.track('Mailbox.process (3 of 4 sigs, ForeignRoots.handle)', partnerMailbox(r).getFunction('process')(metadata ?? (await metadataFor(r, d)), d.message.bytes));
}

function proofOf(state: RollupState, account: number) {
  return { account, ...state.accountFields(account), siblings: state.accountPath(account) };
}

describe('RootPublisher -> Mailbox -> ForeignRoots', () => {
  it('accepts published roots equal to the Rollup batches, and the checkpoint tree matches the hook', async () => {
    await finalizeStates();
    expect(await r.publisher.pending()).toBe(2n);
    const { receipt, dispatched } = await publishAll(r);
    gas.add('RootPublisher.publish (2 batches)', receipt);
    expect(dispatched).toHaveLength(2);
    expect(await r.publisher.published()).toBe(2n);
    for (const [i, d] of dispatched.entries()) {
      const body = decodeRootMessage(d.message.body);
      expect(body).toEqual({ originChainId: SETTLEMENT_ID, rollup: await r.c.rollup.getAddress(), batchIndex: i, stateRoot: states[i]!.root, commitment: (await r.c.rollup.batch(i)).commitment });
      expect(d.message.origin).toBe(SETTLEMENT_ID);
      expect(d.message.destination).toBe(PARTNER_ID);
      const delivery = await deliver(d);
      const accepted = delivery.logs.map((l) => r.foreignRoots.interface.parseLog(l)).find((e) => e?.name === 'ForeignRootAccepted');
      expect(accepted?.args.toObject()).toEqual({
        origin: BigInt(SETTLEMENT_ID),
        batchIndex: BigInt(i),
        rollup: await r.c.rollup.getAddress(),
        stateRoot: states[i]!.root,
        commitment: body.commitment,
      });
      const stored = await r.foreignRoots.foreignRoot(SETTLEMENT_ID, i);
      const batch = await r.c.rollup.batch(i);
      expect(stored.stateRoot).toBe(batch.stateRoot);
      expect(stored.commitment).toBe(batch.commitment);
    }
    expect(await r.foreignRoots.acceptedCount(SETTLEMENT_ID)).toBe(2n);

    // More dispatches (the publisher's and other senders'); the off-chain tree follows the hook.
    await finalizeBatch(r.c, states[1]!.root);
    await publishAll(r);
    const mailbox = mailboxAt(r.relay.settlement.Mailbox, r.settlement.accounts[4]!);
    for (let i = 0; i < 3; i++) await (await mailbox.getFunction('dispatch(uint32,bytes32,bytes)')(PARTNER_ID, addressToBytes32(r.settlement.accounts[4]!.address), hexlify(new Uint8Array([i])))).wait();
    const hook = merkleTreeHookAt(r.relay.settlement.MerkleTreeHook, r.settlement.provider);
    const tree = await checkpointTreeOf(r.settlement.provider, r.relay.settlement.MerkleTreeHook);
    expect(tree.count).toBe(6);
    expect(await hook.getFunction('root')()).toBe(tree.root());
    const [root, index] = (await hook.getFunction('latestCheckpoint')()) as [string, bigint];
    expect(root).toBe(tree.root());
    expect(index).toBe(5n);
    expect(await hook.getFunction('count')()).toBe(6n);
  });

  it('signs checkpoints the destination ISM verifies, in the shape the relayer expects', async () => {
    await finalizeStates(1);
    const [d] = (await publishAll(r)).dispatched;
    const fields = await checkpointFor(r, d!);
    const signed = await signCheckpoint(r.validators[0]!, fields);
    expect(checkpointSigner(signed)).toBe(r.validators[0]!.address);
    const ism = multisigIsmAt(r.relay.partner.MultisigIsm, r.partner.provider);
    const [validators, threshold] = (await ism.getFunction('validatorsAndThreshold')(d!.message.bytes)) as [string[], bigint];
    expect(validators).toEqual(r.validators.map((v) => v.address));
    expect(threshold).toBe(3n);
    expect(await ism.getFunction('verify')(await metadataFor(r, d!), d!.message.bytes)).toBe(true);
  });
});

describe('forged deliveries', () => {
  let d: Dispatched;
  beforeEach(async () => {
    await finalizeStates(1);
    d = (await publishAll(r)).dispatched[0]!;
  });

  afterEach(async () => {
    // Nothing forged got in.
    expect(await r.foreignRoots.acceptedCount(SETTLEMENT_ID)).toBe(0n);
  });

  it('rejects a body altered after the validators signed the original message id', async () => {
    const metadata = await metadataFor(r, d);
    const body = decodeRootMessage(d.message.body);
    const forgedBody = encodeRootMessage({ ...body, stateRoot: body.stateRoot + 1n });
    const bytes = getBytes(d.message.bytes);
    const forged = hexlify(concat([bytes.slice(0, 77), forgedBody]));
    expect(hyperlaneMessage(forged).id).not.toBe(d.message.id);
    await expectReason(partnerMailbox(r).getFunction('process')(metadata, forged), '!threshold');
  });

  it('rejects signatures of only 2 of 4 validators (the ISM reads past the metadata: empty revert)', async () => {
    const metadata = await metadataFor(r, d, r.validators.slice(0, 2));
    const err = await partnerMailbox(r)
      .getFunction('process')
      .staticCall(metadata, d.message.bytes)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeDefined();
    expect(revertData(err) ?? '0x').toBe('0x'); // calldata slice out of bounds: no reason
    expect(await partnerMailbox(r).getFunction('delivered')(d.message.id)).toBe(false);
  });

  it('rejects 3 signatures by non-validators', async () => {
    const strangers = Array.from({ length: 3 }, () => Wallet.createRandom());
    await expectReason(partnerMailbox(r).getFunction('process')(await metadataFor(r, d, strangers), d.message.bytes), '!threshold');
  });

  it("rejects the same validator's signature three times", async () => {
    const v = r.validators[0]!;
    await expectReason(partnerMailbox(r).getFunction('process')(await metadataFor(r, d, [v, v, v]), d.message.bytes), '!threshold');
  });

  it('rejects signatures out of validator order', async () => {
    const [a, b, c] = r.validators as [Wallet, Wallet, Wallet];
    await expectReason(partnerMailbox(r).getFunction('process')(await metadataFor(r, d, [b, a, c]), d.message.bytes), '!threshold');
    await expectReason(partnerMailbox(r).getFunction('process')(await metadataFor(r, d, [c, b, a]), d.message.bytes), '!threshold');
  });

  it('rejects a checkpoint with another root or index than the validators signed', async () => {
    const fields = await checkpointFor(r, d);
    const sigs = await signatures(r.validators.slice(0, 3), fields);
    const wrongRoot = messageIdMultisigMetadata({ ...fields, root: `0x${'11'.repeat(32)}` }, sigs);
    await expectReason(partnerMailbox(r).getFunction('process')(wrongRoot, d.message.bytes), '!threshold');
    const wrongIndex = messageIdMultisigMetadata({ ...fields, index: fields.index + 1 }, sigs);
    await expectReason(partnerMailbox(r).getFunction('process')(wrongIndex, d.message.bytes), '!threshold');
  });
});

describe('ForeignRoots.handle', () => {
  it('rejects a root dispatched by someone other than the enrolled RootPublisher', async () => {
    await finalizeStates(1);
    const impostor = r.settlement.accounts[4]!;
    const body = encodeRootMessage({ originChainId: SETTLEMENT_ID, rollup: await r.c.rollup.getAddress(), batchIndex: 0, stateRoot: 12345n, commitment: `0x${'22'.repeat(32)}` });
    const mailbox = mailboxAt(r.relay.settlement.Mailbox, impostor);
    const receipt = await (await mailbox.getFunction('dispatch(uint32,bytes32,bytes)')(PARTNER_ID, addressToBytes32(r.relay.partner.ForeignRoots), body)).wait();
    const [d] = dispatchedIn(receipt);
    // Validators attest it honestly: it is a real dispatch; the ISM accepts, the receiver does not.
    const metadata = await metadataFor(r, d!);
    expect(await multisigIsmAt(r.relay.partner.MultisigIsm, r.partner.provider).getFunction('verify')(metadata, d!.message.bytes)).toBe(true);
    await expectRevert(partnerMailbox(r).getFunction('process')(metadata, d!.message.bytes), r.foreignRoots.interface, 'UnknownSender', [
      BigInt(SETTLEMENT_ID),
      addressToBytes32(impostor.address),
    ]);
    expect(await r.foreignRoots.acceptedCount(SETTLEMENT_ID)).toBe(0n);
  });

  it('rejects handle() called directly by an EOA', async () => {
    const eoa = r.partner.accounts[3]!;
    const body = encodeRootMessage({ originChainId: SETTLEMENT_ID, rollup: await r.c.rollup.getAddress(), batchIndex: 0, stateRoot: 1n, commitment: `0x${'00'.repeat(32)}` });
    await expectRevert(r.foreignRoots.connect(eoa).handle(SETTLEMENT_ID, addressToBytes32(r.relay.settlement.RootPublisher), body), r.foreignRoots.interface, 'NotMailbox', [
      eoa.address,
    ]);
  });

  it('refuses a second delivery of the same message', async () => {
    await finalizeStates(1);
    const [d] = (await publishAll(r)).dispatched;
    const metadata = await metadataFor(r, d!);
    await deliver(d!, metadata);
    await expectReason(partnerMailbox(r, r.partner.accounts[7]!).getFunction('process')(metadata, d!.message.bytes), 'Mailbox: already delivered');
    expect(await r.foreignRoots.acceptedCount(SETTLEMENT_ID)).toBe(1n);
  });

  it('accepts roots only in batch order', async () => {
    await finalizeStates(2);
    const { dispatched } = await publishAll(r);
    expect(dispatched.map((d) => decodeRootMessage(d.message.body).batchIndex)).toEqual([0, 1]);
    await expectRevert(partnerMailbox(r).getFunction('process')(await metadataFor(r, dispatched[1]!), dispatched[1]!.message.bytes), r.foreignRoots.interface, 'OutOfOrder', [0n, 1n]);
    await expectRevert(r.foreignRoots.foreignRoot(SETTLEMENT_ID, 1), r.foreignRoots.interface, 'UnknownRoot', [BigInt(SETTLEMENT_ID), 1n]);
    await deliver(dispatched[0]!);
    await deliver(dispatched[1]!);
    expect(await r.foreignRoots.acceptedCount(SETTLEMENT_ID)).toBe(2n);
  });

  it('publish() with nothing pending is a no-op and never publishes a batch twice', async () => {
    const publisher = r.publisher.connect(r.settlement.accounts[8]!);
    expect(await publisher.publish.staticCall(MAX_UINT64)).toBe(0n);
    const empty = await (await publisher.publish(MAX_UINT64)).wait();
    expect(dispatchedIn(empty!)).toHaveLength(0);
    await finalizeStates(1);
    expect((await publishAll(r)).dispatched).toHaveLength(1);
    expect(await publisher.publish.staticCall(MAX_UINT64)).toBe(0n);
    const again = await (await r.publisher.connect(r.settlement.accounts[7]!).publish(MAX_UINT64)).wait();
    expect(dispatchedIn(again!)).toHaveLength(0);
    expect(await r.publisher.published()).toBe(1n);
    // upTo caps what one call publishes.
    await finalizeStates(2);
    expect(await publisher.publish.staticCall(1)).toBe(0n);
    const one = await (await publisher.publish(2)).wait();
    expect(dispatchedIn(one!).map((d) => decodeRootMessage(d.message.body).batchIndex)).toEqual([1]);
  });
});

describe('account proofs against foreign roots', () => {
  const ACCOUNT = 1;
  beforeEach(async () => {
    await finalizeStates(2);
    for (const d of (await publishAll(r)).dispatched) await deliver(d);
  });

  it('verifyForeignRecord: true for the right index hash, false for a wrong one or a tampered path', async () => {
    const p0 = proofOf(states[0]!, ACCOUNT);
    const p1 = proofOf(states[1]!, ACCOUNT);
    expect(p0.indexHash).toBe(INDEX_HASH_0);
    expect(p1.indexHash).toBe(INDEX_HASH_1);
    expect(p0.siblings).toHaveLength(PROFILE.treeDepth);
    expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 0, ACCOUNT, INDEX_HASH_0, p0)).toBe(true);
    expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_1, p1)).toBe(true);
    // The old index hash is not in the newer root, nor the newer in the old one.
    expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_0, p0)).toBe(false);
    expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 0, ACCOUNT, INDEX_HASH_1, p1)).toBe(false);
    // A wrong index hash, claimed with or without changing the leaf.
    expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_1 + 1n, p1)).toBe(false);
    expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_1 + 1n, { ...p1, indexHash: INDEX_HASH_1 + 1n })).toBe(false);
    // Another account index with the same leaf.
    expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 1, 2, INDEX_HASH_1, { ...p1, account: 2 })).toBe(false);
    // A tampered sibling at each level.
    for (const level of [0, 4, PROFILE.treeDepth - 1]) {
      const siblings = [...p1.siblings];
      siblings[level] = siblings[level]! + 1n;
      expect(await r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_1, { ...p1, siblings })).toBe(false);
    }
    const estimate = await r.foreignRoots.verifyForeignRecord.estimateGas(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_1, p1);
    console.log(`verifyForeignRecord (depth ${PROFILE.treeDepth}) estimateGas: ${estimate}`);
    gas.add(`verifyForeignRecord estimateGas (depth ${PROFILE.treeDepth})`, { gasUsed: estimate } as Parameters<GasTable['add']>[1]);
  });

  it('verifyForeignRecord reverts BadProofLength for a short path and UnknownRoot for a batch not received', async () => {
    const p1 = proofOf(states[1]!, ACCOUNT);
    await expectRevert(
      r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_1, { ...p1, siblings: p1.siblings.slice(1) }),
      r.foreignRoots.interface,
      'BadProofLength',
      [BigInt(PROFILE.treeDepth), BigInt(PROFILE.treeDepth - 1)],
    );
    await expectRevert(r.foreignRoots.verifyForeignRecord(SETTLEMENT_ID, 2, ACCOUNT, INDEX_HASH_1, p1), r.foreignRoots.interface, 'UnknownRoot', [BigInt(SETTLEMENT_ID), 2n]);
    await expectRevert(r.foreignRoots.verifyForeignRecord(PARTNER_ID, 0, ACCOUNT, INDEX_HASH_1, p1), r.foreignRoots.interface, 'UnknownRoot', [BigInt(PARTNER_ID), 0n]);
  });

  it('verifyForeignIdentity: true for the registered key, false for another', async () => {
    const p1 = proofOf(states[1]!, ACCOUNT);
    expect(await r.foreignRoots.verifyForeignIdentity(SETTLEMENT_ID, 1, ACCOUNT, p1.pubX, p1.pubY, p1)).toBe(true);
    expect(await r.foreignRoots.verifyForeignIdentity(SETTLEMENT_ID, 1, ACCOUNT, p1.pubX, p1.pubY + 1n, p1)).toBe(false);
    expect(await r.foreignRoots.verifyForeignIdentity(SETTLEMENT_ID, 1, ACCOUNT, p1.pubX, p1.pubY + 1n, { ...p1, pubY: p1.pubY + 1n })).toBe(false);
    expect(await r.foreignRoots.verifyForeignIdentity(SETTLEMENT_ID, 1, ACCOUNT + 1, p1.pubX, p1.pubY, p1)).toBe(false);
    // Account 6 is registered too; its own proof holds, account 1's key does not fit it.
    const p6 = proofOf(states[1]!, 6);
    expect(await r.foreignRoots.verifyForeignIdentity(SETTLEMENT_ID, 1, 6, p6.pubX, p6.pubY, p6)).toBe(true);
    expect(await r.foreignRoots.verifyForeignIdentity(SETTLEMENT_ID, 1, 6, p1.pubX, p1.pubY, { ...p6, pubX: p1.pubX, pubY: p1.pubY })).toBe(false);
    // An empty leaf is nobody.
    const empty = proofOf(states[1]!, 3);
    expect(await r.foreignRoots.verifyForeignIdentity(SETTLEMENT_ID, 1, 3, 0n, 0n, empty)).toBe(false);
    expect(patient.account).toBe(ACCOUNT);
  });

  it('attestForeignRecord emits ForeignRecordVerified, and reverts NotInForeignRoot on a bad proof', async () => {
    const p1 = proofOf(states[1]!, ACCOUNT);
    const verifier = r.partner.accounts[5]!;
    const fr = r.foreignRoots.connect(verifier);
    const receipt = await gas.track('ForeignRoots.attestForeignRecord', fr.attestForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_1, p1));
    const event = receipt.logs.map((l) => fr.interface.parseLog(l)).find((e) => e?.name === 'ForeignRecordVerified');
    expect(event?.args.toObject()).toEqual({ origin: BigInt(SETTLEMENT_ID), batchIndex: 1n, account: BigInt(ACCOUNT), indexHash: INDEX_HASH_1, verifier: verifier.address });
    await expectRevert(fr.attestForeignRecord(SETTLEMENT_ID, 1, ACCOUNT, INDEX_HASH_0, p1), fr.interface, 'NotInForeignRoot', [BigInt(SETTLEMENT_ID), 1n, BigInt(ACCOUNT)]);
  });
});

describe('governance', () => {
  it('only governance sets the security module or enrols origins', async () => {
    const outsider = r.partner.accounts[2]!;
    const fr = r.foreignRoots.connect(outsider);
    const rollup = await r.c.rollup.getAddress();
    await expectRevert(fr.setInterchainSecurityModule(outsider.address), fr.interface, 'NotGovernance', [outsider.address]);
    await expectRevert(fr.enrollOrigin(SETTLEMENT_ID, addressToBytes32(outsider.address), rollup, PROFILE.treeDepth, 0), fr.interface, 'NotGovernance', [outsider.address]);
    // Governance can, within bounds.
    await expectRevert(r.foreignRoots.setInterchainSecurityModule(`0x${'00'.repeat(20)}`), fr.interface, 'ZeroAddress');
    await expectRevert(r.foreignRoots.enrollOrigin(SETTLEMENT_ID, addressToBytes32(outsider.address), rollup, 33, 0), fr.interface, 'BadTreeDepth', [33n]);
    const module = r.relay.partner.MultisigIsm;
    await (await r.foreignRoots.setInterchainSecurityModule(module)).wait();
    expect(await r.foreignRoots.interchainSecurityModule()).toBe(module);
    // The publisher's routes likewise.
    const pub = RootPublisher__factory.connect(r.relay.settlement.RootPublisher, r.settlement.accounts[2]!);
    await expectRevert(pub.addRoute(1, addressToBytes32(outsider.address)), pub.interface, 'NotGovernance', [r.settlement.accounts[2]!.address]);
    await expectRevert(pub.removeRoute(PARTNER_ID), pub.interface, 'NotGovernance', [r.settlement.accounts[2]!.address]);
    expect(ForeignRoots__factory.abi.length).toBeGreaterThan(0);
  });
});
