/**
 * The local chain runner: real anvil processes on free loopback ports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { ethers } from 'ethers';
import { AnvilError, freePort, rpcCall, startAnvil, type AnvilChain } from '../scripts/devnet/anvil.js';
import { startDevnet } from '../scripts/devnet.js';
import { loadConfig } from '../sdk/config.js';
import { readDeployment, writeDeployment } from '../sdk/deployment.js';

const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** Runtime code that returns 42, and init code that deploys it. */
const RUNTIME = '0x602a60005260206000f3';
const INIT = `0x69${RUNTIME.slice(2)}600052600a6016f3`;

describe('anvil chains', () => {
  const started: AnvilChain[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    await Promise.all(started.map((c) => c.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function boot(chainId: number, extra: { statePath?: string; name?: string } = {}): Promise<AnvilChain> {
    const chain = await startAnvil({ chainId, port: await freePort(), ...extra });
    started.push(chain);
    return chain;
  }

  it('runs two chains side by side with their own chain ids', async () => {
    const [a, b] = await Promise.all([boot(41001, { name: 'alpha' }), boot(41002, { name: 'beta' })]);
    expect(a.url).not.toEqual(b.url);
    expect(Number(await rpcCall<string>(a.url, 'eth_chainId'))).toBe(41001);
    expect(Number(await rpcCall<string>(b.url, 'eth_chainId'))).toBe(41002);
    const network = await new ethers.JsonRpcProvider(b.url, undefined, { staticNetwork: true }).getNetwork();
    expect(network.chainId).toBe(41002n);
  });

  it('refuses a busy port with an AnvilError naming the port and the variable to set', async () => {
    const port = await freePort();
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen({ port, host: '127.0.0.1' }, () => r()));
    try {
      const attempt = startAnvil({ chainId: 41003, port, name: 'settlement' });
      await expect(attempt).rejects.toBeInstanceOf(AnvilError);
      await expect(startAnvil({ chainId: 41003, port, name: 'settlement' })).rejects.toThrow(
        `port ${port} is in use: is another devnet running? set SETTLEMENT_PORT`,
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('stop() ends the process, makes the RPC unreachable and is idempotent', async () => {
    const chain = await boot(41004);
    await expect(rpcCall(chain.url, 'eth_blockNumber')).resolves.toBe('0x0');
    await Promise.all([chain.stop(), chain.stop()]);
    await chain.stop();
    const exit = await chain.exited;
    expect(exit.expected).toBe(true);
    expect(() => process.kill(chain.pid, 0)).toThrow();
    await expect(rpcCall(chain.url, 'eth_blockNumber', [], 1_000)).rejects.toThrow();
  });

  it('reports an unexpected exit through exited', async () => {
    const chain = await startAnvil({ chainId: 41006, port: await freePort(), log: () => undefined });
    process.kill(chain.pid, 'SIGKILL');
    const exit = await chain.exited;
    expect(exit).toEqual({ code: null, signal: 'SIGKILL', expected: false });
    await chain.stop(); // still safe after the process is gone
  });

  it('resumes balances and blocks from its state file after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devnet-test-'));
    dirs.push(dir);
    const statePath = join(dir, 'chains', 'persist.json');
    const recipient = ethers.Wallet.createRandom().address;

    const first = await boot(41005, { statePath });
    const provider = new ethers.JsonRpcProvider(first.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const wallet = new ethers.Wallet(DEV_KEY, provider);
    const tx = await wallet.sendTransaction({ to: recipient, value: 1n });
    const receipt = await tx.wait();
    expect(receipt?.status).toBe(1);
    const block = receipt?.blockNumber ?? 0;
    expect(block).toBeGreaterThanOrEqual(1);
    expect(Number(await rpcCall<string>(first.url, 'eth_blockNumber'))).toBe(block);
    const deploy = await (await wallet.sendTransaction({ data: INIT })).wait();
    const contract = deploy?.contractAddress ?? '';
    expect(await provider.getCode(contract)).toBe(RUNTIME);
    const lastBlock = deploy?.blockNumber ?? 0;
    provider.destroy();
    await first.stop();

    const second = await boot(41005, { statePath });
    const resumed = new ethers.JsonRpcProvider(second.url, undefined, { staticNetwork: true });
    try {
      expect(await resumed.getBalance(recipient)).toBe(1n);
      expect(Number(await rpcCall<string>(second.url, 'eth_blockNumber'))).toBeGreaterThanOrEqual(lastBlock);
      expect(await resumed.getCode(contract)).toBe(RUNTIME);
      expect(await resumed.call({ to: contract })).toBe(ethers.toBeHex(42, 32));
      expect((await resumed.getTransactionReceipt(tx.hash))?.blockNumber).toBe(block);
    } finally {
      resumed.destroy();
    }
  });
});

describe('startDevnet', () => {
  // Uses the compiled artifacts (npm test runs build:contracts first); automine keeps it quick.
  it('deploys, resumes the deployment after a restart, and starts over with reset', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'devnet-data-'));
    const config = loadConfig({
      DATA_DIR: dataDir,
      CIRCUIT_PROFILE: 'test',
      SETTLEMENT_PORT: String(await freePort()),
      PARTNER_PORT: String(await freePort()),
      SETTLEMENT_CHAIN_ID: '41101',
      PARTNER_CHAIN_ID: '41102',
      SETTLEMENT_BLOCK_TIME: '0',
      PARTNER_BLOCK_TIME: '0',
    });
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    try {
      const first = await startDevnet(config, { build: false, log });
      expect(first.resumed).toBe(false);
      expect(first.chains.settlement.chainId).toBe(41101);
      expect(first.chains.partner.chainId).toBe(41102);
      expect(Object.keys(first.deployment.settlement.contracts).length).toBeGreaterThan(0);
      expect(readDeployment(config.deploymentFile)).toEqual(first.deployment);
      await first.stop();
      await expect(rpcCall(first.chains.settlement.url, 'eth_chainId', [], 1_000)).rejects.toThrow();

      const second = await startDevnet(config, { build: false, log });
      try {
        expect(second.resumed).toBe(true);
        expect(second.deployment.settlement.contracts).toEqual(first.deployment.settlement.contracts);
        expect(lines.some((l) => l.includes('resuming'))).toBe(true);
      } finally {
        await second.stop();
      }

      // A deployment file from before the relay (no ForeignRoots) is redeployed, not reused.
      const old = readDeployment(config.deploymentFile);
      const { ForeignRoots: _gone, ...partnerContracts } = old.partner.contracts;
      writeDeployment(config.deploymentFile, { ...old, partner: { ...old.partner, contracts: partnerContracts } });
      const upgraded = await startDevnet(config, { build: false, log });
      try {
        expect(upgraded.resumed).toBe(false);
        expect(lines).toContain('[devnet] redeploying: the deployment predates ForeignRoots on the partner chain');
        expect(upgraded.deployment.partner.contracts.ForeignRoots).toBeDefined();
      } finally {
        await upgraded.stop();
      }

      const third = await startDevnet(config, { build: false, log, reset: true });
      try {
        expect(third.resumed).toBe(false);
        expect(lines.some((l) => l.includes('reset: removed'))).toBe(true);
      } finally {
        await third.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
