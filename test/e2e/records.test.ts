/**
 * The record flows end to end on the devnet (issue acceptance): the devnet (anvil chains, contracts,
 * test-profile verifier), redis-server and the rollup node as a real process (`scripts/sequencer.ts`
 * with one prove worker in process), as test/e2e/rollup.test.ts starts them; parties registered on
 * the Gateway by governance; an embedded IPFS store in a temp dir.
 *
 * A patient uploads a FHIR Bundle and grants a hospital; the hospital reads and decrypts (its access
 * a transaction); the patient revokes; a later version is unreadable for the hospital; an insurer
 * files a claim; the key transactions are finalized on L1; the history shows every version. Then
 * the IPFS blockstore is scanned for plaintext (none), and a tampered envelope and a wrong CID are
 * refused with typed errors.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { Gateway__factory, Rollup__factory, type Gateway } from '../../contracts/types/index.js';
import { Scope } from '../../prover/codec.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { loadConfig } from '../../sdk/config.js';
import { parseRecordEnvelope } from '../../sdk/crypto.js';
import { deriveKeys, generateSeed, type DerivedKeys } from '../../sdk/keys.js';
import { indexHash } from '../../sdk/patientIndex.js';
import { InstitutionSession, openRecordVersion, PatientSession, RecordsError } from '../../sdk/records.js';
import { RollupClient, RollupError, type SoftReceipt } from '../../sdk/rollupClient.js';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../sdk/storage/embedded.js';
import { runScript, type ScriptProcess } from '../helpers/process.js';
import { devnetEnv, registerInstitution, registerPatient } from '../helpers/stack.js';
import { labBundle, PLAINTEXT_MARKERS } from '../helpers/fhir.js';


interface Party {
  readonly name: string;
  readonly keys: DerivedKeys;
  account: number;
}
const party = (name: string): Party => ({ name, keys: deriveKeys(generateSeed()), account: 0 });
const P = party('patient');
const H = party('hospital');
const I = party('insurer');

let dir: string;
let devnet: Devnet;
let redis: RedisServer;
let provider: JsonRpcProvider;
let sequencer: ScriptProcess;
let rollup: RollupClient;
let storage: EmbeddedStorage;

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const p = join(root, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

async function rejection<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'records-e2e-'));
  redis = await startRedis({ port: await freePort() });
  const env = await devnetEnv(dir, {
    REDIS_URL: redis.url,
    SEQUENCER_PORT: String(await freePort()),
    BATCH_TIMEOUT_MS: '800',
    PROVE_WORKERS: '1',
    FORCED_POLL_MS: '300',
  });
  const config = loadConfig(env);
  devnet = await startDevnet(config, { build: false, log: () => undefined });
  provider = new JsonRpcProvider(devnet.deployment.settlement.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  const governance = new Wallet(config.deployerKey, provider);
  const gateway: Gateway = Gateway__factory.connect(devnet.deployment.settlement.contracts.Gateway!, governance);

  // Registration by governance (the deployer key), before the node runs, as in rollup.test.ts.
  P.account = await registerPatient(gateway, P.keys.signingKey, governance.address);
  for (const [p, role, i] of [[H, 1, 3], [I, 3, 4]] as const) p.account = await registerInstitution(gateway, i, role, p.keys.signingKey, `did:web:${p.name}.example`);
  expect(new Set([P, H, I].map((p) => p.account)).size).toBe(3);

  sequencer = runScript('sequencer', 'scripts/sequencer.ts', env);
  await sequencer.waitFor(/\[sequencer\] running/, 90_000);
  rollup = new RollupClient(`http://127.0.0.1:${env.SEQUENCER_PORT!}`, { pollMs: 250 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const h = await rollup.health().catch(() => undefined);
    if (h && h.nextForcedIndex === 3 && h.pendingForcedOps === 0) break;
    if (Date.now() > deadline) throw new Error(`the registrations did not reach the sequencer\n${sequencer.tail(20)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  storage = await openEmbeddedStorage(join(dir, 'ipfs'));
}, 240_000);

afterAll(async () => {
  await storage?.close();
  await sequencer?.kill();
  provider?.destroy();
  await devnet?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('upload, grant, read, revoke, unreadable later version, claim, history; no plaintext on IPFS; tampering refused', async () => {
  const expiry = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const session = (p: Party) => ({ keys: p.keys, account: p.account, storage, rollup });
  const patient = await PatientSession.open(session(P));
  const hospital = new InstitutionSession(session(H));
  const insurer = new InstitutionSession(session(I));
  const key: SoftReceipt[] = [];

  // The patient uploads a FHIR Bundle and grants the hospital (Read) and the insurer (Claim).
  const v1 = await patient.upload(labBundle(13.2), { recordId: 'labs-2024' });
  key.push(v1.tx);
  const grant = await patient.grant({ account: H.account, x25519Public: H.keys.boxPublic }, Scope.Read, expiry);
  key.push(grant.grantTx);
  await patient.grant({ account: I.account, x25519Public: I.keys.boxPublic }, Scope.Claim, expiry);

  // The hospital reads and decrypts version 1; the access is a transaction.
  const read = await hospital.access(P.account, patient.indexCid!, 'labs-2024');
  expect([read.version, read.resource]).toEqual([1, labBundle(13.2)]);
  key.push(read.tx);

  // The patient revokes; version 2 is written after that.
  key.push((await patient.revoke(H.account)).revokeTx);
  const v2 = await patient.update('labs-2024', labBundle(9.1));
  key.push(v2.tx);
  expect((await rollup.account(P.account)).indexHash).toBe(indexHash(v2.indexCid));

  // Version 2 is unreadable for the hospital: the rollup refuses the access, and no key exists for it.
  const refused = await rejection(hospital.access(P.account, patient.indexCid!, 'labs-2024', 2), RollupError);
  expect(refused.code).toBe('NO_CONSENT');
  const noKey = await rejection(openRecordVersion(storage, patient.index!, 'labs-2024', 2, { account: H.account, boxSecret: H.keys.boxSecret }), RecordsError);
  expect(noKey.code).toBe('NO_KEY');

  // The insurer files a claim on version 2.
  const claim = await insurer.claim(P.account, 'labs-2024', 2);
  key.push(claim.tx);

  // The key transactions are finalized on L1 (proof verified by the Rollup).
  const finals = await Promise.all(key.map((tx) => rollup.waitFinal(tx.txHash, 150_000)));
  const rollupContract = Rollup__factory.connect(devnet.deployment.settlement.contracts.Rollup!, provider);
  for (const f of finals) {
    expect(f.status).toBe('finalized');
    expect(f.l1Block).toBe(Number((await rollupContract.batch(f.batch)).l1Block));
  }

  // The history shows every version: of the index, and of the record.
  const hist = await patient.history();
  expect(hist.map((h) => h.index.seq)).toEqual([4, 3, 2, 1, 0]);
  expect(hist[0]!.cid).toBe(v2.indexCid);
  expect(hist[0]!.index.records.map((r) => [r.recordId, r.version])).toEqual([
    ['labs-2024', 1],
    ['labs-2024', 2],
  ]);
  expect((await patient.read('labs-2024', 1)).resource).toEqual(labBundle(13.2));
  expect((await patient.read('labs-2024', 2)).resource).toEqual(labBundle(9.1));

  // No plaintext in any file of the IPFS store.
  const files = filesUnder(join(dir, 'ipfs'));
  expect(files.length).toBeGreaterThan(5);
  const plain = [...PLAINTEXT_MARKERS, JSON.stringify(labBundle(13.2)), JSON.stringify(labBundle(9.1))];
  for (const f of files) {
    const text = readFileSync(f).toString('latin1');
    for (const p of plain) expect({ file: f, found: text.includes(p) }).toEqual({ file: f, found: false });
  }

  // A wrong CID (a superseded index) is refused against the on-chain index hash.
  const wrong = await rejection(patient.read('nope'), RecordsError);
  expect(wrong.code).toBe('NOT_FOUND');
  const stale = await rejection(insurer.access(P.account, v1.indexCid, 'labs-2024'), RecordsError);
  expect(stale.code).toBe('INDEX_MISMATCH');
  // A tampered envelope in the blockstore is refused against its CID.
  const entry = patient.index!.records.find((r) => r.version === 2)!;
  const env = parseRecordEnvelope(new TextDecoder().decode(await storage.get(entry.cid)));
  const needle = Buffer.from(env.ciphertext.subarray(0, 16)).toString('hex');
  const blockFile = filesUnder(join(dir, 'ipfs', 'blocks')).find((f) => readFileSync(f).toString('latin1').includes(needle))!;
  const raw = readFileSync(blockFile);
  const at = raw.indexOf(needle, 0, 'latin1');
  raw[at] = raw[at] === 0x30 ? 0x31 : 0x30;
  writeFileSync(blockFile, raw);
  await expect(patient.read('labs-2024', 2)).rejects.toMatchObject({ name: 'StorageError', code: 'CID_MISMATCH' });
}, 240_000);
