/**
 * The Ponder indexer against the devnet's two chains, as a real process (`ponder start`): events
 * sent before it starts (historical sync) and after it is ready (realtime) on both chains must
 * show up in its GraphQL API with their chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, Wallet, hexlify, randomBytes } from 'ethers';
import { Gateway__factory, Provenance__factory, type Gateway } from '../../contracts/types/index.js';
import { publicKeyOf, randomSecret } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { ANVIL_MNEMONIC, loadConfig } from '../../sdk/config.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PONDER_BIN = join(ROOT, 'node_modules', 'ponder', 'dist', 'esm', 'bin', 'ponder.js');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let dir: string;
let devnet: Devnet;
const providers: JsonRpcProvider[] = [];
let indexer: ChildProcess | undefined;
let indexerExited: Promise<void> | undefined;
const output: string[] = [];
let base: string;
let startedAt = 0;

const tail = () => output.slice(-40).map((l) => `    indexer| ${l}`).join('\n');

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await check();
    } catch {
      value = undefined;
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${tail()}`);
    await sleep(200);
  }
}

interface Rows {
  patients: { items: { chainId: number; chain: string; accountIndex: number; pubKeyX: string; pubKeyY: string; controller: string }[] };
  institutions: { items: { chainId: number; chain: string; address: string; role: string; accountIndex: number; did: string; active: boolean }[] };
  provenanceAnchors: { items: { chainId: number; root: string; anchoredBy: string; fromRollup: boolean }[] };
  forcedOperations: { items: { chainId: number; queueIndex: string; account: number; consumed: boolean }[] };
}

async function query(): Promise<Rows> {
  const q = `{
    patients(limit: 100) { items { chainId chain accountIndex pubKeyX pubKeyY controller } }
    institutions(limit: 100) { items { chainId chain address role accountIndex did active } }
    provenanceAnchors(limit: 100) { items { chainId root anchoredBy fromRollup } }
    forcedOperations(limit: 100) { items { chainId queueIndex account consumed } }
  }`;
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  const body = (await res.json()) as { data?: Rows; errors?: unknown };
  if (!body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const wallet = (i: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/0/${i}`);

async function registerPatient(gateway: Gateway, controller: string): Promise<{ account: number; x: bigint }> {
  const k = publicKeyOf(randomSecret());
  const r = await (await gateway.registerPatient(k.x, k.y, controller)).wait();
  const log = r!.logs.map((l) => gateway.interface.parseLog(l)).find((l) => l?.name === 'PatientRegistered');
  return { account: Number(log!.args.accountIndex), x: k.x };
}

let settlementPatient: { account: number; x: bigint };
let partnerPatient: { account: number; x: bigint };
let partnerGateway: Gateway;
const lab = wallet(5);
const anchoredRoot = hexlify(randomBytes(32));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'indexer-test-'));
  const env: Record<string, string> = {
    DATA_DIR: dir,
    CIRCUIT_PROFILE: 'test',
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
  };
  const config = loadConfig(env);
  devnet = await startDevnet(config, { build: false, log: () => undefined });
  const { settlement, partner } = devnet.deployment;

  const connect = (rpcUrl: string) => {
    const p = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
    providers.push(p);
    return new NonceManager(new Wallet(config.deployerKey, p));
  };
  const sGov = connect(settlement.rpcUrl);
  const pGov = connect(partner.rpcUrl);
  const settlementGateway = Gateway__factory.connect(settlement.contracts.Gateway!, sGov);
  partnerGateway = Gateway__factory.connect(partner.contracts.Gateway!, pGov);

  // Historical events: a patient on the settlement chain, a laboratory on the partner chain that
  // anchors a root there.
  settlementPatient = await registerPatient(settlementGateway, await sGov.getAddress());
  const k = publicKeyOf(randomSecret());
  await (await partnerGateway.registerInstitution(lab.address, 2, k.x, k.y, 'did:web:lab.example')).wait();
  const labOnPartner = lab.connect(providers[1]!);
  await (await Provenance__factory.connect(partner.contracts.Provenance!, labOnPartner).anchor(anchoredRoot)).wait();

  const deploymentFile = join(dir, 'deployment.json');
  expect(existsSync(deploymentFile)).toBe(true);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  startedAt = Date.now();
  indexer = spawn(
    process.execPath,
    [PONDER_BIN, '--log-format', 'json', 'start', '--root', join(ROOT, 'indexer'), '--schema', `test_${hexlify(randomBytes(4)).slice(2)}`, '--port', String(port), '--hostname', '127.0.0.1'],
    {
      // Ponder writes generated/schema.graphql under its working directory, not its root.
      cwd: join(ROOT, 'indexer'),
      env: { ...process.env, DATA_DIR: dir, DEPLOYMENT_FILE: deploymentFile, PONDER_TELEMETRY_DISABLED: 'true', INDEXER_POLLING_MS: '200', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const child = indexer;
  indexerExited = new Promise((resolve) => child.on('exit', () => resolve()));
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => output.push(...chunk.split('\n').filter((l) => l.length > 0)));
  }
  await until('the indexer to be ready', async () => {
    if (child.exitCode !== null) throw new Error(`indexer exited (${child.exitCode})\n${tail()}`);
    const res = await fetch(`${base}/ready`);
    return res.status === 200 ? true : undefined;
  }, 60_000).catch((err: unknown) => {
    if (child.exitCode !== null) throw new Error(`indexer exited (${child.exitCode})\n${tail()}`);
    throw err;
  });
  console.log(`indexer ready ${Date.now() - startedAt} ms after start`);
}, 85_000);

afterAll(async () => {
  if (indexer && indexer.exitCode === null && indexer.signalCode === null) {
    const child = indexer;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await indexerExited;
    clearTimeout(timer);
  }
  for (const p of providers) p.destroy();
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

test('historical events of both chains are in the GraphQL API with their chain', async () => {
  const { settlement, partner } = devnet.deployment;
  // Ponder's /ready means the historical sync is done; the blocks past its finality depth come
  // from the realtime sync right after, so wait for the last historical event.
  const rows = await until(
    'the historical events in the indexer',
    async () => {
      const r = await query();
      const all =
        r.patients.items.some((x) => x.chainId === settlement.chainId && x.accountIndex === settlementPatient.account) &&
        r.institutions.items.some((x) => x.chainId === partner.chainId) &&
        r.provenanceAnchors.items.some((x) => x.chainId === partner.chainId) &&
        r.forcedOperations.items.some((x) => x.chainId === settlement.chainId);
      return all ? r : undefined;
    },
    30_000,
  );
  console.log(`historical events queryable ${Date.now() - startedAt} ms after start`);
  const p = rows.patients.items.find((r) => r.chainId === settlement.chainId && r.accountIndex === settlementPatient.account);
  expect(p).toMatchObject({ chain: settlement.name, pubKeyX: settlementPatient.x.toString() });
  const inst = rows.institutions.items.find((r) => r.chainId === partner.chainId && r.address.toLowerCase() === lab.address.toLowerCase());
  expect(inst).toMatchObject({ chain: partner.name, role: 'Laboratory', did: 'did:web:lab.example', active: true });
  expect(rows.institutions.items.filter((r) => r.chainId === settlement.chainId && r.address.toLowerCase() === lab.address.toLowerCase())).toEqual([]);
  expect(rows.provenanceAnchors.items).toContainEqual({ chainId: partner.chainId, root: anchoredRoot, anchoredBy: lab.address.toLowerCase(), fromRollup: false });
  // Registrations go through the forced queue of their chain.
  expect(rows.forcedOperations.items.some((r) => r.chainId === settlement.chainId && r.account === settlementPatient.account && !r.consumed)).toBe(true);
}, 30_000);

test('a registration made after the indexer is ready is indexed in realtime', async () => {
  const { partner } = devnet.deployment;
  const sentAt = Date.now();
  partnerPatient = await registerPatient(partnerGateway, wallet(6).address);
  const row = await until(
    'the partner-chain patient in the indexer',
    async () => (await query()).patients.items.find((r) => r.chainId === partner.chainId && r.accountIndex === partnerPatient.account),
    30_000,
  );
  console.log(`realtime event indexed ${Date.now() - sentAt} ms after it was sent`);
  expect(row).toMatchObject({ chain: partner.name, pubKeyX: partnerPatient.x.toString(), controller: wallet(6).address.toLowerCase() });
}, 40_000);
