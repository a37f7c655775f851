/**
 * `npm run bench -- api [--duration 20] [--connections 16] [--lag 20] [--patients 20] [--institutions 5] [--batches 2] [--profile dev] [--client child|inprocess]`
 *
 * The GraphQL API under load, on the real stack in one run: the devnet (anvil chains and
 * contracts), Redis, the rollup node in process with no prove worker of its own (a prove worker
 * runs in process only until `--batches` batches are finalized, so the batch queries return rows
 * and nothing proves during the measurements), the Ponder indexer as a process, and the API
 * (Apollo + graphql-ws) in process with a rate limit of 10^9 per minute. Accounts are registered
 * on the Gateway by governance. The dev circuit profile is the default: the test profile's state
 * tree holds 15 accounts, too few for the registrations plus the lag probes.
 *
 * Load: autocannon (programmatic API) in a child process per scenario, `--connections` connections
 * for `--duration` seconds each, so the load generator does not share the API's event loop (on two
 * cores the client, the API and Ponder compete for CPU either way; the child at least keeps the
 * API's latencies free of the client's own event-loop stalls). `--client inprocess` runs it in this
 * process instead, for comparison (writes api-inprocess.json). Scenarios: (a) Ponder's GraphQL
 * directly, the in-run baseline; (b) the same rows through our API, anonymous; (c) a Relay page of
 * batches; (d) a signed-in patient's `me` + consent-checked `consents`; (e) the DashboardStats
 * persisted operation by hash only (stats read the sequencer and the Redis queues). Each response
 * body is checked once before its scenario runs (GraphQL errors come back with status 200).
 *
 * Indexing lag: `--lag` Gateway registrations, one at a time; for each, the time from the receipt
 * (eth_getTransactionReceipt polled every 25 ms from the send on; ethers' wait() resolves later than
 * that) to the row in our API's `institutions` and, polled at the same time, in Ponder's GraphQL,
 * both every 25 ms. Ponder polls the chain every 500 ms (INDEXER_POLLING_MS), blocks come every 1 s.
 *
 * Writes bench/results/api.json and prints a markdown table.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JsonRpcProvider, Wallet, type TransactionReceipt } from 'ethers';
import { startApiFor } from '../api/start.js';
import { persistedOperations, type ApiServer } from '../api/server.js';
import { readCircuitArtifacts } from '../circuits/setup.js';
import { Council__factory, Gateway__factory, type Gateway } from '../contracts/types/index.js';
import { shutdownProver } from '../prover/groth16.js';
import { RollupNode } from '../prover/node.js';
import { createProveWorker, pipelinePrefix } from '../prover/pipeline.js';
import { publicKeyOf, randomSecret } from '../prover/signing.js';
import { freePort } from '../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../scripts/devnet.js';
import { startIndexer, type IndexerProcess } from '../scripts/indexer.js';
import { startRedis, type RedisServer } from '../scripts/redis.js';
import { graphqlRequest, signInToApi } from '../sdk/apiClient.js';
import { loadConfig } from '../sdk/config.js';
import { devCouncilWallets, proposeAndExecute, proposeAndSend, registerInstitutionCall } from '../sdk/governance.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..');

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    lag: { type: 'string', default: '20' },
    patients: { type: 'string', default: '20' },
    institutions: { type: 'string', default: '5' },
    batches: { type: 'string', default: '2' },
    profile: { type: 'string', default: 'dev' },
    client: { type: 'string', default: 'child' },
  },
});
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const LAG_N = Number(opts.lag);
const PATIENTS = Number(opts.patients);
const INSTITUTIONS = Number(opts.institutions);
const BATCHES = Number(opts.batches);
if (opts.client !== 'child' && opts.client !== 'inprocess') throw new Error(`--client is child or inprocess, got ${opts.client!}`);
const CLIENT = opts.client;

const log = (line: string) => console.error(`[bench] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---------------------------------------------------------------------------------------------
// GraphQL over fetch (setup, checks, lag polling)

interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post<T>(url: string, body: unknown, token?: string): Promise<GqlResult<T> & { status: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as GqlResult<T>) };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Load: autocannon in a child process (plain ESM, no tsx: it starts fast and stays lean)

interface Scenario {
  readonly key: string;
  readonly label: string;
  readonly url: string;
  readonly body: unknown;
  readonly token?: string | undefined;
}

interface LoadResult {
  key: string;
  label: string;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  ratioToPonder?: number;
}

const AUTOCANNON_CHILD = `
import autocannon from 'autocannon';
const o = JSON.parse(process.argv[1]);
const r = await autocannon({ url: o.url, method: 'POST', headers: o.headers, body: o.body, connections: o.connections, duration: o.duration, timeout: 10 });
process.stdout.write(JSON.stringify({
  requests: r.requests.total, reqPerSec: r.requests.average,
  p50Ms: r.latency.p50, p90Ms: r.latency.p90, p99Ms: r.latency.p99, maxMs: r.latency.max,
  errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx,
}) + '\\n');
`;

interface AutocannonRaw {
  requests: { total: number; average: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (o: Record<string, unknown>) => Promise<AutocannonRaw>;

async function runAutocannon(s: Scenario): Promise<Omit<LoadResult, 'key' | 'label'>> {
  const args = {
    url: s.url,
    headers: { 'content-type': 'application/json', ...(s.token ? { authorization: `Bearer ${s.token}` } : {}) },
    body: JSON.stringify(s.body),
    connections: CONNECTIONS,
    duration: DURATION,
  };
  if (CLIENT === 'inprocess') {
    // For comparison only: the client shares the API's event loop. (No @types/autocannon: typed here.)
    const spec = 'autocannon';
    const autocannon = ((await import(spec)) as { default: Autocannon }).default;
    const r = await autocannon({ ...args, method: 'POST', timeout: 10 });
    return { requests: r.requests.total, reqPerSec: r.requests.average, p50Ms: r.latency.p50, p90Ms: r.latency.p90, p99Ms: r.latency.p99, maxMs: r.latency.max, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx };
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', AUTOCANNON_CHILD, JSON.stringify(args)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Omit<LoadResult, 'key' | 'label'>) : reject(new Error(`autocannon child exited ${String(code)}`))));
  });
}

async function load(s: Scenario): Promise<LoadResult> {
  // One request first: GraphQL errors arrive with status 200, which autocannon counts as success.
  const probe = await post<unknown>(s.url, s.body, s.token);
  if (probe.status !== 200 || probe.errors?.length || !probe.data) throw new Error(`scenario ${s.key} does not answer cleanly (${probe.status}): ${JSON.stringify(probe.errors)}`);
  log(`(${s.key}) ${s.label}: ${CONNECTIONS} connections for ${DURATION} s ...`);
  const r = { key: s.key, label: s.label, ...(await runAutocannon(s)) };
  log(`(${s.key}) ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p90 ${r.p90Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  return r;
}

// ---------------------------------------------------------------------------------------------

interface LagSummary {
  n: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  samplesMs: number[];
}

const lagSummary = (samples: number[]): LagSummary => {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50Ms: percentile(s, 50), p90Ms: percentile(s, 90), maxMs: s.at(-1)!, samplesMs: samples };
};

const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
let redis: RedisServer | undefined;
let devnet: Devnet | undefined;
let node: RollupNode | undefined;
let prover: ReturnType<typeof createProveWorker> | undefined;
let indexer: IndexerProcess | undefined;
let api: ApiServer | undefined;
let provider: JsonRpcProvider | undefined;
try {
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  log(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memGiB} GiB, node ${machine.node}`);
  redis = await startRedis({ port: await freePort() });
  const env: Record<string, string> = {
    DATA_DIR: dir,
    CIRCUIT_PROFILE: opts.profile!,
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
    SETTLEMENT_BLOCK_TIME: '1',
    REDIS_URL: redis.url,
    SEQUENCER_PORT: String(await freePort()),
    INDEXER_PORT: String(await freePort()),
    API_PORT: '0',
    API_RATE_LIMIT: String(10 ** 9),
    BATCH_TIMEOUT_MS: '800',
    PROVE_WORKERS: '0',
    FORCED_POLL_MS: '300',
  };
  const config = loadConfig(env);
  let t = Date.now();
  devnet = await startDevnet(config, { build: false, log: () => undefined });
  const deployment = devnet.deployment;
  log(`devnet up in ${((Date.now() - t) / 1000).toFixed(1)} s (${deployment.circuit.profile} circuit)`);
  node = await RollupNode.start({ config, deployment, redisUrl: redis.url, log: () => undefined });
  provider = new JsonRpcProvider(deployment.settlement.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 25 });
  const governance = new Wallet(config.deployerKey, provider);
  const gateway: Gateway = Gateway__factory.connect(deployment.settlement.contracts.Gateway!, governance);
  const council = Council__factory.connect(deployment.settlement.contracts.Council!, governance);

  // Accounts: all sent at once (explicit nonces), then their receipts.
  t = Date.now();
  let nonce = await provider.getTransactionCount(governance.address, 'pending');
  const patientSecrets = Array.from({ length: PATIENTS }, () => randomSecret());
  const sent = [];
  for (const s of patientSecrets) {
    const k = publicKeyOf(s);
    sent.push(await gateway.registerPatient(k.x, k.y, governance.address, { nonce: nonce++ }));
  }
  const receipts = (await Promise.all(sent.map((tx) => tx.wait()))) as TransactionReceipt[];
  // Institutions are the council's to register: one quorum proposal for all of them.
  const gatewayAddress = deployment.settlement.contracts.Gateway!;
  await proposeAndExecute(
    council,
    devCouncilWallets(),
    Array.from({ length: INSTITUTIONS }, (_, i) => {
      const k = publicKeyOf(randomSecret());
      return registerInstitutionCall(gatewayAddress, { account: Wallet.createRandom().address, role: 1 + (i % 2), pubKey: [k.x, k.y], did: `did:web:bench-${i}.example` });
    }),
  );
  const patientAccount = Number(gateway.interface.parseLog(receipts[0]!.logs.find((l) => gateway.interface.parseLog(l)?.name === 'PatientRegistered')!)!.args.accountIndex);
  log(`${PATIENTS} patients and ${INSTITUTIONS} institutions registered in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  indexer = await startIndexer(config, (l) => log(`indexer: ${l}`));
  api = await startApiFor(config, deployment, redis.url, (l) => log(`api: ${l}`));
  const ponderUrl = `${indexer.url}/graphql`;
  const apiUrl = api.url;
  await until('the accounts in the API', async () => ((await graphqlRequest<{ institutions: unknown[] }>(apiUrl, '{ institutions { account } }')).institutions.length === INSTITUTIONS ? true : undefined), 60_000);

  // A few batches proved and finalized (then no more proving), so the batch queries return rows.
  if (BATCHES > 0) {
    t = Date.now();
    log(`proving ${BATCHES} batch(es) with a prove worker in process ...`);
    const worker = createProveWorker({
      connection: { url: redis.url },
      prefix: pipelinePrefix(deployment.settlement.chainId, deployment.settlement.contracts.Rollup!),
      artifacts: readCircuitArtifacts(deployment.circuit.artifactsDir),
      onError: (err) => log(`prover: ${err.message}`),
    });
    prover = worker;
    await until('finalized batches in the API', async () => ((await graphqlRequest<{ batches: { totalCount: number } }>(apiUrl, '{ batches { totalCount } }')).batches.totalCount >= BATCHES ? true : undefined), 600_000, 500);
    prover = undefined;
    await worker.close(true);
    await shutdownProver();
    log(`${BATCHES} batch(es) finalized and indexed in ${((Date.now() - t) / 1000).toFixed(1)} s; proving stopped`);
  }

  // Sign in the first patient.
  const signIn = await signInToApi(apiUrl, patientAccount, patientSecrets[0]!);

  const dashboard = persistedOperations().find((o) => o.name === 'DashboardStats')!;
  const scenarios: Scenario[] = [
    { key: 'a', label: 'Ponder GraphQL direct: institutions(limit: 100)', url: ponderUrl, body: { query: '{ institutions(limit: 100) { items { accountIndex did role } } }' } },
    { key: 'b', label: 'API: institutions, anonymous', url: apiUrl, body: { query: '{ institutions { account did role } }' } },
    { key: 'c', label: 'API: batches(last: 10) Relay page', url: apiUrl, body: { query: '{ batches(last: 10) { totalCount edges { node { index txCount } } } }' } },
    { key: 'd', label: 'API: me + consents(patient), signed in', url: apiUrl, body: { query: `{ me { account } consents(patient: ${patientAccount}) { grantee } }` }, token: signIn.token },
    {
      key: 'e',
      label: 'API: DashboardStats persisted (hash only)',
      url: apiUrl,
      body: { operationName: 'DashboardStats', extensions: { persistedQuery: { version: 1, sha256Hash: dashboard.hash } } },
    },
  ];
  const results: LoadResult[] = [];
  for (const s of scenarios) {
    results.push(await load(s));
    await sleep(1_000); // let the servers settle between scenarios
  }
  const ponderRps = results[0]!.reqPerSec;
  for (const r of results) r.ratioToPonder = r.reqPerSec / ponderRps;

  // Indexing lag: one registration at a time; the receipt and both readers polled every 25 ms from the send on.
  log(`indexing lag: ${LAG_N} registrations ...`);
  const apiLag: number[] = [];
  const ponderLag: number[] = [];
  const inclusion: number[] = [];
  const apiFromSend: number[] = [];
  const ponderFromSend: number[] = [];
  for (let i = 0; i < LAG_N; i++) {
    const did = `did:web:lag-${i}.example`;
    const k = publicKeyOf(randomSecret());
    const t0 = Date.now();
    const tx = await proposeAndSend(council, devCouncilWallets(), [registerInstitutionCall(gatewayAddress, { account: Wallet.createRandom().address, role: 1, pubKey: [k.x, k.y], did })]);
    const seenIn = (url: string, query: string, rows: (d: Record<string, unknown>) => { did: string }[]) =>
      until(`${did} in ${url}`, async () => (rows(await graphqlRequest<Record<string, unknown>>(url, query)).some((r) => r.did === did) ? Date.now() : undefined), 30_000, 25);
    const [mined, apiSeen, ponderSeen] = await Promise.all([
      until(`the receipt of ${tx.hash}`, async () => ((await provider!.getTransactionReceipt(tx.hash)) ? Date.now() : undefined), 30_000, 25),
      seenIn(apiUrl, '{ institutions { did } }', (d) => d.institutions as { did: string }[]),
      seenIn(ponderUrl, '{ institutions(limit: 1000) { items { did } } }', (d) => (d.institutions as { items: { did: string }[] }).items),
    ]);
    inclusion.push(mined - t0);
    apiLag.push(apiSeen - mined);
    ponderLag.push(ponderSeen - mined);
    apiFromSend.push(apiSeen - t0);
    ponderFromSend.push(ponderSeen - t0);
    if ((i + 1) % 5 === 0 || i + 1 === LAG_N) log(`  ${i + 1}/${LAG_N}: send -> receipt ${mined - t0} ms; receipt -> API ${apiSeen - mined} ms, -> Ponder ${ponderSeen - mined} ms`);
  }
  const lag = {
    api: lagSummary(apiLag),
    ponder: lagSummary(ponderLag),
    sendToReceipt: lagSummary(inclusion),
    sendToApi: lagSummary(apiFromSend),
    sendToPonder: lagSummary(ponderFromSend),
  };

  // Report.
  const f = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  const rows = results.map((r) => [`(${r.key}) ${r.label}`, r.reqPerSec.toFixed(0), f(r.p50Ms), f(r.p90Ms), f(r.p99Ms), `${r.errors + r.timeouts} / ${r.non2xx}`, `${r.ratioToPonder!.toFixed(2)}x`]);
  console.log(`\nmachine: ${machine.cores} cores, ${machine.cpu}, node ${machine.node}; ${CONNECTIONS} connections, ${DURATION} s per scenario; load from ${CLIENT === 'child' ? 'a child process' : 'the API process'} (autocannon 9)`);
  console.log(`\n| scenario | req/s | p50 ms | p90 ms | p99 ms | errors / non-2xx | x of Ponder direct |\n|---|---|---|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
  console.log(
    `\n| indexing lag (receipt -> row), ${LAG_N} registrations | p50 ms | p90 ms | max ms |\n|---|---|---|---|\n` +
      `| our API (institutions) | ${lag.api.p50Ms} | ${lag.api.p90Ms} | ${lag.api.maxMs} |\n| Ponder GraphQL direct | ${lag.ponder.p50Ms} | ${lag.ponder.p90Ms} | ${lag.ponder.maxMs} |\n` +
      `| (send -> receipt, for scale) | ${lag.sendToReceipt.p50Ms} | ${lag.sendToReceipt.p90Ms} | ${lag.sendToReceipt.maxMs} |`,
  );
  // The receipt is polled from this busy process too: when that poll is late, receipt -> row comes
  // out negative. Send -> row has no such reference problem; compare the two readers on it.
  console.log(
    `
| send -> row (includes the block time) | p50 ms | p90 ms | max ms |
|---|---|---|---|
` +
      `| our API (institutions) | ${lag.sendToApi.p50Ms} | ${lag.sendToApi.p90Ms} | ${lag.sendToApi.maxMs} |
| Ponder GraphQL direct | ${lag.sendToPonder.p50Ms} | ${lag.sendToPonder.p90Ms} | ${lag.sendToPonder.maxMs} |`,
  );
  console.log('\nsubscription lag (mined -> batchEvents FINALIZED): not measured (no proving during the measurements)');
  mkdirSync(join(here, 'results'), { recursive: true });
  const out = join(here, 'results', CLIENT === 'child' ? 'api.json' : 'api-inprocess.json');
  writeFileSync(
    out,
    JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        machine,
        profile: deployment.circuit.profile,
        load: { durationSec: DURATION, connections: CONNECTIONS, client: `autocannon 9 ${CLIENT === 'child' ? 'in a child process' : 'in the API process'}` },
        accounts: { patients: PATIENTS, institutions: INSTITUTIONS, batches: BATCHES },
        scenarios: results,
        indexingLag: lag,
      },
      null,
      2,
    ),
  );
  log(`wrote ${out}`);
} finally {
  await prover?.close(true).catch(() => undefined);
  await shutdownProver().catch(() => undefined);
  await api?.close().catch(() => undefined);
  await indexer?.stop().catch(() => undefined);
  provider?.destroy();
  await node?.stop().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  await devnet?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
