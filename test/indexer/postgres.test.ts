/**
 * The indexer on Postgres (DATABASE_URL), as docker-compose.yml runs it: a real `ponder start`
 * against a real PostgreSQL server of our own (scripts/postgres.ts, installing the Debian package
 * when it is missing). Events sent before it starts and after it is ready must show up both where
 * the API reads them (SQL over HTTP, api/indexerStore.ts) and in Postgres itself, in the
 * INDEXER_SCHEMA schema; stopped and started again on the same database, Ponder must resume on
 * its tables (the rows stay, nothing is dropped) and index what happened meanwhile.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, NonceManager, Wallet, hexlify, randomBytes } from 'ethers';
import { IndexerStore } from '../../api/indexerStore.js';
import { Gateway__factory, Provenance__factory, type Gateway } from '../../contracts/types/index.js';
import { publicKeyOf, randomSecret } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { startIndexer, type IndexerProcess } from '../../scripts/indexer.js';
import { startPostgres, type PostgresServer } from '../../scripts/postgres.js';
import { loadConfig, type Config } from '../../sdk/config.js';
import { registerInstitutionCall } from '../../sdk/governance.js';
import { devWallet, governGateway } from '../helpers/stack.js';
import { until as poll } from '../helpers/until.js';

/** Installing the Debian package can take a few minutes on a cold machine (CI). */
const SETUP_TIMEOUT_MS = 600_000;


let dir: string;
let pg: PostgresServer | undefined;
let devnet: Devnet | undefined;
const providers: JsonRpcProvider[] = [];
let config: Config;
let indexer: IndexerProcess | undefined;
let store: IndexerStore;
let gateway: Gateway;
let settlementChainId: number;
const output: string[] = [];
const schemaName = `test_pg_${hexlify(randomBytes(4)).slice(2)}`;

const lab = devWallet(5);
const anchoredRoot = hexlify(randomBytes(32));
const patients: { account: number; x: bigint }[] = [];

const tail = (lines = 40) => output.slice(-lines).map((l) => `    ${l}`).join('\n');

async function registerPatient(controller: string): Promise<{ account: number; x: bigint }> {
  const k = publicKeyOf(randomSecret());
  const r = await (await gateway.registerPatient(k.x, k.y, controller)).wait();
  const log = r!.logs.map((l) => gateway.interface.parseLog(l)).find((l) => l?.name === 'PatientRegistered');
  const p = { account: Number(log!.args.accountIndex), x: k.x };
  patients.push(p);
  return p;
}

/** Polls `check` every 200 ms until it returns a value (errors count as "not yet"); fails if the indexer dies. */
function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return poll(what, check, timeoutMs, {
    intervalMs: 200,
    context: tail,
    abort: () => {
      const gone = indexer?.proc.died();
      return gone ? `indexer exited (${gone.signal ?? gone.code})` : undefined;
    },
  });
}

async function start(): Promise<void> {
  const startedAt = Date.now();
  indexer = await startIndexer(config, (line) => output.push(line), {
    timeoutMs: 60_000,
    env: { INDEXER_POLLING_MS: '200', DATABASE_URL: pg!.url },
  });
  store = new IndexerStore(indexer.url, settlementChainId);
  console.log(`indexer ready on Postgres ${Date.now() - startedAt} ms after start`);
}

/** psql over DATABASE_URL: the rows of a query, each as its columns. */
async function sql(query: string): Promise<string[][]> {
  const out = await pg!.query(query);
  return out ? out.split('\n').map((line) => line.split('|')) : [];
}

/** The patients of the settlement chain as stored in Postgres: [account index, pubKeyX]. */
async function patientsInPostgres(): Promise<[number, string][]> {
  const rows = await sql(`SELECT account_index, pub_key_x FROM "${schemaName}".patients WHERE chain_id = ${settlementChainId} ORDER BY account_index`);
  return rows.map(([account, x]) => [Number(account), x!]);
}

const tableOid = async (table: string) => (await sql(`SELECT '"${schemaName}".${table}'::regclass::oid`))[0]![0]!;

beforeAll(async () => {
  const t = Date.now();
  pg = await startPostgres({ log: (line) => output.push(line) });
  console.log(`postgres ready on port ${pg.port} in ${Date.now() - t} ms`);

  dir = mkdtempSync(join(tmpdir(), 'indexer-pg-test-'));
  const env: Record<string, string> = {
    DATA_DIR: dir,
    CIRCUIT_PROFILE: 'test',
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
  };
  const devnetConfig = loadConfig(env);
  devnet = await startDevnet(devnetConfig, { build: false, log: () => undefined });
  const { settlement } = devnet.deployment;
  settlementChainId = settlement.chainId;

  const provider = new JsonRpcProvider(settlement.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  providers.push(provider);
  const gov = new NonceManager(new Wallet(devnetConfig.deployerKey, provider));
  gateway = Gateway__factory.connect(settlement.contracts.Gateway!, gov);

  // Historical events: a patient, and a laboratory (registered through the council) anchoring a root.
  await registerPatient(await gov.getAddress());
  const k = publicKeyOf(randomSecret());
  await governGateway(gateway, (g) => [registerInstitutionCall(g, { account: lab.address, role: 2, pubKey: [k.x, k.y], did: 'did:web:lab.example' })]);
  await (await Provenance__factory.connect(settlement.contracts.Provenance!, lab.connect(provider)).anchor(anchoredRoot)).wait();

  const deploymentFile = join(dir, 'deployment.json');
  expect(existsSync(deploymentFile)).toBe(true);
  config = loadConfig({ DATA_DIR: dir, DEPLOYMENT_FILE: deploymentFile, INDEXER_PORT: String(await freePort()), INDEXER_SCHEMA: schemaName });
  await start();
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await indexer?.stop();
  for (const p of providers) p.destroy();
  await devnet?.stop();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('Ponder keeps its tables in Postgres, in the INDEXER_SCHEMA schema, not in PGlite', async () => {
  expect(await store.ready()).toBe(true);
  // PGlite would have made $DATA_DIR/indexer.
  expect(existsSync(join(dir, 'indexer'))).toBe(false);
  const tables = (await sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schemaName}'`)).map(([name]) => name);
  expect(tables).toEqual(expect.arrayContaining(['patients', 'institutions', 'provenance_anchors', '_ponder_meta', '_ponder_checkpoint']));
  // Ponder's RPC sync store lives next to it in the same database.
  expect(await sql(`SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'ponder_sync'`)).toEqual([['ponder_sync']]);
}, 30_000);

test('historical events are indexed: read as the API reads them, and in Postgres', async () => {
  const [first] = patients;
  const row = await until('the historical patient through the API store', () => store.patient(first!.account), 30_000);
  expect(row).toMatchObject({ chainId: settlementChainId, pubKeyX: first!.x.toString() });
  const anchor = await until('the provenance anchor through the API store', () => store.provenanceAnchor(anchoredRoot), 30_000);
  expect(anchor).toMatchObject({ chainId: settlementChainId, root: anchoredRoot, anchoredBy: lab.address.toLowerCase(), fromRollup: false });
  const inst = await store.institutionByAccount(Number((await gateway.institution(lab.address)).accountIndex));
  expect(inst).toMatchObject({ role: 'Laboratory', did: 'did:web:lab.example', active: true });

  expect(await patientsInPostgres()).toContainEqual([first!.account, first!.x.toString()]);
  expect(await sql(`SELECT root, anchored_by FROM "${schemaName}".provenance_anchors WHERE chain_id = ${settlementChainId}`)).toContainEqual([
    anchoredRoot,
    lab.address.toLowerCase(),
  ]);
}, 60_000);

test('a registration made after the indexer is ready is indexed in realtime', async () => {
  const sentAt = Date.now();
  const p = await registerPatient(devWallet(6).address);
  const row = await until('the realtime patient through the API store', () => store.patient(p.account), 30_000);
  console.log(`realtime event indexed ${Date.now() - sentAt} ms after it was sent`);
  expect(row).toMatchObject({ pubKeyX: p.x.toString(), controller: devWallet(6).address.toLowerCase() });
  await until('the realtime patient in Postgres', async () => ((await patientsInPostgres()).some(([a]) => a === p.account) ? true : undefined), 10_000);
}, 60_000);

test('restarted on the same database, Ponder resumes on its tables and indexes what happened meanwhile', async () => {
  const oidBefore = await tableOid('patients');
  const before = await patientsInPostgres();
  expect(before.map(([a]) => a)).toEqual(patients.map((p) => p.account).sort((a, b) => a - b));

  await indexer!.stop();
  indexer = undefined;
  // The rows are in Postgres, not in the indexer process.
  expect(await patientsInPostgres()).toEqual(before);
  const meanwhile = await registerPatient(devWallet(7).address);

  // Ponder 0.16 leaves its schema lock set when it stops, so this start waits out the lock's
  // heartbeat timeout (~20 s, see scripts/indexer.ts) before it resumes.
  const outputBefore = output.length;
  await start();
  const row = await until('the patient registered while the indexer was down', () => store.patient(meanwhile.account), 30_000);
  expect(row).toMatchObject({ pubKeyX: meanwhile.x.toString(), controller: devWallet(7).address.toLowerCase() });
  // Every earlier patient is still there, through the API and in Postgres, in the very same table.
  for (const p of patients) expect(await store.patient(p.account)).toMatchObject({ pubKeyX: p.x.toString() });
  const expected: [number, string][] = [...before, [meanwhile.account, meanwhile.x.toString()]];
  expect(await patientsInPostgres()).toEqual(expected.sort(([a], [b]) => a - b));
  expect(await tableOid('patients')).toBe(oidBefore);
  expect(output.slice(outputBefore).join('\n')).not.toMatch(/Dropped existing database tables|previously used/);

  // And it keeps indexing in realtime after the restart.
  const after = await registerPatient(devWallet(8).address);
  await until('a patient registered after the restart', () => store.patient(after.account), 30_000);
}, 90_000);
