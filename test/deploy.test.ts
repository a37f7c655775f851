/**
 * Deployment on two real anvil chains (contracts/deploy.ts), the deployment file (sdk/deployment.ts)
 * and the configuration it is built from (sdk/config.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Contract, JsonRpcProvider, Wallet, zeroPadValue } from 'ethers';
import { freePort, startAnvil, type AnvilChain } from '../scripts/devnet/anvil.js';
import { deployAll, isDeploymentLive, DeploymentError } from '../contracts/deploy.js';
import { ANVIL_DEV_KEY, ConfigError, loadConfig, type Config } from '../sdk/config.js';
import { readDeployment, writeDeployment, DeploymentFileError, type ChainDeployment, type Deployment } from '../sdk/deployment.js';
import { emptyTreeRoot } from '../prover/emptyTree.js';
import { Council__factory, ForeignRoots__factory, Gateway__factory, Provenance__factory, RootPublisher__factory, Rollup__factory } from '../contracts/types/index.js';

const SETTLEMENT_ID = 31337;
const PARTNER_ID = 31338;
const DEPLOYER = new Wallet(ANVIL_DEV_KEY).address;
const HYPERLANE = ['Mailbox', 'MerkleTreeHook', 'MultisigIsm', 'MultisigIsmFactory', 'PausableHook'];
const SETTLEMENT_CONTRACTS = ['BaselineRegistry', 'BatchVerifier', 'Council', 'Gateway', ...HYPERLANE, 'Provenance', 'Rollup', 'RootPublisher'].sort();
const PARTNER_CONTRACTS = ['BaselineRegistry', 'Council', 'ForeignRoots', 'Gateway', ...HYPERLANE, 'PoseidonT3', 'PoseidonT6', 'Provenance'].sort();

/** Everything this file starts, stopped and removed in afterAll whatever happens. */
const anvils: AnvilChain[] = [];
const providers: JsonRpcProvider[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const p of providers) p.destroy();
  await Promise.all(anvils.map((a) => a.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-test-'));
  dirs.push(dir);
  return dir;
}

async function anvil(chainId: number): Promise<AnvilChain> {
  const chain = await startAnvil({ chainId, port: await freePort(), name: `deploy-${chainId}` });
  anvils.push(chain);
  return chain;
}

/** A settlement + partner pair of fresh automine chains, and the Config naming their ports. */
async function chainPair(): Promise<{ settlement: AnvilChain; partner: AnvilChain; config: Config }> {
  const [settlement, partner] = await Promise.all([anvil(SETTLEMENT_ID), anvil(PARTNER_ID)]);
  const config = loadConfig({
    DATA_DIR: tempDir(),
    CIRCUIT_PROFILE: 'test',
    SETTLEMENT_PORT: String(new URL(settlement.url).port),
    PARTNER_PORT: String(new URL(partner.url).port),
  });
  return { settlement, partner, config };
}

function provider(url: string): JsonRpcProvider {
  const p = new JsonRpcProvider(url, undefined, { staticNetwork: true });
  providers.push(p);
  return p;
}

/** The deployment with both chains' RPC URLs replaced (the same contracts looked for elsewhere). */
function pointedAt(d: Deployment, settlementUrl: string, partnerUrl: string): Deployment {
  return { ...d, settlement: { ...d.settlement, rpcUrl: settlementUrl }, partner: { ...d.partner, rpcUrl: partnerUrl } };
}

describe('deployAll on two anvil chains', () => {
  let settlement: AnvilChain;
  let partner: AnvilChain;
  let config: Config;
  let deployment: Deployment;
  let l1: JsonRpcProvider;
  let l2: JsonRpcProvider;

  beforeAll(async () => {
    ({ settlement, partner, config } = await chainPair());
    const log: string[] = [];
    deployment = await deployAll({ config, settlementRpc: settlement.url, partnerRpc: partner.url, log: (m) => log.push(m) });
    expect(log.length).toBeGreaterThan(0);
    l1 = provider(settlement.url);
    l2 = provider(partner.url);
  });

  it('records both chains: names, ids, RPC URLs and every contract', () => {
    expect(deployment.version).toBe(2);
    expect(new Date(deployment.createdAt).toISOString()).toBe(deployment.createdAt);
    expect(deployment.settlement).toMatchObject({ name: 'settlement', chainId: SETTLEMENT_ID, rpcUrl: settlement.url });
    expect(deployment.partner).toMatchObject({ name: 'partner', chainId: PARTNER_ID, rpcUrl: partner.url });
    expect(Object.keys(deployment.settlement.contracts).sort()).toEqual(SETTLEMENT_CONTRACTS);
    expect(Object.keys(deployment.partner.contracts).sort()).toEqual(PARTNER_CONTRACTS);
    const settlementAddresses = Object.values(deployment.settlement.contracts);
    expect(new Set(settlementAddresses).size).toBe(settlementAddresses.length);
  });

  it('puts code at every address, on its own chain', async () => {
    for (const [chain, p] of [
      [deployment.settlement, l1],
      [deployment.partner, l2],
    ] as [ChainDeployment, JsonRpcProvider][]) {
      for (const [name, address] of Object.entries(chain.contracts)) {
        expect([name, (await p.getCode(address)).length > 2]).toEqual([name, true]);
      }
    }
  });

  it('isDeploymentLive is true', async () => {
    await expect(isDeploymentLive(deployment)).resolves.toBe(true);
  });

  it('wires the settlement Gateway and Provenance to the Rollup', async () => {
    const { Gateway, Provenance, Rollup, BatchVerifier } = deployment.settlement.contracts as Record<string, string>;
    const gateway = Gateway__factory.connect(Gateway!, l1);
    expect(await gateway.rollup()).toBe(Rollup);
    expect(await gateway.provenance()).toBe(Provenance);
    expect(await gateway.operator()).toBe(DEPLOYER);
    const provenance = Provenance__factory.connect(Provenance!, l1);
    expect(await provenance.rollup()).toBe(Rollup);
    expect(await provenance.gateway()).toBe(Gateway);
    const rollup = Rollup__factory.connect(Rollup!, l1);
    expect(await rollup.gateway()).toBe(Gateway);
    expect(await rollup.provenance()).toBe(Provenance);
    expect(await rollup.verifier()).toBe(BatchVerifier);
    expect(deployment.circuit).toMatchObject({ profile: 'test', maxTxs: 2, insecure: true });
  });

  it('starts the Rollup at the empty depth-20 tree root', async () => {
    const rollup = Rollup__factory.connect(deployment.settlement.contracts['Rollup']!, l1);
    expect(await rollup.stateRoot()).toBe(emptyTreeRoot(config.circuit.treeDepth));
    expect(await rollup.maxTxs()).toBe(BigInt(config.circuit.maxTxs));
    expect(await rollup.batchCount()).toBe(0n);
  });

  it("hands every governed or owned contract to its chain's council, and wires the relay", async () => {
    for (const [chain, p] of [
      [deployment.settlement, l1],
      [deployment.partner, l2],
    ] as [ChainDeployment, JsonRpcProvider][]) {
      const c = chain.contracts as Record<string, string>;
      const council = Council__factory.connect(c.Council!, p);
      expect(await council.quorum()).toBe(3n);
      expect(await council.memberCount()).toBe(4n);
      const governed = chain === deployment.settlement ? ['Gateway', 'RootPublisher'] : ['Gateway', 'ForeignRoots'];
      for (const name of governed) expect([name, await Gateway__factory.connect(c[name]!, p).governance()]).toEqual([name, c.Council]);
      for (const name of ['Mailbox', 'PausableHook', 'MultisigIsm']) {
        expect([name, await new Contract(c[name]!, ['function owner() view returns (address)'], p).getFunction('owner')()]).toEqual([name, c.Council]);
      }
    }
    const s = deployment.settlement.contracts as Record<string, string>;
    const partnerSide = deployment.partner.contracts as Record<string, string>;
    const publisher = RootPublisher__factory.connect(s.RootPublisher!, l1);
    expect((await publisher.routes()).map((r) => [Number(r.domain), r.recipient])).toEqual([[PARTNER_ID, zeroPadValue(partnerSide.ForeignRoots!, 32).toLowerCase()]]);
    const origin = await ForeignRoots__factory.connect(partnerSide.ForeignRoots!, l2).origins(SETTLEMENT_ID);
    expect([origin.publisher, origin.rollup, Number(origin.treeDepth), origin.nextBatch]).toEqual([zeroPadValue(s.RootPublisher!, 32).toLowerCase(), s.Rollup, config.circuit.treeDepth, 0n]);
  });

  it('leaves the partner Gateway unwired (no rollup on the partner chain)', async () => {
    const gateway = Gateway__factory.connect(deployment.partner.contracts['Gateway']!, l2);
    expect(await gateway.rollup()).toBe('0x0000000000000000000000000000000000000000');
    expect(await gateway.operator()).toBe(DEPLOYER);
    const provenance = Provenance__factory.connect(deployment.partner.contracts['Provenance']!, l2);
    expect(await provenance.gateway()).toBe(deployment.partner.contracts['Gateway']);
  });

  it('records as startBlock the first block holding any of its contracts', async () => {
    for (const [chain, p] of [
      [deployment.settlement, l1],
      [deployment.partner, l2],
    ] as [ChainDeployment, JsonRpcProvider][]) {
      // A fresh automine chain: the first deployment transaction is mined in block 1.
      expect(chain.startBlock).toBe(1);
      const before = await Promise.all(Object.values(chain.contracts).map((a) => p.getCode(a, chain.startBlock - 1)));
      expect(before.every((code) => code === '0x')).toBe(true);
      const at = await Promise.all(Object.values(chain.contracts).map((a) => p.getCode(a, chain.startBlock)));
      expect(at.some((code) => code !== '0x')).toBe(true);
    }
  });

  it('isDeploymentLive is false when a chain answers with another chain id', async () => {
    await expect(isDeploymentLive(pointedAt(deployment, partner.url, settlement.url))).resolves.toBe(false);
  });

  it('rejects with a DeploymentError naming both ids when a chain has the wrong id, sending nothing', async () => {
    const nonces = async () => [await l1.getTransactionCount(DEPLOYER), await l2.getTransactionCount(DEPLOYER)];
    const before = await nonces();

    const swapped = deployAll({ config, settlementRpc: partner.url, partnerRpc: settlement.url });
    await expect(swapped).rejects.toBeInstanceOf(DeploymentError);
    await expect(deployAll({ config, settlementRpc: partner.url, partnerRpc: settlement.url })).rejects.toThrow(
      `chain at ${partner.url} has id ${PARTNER_ID}, expected ${SETTLEMENT_ID}`,
    );
    // Settlement right, partner wrong: still refused before anything is sent.
    await expect(deployAll({ config, settlementRpc: settlement.url, partnerRpc: settlement.url })).rejects.toThrow(
      new DeploymentError(`chain at ${settlement.url} has id ${SETTLEMENT_ID}, expected ${PARTNER_ID}`),
    );
    expect(await nonces()).toEqual(before);
  });

  it('rejects with a DeploymentError when a chain is unreachable', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const attempt = deployAll({ config, settlementRpc: nowhere, partnerRpc: partner.url });
    await expect(attempt).rejects.toBeInstanceOf(DeploymentError);
    await expect(deployAll({ config, settlementRpc: nowhere, partnerRpc: partner.url })).rejects.toThrow(`cannot reach chain at ${nowhere}`);
    await expect(deployAll({ config, settlementRpc: settlement.url, partnerRpc: nowhere })).rejects.toThrow(`cannot reach chain at ${nowhere}`);
  });
});

describe('deterministic redeployment', () => {
  it('gives identical addresses on fresh chains; liveness follows the chains', async () => {
    const first = await chainPair();
    const a = await deployAll({ config: first.config, settlementRpc: first.settlement.url, partnerRpc: first.partner.url });
    await expect(isDeploymentLive(a)).resolves.toBe(true);

    // One chain gone is enough to make the deployment not live; then both.
    await first.partner.stop();
    await expect(isDeploymentLive(a)).resolves.toBe(false);
    await first.settlement.stop();
    await expect(isDeploymentLive(a)).resolves.toBe(false);

    const second = await chainPair();
    // The same addresses on fresh chains without contracts: not live.
    const repointed = pointedAt(a, second.settlement.url, second.partner.url);
    await expect(isDeploymentLive(repointed)).resolves.toBe(false);

    const b = await deployAll({ config: second.config, settlementRpc: second.settlement.url, partnerRpc: second.partner.url });
    expect(b.settlement.contracts).toEqual(a.settlement.contracts);
    expect(b.partner.contracts).toEqual(a.partner.contracts);
    expect([b.settlement.startBlock, b.partner.startBlock]).toEqual([a.settlement.startBlock, a.partner.startBlock]);
    await expect(isDeploymentLive(b)).resolves.toBe(true);
    await expect(isDeploymentLive(repointed)).resolves.toBe(true);

    await Promise.all([second.settlement.stop(), second.partner.stop()]);
  });

  it('isDeploymentLive is false against a fresh chain when only one side has the contracts', async () => {
    const deployed = await chainPair();
    const d = await deployAll({ config: deployed.config, settlementRpc: deployed.settlement.url, partnerRpc: deployed.partner.url });
    const fresh = await anvil(PARTNER_ID);
    await expect(isDeploymentLive(pointedAt(d, deployed.settlement.url, fresh.url))).resolves.toBe(false);
    await Promise.all([deployed.settlement.stop(), deployed.partner.stop(), fresh.stop()]);
  });
});

describe('deployment file', () => {
  const sample: Deployment = {
    version: 2,
    createdAt: '2025-01-02T03:04:05.000Z',
    settlement: {
      name: 'settlement',
      chainId: SETTLEMENT_ID,
      rpcUrl: 'http://127.0.0.1:8545',
      contracts: { Gateway: '0x5FbDB2315678afecb367f032d93F642f64180aa3', Rollup: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9' },
      startBlock: 1,
    },
    partner: {
      name: 'partner',
      chainId: PARTNER_ID,
      rpcUrl: 'http://127.0.0.1:8546',
      contracts: { Gateway: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
      startBlock: 3,
    },
    circuit: { profile: 'test', maxTxs: 2, maxForcedOps: 1, treeDepth: 4, consentDepth: 2, artifactsDir: '/tmp/artifacts', insecure: true },
  };

  it('round-trips through writeDeployment/readDeployment, creating the directory and leaving no temp file', () => {
    const path = join(tempDir(), 'nested', 'dir', 'deployment.json');
    writeDeployment(path, sample);
    expect(readDeployment(path)).toEqual(sample);
    expect(existsSync(`${path}.tmp`)).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(sample);
    // Overwrites in place.
    const moved = { ...sample, partner: { ...sample.partner, startBlock: 9 } };
    writeDeployment(path, moved);
    expect(readDeployment(path).partner.startBlock).toBe(9);
  });

  it('throws DeploymentFileError mentioning npm start when the file is missing', () => {
    const path = join(tempDir(), 'missing.json');
    expect(() => readDeployment(path)).toThrow(DeploymentFileError);
    expect(() => readDeployment(path)).toThrow(/npm start/);
    expect(() => readDeployment(path)).toThrow(path);
  });

  it('throws DeploymentFileError for a file that is not a version-2 deployment', () => {
    const dir = tempDir();
    const { circuit: _circuit, ...withoutCircuit } = sample;
    for (const [file, body] of [
      ['v1.json', { ...sample, version: 1 }],
      ['nocircuit.json', withoutCircuit],
      ['nochains.json', { version: 2, createdAt: sample.createdAt }],
      ['array.json', []],
    ] as const) {
      const path = join(dir, file);
      writeFileSync(path, JSON.stringify(body));
      expect(() => readDeployment(path)).toThrow(new DeploymentFileError(`${path} is not a version-2 deployment file`));
    }
  });

  it('throws a DeploymentFileError naming the file for a file that is not JSON', () => {
    const path = join(tempDir(), 'broken.json');
    writeFileSync(path, '{"version": 1,');
    expect(() => readDeployment(path)).toThrow(DeploymentFileError);
    expect(() => readDeployment(path)).toThrow(`${path} is not valid JSON`);
  });
});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.settlement).toEqual({ name: 'settlement', chainId: 31337, host: '127.0.0.1', port: 8545, blockTime: 2, rpcUrl: 'http://127.0.0.1:8545' });
    expect(config.partner).toEqual({ name: 'partner', chainId: 31338, host: '127.0.0.1', port: 8546, blockTime: 1, rpcUrl: 'http://127.0.0.1:8546' });
    expect(config.dataDir).toBe(resolve('.data'));
    expect(config.deploymentFile).toBe(resolve('.data', 'deployment.json'));
    expect(config.deployerKey).toBe(ANVIL_DEV_KEY);
    expect(config.forcedInclusionDeadline).toBe(50);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ SETTLEMENT_PORT: '', PARTNER_CHAIN_ID: '', DEPLOYER_KEY: '', DATA_DIR: '' })).toEqual(loadConfig({}));
  });

  it('takes every value from the environment', () => {
    const dir = tempDir();
    const key = `0x${'ab'.repeat(32)}`;
    const config = loadConfig({
      DATA_DIR: dir,
      SETTLEMENT_CHAIN_ID: '1001',
      SETTLEMENT_HOST: '0.0.0.0',
      SETTLEMENT_PORT: '9545',
      SETTLEMENT_BLOCK_TIME: '0',
      PARTNER_CHAIN_ID: '1002',
      PARTNER_HOST: 'localhost',
      PARTNER_PORT: '9546',
      PARTNER_BLOCK_TIME: '5',
      DEPLOYER_KEY: key,
      FORCED_INCLUSION_DEADLINE: '7',
    });
    expect(config.settlement).toEqual({ name: 'settlement', chainId: 1001, host: '0.0.0.0', port: 9545, blockTime: 0, rpcUrl: 'http://0.0.0.0:9545' });
    expect(config.partner).toEqual({ name: 'partner', chainId: 1002, host: 'localhost', port: 9546, blockTime: 5, rpcUrl: 'http://localhost:9546' });
    expect(config.dataDir).toBe(dir);
    expect(config.deploymentFile).toBe(join(dir, 'deployment.json'));
    expect(config.deployerKey).toBe(key);
    expect(config.forcedInclusionDeadline).toBe(7);
    expect(loadConfig({ DATA_DIR: dir, DEPLOYMENT_FILE: 'elsewhere/d.json' }).deploymentFile).toBe(resolve('elsewhere/d.json'));
  });

  it('allows equal ports on different hosts', () => {
    const config = loadConfig({ SETTLEMENT_PORT: '9000', PARTNER_PORT: '9000', PARTNER_HOST: '127.0.0.2' });
    expect([config.settlement.port, config.partner.port]).toEqual([9000, 9000]);
  });

  it.each([
    ['SETTLEMENT_PORT', '85.45'],
    ['SETTLEMENT_PORT', 'abc'],
    ['PARTNER_PORT', '8546x'],
    ['PARTNER_PORT', '-1'],
    ['SETTLEMENT_PORT', '0'],
    ['SETTLEMENT_CHAIN_ID', '1.5'],
    ['PARTNER_BLOCK_TIME', '-2'],
    ['FORCED_INCLUSION_DEADLINE', '0'],
    ['SETTLEMENT_PORT', '65536'],
    ['SETTLEMENT_PORT', '0x10'],
    ['PARTNER_PORT', '1e3'],
    ['PARTNER_PORT', ' 8546 '],
  ])('throws ConfigError for %s=%s', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(`${key} must be a decimal integer`);
    expect(() => loadConfig({ [key]: value })).toThrow(`"${value}"`);
  });

  it('throws ConfigError for equal chain ids', () => {
    expect(() => loadConfig({ PARTNER_CHAIN_ID: '31337' })).toThrow(new ConfigError('SETTLEMENT_CHAIN_ID and PARTNER_CHAIN_ID must differ'));
    expect(() => loadConfig({ SETTLEMENT_CHAIN_ID: '5', PARTNER_CHAIN_ID: '5' })).toThrow(ConfigError);
  });

  it('throws ConfigError for equal ports on the same host', () => {
    expect(() => loadConfig({ PARTNER_PORT: '8545' })).toThrow(new ConfigError('SETTLEMENT_PORT and PARTNER_PORT must differ'));
  });

  it.each([
    ['no 0x prefix', 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'],
    ['too short', '0x1234'],
    ['too long', `${ANVIL_DEV_KEY}00`],
    ['not hex', `0x${'zz'.repeat(32)}`],
    ['an address', DEPLOYER],
  ])('throws ConfigError for a malformed DEPLOYER_KEY (%s)', (_what, key) => {
    expect(() => loadConfig({ DEPLOYER_KEY: key })).toThrow(new ConfigError('DEPLOYER_KEY must be a 0x-prefixed 32-byte hex private key'));
  });

  it('reads the operator settings: chain RPC URLs, split workers, their ports, log format and level', () => {
    const d = loadConfig({});
    expect([d.settlement.rpcUrl, d.partner.rpcUrl]).toEqual(['http://127.0.0.1:8545', 'http://127.0.0.1:8546']);
    expect(d.rollup).toMatchObject({ settleWorker: true, proverHost: '127.0.0.1', proverPort: 8551, settlerHost: '127.0.0.1', settlerPort: 8552 });
    expect(d.log).toEqual({ format: 'text', level: 'info' });
    const o = loadConfig({
      SETTLEMENT_RPC_URL: 'https://rpc.example.org/v1/key/',
      PARTNER_RPC_URL: 'http://partner:8546',
      SETTLE_WORKER: 'false',
      PROVER_PORT: '0',
      SETTLER_HOST: '0.0.0.0',
      LOG_FORMAT: 'JSON',
      LOG_LEVEL: 'warn',
    });
    expect([o.settlement.rpcUrl, o.partner.rpcUrl]).toEqual(['https://rpc.example.org/v1/key', 'http://partner:8546']);
    expect(o.rollup).toMatchObject({ settleWorker: false, proverPort: 0, settlerHost: '0.0.0.0' });
    expect(o.log).toEqual({ format: 'json', level: 'warn' });
    expect(() => loadConfig({ SETTLEMENT_RPC_URL: 'ws://x:8545' })).toThrow(new ConfigError('SETTLEMENT_RPC_URL must be an http:// or https:// URL, got "ws://x:8545"'));
    expect(() => loadConfig({ SETTLE_WORKER: 'no' })).toThrow(new ConfigError('SETTLE_WORKER must be true or false, got "no"'));
    expect(() => loadConfig({ LOG_FORMAT: 'pretty' })).toThrow(new ConfigError('LOG_FORMAT must be text or json, got "pretty"'));
    expect(() => loadConfig({ LOG_LEVEL: 'trace' })).toThrow(new ConfigError('LOG_LEVEL must be one of debug, info, warn, error, got "trace"'));
    expect(() => loadConfig({ INDEXER_SCHEMA: 'pg_medrollup' })).toThrow(new ConfigError('INDEXER_SCHEMA must not start with pg_ (reserved by Postgres), got "pg_medrollup"'));
  });

  it('reads the rollup services: defaults, overrides and refusals', () => {
    const d = loadConfig({}).rollup;
    expect(d).toMatchObject({ redisUrl: undefined, redisPort: 6390, operatorKey: ANVIL_DEV_KEY, sequencerPort: 8550, batchTimeoutMs: 10_000, priorityOps: [], proveWorkers: 1, proveLockMs: 60_000 });
    expect(d.verifyThreads).toBeGreaterThanOrEqual(1);
    const o = loadConfig({ REDIS_URL: 'redis://10.0.0.5:6379/2', PRIORITY_OPS: 'Access, claim,access', PROVE_WORKERS: '0', OPERATOR_KEY: `0x${'11'.repeat(32)}` }).rollup;
    expect(o).toMatchObject({ redisUrl: 'redis://10.0.0.5:6379/2', priorityOps: ['access', 'claim'], proveWorkers: 0, operatorKey: `0x${'11'.repeat(32)}` });
    expect(() => loadConfig({ PRIORITY_OPS: 'access,delete' })).toThrow(new ConfigError('PRIORITY_OPS: unknown operation "delete" (one of upload, update, grant, revoke, access, claim)'));
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL must start with redis:\/\//);
    expect(() => loadConfig({ OPERATOR_KEY: '0x12' })).toThrow(/OPERATOR_KEY/);
    expect(() => loadConfig({ PROVE_LOCK_MS: '10' })).toThrow(/PROVE_LOCK_MS must be a decimal integer in 1000\.\./);
  });

  it('reads the relay and governance settings: defaults, overrides and refusals', () => {
    const d = loadConfig({ DATA_DIR: '/tmp/x' });
    expect(d.relay.validatorKeys).toHaveLength(4);
    expect(new Set(d.relay.validatorKeys).size).toBe(4);
    expect(d.relay).toMatchObject({ threshold: 3, validatorPort: 8560, localValidators: 4, confirmations: 1, pollMs: 500, dir: '/tmp/x/relay' });
    expect(d.relay.validatorUrls).toEqual([0, 1, 2, 3].map((i) => `http://127.0.0.1:${8560 + i}`));
    expect(d.governance.members).toBeUndefined();
    const keys = Array.from({ length: 7 }, (_, i) => `0x${(i + 1).toString(16).padStart(64, '0')}`);
    const o = loadConfig({ VALIDATOR_KEYS: keys.join(','), LOCAL_VALIDATORS: '2', VALIDATOR_URLS: 'https://v1.example/,https://v2.example' });
    expect(o.relay).toMatchObject({ threshold: 5, localValidators: 2, validatorUrls: ['https://v1.example', 'https://v2.example'] });
    expect(loadConfig({ VALIDATOR_KEYS: keys.slice(0, 4).join(','), VALIDATOR_THRESHOLD: '4' }).relay.threshold).toBe(4);
    expect(() => loadConfig({ VALIDATOR_KEYS: keys.slice(0, 4).join(','), VALIDATOR_THRESHOLD: '5' })).toThrow(/VALIDATOR_THRESHOLD must be a decimal integer in 1\.\.4/);
    expect(() => loadConfig({ VALIDATOR_KEYS: '0x12' })).toThrow(/VALIDATOR_KEYS\[0\] must be a 0x-prefixed 32-byte hex private key/);
    expect(() => loadConfig({ VALIDATOR_URLS: 'ftp://x' })).toThrow(/VALIDATOR_URLS/);
    expect(() => loadConfig({ RELAYER_KEY: 'nope' })).toThrow(/RELAYER_KEY/);
    const members = [Wallet.createRandom().address, Wallet.createRandom().address];
    expect(loadConfig({ COUNCIL_MEMBERS: members.join(', ') }).governance.members).toEqual(members);
    expect(() => loadConfig({ COUNCIL_MEMBERS: `${members[0]},${members[0]!.toLowerCase()}` })).toThrow(/twice/);
    expect(() => loadConfig({ COUNCIL_MEMBERS: '0x1234' })).toThrow(/not an address/);
  });

  it('names its errors ConfigError', () => {
    try {
      loadConfig({ SETTLEMENT_PORT: 'x' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).name).toBe('ConfigError');
    }
  });
});
