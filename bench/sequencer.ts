/**
 * `npm run bench -- sequencer [--profile dev] [--txs 2000] [--accounts 256] [--concurrency 32] [--batches 3] [--no-proving]`
 *
 * Soft confirmation: signed transactions (uploads then updates, round-robin over the accounts)
 * through (1) Sequencer.submit in process, signature checked on the same thread, and (2) the
 * node's HTTP endpoint with signatures checked on the VerifyPool, loaded by a separate client
 * process (bench/httpClient.ts) with N requests in flight. Baselines from the same run: the
 * signature check alone and the state update alone (Poseidon tree writes + root) per transaction,
 * whose sum bounds single-thread throughput.
 *
 * Proving: the raw snarkjs rate (one full batch proved directly: K transactions per proof time)
 * against the proven-and-settled rate of one prove worker in the real pipeline (devnet, Redis,
 * RollupNode with PROVE_WORKERS=1): `--batches` full batches submitted at once, timed from the
 * first submission to the last batch finalized on L1.
 *
 * Writes bench/results/sequencer.json and prints a markdown table.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JsonRpcProvider, Wallet } from 'ethers';
import { setupCircuit } from '../circuits/setup.js';
import { Gateway__factory } from '../contracts/types/index.js';
import { ForcedKind, TxOp } from '../prover/codec.js';
import { shutdownProver } from '../prover/groth16.js';
import { createSequencerHttpServer } from '../prover/http.js';
import { RollupNode, submitVerified } from '../prover/node.js';
import { PROFILES, isProfileName, type CircuitProfile } from '../prover/profiles.js';
import { proveBatch } from '../prover/prove.js';
import { Sequencer } from '../prover/sequencer.js';
import { publicKeyOf, randomSecret, signTx, verifyTx, type SignedTx } from '../prover/signing.js';
import { RollupState } from '../prover/state.js';
import { VerifyPool } from '../prover/verifyPool.js';
import { buildBatchWitness } from '../prover/witness.js';
import { freePort } from '../scripts/devnet/anvil.js';
import { startDevnet } from '../scripts/devnet.js';
import { startRedis } from '../scripts/redis.js';
import { loadConfig } from '../sdk/config.js';
import { fullBatch } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const TIMESTAMP = 1_750_000_000n;

const { values: opts } = parseArgs({
  options: {
    profile: { type: 'string', default: 'dev' },
    txs: { type: 'string', default: '2000' },
    accounts: { type: 'string', default: '256' },
    concurrency: { type: 'string', default: '32' },
    batches: { type: 'string', default: '3' },
    'no-proving': { type: 'boolean', default: false },
  },
});
if (!isProfileName(opts.profile!)) throw new Error(`unknown profile ${opts.profile!}`);
const profile: CircuitProfile = PROFILES[opts.profile];
const N = Number(opts.txs);
const A = Math.min(Number(opts.accounts), 2 ** profile.treeDepth - 1);
const C = Number(opts.concurrency);

const log = (line: string) => console.error(`[bench] ${line}`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(latencies: number[]): { p50: number; p99: number } {
  const s = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
}

// ---------------------------------------------------------------------------------------------
// The workload

interface Workload {
  secrets: Uint8Array[];
  /** RegisterAccount ops for accounts 1..A. */
  registrations: { kind: 1; account: number; counterpart: number; a: bigint; b: bigint }[];
  txs: SignedTx[];
}

function workload(): Workload {
  const secrets = Array.from({ length: A }, () => randomSecret());
  const registrations = secrets.map((s, i) => {
    const k = publicKeyOf(s);
    return { kind: ForcedKind.RegisterAccount, account: i + 1, counterpart: 0, a: k.x, b: k.y };
  });
  const nonces = new Array<bigint>(A).fill(0n);
  const txs: SignedTx[] = [];
  for (let j = 0; j < N; j++) {
    const i = j % A;
    const op = nonces[i] === 0n ? TxOp.Upload : TxOp.Update;
    txs.push(signTx(secrets[i]!, { op, actor: i + 1, target: i + 1, slot: 0, scope: 0, expiry: 0n, payload: BigInt(j + 1) }, nonces[i]!));
    nonces[i]!++;
  }
  return { secrets, registrations, txs };
}

async function openSequencer(dir: string, name: string, w: Workload): Promise<Sequencer> {
  const seq = await Sequencer.open({ profile, walPath: join(dir, `${name}.db`), batchTimeoutMs: 3_600_000, now: () => TIMESTAMP });
  w.registrations.forEach((op, i) => seq.addForced(op, i));
  seq.flush();
  return seq;
}

// ---------------------------------------------------------------------------------------------
// Soft confirmation

interface SoftResults {
  verifyMsPerTx: number;
  applyMsPerTx: number;
  inProcess: { txPerSec: number; p50Ms: number; p99Ms: number; rejected: number };
  http: { txPerSec: number; p50Ms: number; p99Ms: number; rejected: number; codes: Record<string, number>; concurrency: number; verifyThreads: number };
}

async function soft(dir: string, w: Workload): Promise<SoftResults> {
  // Baseline 1: the signature check alone, one thread.
  const keys = w.registrations.map((r) => ({ x: r.a, y: r.b }));
  // Steady state: every key used twice first (its 8A cached, then its multiplication table built).
  for (const tx of w.txs.slice(0, Math.min(N, 2 * A))) verifyTx(keys[tx.record.actor - 1]!, tx);
  const sample = w.txs.slice(Math.min(N, 2 * A)).slice(0, 500);
  if (sample.length === 0) throw new Error(`--txs must exceed twice --accounts (${2 * A})`);
  let t = performance.now();
  for (const tx of sample) verifyTx(keys[tx.record.actor - 1]!, tx);
  const verifyMsPerTx = (performance.now() - t) / sample.length;

  // Baseline 2: the state update alone (leaf hashes, tree path, root), signature skipped.
  const state = new RollupState(profile);
  for (const r of w.registrations) state.applyForced(r);
  for (const tx of w.txs.slice(0, Math.min(N, 2 * A))) state.applyTx(tx, TIMESTAMP, { verifiedKey: keys[tx.record.actor - 1]! });
  t = performance.now();
  for (const tx of sample) {
    state.applyTx(tx, TIMESTAMP, { verifiedKey: keys[tx.record.actor - 1]! });
    void state.root;
  }
  const applyMsPerTx = (performance.now() - t) / sample.length;
  log(`baselines (warm keys): signature check ${verifyMsPerTx.toFixed(3)} ms/tx, state update + root ${applyMsPerTx.toFixed(3)} ms/tx`);

  // (1) In process: validate (signature included), log to the WAL (fsync), apply, answer.
  const seq1 = await openSequencer(dir, 'inprocess', w);
  const lat1: number[] = [];
  let rejected1 = 0;
  t = performance.now();
  for (const tx of w.txs) {
    const t0 = performance.now();
    try {
      seq1.submit(tx);
    } catch {
      rejected1++;
    }
    lat1.push(performance.now() - t0);
  }
  const inProcessSec = (performance.now() - t) / 1000;
  seq1.close();
  const s1 = summary(lat1);
  log(`in process: ${N} txs in ${inProcessSec.toFixed(2)} s = ${(N / inProcessSec).toFixed(0)} tx/s, p50 ${s1.p50.toFixed(2)} ms, p99 ${s1.p99.toFixed(2)} ms`);

  // (2) HTTP, signatures on the pool, load from another process.
  const seq2 = await openSequencer(dir, 'http', w);
  const pool = await VerifyPool.start();
  const server = createSequencerHttpServer(seq2, { submit: (tx) => submitVerified(seq2, pool, tx) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/transactions`;
  const bodiesFile = join(dir, 'bodies.json');
  writeFileSync(bodiesFile, JSON.stringify(w.txs.map((tx) => JSON.stringify(tx, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))));
  // The client runs while this process serves: spawn it asynchronously.
  const client = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'httpClient.ts'), url, bodiesFile, String(C)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`httpClient exited ${String(code)}`))));
  });
  const r = JSON.parse(client.trim().split('\n').at(-1)!) as { ok: number; failed: number; codes: Record<string, number>; elapsedMs: number; latenciesMs: number[] };
  await new Promise<void>((res) => server.close(() => res()));
  await pool.close();
  seq2.close();
  const s2 = summary(r.latenciesMs);
  const httpTps = r.ok / (r.elapsedMs / 1000);
  log(`http (${C} in flight, ${pool.threads} verify thread(s)): ${r.ok} accepted, ${r.failed} refused ${JSON.stringify(r.codes)}, ${httpTps.toFixed(0)} tx/s, p50 ${s2.p50.toFixed(2)} ms, p99 ${s2.p99.toFixed(2)} ms`);
  return {
    verifyMsPerTx,
    applyMsPerTx,
    inProcess: { txPerSec: N / inProcessSec, p50Ms: s1.p50, p99Ms: s1.p99, rejected: rejected1 },
    http: { txPerSec: httpTps, p50Ms: s2.p50, p99Ms: s2.p99, rejected: r.failed, codes: r.codes, concurrency: C, verifyThreads: pool.threads },
  };
}

// ---------------------------------------------------------------------------------------------
// Proving

interface ProvingResults {
  rawProveSec: number;
  rawTxPerSec: number;
  pipeline: { batches: number; txs: number; elapsedSec: number; txPerSec: number; proveSecEach: number[] };
}

async function proving(dir: string): Promise<ProvingResults> {
  const artifacts = await setupCircuit({ profile, log: (l) => log(l) });
  // Raw: one full batch through snarkjs directly (after a warm-up for small circuits).
  const { state, batch } = fullBatch(profile, TIMESTAMP);
  const w = buildBatchWitness(state, batch, profile);
  if (artifacts.constraints < 1_000_000) await proveBatch(artifacts, w.input);
  const raw = await proveBatch(artifacts, w.input);
  const rawProveSec = (raw.witnessMs + raw.proveMs) / 1000;
  log(`raw snarkjs: ${profile.maxTxs} txs proved in ${rawProveSec.toFixed(1)} s = ${(profile.maxTxs / rawProveSec).toFixed(2)} tx/s`);
  await shutdownProver();

  // Pipeline: devnet, Redis, the node with one prove worker in process.
  const env = {
    DATA_DIR: join(dir, 'devnet'),
    CIRCUIT_PROFILE: profile.name,
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
    SETTLEMENT_BLOCK_TIME: '1',
    SEQUENCER_PORT: '0',
    BATCH_TIMEOUT_MS: '3600000',
    PROVE_WORKERS: '1',
    FORCED_POLL_MS: '200',
  };
  const config = loadConfig(env);
  const devnet = await startDevnet(config, { log: () => undefined });
  const redis = await startRedis({ port: await freePort() });
  const node = await RollupNode.start({ config, deployment: devnet.deployment, redisUrl: redis.url, port: 0, log: (l) => log(`node: ${l}`) });
  const provider = new JsonRpcProvider(devnet.deployment.settlement.rpcUrl, undefined, { staticNetwork: true });
  try {
    const gateway = Gateway__factory.connect(devnet.deployment.settlement.contracts.Gateway!, new Wallet(config.deployerKey, provider));
    // Two accounts (one forced-only batch), registered and settled before the clock starts.
    const secrets = [randomSecret(), randomSecret()];
    for (const s of secrets) {
      const k = publicKeyOf(s);
      await (await gateway.registerPatient(k.x, k.y, await gateway.getAddress())).wait();
    }
    const deadline = Date.now() + 60_000;
    // (flush() below also closes the batches that forced operations wait for.)
    while (node.sequencer.lastForcedQueueIndex < 1) {
      if (Date.now() > deadline) throw new Error('the registrations never reached the sequencer');
      await new Promise((r) => setTimeout(r, 200));
    }
    node.sequencer.flush();
    const finalized = new Map<number, number>();
    const proveSec = new Map<number, number>();
    node.onPipeline((e) => {
      if (e.stage === 'finalized') finalized.set(e.batch, Date.now());
      if (e.stage === 'proven') proveSec.set(e.batch, ((e.witnessMs ?? 0) + (e.proveMs ?? 0)) / 1000);
    });
    const registrationBatch = node.sequencer.batchIndex - 1;
    while (!finalized.has(registrationBatch)) await new Promise((r) => setTimeout(r, 200));

    const batches = Number(opts.batches);
    const nonces = [0n, 0n];
    const started = Date.now();
    const first = node.sequencer.batchIndex;
    for (let j = 0; j < batches * profile.maxTxs; j++) {
      const i = j % 2;
      const op = nonces[i] === 0n ? TxOp.Upload : TxOp.Update;
      node.submit(signTx(secrets[i]!, { op, actor: i + 1, target: i + 1, slot: 0, scope: 0, expiry: 0n, payload: BigInt(j + 1) }, nonces[i]!));
      nonces[i]!++;
    }
    const last = first + batches - 1;
    while (!finalized.has(last)) await new Promise((r) => setTimeout(r, 200));
    const elapsedSec = (Date.now() - started) / 1000;
    const txs = batches * profile.maxTxs;
    log(`pipeline, 1 prove worker: ${txs} txs in ${batches} batches proved and settled in ${elapsedSec.toFixed(1)} s = ${(txs / elapsedSec).toFixed(2)} tx/s`);
    return {
      rawProveSec,
      rawTxPerSec: profile.maxTxs / rawProveSec,
      pipeline: { batches, txs, elapsedSec, txPerSec: txs / elapsedSec, proveSecEach: [...Array(batches).keys()].map((k) => proveSec.get(first + k) ?? NaN) },
    };
  } finally {
    provider.destroy();
    await node.stop();
    await shutdownProver();
    await redis.stop();
    await devnet.stop();
  }
}

// ---------------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'bench-sequencer-'));
try {
  log(`profile ${profile.name} (K=${profile.maxTxs}, D=${profile.treeDepth}, S=${profile.consentDepth}); signing ${N} txs from ${A} accounts ...`);
  const w = workload();
  const softResults = await soft(dir, w);
  const provingResults = opts['no-proving'] ? undefined : await proving(dir);
  const target = 10_000;
  const rows = [
    ['signature check alone (1 thread, warm keys)', `${(1000 / softResults.verifyMsPerTx).toFixed(0)} tx/s`, '', ''],
    ['state update + root alone (1 thread)', `${(1000 / softResults.applyMsPerTx).toFixed(0)} tx/s`, '', ''],
    ['soft confirm, in process', `${softResults.inProcess.txPerSec.toFixed(0)} tx/s`, `${softResults.inProcess.p50Ms.toFixed(2)} ms`, `${softResults.inProcess.p99Ms.toFixed(2)} ms`],
    [`soft confirm, HTTP (${C} in flight, ${softResults.http.verifyThreads} verify thread)`, `${softResults.http.txPerSec.toFixed(0)} tx/s`, `${softResults.http.p50Ms.toFixed(2)} ms`, `${softResults.http.p99Ms.toFixed(2)} ms`],
  ];
  if (provingResults) {
    rows.push(['raw snarkjs prove (full batch)', `${provingResults.rawTxPerSec.toFixed(3)} tx/s`, `${provingResults.rawProveSec.toFixed(1)} s/batch`, '']);
    rows.push(['pipeline, 1 prove worker (proved + settled)', `${provingResults.pipeline.txPerSec.toFixed(3)} tx/s`, `${(provingResults.pipeline.elapsedSec / provingResults.pipeline.batches).toFixed(1)} s/batch`, '']);
  }
  console.log(`\n| ${profile.name} profile | throughput | p50 | p99 |\n|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
  console.log(`\nsoft confirm over HTTP: ${(softResults.http.txPerSec / target).toFixed(3)}x the ${target} tx/s target; in process ${(softResults.inProcess.txPerSec / target).toFixed(3)}x`);
  if (provingResults) console.log(`proven throughput per worker: ${(provingResults.pipeline.txPerSec / provingResults.rawTxPerSec).toFixed(2)}x the raw snarkjs rate`);
  mkdirSync(join(here, 'results'), { recursive: true });
  const out = join(here, 'results', `sequencer-${profile.name}.json`);
  writeFileSync(out, JSON.stringify({ measuredAt: new Date().toISOString(), profile: profile.name, txs: N, accounts: A, soft: softResults, proving: provingResults }, null, 2));
  log(`wrote ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
