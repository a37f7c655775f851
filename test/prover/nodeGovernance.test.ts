/**
 * RollupNode and the council: with settlement.contracts.Council in the deployment the node's
 * sequencer takes the council's policy (and follows changes); without it, the config's.
 * A real anvil chain, redis-server and the node without prove workers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Council__factory, type Council } from '../../contracts/types/index.js';
import { RollupNode } from '../../prover/node.js';
import { PROFILES } from '../../prover/profiles.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { loadConfig } from '../../sdk/config.js';
import type { Deployment } from '../../sdk/deployment.js';
import { collectSignatures, councilDomain, devCouncilWallets, executeProposal, priorityMask, setParamsCall } from '../../sdk/governance.js';
import { deploySettlement, startTestChain, type SettlementContracts, type TestChain } from '../helpers/chain.js';

const profile = PROFILES.test; // K = 2
const members = devCouncilWallets(4);

let dir: string;
let chain: TestChain;
let c: SettlementContracts;
let redis: RedisServer;
let council: Council;
let councilAddress: string;
let base: Deployment;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'node-governance-test-'));
  chain = await startTestChain();
  c = await deploySettlement(chain, { profile });
  const deployed = await new Council__factory(chain.accounts[0]!).deploy(
    members.map((m) => m.address),
    1,
    300,
    priorityMask(['access']),
  );
  await deployed.waitForDeployment();
  councilAddress = await deployed.getAddress();
  council = Council__factory.connect(councilAddress, chain.accounts[5]!);
  redis = await startRedis({ port: await freePort() });
  const settlement = {
    name: 'settlement',
    chainId: 31337,
    rpcUrl: chain.anvil.url,
    contracts: { Gateway: await c.gateway.getAddress(), Rollup: await c.rollup.getAddress() },
    startBlock: 0,
  };
  base = {
    version: 2,
    createdAt: new Date().toISOString(),
    settlement,
    partner: { name: 'partner', chainId: 31338, rpcUrl: 'http://127.0.0.1:1', contracts: {}, startBlock: 0 },
    circuit: { ...profile, profile: profile.name, artifactsDir: join(dir, 'none'), insecure: true },
  };
});

afterAll(async () => {
  await redis?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startNode(deployment: Deployment, lines: string[]): Promise<RollupNode> {
  const config = loadConfig({
    DATA_DIR: dir,
    OPERATOR_KEY: c.operator.privateKey,
    PROVE_WORKERS: '0',
    REDIS_URL: redis.url,
    BATCH_TIMEOUT_MS: '600000',
    PRIORITY_OPS: 'claim',
    FORCED_POLL_MS: '200',
  });
  return RollupNode.start({ config, deployment, redisUrl: redis.url, port: 0, log: (l) => lines.push(l) });
}

it('without a Council the node keeps the config policy', async () => {
  const lines: string[] = [];
  const node = await startNode(base, lines);
  try {
    expect([node.sequencer.batchSize, node.sequencer.batchTimeoutMs]).toEqual([profile.maxTxs, 600_000]);
    expect(lines.some((l) => l.includes('council'))).toBe(false);
  } finally {
    await node.stop();
  }
});

it('with a Council the node takes its policy at start and follows a quorum decision', async () => {
  const lines: string[] = [];
  const deployment: Deployment = { ...base, settlement: { ...base.settlement, contracts: { ...base.settlement.contracts, Council: councilAddress } } };
  const node = await startNode(deployment, lines);
  try {
    expect([node.sequencer.batchSize, node.sequencer.batchTimeoutMs]).toEqual([1, 300]);
    expect(lines).toContain(`council ${councilAddress} policy: batch size 1 of 2, timeout 300 ms, priority access`);

    const block = await chain.provider.getBlock('latest');
    const proposal = { nonce: 0n, deadline: BigInt(block!.timestamp) + 600n, calls: [setParamsCall(councilAddress, { batchSize: 0, batchTimeoutMs: 5000, priorityOps: [] })] };
    await (await executeProposal(council, proposal, await collectSignatures(members.slice(0, 3), councilDomain(31337n, councilAddress), proposal))).wait();
    const deadline = Date.now() + 10_000;
    while (node.sequencer.batchTimeoutMs !== 5000) {
      if (Date.now() > deadline) throw new Error('the node did not follow the council');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(node.sequencer.batchSize).toBe(profile.maxTxs);
    expect(lines.at(-1)).toBe(`council ${councilAddress} policy: batch size 2 (full) of 2, timeout 5000 ms, priority none`);
  } finally {
    await node.stop();
  }
});

it('pauses settlement when the operator is rotated away from its key, and resumes when it comes back', async () => {
  const lines: string[] = [];
  const node = await startNode(base, lines);
  const waitLine = async (pattern: RegExp) => {
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => pattern.test(l))) {
      if (Date.now() > deadline) throw new Error(`no line matching ${pattern}:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    const worker = node.pipeline.settleWorker!.worker;
    expect(worker.isPaused()).toBe(false);
    await (await c.gateway.setOperator(chain.accounts[7]!.address)).wait();
    await waitLine(/rotated the sequencer operator to 0x[0-9a-fA-F]{40}; this node .* pauses settlement/);
    expect(worker.isPaused()).toBe(true);
    await (await c.gateway.setOperator(c.operator.address)).wait();
    await waitLine(/is the sequencer operator again: settlement resumes/);
    expect(worker.isPaused()).toBe(false);
  } finally {
    await node.stop();
  }
});
