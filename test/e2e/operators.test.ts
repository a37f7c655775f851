/**
 * The operator topology (docker-compose.yml) as real processes, without containers: two chains
 * that the project does not start itself (reached by SETTLEMENT_RPC_URL / PARTNER_RPC_URL),
 * `npm run deploy` against them, redis-server, the sequencer with SETTLE_WORKER=false and no prove
 * workers, a separate prover and a separate settler, all with LOG_FORMAT=json. A transaction is
 * finalized through them; the settler is SIGKILLed and restarted in between; /health and /metrics
 * of the worker processes answer; every log line is a pino JSON object and carries no key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { Gateway__factory } from '../../contracts/types/index.js';
import { TxOp } from '../../prover/codec.js';
import { publicKeyOf, randomSecret, signTx } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { ANVIL_DEV_KEY, loadConfig } from '../../sdk/config.js';
import { readDeployment, type Deployment } from '../../sdk/deployment.js';
import { startTestChain, type TestChain } from '../helpers/chain.js';
import { runScript, type ScriptProcess } from '../helpers/process.js';
import { registerPatient } from '../helpers/stack.js';
import { until } from '../helpers/until.js';


let dir: string;
let env: Record<string, string>;
let settlement: TestChain;
let partner: TestChain;
let redis: RedisServer;
let deployment: Deployment;
const procs: ScriptProcess[] = [];
let base: string;
let proverUrl: string;
let settlerUrl: string;
const patientSecret = randomSecret();

function start(name: string, script: string, args: string[] = [], extra: Record<string, string> = {}): ScriptProcess {
  const p = runScript(name, script, { ...env, ...extra }, args);
  procs.push(p);
  return p;
}

function tails(): string {
  return procs.map((p) => p.tail(12)).join('\n');
}

function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  return until(what, check, timeoutMs, { intervalMs: 250, context: tails });
}

/** The JSON log line of a process that matches `msg`, parsed. */
async function jsonLine(p: ScriptProcess, msg: RegExp, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const line = await p.waitFor(new RegExp(`"msg":"[^"]*${msg.source}`), timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\n${p.tail()}`);
  });
  return JSON.parse(line) as Record<string, unknown>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'operators-e2e-'));
  [settlement, partner] = await Promise.all([startTestChain(31337, { blockTime: 1, name: 'ext-settlement' }), startTestChain(31338, { blockTime: 1, name: 'ext-partner' })]);
  redis = await startRedis({ port: await freePort() });
  const [sequencerPort, proverPort, settlerPort] = await Promise.all([freePort(), freePort(), freePort()]);
  env = {
    DATA_DIR: dir,
    CIRCUIT_PROFILE: 'test',
    // Deliberately wrong host/port: everything must go through the RPC URLs.
    SETTLEMENT_PORT: '1',
    PARTNER_PORT: '2',
    SETTLEMENT_RPC_URL: settlement.anvil.url,
    PARTNER_RPC_URL: partner.anvil.url,
    REDIS_URL: redis.url,
    SEQUENCER_PORT: String(sequencerPort),
    PROVER_PORT: String(proverPort),
    SETTLER_PORT: String(settlerPort),
    BATCH_TIMEOUT_MS: '1000',
    PROVE_WORKERS: '0',
    SETTLE_WORKER: 'false',
    PROVE_LOCK_MS: '6000',
    STALLED_CHECK_MS: '2000',
    FORCED_POLL_MS: '300',
    LOG_FORMAT: 'json',
  };
  base = `http://127.0.0.1:${sequencerPort}`;
  proverUrl = `http://127.0.0.1:${proverPort}`;
  settlerUrl = `http://127.0.0.1:${settlerPort}`;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.kill()));
  await Promise.allSettled([settlement?.stop(), partner?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('npm run deploy deploys to chains given by RPC URL, then keeps the live deployment', async () => {
  const first = start('deploy', 'scripts/deploy.ts');
  expect(await first.exited).toEqual({ code: 0, signal: null });
  expect(first.lines.some((l) => /"msg":"wrote /.test(l))).toBe(true);
  deployment = readDeployment(loadConfig(env).deploymentFile);
  expect(deployment.settlement.rpcUrl).toBe(settlement.anvil.url);
  expect(deployment.partner.rpcUrl).toBe(partner.anvil.url);
  expect(await settlement.provider.getCode(deployment.settlement.contracts.Rollup!)).not.toBe('0x');
  expect(await partner.provider.getCode(deployment.partner.contracts.ForeignRoots!)).not.toBe('0x');

  const again = start('deploy-again', 'scripts/deploy.ts');
  expect(await again.exited).toEqual({ code: 0, signal: null });
  expect(again.lines.some((l) => /kept the live deployment/.test(l))).toBe(true);
  expect(readDeployment(loadConfig(env).deploymentFile).settlement.contracts.Rollup).toBe(deployment.settlement.contracts.Rollup);
}, 300_000);

it('npm run deploy refuses a chain whose id differs from the configuration, with one clear line', async () => {
  const wrong = start('deploy-wrong', 'scripts/deploy.ts', ['--wait', '5'], { SETTLEMENT_CHAIN_ID: '999' });
  expect((await wrong.exited).code).toBe(1);
  const error = wrong.lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((e) => e.level === 'error');
  expect(error?.msg).toMatch(/settlement chain at .* has chain id 31337, SETTLEMENT_CHAIN_ID says 999/);
}, 60_000);

it('a sequencer without a settlement worker, a prover and a settler finalize a transaction; the settler survives SIGKILL', async () => {
  const governance = new Wallet(ANVIL_DEV_KEY, settlement.provider);
  const gateway = Gateway__factory.connect(deployment.settlement.contracts.Gateway!, governance);
  const account = await registerPatient(gateway, publicKeyOf(patientSecret), governance.address);

  const sequencer = start('sequencer', 'scripts/sequencer.ts');
  await jsonLine(sequencer, /running/);
  expect(sequencer.lines.some((l) => /no settlement worker here/.test(l))).toBe(true);
  const prover = start('prover', 'scripts/prover.ts');
  await jsonLine(prover, /waiting for jobs/);
  let settler = start('settler', 'scripts/settler.ts');
  await jsonLine(settler, /running/);

  const send = async (nonce: bigint, payload: bigint): Promise<string> => {
    const tx = signTx(patientSecret, { op: nonce === 0n ? TxOp.Upload : TxOp.Update, actor: account, target: account, slot: 0, scope: 0, expiry: 0n, payload }, nonce);
    const res = await fetch(`${base}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tx, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    });
    const json = (await res.json()) as { txHash?: string };
    if (res.status !== 200 || !json.txHash) throw new Error(`submit: ${res.status} ${JSON.stringify(json)}`);
    return json.txHash;
  };
  const finalized = (hash: string) =>
    waitUntil(
      `finality of ${hash}`,
      async () => {
        const r = (await (await fetch(`${base}/v1/transactions/${hash}`)).json()) as { status: string; l1Block?: number };
        return r.status === 'finalized' ? r : undefined;
      },
      180_000,
    );

  // The account's registration reaches the sequencer through the forced queue first.
  await waitUntil('the registration in the sequencer state', async () => ((await (await fetch(`${base}/v1/health`)).json()) as { nextForcedIndex: number }).nextForcedIndex >= 1, 60_000);
  const first = await send(0n, 0xa1n);
  expect((await finalized(first)).l1Block).toBeGreaterThan(0);
  await jsonLine(settler, /finalized in L1 block/);

  // The settler dies; a batch closes and is proven meanwhile; a new settler submits it.
  await settler.kill('SIGKILL');
  const second = await send(1n, 0xa2n);
  await jsonLine(prover, /batch \d+ proved/);
  settler = start('settler-2', 'scripts/settler.ts');
  expect((await finalized(second)).l1Block).toBeGreaterThan(0);

  const proverHealth = await fetch(`${proverUrl}/health`);
  expect(proverHealth.status).toBe(200);
  expect(await proverHealth.json()).toMatchObject({ ok: true, profile: 'test' });
  const proverMetrics = await (await fetch(`${proverUrl}/metrics`)).text();
  expect(proverMetrics).toMatch(/medrollup_prove_jobs_total\{outcome="completed",service="prover"\} [1-9]/);
  expect(proverMetrics).toMatch(/medrollup_prove_seconds_count\{service="prover"\} [1-9]/);
  const settlerHealth = await fetch(`${settlerUrl}/health`);
  expect(settlerHealth.status).toBe(200);
  expect(await settlerHealth.json()).toMatchObject({ ok: true, isOperator: true, paused: false });
  // The node can see the batch on L1 a moment before the worker's own completion event.
  const settlerMetrics = await waitUntil('the settler to count its job', async () => {
    const text = await (await fetch(`${settlerUrl}/metrics`)).text();
    return /medrollup_settle_jobs_total\{outcome="completed",service="settler"\} [1-9]/.test(text) ? text : undefined;
  }, 10_000);
  expect(settlerMetrics).toMatch(/medrollup_settle_worker_running\{service="settler"\} 1/);
  expect(settlerMetrics).toMatch(/medrollup_settled_batch\{service="settler"\} [1-9]/);
}, 420_000);

it('every service wrote pino JSON lines naming itself, with no key in them', () => {
  const secrets = [ANVIL_DEV_KEY.slice(2), Buffer.from(patientSecret).toString('hex')];
  const services: Record<string, string> = { deploy: 'deploy', 'deploy-again': 'deploy', 'deploy-wrong': 'deploy', sequencer: 'sequencer', prover: 'prover', settler: 'settler', 'settler-2': 'settler' };
  for (const p of procs) {
    expect(p.lines.length).toBeGreaterThan(0);
    for (const line of p.lines) {
      let entry: { level?: unknown; time?: unknown; service?: unknown; msg?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        throw new Error(`${p.name} wrote a line that is not JSON: ${line}`);
      }
      expect({ level: typeof entry.level, time: typeof entry.time, service: entry.service, msg: typeof entry.msg }).toEqual({ level: 'string', time: 'string', service: services[p.name], msg: 'string' });
      for (const s of secrets) expect(line.toLowerCase()).not.toContain(s);
    }
  }
});
