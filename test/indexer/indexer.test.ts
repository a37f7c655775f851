/**
 * The Ponder indexer against the devnet's two chains, as a real process (`ponder start`): events
 * sent before it starts (historical sync) and after it is ready (realtime) on both chains must
 * show up in its tables (read over SQL over HTTP, as api/ does) with their chain.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, Wallet, hexlify, randomBytes } from 'ethers';
import { Gateway__factory, Provenance__factory, type Gateway } from '../../contracts/types/index.js';
import { publicKeyOf, randomSecret } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { ANVIL_MNEMONIC, loadConfig } from '../../sdk/config.js';
import { schema, startIndexer, type IndexerProcess } from '../helpers/indexer.js';
import { registerInstitutionCall } from '../../sdk/governance.js';
import { governGateway } from '../helpers/stack.js';

let dir: string;
let devnet: Devnet;
const providers: JsonRpcProvider[] = [];
let indexer: IndexerProcess | undefined;

async function query() {
  const db = indexer!.client.db;
  return {
    patients: await db.select().from(schema.patient),
    institutions: await db.select().from(schema.institution),
    provenanceAnchors: await db.select().from(schema.provenanceAnchor),
    forcedOperations: await db.select().from(schema.forcedOperation),
  };
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
  await governGateway(partnerGateway, (g) => [registerInstitutionCall(g, { account: lab.address, role: 2, pubKey: [k.x, k.y], did: 'did:web:lab.example' })]);
  const labOnPartner = lab.connect(providers[1]!);
  await (await Provenance__factory.connect(partner.contracts.Provenance!, labOnPartner).anchor(anchoredRoot)).wait();

  const deploymentFile = join(dir, 'deployment.json');
  expect(existsSync(deploymentFile)).toBe(true);
  indexer = await startIndexer({ dataDir: dir, deploymentFile });
  console.log(`indexer ready ${Date.now() - indexer.startedAt} ms after start`);
}, 85_000);

afterAll(async () => {
  await indexer?.stop();
  for (const p of providers) p.destroy();
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

test('historical events of both chains are indexed with their chain', async () => {
  const { settlement, partner } = devnet.deployment;
  // Ponder's /ready means the historical sync is done; the blocks past its finality depth come
  // from the realtime sync right after, so wait for the last historical event.
  const rows = await indexer!.until(
    'the historical events in the indexer',
    async () => {
      const r = await query();
      const all =
        r.patients.some((x) => x.chainId === settlement.chainId && x.accountIndex === settlementPatient.account) &&
        r.institutions.some((x) => x.chainId === partner.chainId) &&
        r.provenanceAnchors.some((x) => x.chainId === partner.chainId) &&
        r.forcedOperations.some((x) => x.chainId === settlement.chainId);
      return all ? r : undefined;
    },
    30_000,
  );
  console.log(`historical events queryable ${Date.now() - indexer!.startedAt} ms after start`);
  const p = rows.patients.find((r) => r.chainId === settlement.chainId && r.accountIndex === settlementPatient.account);
  expect(p).toMatchObject({ chain: settlement.name, pubKeyX: settlementPatient.x.toString() });
  const inst = rows.institutions.find((r) => r.chainId === partner.chainId && r.address.toLowerCase() === lab.address.toLowerCase());
  expect(inst).toMatchObject({ chain: partner.name, role: 'Laboratory', did: 'did:web:lab.example', active: true });
  expect(rows.institutions.filter((r) => r.chainId === settlement.chainId && r.address.toLowerCase() === lab.address.toLowerCase())).toEqual([]);
  expect(rows.provenanceAnchors.map(({ chainId, root, anchoredBy, fromRollup }) => ({ chainId, root, anchoredBy, fromRollup }))).toContainEqual({
    chainId: partner.chainId,
    root: anchoredRoot,
    anchoredBy: lab.address.toLowerCase(),
    fromRollup: false,
  });
  // Registrations go through the forced queue of their chain.
  expect(rows.forcedOperations.some((r) => r.chainId === settlement.chainId && r.account === settlementPatient.account && !r.consumed)).toBe(true);
}, 30_000);

test('a registration made after the indexer is ready is indexed in realtime', async () => {
  const { partner } = devnet.deployment;
  const sentAt = Date.now();
  partnerPatient = await registerPatient(partnerGateway, wallet(6).address);
  const row = await indexer!.until(
    'the partner-chain patient in the indexer',
    async () => (await query()).patients.find((r) => r.chainId === partner.chainId && r.accountIndex === partnerPatient.account),
    30_000,
  );
  console.log(`realtime event indexed ${Date.now() - sentAt} ms after it was sent`);
  expect(row).toMatchObject({ chain: partner.name, pubKeyX: partnerPatient.x.toString(), controller: wallet(6).address.toLowerCase() });
}, 40_000);
