/**
 * The paper's Algorithm 1 (insurer Entry) and Algorithm 3 (insurer Exit) on a real chain, with
 * real batches finalized through the Rollup as the L1 record.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toUtf8Bytes, type HDNodeWallet, type TypedDataDomain } from 'ethers';
import { useSettlementChain, babyJubKey } from '../helpers/chain.js';
import { expectRevert } from '../helpers/revert.js';
import { GasTable } from '../helpers/gas.js';
import { prepareBatch, randomRecord, submit } from '../helpers/batches.js';
import { txTree } from '../../prover/l1Record.js';
import { shutdownProver } from '../../prover/groth16.js';
import type { InsurerBonds } from '../../contracts/types/Gateway.js';
import { ORGANISATION_ROUTING_TYPES } from '../../sdk/routing.js';

const HOSPITAL = 1;
const LABORATORY = 2;
const INSURER = 3;
const RECORD_TYPES = ['uint32', 'bytes32', 'uint32', 'bytes32'];

let hospital: HDNodeWallet;
let lab: HDNodeWallet;
let insurer: HDNodeWallet;
let otherInsurer: HDNodeWallet;
let patient: number;
let records: StandardMerkleTree<[number, string, number, string]>;
let domain: TypedDataDomain;
const gas = new GasTable('Gateway insurer bonds (Algorithms 1 and 3)');
const { chain, c } = useSettlementChain({ gas, after: shutdownProver });
const FEE = 10n ** 15n;
const DEPOSIT = 10n ** 17n;

type EntryRequest = InsurerBonds.EntryRequestStruct & { deadline: bigint };

beforeAll(async () => {
  [hospital, lab, insurer, otherInsurer] = [chain.accounts[2]!, chain.accounts[3]!, chain.accounts[4]!, chain.accounts[6]!];
  const g = c.gateway;
  for (const [who, role, did] of [
    [hospital, HOSPITAL, 'did:web:st-mary.example'],
    [lab, LABORATORY, 'did:web:lab.example'],
    [insurer, INSURER, 'did:web:insurer.example'],
    [otherInsurer, INSURER, 'did:web:other-insurer.example'],
  ] as const) {
    const [x, y] = babyJubKey();
    await (await g.registerInstitution(who.address, role, x, y, did)).wait();
  }
  const [px, py] = babyJubKey();
  await (await g.connect(chain.accounts[5]!).registerPatient(px, py, chain.accounts[5]!.address)).wait();
  patient = Number((await g.nextAccountIndex()) - 1n);
  // The hospital anchors the record versions it holds for this patient.
  records = StandardMerkleTree.of(
    [1, 2, 3].map((v): [number, string, number, string] => [patient, keccak256(toUtf8Bytes('record-a')), v, keccak256(toUtf8Bytes(`v${v}`))]),
    RECORD_TYPES,
  );
  await (await c.provenance.connect(hospital).anchor(records.root)).wait();
  domain = { name: 'MedRollupGateway', version: '1', chainId: 31337, verifyingContract: await g.getAddress() };
});

async function request(overrides: Partial<EntryRequest> = {}, recordIndex = 1): Promise<EntryRequest> {
  const [account, recordId, version, contentHash] = records.at(recordIndex)!;
  const now = BigInt((await chain.provider.getBlock('latest'))!.timestamp);
  return {
    patientAccount: account,
    recordId,
    version,
    contentHash,
    organisation: hospital.address,
    orgRef: keccak256(toUtf8Bytes('org-ready bundle cid')),
    feePerTx: FEE,
    deadline: now + 3600n,
    ...overrides,
  };
}

async function sign(req: EntryRequest, signer = hospital, forInsurer = insurer.address): Promise<string> {
  const nonce = await c.gateway.routingNonce(req.organisation as string);
  return signer.signTypedData(domain, ORGANISATION_ROUTING_TYPES, { ...req, insurer: forInsurer, nonce });
}

async function enter(req?: EntryRequest, value = DEPOSIT): Promise<bigint> {
  const r = req ?? (await request());
  const receipt = await gas.track(
    'Gateway.insurerEntry',
    c.gateway.connect(insurer).insurerEntry(r, records.root, records.getProof(1), await sign(r), { value }),
  );
  const created = receipt.logs.map((l) => c.gateway.interface.parseLog(l)).find((e) => e?.name === 'BondCreated');
  return created!.args.bondId as bigint;
}

describe('Algorithm 1: insurer Entry', () => {
  it('verifies the data reference, creates the bond and routes the organisation-ready reference', async () => {
    const req = await request();
    const receipt = await (
      await c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(1), await sign(req), { value: DEPOSIT })
    ).wait();
    const events = receipt!.logs.map((l) => c.gateway.interface.parseLog(l)).filter((e) => e !== null);
    const created = events.find((e) => e.name === 'BondCreated')!;
    const routed = events.find((e) => e.name === 'DataRouted')!;
    expect(created.args.toObject()).toMatchObject({
      bondId: 1n,
      insurer: insurer.address,
      organisation: hospital.address,
      patientAccount: BigInt(patient),
      dataLeaf: records.leafHash(records.at(1)!),
      deposit: DEPOSIT,
      feePerTx: FEE,
    });
    expect(routed.args.toObject()).toMatchObject({ bondId: 1n, insurer: insurer.address, orgRef: req.orgRef });
    const bond = await c.gateway.bond(1);
    expect(bond.status).toBe(1n);
    expect(bond.orgRef).toBe(req.orgRef);
    expect(await c.gateway.routingNonce(hospital.address)).toBe(1n);
  });

  it('accepts a laboratory as the processing organisation', async () => {
    const req = await request({ organisation: lab.address });
    await gas.track(
      'Gateway.insurerEntry',
      c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(1), await sign(req, lab), { value: DEPOSIT }),
    );
  });

  it('refuses callers and organisations in the wrong role', async () => {
    const req = await request();
    const sig = await sign(req);
    await expectRevert(
      c.gateway.connect(hospital).insurerEntry(req, records.root, records.getProof(1), sig),
      c.gateway.interface,
      'NotInsurer',
      [hospital.address],
    );
    const viaInsurer = await request({ organisation: otherInsurer.address });
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(viaInsurer, records.root, records.getProof(1), await sign(viaInsurer, otherInsurer)),
      c.gateway.interface,
      'NotOrganisation',
    );
    await (await c.gateway.setInstitutionActive(insurer.address, false)).wait();
    await expectRevert(c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(1), sig), c.gateway.interface, 'NotInsurer');
  });

  it('refuses patient data that is not under an anchored root', async () => {
    const req = await request();
    const sig = await sign(req);
    const unanchored = StandardMerkleTree.of([records.at(1)!, records.at(0)!], RECORD_TYPES);
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(req, unanchored.root, unanchored.getProof(0), sig),
      c.gateway.interface,
      'RootNotAnchored',
      [unanchored.root],
    );
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(2), sig),
      c.gateway.interface,
      'InvalidDataProof',
    );
    const wrongVersion = await request({ version: 9 });
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(wrongVersion, records.root, records.getProof(1), await sign(wrongVersion)),
      c.gateway.interface,
      'InvalidDataProof',
    );
    const notPatient = await request({ patientAccount: 1 });
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(notPatient, records.root, records.getProof(1), await sign(notPatient)),
      c.gateway.interface,
      'NotPatient',
      [1n],
    );
  });

  it('refuses forged, expired and replayed organisation signatures', async () => {
    const req = await request();
    // Signed by someone else.
    const forged = await sign(req, lab);
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(1), forged),
      c.gateway.interface,
      'InvalidOrganisationSignature',
    );
    // Signed for another insurer: this one cannot use it.
    const forOther = await sign(req, hospital, otherInsurer.address);
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(1), forOther),
      c.gateway.interface,
      'InvalidOrganisationSignature',
    );
    // Terms changed after signing.
    const sig = await sign(req);
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry({ ...req, feePerTx: 1n }, records.root, records.getProof(1), sig),
      c.gateway.interface,
      'InvalidOrganisationSignature',
    );
    // Expired.
    const expired = await request({ deadline: 1n });
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(expired, records.root, records.getProof(1), await sign(expired)),
      c.gateway.interface,
      'SignatureExpired',
      [1n],
    );
    // Replay: the organisation's nonce moved on.
    await (await c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(1), sig, { value: DEPOSIT })).wait();
    await expectRevert(
      c.gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(1), sig, { value: DEPOSIT }),
      c.gateway.interface,
      'InvalidOrganisationSignature',
    );
  });
});

interface Claim {
  tx: { batchIndex: bigint; position: number; txHash: string };
  proof: string[];
}

/** Finalizes two batches and returns every transaction as an Exit entry with its L1 proof. */
async function finalizeBatches(): Promise<Claim[]> {
  const claims: Claim[] = [];
  for (const size of [3, 4]) {
    const txRecords = Array.from({ length: size }, () => randomRecord(c.txRecordBytes));
    const index = await c.rollup.batchCount();
    await (await submit(c.rollup, await prepareBatch(c.rollup, { forcedOps: [], txRecords }))).wait();
    const tree = txTree(index, txRecords);
    txRecords.forEach((record, position) => {
      claims.push({ tx: { batchIndex: index, position, txHash: keccak256(record) }, proof: tree.getProof(position) });
    });
  }
  return claims;
}

async function recordNlist(bondId: bigint, claims: Claim[]): Promise<void> {
  await gas.track('Gateway.recordInsurerTransactions', c.gateway.connect(c.operator).recordInsurerTransactions(bondId, claims.map((x) => x.tx)));
}

function exitResult(receipt: { logs: readonly unknown[] }) {
  const event = (receipt.logs as Parameters<typeof c.gateway.interface.parseLog>[0][])
    .map((l) => c.gateway.interface.parseLog(l))
    .find((e) => e?.name === 'InsurerExit');
  return event!.args.result.toObject() as {
    rootsMatched: boolean;
    matched: bigint;
    foundOnL1: bigint;
    ignored: bigint;
    settledTransactions: bigint;
    amount: bigint;
    blistRoot: string;
    nlistRoot: string;
  };
}

describe('Algorithm 3: insurer Exit', () => {
  it('settles every listed transaction when Blist and Nlist roots match', async () => {
    const bondId = await enter();
    const claims = await finalizeBatches();
    const mine = [claims[0]!, claims[2]!, claims[4]!];
    await recordNlist(bondId, mine);
    const receipt = await gas.track('Gateway.insurerExit (roots match, 3)', c.gateway.connect(insurer).insurerExit(bondId, mine));
    const r = exitResult(receipt);
    expect(r).toMatchObject({ rootsMatched: true, matched: 3n, foundOnL1: 0n, ignored: 0n, settledTransactions: 3n, amount: 3n * FEE });
    expect(r.blistRoot).toBe(r.nlistRoot);
    expect(await c.gateway.withdrawable(hospital.address)).toBe(3n * FEE);
    expect(await c.gateway.withdrawable(insurer.address)).toBe(DEPOSIT - 3n * FEE);
    expect((await c.gateway.bond(bondId)).status).toBe(2n);

    // Pull payment reaches the organisation.
    const before = await chain.provider.getBalance(hospital.address);
    const w = await gas.track('Gateway.withdraw', c.gateway.connect(hospital).withdraw());
    const after = await chain.provider.getBalance(hospital.address);
    expect(after - before + w.gasUsed * w.gasPrice).toBe(3n * FEE);
    await expectRevert(c.gateway.connect(hospital).withdraw(), c.gateway.interface, 'NothingToWithdraw');
  });

  it('on a mismatch counts what Nlist has, looks the rest up on L1 and ignores what is not there', async () => {
    const bondId = await enter();
    const claims = await finalizeBatches();
    // Nlist (recorded through the rollup) has three of the insurer's transactions.
    await recordNlist(bondId, [claims[0]!, claims[2]!, claims[5]!]);
    // Blist: two agree with Nlist, one Nlist lacks but L1 has, one that never happened on L1,
    // and one real transaction presented with another transaction's proof.
    const fabricated: Claim = { tx: { batchIndex: 1n, position: 1, txHash: keccak256(toUtf8Bytes('never rolled up')) }, proof: claims[4]!.proof };
    const wrongProof: Claim = { tx: claims[6]!.tx, proof: claims[3]!.proof };
    const blist = [claims[0]!, claims[2]!, claims[3]!, fabricated, wrongProof];
    const receipt = await gas.track('Gateway.insurerExit (mismatch, 5)', c.gateway.connect(insurer).insurerExit(bondId, blist));
    const r = exitResult(receipt);
    expect(r).toMatchObject({ rootsMatched: false, matched: 2n, foundOnL1: 1n, ignored: 2n, settledTransactions: 3n, amount: 3n * FEE });
    expect(r.blistRoot).not.toBe(r.nlistRoot);
  });

  it('settles from the L1 record alone when the operator recorded nothing', async () => {
    const bondId = await enter();
    const claims = await finalizeBatches();
    const receipt = await gas.track('Gateway.insurerExit (no Nlist, 7)', c.gateway.connect(insurer).insurerExit(bondId, claims));
    expect(exitResult(receipt)).toMatchObject({ rootsMatched: false, matched: 0n, foundOnL1: 7n, ignored: 0n, settledTransactions: 7n });
  });

  it('caps the settlement at the deposit', async () => {
    const bondId = await enter(undefined, 2n * FEE);
    const claims = await finalizeBatches();
    await recordNlist(bondId, claims);
    const r = exitResult((await (await c.gateway.connect(insurer).insurerExit(bondId, claims)).wait())!);
    expect(r).toMatchObject({ settledTransactions: 7n, amount: 2n * FEE });
    expect(await c.gateway.withdrawable(insurer.address)).toBe(0n);
  });

  it('refuses unordered or duplicated lists, strangers, unknown and settled bonds', async () => {
    const bondId = await enter();
    const claims = await finalizeBatches();
    await expectRevert(c.gateway.connect(insurer).insurerExit(bondId, [claims[1]!, claims[0]!]), c.gateway.interface, 'UnorderedTransactions', [1n]);
    await expectRevert(c.gateway.connect(insurer).insurerExit(bondId, [claims[1]!, claims[1]!]), c.gateway.interface, 'UnorderedTransactions', [1n]);
    await expectRevert(c.gateway.connect(insurer).insurerExit(bondId, []), c.gateway.interface, 'EmptyBatchList');
    await expectRevert(c.gateway.connect(otherInsurer).insurerExit(bondId, claims), c.gateway.interface, 'NotBondInsurer', [
      bondId,
      otherInsurer.address,
    ]);
    await expectRevert(c.gateway.connect(insurer).insurerExit(99n, claims), c.gateway.interface, 'UnknownBond', [99n]);
    await (await c.gateway.connect(insurer).insurerExit(bondId, claims)).wait();
    await expectRevert(c.gateway.connect(insurer).insurerExit(bondId, claims), c.gateway.interface, 'BondNotActive', [bondId]);
    await expectRevert(c.gateway.connect(c.operator).recordInsurerTransactions(bondId, [claims[0]!.tx]), c.gateway.interface, 'BondNotActive');
  });

  it('lets only the operator record Nlist, in rollup order', async () => {
    const bondId = await enter();
    const claims = await finalizeBatches();
    await expectRevert(
      c.gateway.connect(insurer).recordInsurerTransactions(bondId, [claims[0]!.tx]),
      c.gateway.interface,
      'NotOperator',
      [insurer.address],
    );
    await recordNlist(bondId, [claims[2]!]);
    // Nothing at or before the last recorded position, within a call or across calls.
    await expectRevert(c.gateway.connect(c.operator).recordInsurerTransactions(bondId, [claims[1]!.tx]), c.gateway.interface, 'UnorderedTransactions', [0n]);
    await expectRevert(
      c.gateway.connect(c.operator).recordInsurerTransactions(bondId, [claims[4]!.tx, claims[3]!.tx]),
      c.gateway.interface,
      'UnorderedTransactions',
      [1n],
    );
    await recordNlist(bondId, [claims[3]!, claims[6]!]);
    expect((await c.gateway.nlistOf(bondId)).length).toBe(3);
  });
});
