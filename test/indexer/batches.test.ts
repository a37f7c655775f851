/**
 * The indexer on real rollup traffic: batches proven with the devnet's batch circuit (test
 * profile, K = 2, F = 1) and settled through Rollup.submitBatch, then an insurer bond entered and
 * exited and an institution deactivated. The indexer (`ponder start`, a real process) must show
 * each batch with its transactions decoded from the calldata, the consents they leave (L2 grant
 * and revoke, forced revocation), the consumed forced operations, the bond's settlement and the
 * institution's status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { asc, eq } from '@ponder/client';
import { HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, Wallet, hexlify, keccak256, toUtf8Bytes, type ContractTransactionReceipt, type Signer } from 'ethers';
import { Gateway__factory, Provenance__factory, Rollup__factory, type Gateway, type Rollup } from '../../contracts/types/index.js';
import { readCircuitArtifacts, type CircuitArtifacts } from '../../circuits/setup.js';
import { Scope, TxOp, encodeTxRecord, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { shutdownProver } from '../../prover/groth16.js';
import { txTree } from '../../prover/l1Record.js';
import { proveBatch, type BatchProof } from '../../prover/prove.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { RollupState } from '../../prover/state.js';
import { buildBatchWitness, type BatchWitness } from '../../prover/witness.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import type { CircuitDeployment } from '../../sdk/deployment.js';
import { ANVIL_MNEMONIC, loadConfig } from '../../sdk/config.js';
import { queuedOps } from '../helpers/batches.js';
import { schema, startIndexer, type IndexerProcess } from '../helpers/indexer.js';
import { ORGANISATION_ROUTING_TYPES } from '../../sdk/routing.js';
import { registerInstitutionCall } from '../../sdk/governance.js';
import { governGateway, setInstitutionActive } from '../helpers/stack.js';

const OP_NAMES = ['Padding', 'Upload', 'Update', 'Grant', 'Revoke', 'Access', 'Claim'];
const FEE = 10n ** 15n;
const DEPOSIT = 10n ** 17n;

let dir: string;
let devnet: Devnet;
let indexer: IndexerProcess | undefined;
let provider: JsonRpcProvider;
let gov: Signer;
let gateway: Gateway;
let rollup: Rollup;
let chainId: number;
let circuit: CircuitDeployment;
let artifacts: CircuitArtifacts;
let state: RollupState;
const nonces = new Map<number, bigint>();

const hdWallet = (i: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/0/${i}`);
const secrets = { patient: randomSecret(), hospital: randomSecret(), insurer: randomSecret() };

/** What the test submitted, as the indexer should show it. */
interface Sent {
  batchIndex: bigint;
  position: number;
  record: TxRecord;
  timestamp: bigint;
  l1TxHash: string;
  l1Block: bigint;
}
const sent: Sent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'indexer-batches-'));
  const env: Record<string, string> = {
    DATA_DIR: dir,
    CIRCUIT_PROFILE: 'test',
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
    SETTLEMENT_BLOCK_TIME: '1',
  };
  const config = loadConfig(env);
  devnet = await startDevnet(config, { build: false, log: () => undefined });
  const { settlement } = devnet.deployment;
  chainId = settlement.chainId;
  circuit = devnet.deployment.circuit;
  artifacts = readCircuitArtifacts(circuit.artifactsDir);
  state = new RollupState(circuit);
  provider = new JsonRpcProvider(settlement.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  gov = new NonceManager(new Wallet(config.deployerKey, provider));
  gateway = Gateway__factory.connect(settlement.contracts.Gateway!, gov);
  rollup = Rollup__factory.connect(settlement.contracts.Rollup!, gov);
  indexer = await startIndexer({ dataDir: dir, deploymentFile: join(dir, 'deployment.json') });
}, 90_000);

afterAll(async () => {
  await indexer?.stop();
  await shutdownProver();
  provider?.destroy();
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** Signs a record for `actor` with its next nonce (several transactions of one actor may share a batch). */
function sign(secret: Uint8Array, record: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor' | 'target'>): SignedTx {
  const nonce = nonces.get(record.actor) ?? 0n;
  nonces.set(record.actor, nonce + 1n);
  return signTx(secret, { slot: 0, scope: 0, expiry: 0n, payload: 0n, ...record }, nonce);
}

async function latestTimestamp(): Promise<bigint> {
  return BigInt((await provider.getBlock('latest'))!.timestamp);
}

interface Planned {
  witness: BatchWitness;
  txs: SignedTx[];
  timestamp: bigint;
  proof: Promise<BatchProof>;
}

/**
 * Builds the batch's witness on the test's state and starts its proof with the deployed circuit's
 * key. Witnesses only need the state, not the chain, so the proofs of several batches overlap.
 */
function plan(forced: ForcedOp[], txs: SignedTx[], timestamp: bigint): Planned {
  const witness = buildBatchWitness(state, { forced, txs, timestamp }, circuit);
  state = witness.state;
  const proof = proveBatch(artifacts, witness.input);
  // Awaited in settle(); until then a failure must not count as unhandled.
  proof.catch(() => undefined);
  return { witness, txs, timestamp, proof };
}

/** Submits a planned batch once its proof is ready; returns its index. */
async function settle({ witness: w, txs, timestamp, proof }: Planned): Promise<bigint> {
  const p = await proof;
  const batchIndex = await rollup.batchCount();
  console.log(`batch ${batchIndex}: witness ${p.witnessMs.toFixed(0)} ms, proof ${p.proveMs.toFixed(0)} ms`);
  const receipt = (await (await rollup.submitBatch(w.oldRoot, w.newRoot, hexlify(w.data), { a: p.solidity.pA, b: p.solidity.pB, c: p.solidity.pC })).wait())!;
  txs.forEach((tx, position) => sent.push({ batchIndex, position, record: tx.record, timestamp, l1TxHash: receipt.hash, l1Block: BigInt(receipt.blockNumber) }));
  return batchIndex;
}

async function registerInstitution(wallet: HDNodeWallet, role: number, secret: Uint8Array, did: string): Promise<ForcedOp> {
  const k = publicKeyOf(secret);
  const receipt = await governGateway(gateway, (g) => [registerInstitutionCall(g, { account: wallet.address, role, pubKey: [k.x, k.y], did })]);
  return queuedOps(gateway, receipt)[0]!;
}

const consentRows = () =>
  indexer!.client.db.select().from(schema.consent).where(eq(schema.consent.chainId, chainId)).orderBy(asc(schema.consent.patient), asc(schema.consent.slot));

test('batches, their decoded transactions, consents, forced operations, bonds and institution status are indexed', async () => {
  const t0 = Date.now();
  const patientWallet = hdWallet(5).connect(provider);
  const hospital = hdWallet(2).connect(provider);
  const insurer = hdWallet(3).connect(provider);

  // On L1 first: the patient and two institutions register and the patient forces the
  // revocation of the insurer's consent (slot 1); each is a forced operation, one per batch (F = 1).
  const pk = publicKeyOf(secrets.patient);
  const patientOp = queuedOps(gateway, (await (await gateway.connect(patientWallet).registerPatient(pk.x, pk.y, patientWallet.address)).wait())!)[0]!;
  const hospitalOp = await registerInstitution(hospital, 1, secrets.hospital, 'did:web:hospital.example');
  const insurerOp = await registerInstitution(insurer, 3, secrets.insurer, 'did:web:insurer.example');
  const [P, H, I] = [patientOp.account, hospitalOp.account, insurerOp.account];
  const revokeOp = queuedOps(gateway, (await (await gateway.connect(patientWallet).forceRevokeConsent(P, I, Scope.Claim, 1)).wait())!)[0]!;
  const t = await latestTimestamp();

  const batch0 = plan(
    [patientOp],
    [sign(secrets.patient, { op: TxOp.Upload, actor: P, target: P, payload: 0x1111n }), sign(secrets.patient, { op: TxOp.Update, actor: P, target: P, payload: 0x2222n })],
    t,
  );
  // The patient grants the hospital READ in slot 0 and the hospital reads.
  const batch1 = plan(
    [hospitalOp],
    [
      sign(secrets.patient, { op: TxOp.Grant, actor: P, target: H, slot: 0, scope: Scope.Read, expiry: t + 3600n }),
      sign(secrets.hospital, { op: TxOp.Access, actor: H, target: P, slot: 0, payload: 0x2222n }),
    ],
    t,
  );
  // The patient grants the insurer CLAIM in slot 1 and the insurer files a claim.
  const batch2 = plan(
    [insurerOp],
    [
      sign(secrets.patient, { op: TxOp.Grant, actor: P, target: I, slot: 1, scope: Scope.Claim, expiry: t + 7200n }),
      sign(secrets.insurer, { op: TxOp.Claim, actor: I, target: P, slot: 1, payload: 77n }),
    ],
    t,
  );
  // The forced revocation empties slot 1; the patient revokes the hospital's consent on L2.
  const batch3 = plan([revokeOp], [sign(secrets.patient, { op: TxOp.Revoke, actor: P, target: H, slot: 0 })], t);

  await settle(batch0);
  await settle(batch1);
  const granted = await indexer!.until('the hospital consent', async () => (await consentRows()).find((c) => c.patient === P && c.slot === 0), 15_000);
  expect(granted).toMatchObject({ chain: 'settlement', grantee: H, scope: Scope.Read, active: true, revokedBatch: null });
  expect(BigInt(granted.grantedBatch)).toBe(1n);
  expect(BigInt(granted.expiry)).toBe(t + 3600n);
  const claimBatch = await settle(batch2);
  await settle(batch3);
  console.log(`4 batches proven and settled ${Date.now() - t0} ms after the test started`);

  // Decoded transactions equal what was submitted, in batch and slot order.
  const txRows = await indexer!.until(
    'the decoded transactions of the 4 batches',
    async () => {
      const rows = await indexer!.client.db
        .select()
        .from(schema.transaction)
        .where(eq(schema.transaction.chainId, chainId))
        .orderBy(asc(schema.transaction.batchIndex), asc(schema.transaction.position));
      return rows.length === sent.length ? rows : undefined;
    },
    15_000,
  );
  expect(
    txRows.map((r) => ({ ...r, batchIndex: BigInt(r.batchIndex), expiry: BigInt(r.expiry), l1Block: BigInt(r.l1Block), timestamp: BigInt(r.timestamp) })),
  ).toEqual(
    sent.map((s) => ({
      chainId,
      chain: 'settlement',
      batchIndex: s.batchIndex,
      position: s.position,
      op: OP_NAMES[s.record.op],
      actor: s.record.actor,
      subject: s.record.op === TxOp.Access || s.record.op === TxOp.Claim ? s.record.target : s.record.actor,
      target: s.record.target,
      slot: s.record.slot,
      scope: s.record.scope,
      expiry: s.record.expiry,
      payload: s.record.payload.toString(),
      recordHash: keccak256(encodeTxRecord(s.record)),
      l1Block: s.l1Block,
      l1TxHash: s.l1TxHash,
      timestamp: s.timestamp,
    })),
  );
  expect(txRows.map((r) => r.op)).toEqual(['Upload', 'Update', 'Grant', 'Access', 'Grant', 'Claim', 'Revoke']);

  const batches = await indexer!.client.db.select().from(schema.batch).where(eq(schema.batch.chainId, chainId)).orderBy(asc(schema.batch.batchIndex));
  expect(batches.map((b) => [BigInt(b.batchIndex), b.forcedCount, b.txCount, b.decoded])).toEqual([
    [0n, 1, 2, true],
    [1n, 1, 2, true],
    [2n, 1, 2, true],
    [3n, 1, 1, true],
  ]);
  expect(batches[3]!.newRoot).toBe(state.root.toString());

  // Both consents are gone: the hospital's by the L2 revoke, the insurer's by the forced one.
  const consents = await consentRows();
  expect(consents.map((c) => ({ ...c, expiry: BigInt(c.expiry), grantedBatch: BigInt(c.grantedBatch), revokedBatch: c.revokedBatch === null ? null : BigInt(c.revokedBatch) }))).toEqual([
    expect.objectContaining({ patient: P, slot: 0, grantee: H, scope: 0, active: false, grantedBatch: 1n, revokedBatch: 3n }),
    expect.objectContaining({ patient: P, slot: 1, grantee: I, scope: 0, active: false, grantedBatch: 2n, revokedBatch: 3n }),
  ]);
  expect(state.consent(P, 0).scope).toBe(0n);
  expect(state.consent(P, 1).scope).toBe(0n);

  // ForcedOperationsConsumed: the four queued operations were taken by the batches.
  const forced = await indexer!.client.db.select().from(schema.forcedOperation).where(eq(schema.forcedOperation.chainId, chainId)).orderBy(asc(schema.forcedOperation.queueIndex));
  expect(forced.map((f) => [f.kind, f.account, f.consumed])).toEqual([
    [1, P, true],
    [1, H, true],
    [1, I, true],
    [2, P, true],
  ]);

  // BondCreated and InsurerExit: the insurer enters on a record the hospital anchored and exits
  // with the claim of batch 2, whose L1 leaf it builds from the indexed record hashes.
  const [recordId, version, contentHash] = [keccak256(toUtf8Bytes('record-a')), 1, keccak256(toUtf8Bytes('v1'))];
  const records = StandardMerkleTree.of<[number, string, number, string]>([[P, recordId, version, contentHash]], ['uint32', 'bytes32', 'uint32', 'bytes32']);
  await (await Provenance__factory.connect(devnet.deployment.settlement.contracts.Provenance!, hospital).anchor(records.root)).wait();
  const req = {
    patientAccount: P,
    recordId,
    version,
    contentHash,
    organisation: hospital.address,
    orgRef: keccak256(toUtf8Bytes('org-ready bundle')),
    feePerTx: FEE,
    deadline: (await latestTimestamp()) + 3600n,
  };
  const domain = { name: 'MedRollupGateway', version: '1', chainId, verifyingContract: await gateway.getAddress() };
  const orgSignature = await hospital.signTypedData(domain, ORGANISATION_ROUTING_TYPES, { ...req, insurer: insurer.address, nonce: await gateway.routingNonce(hospital.address) });
  const entered = (await (await gateway.connect(insurer).insurerEntry(req, records.root, records.getProof(0), orgSignature, { value: DEPOSIT })).wait())!;
  const bondId = (entered.logs.map((l) => gateway.interface.parseLog(l)).find((e) => e?.name === 'BondCreated')!.args.bondId as bigint);
  const claimRows = txRows.filter((r) => BigInt(r.batchIndex) === claimBatch);
  const tree = txTree(claimBatch, claimRows.map((r) => hexlify(encodeTxRecord(sent.find((s) => s.batchIndex === claimBatch && s.position === r.position)!.record))));
  const claim = claimRows.find((r) => r.op === 'Claim')!;
  const exit: ContractTransactionReceipt = (await (
    await gateway.connect(insurer).insurerExit(bondId, [{ tx: { batchIndex: claimBatch, position: claim.position, txHash: claim.recordHash }, proof: tree.getProof(claim.position) }])
  ).wait())!;
  expect(exit.status).toBe(1);

  // InstitutionStatusChanged: governance deactivates the hospital.
  await setInstitutionActive(gateway, hospital.address, false);

  const settlement = await indexer!.until(
    'the exited bond',
    async () => {
      const rows = await indexer!.client.db.select().from(schema.insurerSettlement).where(eq(schema.insurerSettlement.chainId, chainId));
      return rows.find((r) => BigInt(r.bondId) === bondId && r.exited);
    },
    15_000,
  );
  expect(settlement).toMatchObject({ insurer: insurer.address.toLowerCase(), organisation: hospital.address.toLowerCase(), patientAccount: P, rootsMatched: false });
  expect(BigInt(settlement.deposit)).toBe(DEPOSIT);
  expect(BigInt(settlement.settledTransactions!)).toBe(1n);
  expect(BigInt(settlement.amount!)).toBe(FEE);

  const institutions = await indexer!.until(
    'the deactivated hospital',
    async () => {
      const rows = await indexer!.client.db.select().from(schema.institution).where(eq(schema.institution.chainId, chainId));
      return rows.find((r) => r.address === hospital.address.toLowerCase() && !r.active) ? rows : undefined;
    },
    15_000,
  );
  expect(institutions.map((r) => [r.role, r.accountIndex, r.active]).sort()).toEqual([
    ['Hospital', H, false],
    ['Insurer', I, true],
  ]);
  console.log(`indexer checks done ${Date.now() - t0} ms after the test started`);
}, 150_000);

test('the new tables are served over GraphQL as transactions and consents', async () => {
  const q = '{ transactions(limit: 100, orderBy: "position") { items { batchIndex position op actor subject target } } consents { items { patient slot grantee active } } }';
  const res = await fetch(`${indexer!.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  const body = (await res.json()) as { data?: { transactions: { items: { op: string }[] }; consents: { items: { active: boolean }[] } }; errors?: { message: string }[] };
  expect(body.errors?.map((e) => e.message.slice(0, 200))).toBeUndefined();
  expect(body.data!.transactions.items).toHaveLength(sent.length);
  expect(body.data!.consents.items.map((c) => c.active)).toEqual([false, false]);
}, 20_000);
