/**
 * Council: EIP-712 proposals signed by a 2f+1 quorum of institution members, executed by anyone;
 * self-governed members and batching policy; governance of the Gateway through the two-step
 * hand-over. Members are the devnet council keys (unfunded: they only sign); account 5 submits.
 */
import { Interface, ZeroAddress, ethers, type HDNodeWallet, type TypedDataDomain } from 'ethers';
import { useSettlementChain, babyJubKey } from '../helpers/chain.js';
import { expectRevert } from '../helpers/revert.js';
import { GasTable } from '../helpers/gas.js';
import { Council__factory, type Council } from '../../contracts/types/index.js';
import { deployHyperlaneCore, multisigIsmAt, sortValidators } from '../../relay/hyperlane.js';
import {
  GovernanceError,
  acceptGovernanceCall,
  collectSignatures,
  councilDomain,
  devCouncilWallets,
  executeProposal,
  priorityMask,
  priorityOpsFromMask,
  proposalDigest,
  readCouncilParams,
  recoverProposalSigner,
  registerInstitutionCall,
  rotateOperatorCall,
  setInstitutionActiveCall,
  setMembersCall,
  setParamsCall,
  setValidatorsCall,
  signProposal,
  type CouncilCall,
  type Proposal,
  type ProposalSignature,
} from '../../sdk/governance.js';

const CHAIN_ID = 31337n;
const HOSPITAL = 1;

const gas = new GasTable('Council');
const { chain, c } = useSettlementChain({ gas });

const members = devCouncilWallets(4);
const sevenMembers = devCouncilWallets(7);
let council: Council;
let councilAddress: string;
let domain: TypedDataDomain;
const councilIface = Council__factory.createInterface();

function acct(i: number): HDNodeWallet {
  const a = chain.accounts[i];
  if (!a) throw new Error(`no account ${i}`);
  return a;
}

/** Anyone submits: an account that is neither a member nor the deployer. */
function submitter(): Council {
  return council.connect(acct(5));
}

async function deployCouncil(memberAddrs: readonly string[], batchSize = 0, batchTimeoutMs = 2000, priorityOps = 0): Promise<Council> {
  const deployed = await new Council__factory(acct(0)).deploy([...memberAddrs], batchSize, batchTimeoutMs, priorityOps);
  await deployed.waitForDeployment();
  return Council__factory.connect(await deployed.getAddress(), acct(5));
}

async function latestTimestamp(): Promise<bigint> {
  const block = await chain.provider.getBlock('latest');
  return BigInt(block!.timestamp);
}

async function proposal(calls: readonly CouncilCall[], overrides: Partial<Proposal> = {}): Promise<Proposal> {
  return { nonce: await council.proposalCount(), deadline: (await latestTimestamp()) + 3600n, calls, ...overrides };
}

function sigs(list: readonly ProposalSignature[]): string[] {
  return list.map((s) => s.signature);
}

function send(p: Proposal, signatures: readonly string[], target: Council = submitter()) {
  return target.execute(
    p.calls.map((x) => ({ ...x })),
    p.nonce,
    p.deadline,
    [...signatures],
  );
}

beforeAll(async () => {
  council = await deployCouncil(
    members.map((m) => m.address),
    0,
    2000,
    0,
  );
  councilAddress = await council.getAddress();
  domain = councilDomain(CHAIN_ID, councilAddress);
});

describe('deployment', () => {
  it('holds the members, quorum 3 of 4, the initial params and nonce 0', async () => {
    expect(await council.members()).toEqual(members.map((m) => m.address));
    expect(await council.memberCount()).toBe(4n);
    expect(await council.quorum()).toBe(3n);
    for (const m of members) expect(await council.isMember(m.address)).toBe(true);
    expect(await council.isMember(acct(0).address)).toBe(false);
    expect(await council.proposalCount()).toBe(0n);
    expect(await readCouncilParams(council)).toEqual({ batchSize: 0, batchTimeoutMs: 2000, priorityOps: [] });
    const d = await council.eip712Domain();
    expect([d.name, d.version, d.chainId, d.verifyingContract]).toEqual(['MedRollupCouncil', '1', CHAIN_ID, councilAddress]);
  });

  it('quorum is n - floor((n-1)/3) (2f+1 for n = 3f+1)', async () => {
    const expected: [number, bigint][] = [
      [1, 1n],
      [2, 2n],
      [3, 3n],
      [4, 3n],
      [5, 4n],
      [7, 5n],
      [10, 7n],
    ];
    const pool = devCouncilWallets(10).map((w) => w.address);
    for (const [n, q] of expected) {
      const k = await deployCouncil(pool.slice(0, n));
      expect(await k.quorum()).toBe(q);
    }
  });

  it('refuses empty, zero or duplicate members and out-of-range params', async () => {
    const f = new Council__factory(acct(0));
    const a = members.map((m) => m.address);
    await expectRevert(f.deploy([], 0, 2000, 0), councilIface, 'NoMembers', []);
    await expectRevert(f.deploy([a[0]!, ZeroAddress], 0, 2000, 0), councilIface, 'ZeroMember', []);
    await expectRevert(f.deploy([a[0]!, a[1]!, a[0]!], 0, 2000, 0), councilIface, 'DuplicateMember', [a[0]]);
    await expectRevert(f.deploy(a, 0, 99, 0), councilIface, 'InvalidBatchTimeout', [99n]);
    await expectRevert(f.deploy(a, 0, 2000, 64), councilIface, 'InvalidPriorityOps', [64n]);
  });
});

describe('execute', () => {
  it('a quorum of 3 of 4 executes setParams; the on-chain digest matches the SDK', async () => {
    const p = await proposal([setParamsCall(councilAddress, { batchSize: 4, batchTimeoutMs: 500, priorityOps: ['access', 'claim'] })]);
    expect(await council.proposalDigest([...p.calls], p.nonce, p.deadline)).toBe(proposalDigest(domain, p));
    const signed = await collectSignatures(members.slice(0, 3), domain, p);
    const receipt = await gas.track('Council.execute(setParams), 3 sigs', send(p, sigs(signed)));
    const logs = receipt.logs.map((l) => councilIface.parseLog(l)).filter((l) => l !== null);
    expect(logs.map((l) => l.name)).toEqual(['ParamsChanged', 'ProposalExecuted']);
    expect(logs[0]!.args.toArray()).toEqual([4n, 500n, BigInt(0b110000)]);
    expect(logs[1]!.args.toArray()).toEqual([0n, proposalDigest(domain, p)]);
    expect(await readCouncilParams(council)).toEqual({ batchSize: 4, batchTimeoutMs: 500, priorityOps: ['access', 'claim'] });
    expect(await council.proposalCount()).toBe(1n);
  });

  it('all four members may sign; executeProposal checks locally and submits', async () => {
    const p = await proposal([setParamsCall(councilAddress, { batchSize: 1, batchTimeoutMs: 100, priorityOps: ['upload'] })]);
    const signed = await collectSignatures(members, domain, p);
    await gas.track('Council.execute(setParams), 4 sigs', executeProposal(submitter(), p, signed));
    expect((await council.params()).slice()).toEqual([1n, 100n, 1n]);
  });

  it('2 of 4 reverts BelowQuorum (and executeProposal refuses before sending)', async () => {
    const p = await proposal([setParamsCall(councilAddress, { batchSize: 2, batchTimeoutMs: 1000, priorityOps: [] })]);
    const signed = await collectSignatures(members.slice(0, 2), domain, p);
    await expectRevert(send(p, sigs(signed)), councilIface, 'BelowQuorum', [2n, 3n]);
    await expect(executeProposal(submitter(), p, signed)).rejects.toMatchObject({ name: 'GovernanceError', code: 'BELOW_QUORUM' });
    expect(await council.proposalCount()).toBe(0n);
  });

  it('a non-member signature reverts NotMember', async () => {
    const p = await proposal([]);
    const signed = await collectSignatures([members[0]!, members[1]!, acct(7)], domain, p);
    await expectRevert(send(p, sigs(signed)), councilIface, 'NotMember', [acct(7).address]);
    await expect(executeProposal(submitter(), p, signed)).rejects.toMatchObject({ code: 'NOT_MEMBER' });
  });

  it('duplicate or unsorted signers revert SignersNotAscending', async () => {
    const p = await proposal([]);
    const signed = await collectSignatures(members.slice(0, 3), domain, p);
    const [s0, s1, s2] = sigs(signed) as [string, string, string];
    await expectRevert(send(p, [s0, s0, s1]), councilIface, 'SignersNotAscending', [1n]);
    await expectRevert(send(p, [s0, s2, s1]), councilIface, 'SignersNotAscending', [2n]);
    await expectRevert(send(p, [s2, s1, s0]), councilIface, 'SignersNotAscending', [1n]);
    await expect(executeProposal(submitter(), p, [signed[0]!, signed[0]!, signed[1]!])).rejects.toMatchObject({ code: 'NOT_SORTED' });
  });

  it('a malformed signature reverts InvalidSignature', async () => {
    const p = await proposal([]);
    const signed = sigs(await collectSignatures(members.slice(0, 3), domain, p));
    await expectRevert(send(p, [signed[0]!, '0x1234', signed[2]!]), councilIface, 'InvalidSignature', [1n]);
  });

  it('a reused nonce reverts BadNonce; a future nonce too', async () => {
    const p = await proposal([]);
    const signed = sigs(await collectSignatures(members.slice(0, 3), domain, p));
    await gas.track('Council.execute(no calls), 3 sigs', send(p, signed));
    await expectRevert(send(p, signed), councilIface, 'BadNonce', [1n, 0n]);
    const future = await proposal([], { nonce: 5n });
    await expectRevert(send(future, sigs(await collectSignatures(members.slice(0, 3), domain, future))), councilIface, 'BadNonce', [1n, 5n]);
  });

  it('an expired deadline reverts Expired', async () => {
    const deadline = (await latestTimestamp()) - 1n;
    const p = await proposal([], { deadline });
    const signed = await collectSignatures(members.slice(0, 3), domain, p);
    await expectRevert(send(p, sigs(signed)), councilIface, 'Expired', [deadline]);
    await expect(executeProposal(submitter(), p, signed)).rejects.toMatchObject({ code: 'EXPIRED' });
  });

  it('signatures for another chain id or another council recover to non-members (NotMember)', async () => {
    const p = await proposal([setParamsCall(councilAddress, { batchSize: 2, batchTimeoutMs: 1000, priorityOps: [] })]);
    const otherChain = councilDomain(1n, councilAddress);
    const wrongChain = await collectSignatures(members.slice(0, 3), otherChain, p);
    const seenAs = recoverProposalSigner(domain, p, wrongChain[0]!.signature);
    expect(seenAs).not.toBe(wrongChain[0]!.signer);
    await expectRevert(send(p, sigs(wrongChain)), councilIface, 'NotMember', [seenAs]);
    await expect(executeProposal(submitter(), p, wrongChain)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });

    const other = await deployCouncil(members.map((m) => m.address));
    const otherAddress = await other.getAddress();
    const otherDomain = councilDomain(CHAIN_ID, otherAddress);
    const q = await proposal([setParamsCall(otherAddress, { batchSize: 2, batchTimeoutMs: 1000, priorityOps: [] })]);
    const wrongCouncil = await collectSignatures(members.slice(0, 3), otherDomain, q);
    await expectRevert(send(q, sigs(wrongCouncil)), councilIface, 'NotMember', [recoverProposalSigner(domain, q, wrongCouncil[0]!.signature)]);
    // ... and they are valid where they were meant for.
    await gas.track('Council.execute(setParams), other council', send(q, sigs(wrongCouncil), other));
    expect((await other.params()).slice()).toEqual([2n, 1000n, 0n]);
    expect((await council.params()).slice()).toEqual([0n, 2000n, 0n]);
  });

  it('a failing inner call reverts CallFailed(index, returndata) and undoes the earlier calls', async () => {
    const gatewayAddress = await c.gateway.getAddress();
    const p = await proposal([
      setParamsCall(councilAddress, { batchSize: 3, batchTimeoutMs: 700, priorityOps: ['revoke'] }),
      rotateOperatorCall(gatewayAddress, acct(3).address), // the council is not the Gateway's governance yet
    ]);
    const signed = sigs(await collectSignatures(members.slice(0, 3), domain, p));
    const inner = c.gateway.interface.encodeErrorResult('NotGovernance', [councilAddress]);
    await expectRevert(send(p, signed), councilIface, 'CallFailed', [1n, inner]);
    expect((await council.params()).slice()).toEqual([0n, 2000n, 0n]);
    expect(await council.proposalCount()).toBe(0n);
    expect(await c.gateway.operator()).toBe(acct(1).address);

    const bad = await proposal([setParamsCall(councilAddress, { batchSize: 3, batchTimeoutMs: 700, priorityOps: [] })]);
    const tooShort = { ...bad, calls: [{ ...bad.calls[0]!, data: councilIface.encodeFunctionData('setParams', [3, 50, 0]) }] };
    await expectRevert(
      send(tooShort, sigs(await collectSignatures(members.slice(0, 3), domain, tooShort))),
      councilIface,
      'CallFailed',
      [0n, councilIface.encodeErrorResult('InvalidBatchTimeout', [50])],
    );
  });

  it('calls carry value from the council', async () => {
    await (await acct(0).sendTransaction({ to: councilAddress, value: ethers.parseEther('1') })).wait();
    const payee = ethers.Wallet.createRandom().address;
    const p = await proposal([{ target: payee, value: ethers.parseEther('0.25'), data: '0x' }]);
    await gas.track('Council.execute(transfer)', send(p, sigs(await collectSignatures(members.slice(0, 3), domain, p))));
    expect(await chain.provider.getBalance(payee)).toBe(ethers.parseEther('0.25'));
    expect(await chain.provider.getBalance(councilAddress)).toBe(ethers.parseEther('0.75'));
    // The submitter may fund a call instead.
    const q = await proposal([{ target: payee, value: ethers.parseEther('2'), data: '0x' }]);
    await gas.track('Council.execute(transfer)', executeProposal(submitter(), q, await collectSignatures(members.slice(0, 3), domain, q), { value: ethers.parseEther('1.25') }));
    expect(await chain.provider.getBalance(payee)).toBe(ethers.parseEther('2.25'));
    expect(await chain.provider.getBalance(councilAddress)).toBe(0n);
  });
});

describe('self-governance', () => {
  it('setParams and setMembers revert NotSelf from an EOA, a member included', async () => {
    for (const sender of [acct(0), acct(5), members[0]!.connect(chain.provider)]) {
      const k = council.connect(sender);
      // Members hold no ether: estimateGas still reports the revert.
      await expectRevert(k.setParams(1, 1000, 0), councilIface, 'NotSelf', [sender.address]);
      await expectRevert(k.setMembers([sender.address]), councilIface, 'NotSelf', [sender.address]);
    }
  });

  it('setMembers to 7 members raises the quorum to 5; old members outside the set lose their vote', async () => {
    const p = await proposal([setMembersCall(councilAddress, sevenMembers.map((m) => m.address))]);
    const receipt = await gas.track('Council.execute(setMembers 7)', send(p, sigs(await collectSignatures(members.slice(0, 3), domain, p))));
    const changed = receipt.logs.map((l) => councilIface.parseLog(l)).find((l) => l?.name === 'MembersChanged');
    expect(changed!.args.toArray()).toEqual([sevenMembers.map((m) => m.address), 5n]);
    expect(await council.quorum()).toBe(5n);
    expect(await council.memberCount()).toBe(7n);

    const next = await proposal([setParamsCall(councilAddress, { batchSize: 2, batchTimeoutMs: 1000, priorityOps: ['access'] })]);
    await expectRevert(send(next, sigs(await collectSignatures(sevenMembers.slice(0, 4), domain, next))), councilIface, 'BelowQuorum', [4n, 5n]);
    await gas.track('Council.execute(setParams), 5 sigs', send(next, sigs(await collectSignatures(sevenMembers.slice(2, 7), domain, next))));
    expect((await council.params()).slice()).toEqual([2n, 1000n, 16n]);

    // Back to two members: quorum 2; a removed member's signature no longer counts.
    const shrink = await proposal([setMembersCall(councilAddress, [sevenMembers[5]!.address, sevenMembers[6]!.address])]);
    await gas.track('Council.execute(setMembers 2)', send(shrink, sigs(await collectSignatures(sevenMembers.slice(0, 5), domain, shrink))));
    expect(await council.quorum()).toBe(2n);
    expect(await council.isMember(sevenMembers[0]!.address)).toBe(false);
    const after = await proposal([]);
    const mixed = await collectSignatures([sevenMembers[0]!, sevenMembers[6]!], domain, after);
    await expectRevert(send(after, sigs(mixed)), councilIface, 'NotMember', [sevenMembers[0]!.address]);
  });
});

describe('governing the Gateway', () => {
  it('two-step hand-over, then the council rotates the operator and manages institutions; the old governance cannot', async () => {
    const gatewayAddress = await c.gateway.getAddress();
    const early = await proposal([acceptGovernanceCall(gatewayAddress)]);
    await expectRevert(send(early, sigs(await collectSignatures(members.slice(0, 3), domain, early))), councilIface, 'CallFailed', [
      0n,
      c.gateway.interface.encodeErrorResult('NotPendingGovernance', [councilAddress]),
    ]);

    await (await c.gateway.transferGovernance(councilAddress)).wait();
    expect(await c.gateway.pendingGovernance()).toBe(councilAddress);
    const accept = await proposal([acceptGovernanceCall(gatewayAddress)]);
    await gas.track('Council.execute(acceptGovernance)', send(accept, sigs(await collectSignatures(members.slice(1, 4), domain, accept))));
    expect(await c.gateway.governance()).toBe(councilAddress);
    expect(await c.gateway.pendingGovernance()).toBe(ZeroAddress);

    const institution = acct(4).address;
    const key = babyJubKey();
    const manage = await proposal([
      rotateOperatorCall(gatewayAddress, acct(3).address),
      registerInstitutionCall(gatewayAddress, { account: institution, role: HOSPITAL, pubKey: key, did: 'did:web:council-hospital.example' }),
      setInstitutionActiveCall(gatewayAddress, institution, false),
    ]);
    const receipt = await gas.track('Council.execute(operator + institution)', executeProposal(submitter(), manage, await collectSignatures(members.slice(0, 3), domain, manage)));
    const gwEvents = receipt.logs
      .filter((l) => l.address === gatewayAddress)
      .map((l) => c.gateway.interface.parseLog(l)?.name)
      .filter((n) => n !== 'ForcedOperationQueued');
    expect(gwEvents).toEqual(['OperatorChanged', 'InstitutionRegistered', 'InstitutionStatusChanged']);
    expect(await c.gateway.operator()).toBe(acct(3).address);
    const inst = await c.gateway.institution(institution);
    expect([inst.role, inst.active, inst.pubKeyX, inst.pubKeyY]).toEqual([BigInt(HOSPITAL), false, key[0], key[1]]);

    const old = acct(0);
    await expectRevert(c.gateway.setOperator(acct(6).address), c.gateway.interface, 'NotGovernance', [old.address]);
    const [x, y] = babyJubKey();
    await expectRevert(c.gateway.registerInstitution(acct(6).address, HOSPITAL, x, y, 'did:web:x'), c.gateway.interface, 'NotGovernance', [old.address]);
    await expectRevert(c.gateway.setInstitutionActive(institution, true), c.gateway.interface, 'NotGovernance', [old.address]);
    await expectRevert(c.gateway.transferGovernance(old.address), c.gateway.interface, 'NotGovernance', [old.address]);
  });
});

describe('sdk helpers', () => {
  it('priority masks follow TX_OP_NAMES order', () => {
    expect(priorityMask([])).toBe(0);
    expect(priorityMask(['upload'])).toBe(1);
    expect(priorityMask(['claim', 'access'])).toBe(0b110000);
    expect(priorityOpsFromMask(0b101010)).toEqual(['update', 'revoke', 'claim']);
    expect(priorityOpsFromMask(priorityMask(['upload', 'update', 'grant', 'revoke', 'access', 'claim']))).toHaveLength(6);
    expect(() => priorityOpsFromMask(64)).toThrow(GovernanceError);
  });

  it('setValidatorsCall sorts validators ascending and checks the threshold', () => {
    const vals = devCouncilWallets(5).map((w) => w.address);
    const call = setValidatorsCall(ZeroAddress, vals, 3);
    const iface = new Interface(['function setValidatorsAndThreshold(address[],uint8)']);
    const [decoded, threshold] = iface.decodeFunctionData('setValidatorsAndThreshold', call.data);
    const sorted = [...vals].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    expect([...(decoded as string[])]).toEqual(sorted);
    expect(threshold).toBe(3n);
    expect(() => setValidatorsCall(ZeroAddress, vals, 0)).toThrow(GovernanceError);
    expect(() => setValidatorsCall(ZeroAddress, vals, 6)).toThrow(GovernanceError);
    expect(() => setValidatorsCall(ZeroAddress, [vals[0]!, vals[0]!.toLowerCase()], 1)).toThrow(GovernanceError);
  });

  it('setParamsCall refuses values the contract would refuse; signProposal returns the checksummed signer', async () => {
    expect(() => setParamsCall(ZeroAddress, { batchSize: 1, batchTimeoutMs: 99, priorityOps: [] })).toThrow(GovernanceError);
    expect(() => setParamsCall(ZeroAddress, { batchSize: -1, batchTimeoutMs: 100, priorityOps: [] })).toThrow(GovernanceError);
    const p: Proposal = { nonce: 0n, deadline: 1n, calls: [] };
    const s = await signProposal(members[0]!, domain, p);
    expect(s.signer).toBe(members[0]!.address);
    expect(recoverProposalSigner(domain, p, s.signature)).toBe(members[0]!.address);
  });

  it('devCouncilWallets derives distinct keys off the funded branch', () => {
    const ws = devCouncilWallets(4);
    expect(new Set(ws.map((w) => w.address)).size).toBe(4);
    expect(ws.map((w) => w.path)).toEqual([0, 1, 2, 3].map((i) => `m/44'/60'/0'/2/${i}`));
    for (const a of chain.accounts) expect(ws.map((w) => w.address)).not.toContain(a.address);
  });
});

describe('governing the relay validators', () => {
  it("the council takes the Hyperlane ISM over and changes its validator set and threshold; the deployer cannot", async () => {
    const validators = [1, 2, 3, 4].map(() => ethers.Wallet.createRandom().address);
    const core = await deployHyperlaneCore({ signer: acct(0), domain: 31337, validators, threshold: 3 });
    const ism = multisigIsmAt(core.MultisigIsm, acct(0));
    await (await ism.getFunction('transferOwnership')(councilAddress)).wait();
    const accept = await proposal([{ target: core.MultisigIsm, value: 0n, data: ism.interface.encodeFunctionData('acceptOwnership') }]);
    await (await send(accept, sigs(await collectSignatures(members.slice(0, 3), domain, accept)))).wait();
    expect(await ism.getFunction('owner')()).toBe(councilAddress);

    // Two validators leave, one joins: 3 validators, threshold 2.
    const next = [validators[0]!, validators[1]!, ethers.Wallet.createRandom().address];
    const change = await proposal([setValidatorsCall(core.MultisigIsm, next, 2)]);
    await (await send(change, sigs(await collectSignatures(members.slice(1, 4), domain, change)))).wait();
    const [set, threshold] = (await ism.getFunction('validatorsAndThreshold')('0x')) as [string[], bigint];
    expect([[...set], threshold]).toEqual([sortValidators(next), 2n]);
    await expect(ism.getFunction('setValidatorsAndThreshold')(validators, 3)).rejects.toThrow(/caller is not the owner/);
  });
});
