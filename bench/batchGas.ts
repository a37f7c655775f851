/**
 * `npm run bench -- batchgas [--profiles test,dev,prod] [--sizes 1,2,4] [--sizes-prod 1,64]
 *   [--gas-gwei 20] [--eth-usd 3000] [--baseline-patients 12]`
 *
 * L1 gas per rollup transaction as the number of transactions in a batch grows, with real Groth16
 * proofs through each profile's generated BatchVerifier on anvil, against the L1-only baseline
 * (BaselineRegistry gas per operation, measured in the same run on the same chain) and the
 * calldata floor of one 47-byte record (16 gas per non-zero byte).
 *
 * Per profile: setupCircuit (cached), a fresh anvil chain (a block per transaction) with the
 * settlement contracts and the profile's verifier, two accounts (a patient and an institution)
 * registered through Gateway.registerPatient and put on L2 by unmeasured setup batches (forced
 * slots only), then per size n one batch of exactly n signed transactions and no forced
 * operations, proved and settled with Rollup.submitBatch; its receipt's gasUsed is the figure.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Wallet, getBytes, hexlify, type ContractTransactionReceipt, type Signer } from 'ethers';
import { setupCircuit, readVerifierArtifact, type CircuitArtifacts } from '../circuits/setup.js';
import { Scope, TxOp, type ForcedKind, type ForcedOp, type TxRecord } from '../prover/codec.js';
import { PROFILES, TX_RECORD_BYTES, isProfileName, type CircuitProfile, type ProfileName } from '../prover/profiles.js';
import { proveBatch } from '../prover/prove.js';
import { shutdownProver } from '../prover/groth16.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../prover/signing.js';
import { RollupState } from '../prover/state.js';
import { buildBatchWitness, type BatchWitness } from '../prover/witness.js';
import { startTestChain, deploySettlement, type SettlementContracts, type TestChain } from '../test/helpers/chain.js';
import { barChartSvg, svgToPng } from './compare/svg.js';
import { breakEven, fitLine } from './fit.js';

const here = dirname(fileURLToPath(import.meta.url));
const t0 = performance.now();
const log = (msg: string): void => console.error(`[batchgas ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

/** 16 gas per non-zero calldata byte (EIP-2028) x a 47-byte record. */
export const CALLDATA_FLOOR_PER_TX = 16 * TX_RECORD_BYTES;
/** The paper's claims: -96 % against L1-only, and < $0.10 per transaction. */
export const PAPER_REDUCTION = 0.96;
export const PAPER_USD = 0.1;

export interface BatchPoint {
  profile: ProfileName;
  K: number;
  F: number;
  n: number;
  gasUsed: number;
  gasPerTx: number;
  calldataBytes: number;
  calldataNonZero: number;
  calldataGas: number;
  /** Non-zero bytes of the n transaction records (of 47 n). */
  recordNonZero: number;
  witnessMs: number;
  proveMs: number;
  txHash: string;
}

const usd = (gas: number, gwei: number, ethUsd: number): number => gas * gwei * 1e-9 * ethUsd;
const fmt = (v: number): string => Math.round(v).toLocaleString('en-US');
const nonZero = (b: Uint8Array): number => b.reduce((s, x) => s + (x === 0 ? 0 : 1), 0);
/** A hash-like 248-bit value (so records carry realistic non-zero payload bytes). */
const hash248 = (label: string): bigint => BigInt(`0x${createHash('sha256').update(label).digest('hex')}`) >> 8n;

function defaultSizes(profile: CircuitProfile): number[] {
  const K = profile.maxTxs;
  if (profile.name === 'prod') return [1, K];
  const s: number[] = [];
  for (let n = 1; n < K; n *= 2) s.push(n);
  s.push(K);
  return s;
}

function parseSizes(v: string | undefined): number[] | undefined {
  if (!v) return undefined;
  const s = v.split(',').map((x) => Number(x.trim()));
  if (s.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`bad size list: ${v}`);
  return [...new Set(s)].sort((a, b) => a - b);
}

function queued(c: SettlementContracts, receipt: ContractTransactionReceipt): ForcedOp[] {
  return receipt.logs.flatMap((l) => {
    const e = c.gateway.interface.parseLog(l);
    if (!e || e.name !== 'ForcedOperationQueued') return [];
    return [{ kind: Number(e.args.kind) as ForcedKind, account: Number(e.args.account), counterpart: Number(e.args.counterpart), a: e.args.a as bigint, b: e.args.b as bigint }];
  });
}

/** Prints elapsed time every 30 s while a long step runs. */
async function withTicker<T>(what: string, p: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const timer = setInterval(() => log(`  ... ${what}: ${((performance.now() - start) / 1000).toFixed(0)} s`), 30_000);
  try {
    return await p();
  } finally {
    clearInterval(timer);
  }
}

/**
 * The L1-only baseline on the same chain: `patients` patients and two institutions (a reader and
 * an insurer) registered, each patient granting READ to the reader and CLAIM to the insurer (setup,
 * not counted), then the compare bench's mix: an upload and an update per patient, 1.5 accesses and
 * 0.5 claims per patient. Mean gas over those operations.
 */
async function measureBaseline(chain: TestChain, c: SettlementContracts, patients: number): Promise<{ mean: number; perOp: Record<string, { n: number; mean: number }>; ops: number }> {
  const funder = chain.provider;
  const wallets = Array.from({ length: patients + 2 }, () => Wallet.createRandom().connect(chain.provider));
  for (const w of wallets) await funder.send('anvil_setBalance', [w.address, '0x56BC75E2D63100000']);
  const as = (w: Signer) => c.baseline.connect(w);
  const ids: number[] = [];
  for (const w of wallets) {
    const k = publicKeyOf(randomSecret());
    await (await as(w).register(k.x, k.y)).wait();
    ids.push(Number(await c.baseline.accountOf(w.address)));
  }
  const reader = wallets[patients]!;
  const insurer = wallets[patients + 1]!;
  const [readerId, insurerId] = [ids[patients]!, ids[patients + 1]!];
  const expiry = BigInt((await chain.provider.getBlock('latest'))!.timestamp) + 30n * 86_400n;
  for (let p = 0; p < patients; p++) {
    await (await as(wallets[p]!).grant(readerId, 1, expiry)).wait();
    await (await as(wallets[p]!).grant(insurerId, 2, expiry)).wait();
  }
  const gas: Record<string, number[]> = { upload: [], update: [], access: [], claim: [] };
  const track = async (kind: string, tx: Promise<{ wait(): Promise<ContractTransactionReceipt | null> }>) => {
    gas[kind]!.push(Number((await (await tx).wait())!.gasUsed));
  };
  for (let p = 0; p < patients; p++) await track('upload', as(wallets[p]!).uploadRecord(`0x${hash248(`u${p}`).toString(16).padStart(64, '0')}`));
  for (let p = 0; p < patients; p++) await track('update', as(wallets[p]!).updateRecord(`0x${hash248(`v${p}`).toString(16).padStart(64, '0')}`));
  const accesses = Math.round(1.5 * patients);
  for (let i = 0; i < accesses; i++) await track('access', as(reader).logAccess(ids[i % patients]!));
  for (let i = 0; i < Math.round(patients / 2); i++) await track('claim', as(insurer).claim(ids[i]!, `0x${hash248(`c${i}`).toString(16).padStart(64, '0')}`));
  const all = Object.values(gas).flat();
  const perOp = Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, { n: v.length, mean: v.reduce((s, x) => s + x, 0) / v.length }]));
  return { mean: all.reduce((s, x) => s + x, 0) / all.length, perOp, ops: all.length };
}

interface ProfileRun {
  profile: ProfileName;
  constraints: number;
  setupSeconds: number;
  setupBatches: { forced: number; gasUsed: number; proveMs: number }[];
  points: BatchPoint[];
  baseline: { mean: number; perOp: Record<string, { n: number; mean: number }>; ops: number };
}

async function runProfile(name: ProfileName, sizes: number[], baselinePatients: number): Promise<ProfileRun> {
  const profile = PROFILES[name];
  const K = profile.maxTxs;
  const F = profile.maxForcedOps;
  log(`${name}: K ${K}, F ${F}; setting up the circuit (cached under .cache/circuits${name === 'prod' ? '; the first prod setup takes about 3.6 min' : ''}) ...`);
  const ts = performance.now();
  const artifacts: CircuitArtifacts = await withTicker(`${name} circuit setup`, () => setupCircuit({ profile, log: (l) => log(`  setup: ${l}`) }));
  const setupSeconds = (performance.now() - ts) / 1000;
  log(`${name}: circuit ready (${artifacts.constraints.toLocaleString('en-US')} constraints, ${setupSeconds.toFixed(1)} s)`);
  const proveMsHint = { test: '~8 s', dev: '~30-47 s', prod: '~3-3.5 min' }[name];

  const chain = await startTestChain(31337, { name: `batchgas-${name}` });
  try {
    const c = await deploySettlement(chain, { profile, verifier: readVerifierArtifact(artifacts) });
    const baseline = await measureBaseline(chain, c, baselinePatients);
    log(`${name}: L1-only baseline on this chain: ${fmt(baseline.mean)} gas per operation (mean of ${baseline.ops})`);

    const now = async (): Promise<bigint> => BigInt((await chain.provider.getBlock('latest'))!.timestamp);
    const prove = async (w: BatchWitness, label: string) => {
      log(`${name}: proving ${label} (${proveMsHint}) ...`);
      const p = await withTicker(`${name} ${label} proof`, () => proveBatch(artifacts, w.input));
      const proof = { a: p.solidity.pA, b: p.solidity.pB, c: p.solidity.pC };
      const tx = await c.rollup.submitBatch(w.oldRoot, w.newRoot, hexlify(w.data), proof);
      const receipt = (await tx.wait())!;
      if ((await c.rollup.stateRoot()) !== w.newRoot) throw new Error(`${name}: ${label}: the on-chain root is not the prover's`);
      log(`${name}: ${label}: submitBatch ${fmt(Number(receipt.gasUsed))} gas (witness ${p.witnessMs.toFixed(0)} ms, prove ${(p.proveMs / 1000).toFixed(1)} s)`);
      return { p, receipt, tx };
    };

    // Two accounts: a patient (1) and an institution (2), registered as forced operations and
    // settled by setup batches that carry only forced operations (not measured).
    const secrets = [randomSecret(), randomSecret()];
    const ops: ForcedOp[] = [];
    for (const [i, s] of secrets.entries()) {
      const sender = chain.accounts[5 + i]!;
      const k = publicKeyOf(s);
      ops.push(...queued(c, (await (await c.gateway.connect(sender).registerPatient(k.x, k.y, sender.address)).wait())!));
    }
    const [PATIENT, INSTITUTION] = [ops[0]!.account, ops[1]!.account];
    const secretOf = new Map([[PATIENT, secrets[0]!], [INSTITUTION, secrets[1]!]]);
    let state = new RollupState(profile);
    const setupBatches: ProfileRun['setupBatches'] = [];
    for (let i = 0; i < ops.length; i += F) {
      const forced = ops.slice(i, i + F);
      const w = buildBatchWitness(state, { forced, txs: [], timestamp: await now() }, profile);
      const { p, receipt } = await prove(w, `setup batch (${forced.length} forced registrations, not measured)`);
      setupBatches.push({ forced: forced.length, gasUsed: Number(receipt.gasUsed), proveMs: p.proveMs });
      state = w.state;
    }

    // One stream of transactions over all measured batches: upload, grant (READ | CLAIM), then
    // access, claim, update, access, ... (every op but revoke, the workload's proportions).
    let seq = 0;
    let version = 0;
    const cycle = [TxOp.Access, TxOp.Claim, TxOp.Update, TxOp.Access] as const;
    const nextRecord = (sim: RollupState, timestamp: bigint): TxRecord => {
      const i = seq++;
      const base = { slot: 0, scope: 0, expiry: 0n };
      if (i === 0) return { ...base, op: TxOp.Upload, actor: PATIENT, target: PATIENT, payload: hash248(`${name}:v${version++}`) };
      if (i === 1) return { ...base, op: TxOp.Grant, actor: PATIENT, target: INSTITUTION, scope: Scope.Read | Scope.Claim, expiry: timestamp + 30n * 86_400n, payload: 0n };
      const op = cycle[(i - 2) % cycle.length]!;
      if (op === TxOp.Update) return { ...base, op, actor: PATIENT, target: PATIENT, payload: hash248(`${name}:v${version++}`) };
      if (op === TxOp.Access) return { ...base, op, actor: INSTITUTION, target: PATIENT, payload: sim.accountFields(PATIENT).indexHash };
      return { ...base, op, actor: INSTITUTION, target: PATIENT, payload: hash248(`${name}:claim${i}`) };
    };

    const points: BatchPoint[] = [];
    for (const n of sizes) {
      const timestamp = await now();
      const sim = state.clone();
      const txs: SignedTx[] = [];
      while (txs.length < n) {
        const record = nextRecord(sim, timestamp);
        const tx = signTx(secretOf.get(record.actor)!, record, sim.accountFields(record.actor).nonce);
        sim.applyTx(tx, timestamp);
        txs.push(tx);
      }
      const w = buildBatchWitness(state, { forced: [], txs, timestamp }, profile);
      const { p, receipt, tx } = await prove(w, `batch of ${n} tx${n === 1 ? '' : 's'}`);
      state = w.state;
      const input = getBytes(tx.data);
      const records = w.data.subarray(w.data.length - K * TX_RECORD_BYTES, w.data.length - (K - n) * TX_RECORD_BYTES);
      const nz = nonZero(input);
      const gasUsed = Number(receipt.gasUsed);
      points.push({
        profile: name, K, F, n, gasUsed, gasPerTx: gasUsed / n,
        calldataBytes: input.length, calldataNonZero: nz, calldataGas: 16 * nz + 4 * (input.length - nz), recordNonZero: nonZero(records),
        witnessMs: p.witnessMs, proveMs: p.proveMs, txHash: receipt.hash,
      });
    }
    return { profile: name, constraints: artifacts.constraints, setupSeconds, setupBatches, points, baseline };
  } finally {
    await chain.stop();
  }
}

function table(header: string[], rows: string[][]): string {
  return `| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profiles: { type: 'string', default: 'test,dev,prod' },
      sizes: { type: 'string' },
      'sizes-test': { type: 'string' },
      'sizes-dev': { type: 'string' },
      'sizes-prod': { type: 'string' },
      'gas-gwei': { type: 'string', default: '20' },
      'eth-usd': { type: 'string', default: '3000' },
      'baseline-patients': { type: 'string', default: '12' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const names = values.profiles.split(',').map((s) => s.trim());
  for (const n of names) if (!isProfileName(n)) throw new Error(`unknown profile ${n} (test, dev, prod)`);
  const profiles = names as ProfileName[];
  const gwei = Number(values['gas-gwei']);
  const ethUsd = Number(values['eth-usd']);
  const common = parseSizes(values.sizes);
  const sizesOf = (p: ProfileName): number[] => {
    const K = PROFILES[p].maxTxs;
    const s = parseSizes(values[`sizes-${p}`]) ?? common ?? defaultSizes(PROFILES[p]);
    const kept = s.filter((n) => n <= K);
    if (kept.length < s.length) log(`${p}: sizes above K ${K} dropped`);
    return kept;
  };
  const plan = profiles.map((p) => ({ p, sizes: sizesOf(p) }));
  log(`plan: ${plan.map(({ p, sizes }) => `${p} n = ${sizes.join(', ')}`).join('; ')}; ${gwei} gwei, $${ethUsd}/ETH`);
  if (profiles.includes('prod')) log('prod: each proof takes about 3 minutes and ~10.5 GB; the whole default run about 10-12 minutes');

  const runs: ProfileRun[] = [];
  try {
    for (const { p, sizes } of plan) runs.push(await runProfile(p, sizes, Number(values['baseline-patients'])));
  } finally {
    await shutdownProver();
  }

  // The baseline: pooled over the chains of this run (each profile's chain measured it).
  const baseOps = runs.reduce((s, r) => s + r.baseline.ops, 0);
  const baselineMean = runs.reduce((s, r) => s + r.baseline.mean * r.baseline.ops, 0) / baseOps;
  const paperGas = (1 - PAPER_REDUCTION) * baselineMean;
  const usdGas = PAPER_USD / (gwei * 1e-9 * ethUsd);

  const fits = runs.map((r) => {
    const fit = fitLine(r.points.map((x) => x.n), r.points.map((x) => x.gasUsed));
    return { profile: r.profile, K: PROFILES[r.profile].maxTxs, ...fit, nPaper: breakEven(fit, paperGas), nUsd: breakEven(fit, usdGas) };
  });
  const rows = runs.flatMap((r) => r.points).map((x) => {
    const fit = fits.find((f) => f.profile === x.profile)!;
    return {
      ...x,
      ratioVsL1: x.gasPerTx / baselineMean,
      usdPerTx: usd(x.gasPerTx, gwei, ethUsd),
      fixedOverhead: Number.isFinite(fit.b) ? x.gasUsed - x.n * fit.b : Number.NaN,
      meetsPaperCost: x.gasPerTx <= paperGas,
      meetsUsd: usd(x.gasPerTx, gwei, ethUsd) < PAPER_USD,
    };
  });

  const pointsTable = table(
    ['profile (K)', 'n txs', 'submitBatch gas', 'gas / tx', 'vs L1-only', 'USD / tx', 'fixed overhead (gas − n·b)', 'calldata bytes (non-zero)', 'prove s'],
    rows.map((x) => [
      `${x.profile} (${x.K})`, String(x.n), fmt(x.gasUsed), fmt(x.gasPerTx), `${x.ratioVsL1.toFixed(2)}x (${x.ratioVsL1 >= 1 ? '+' : ''}${((x.ratioVsL1 - 1) * 100).toFixed(1)} %)`, `$${x.usdPerTx.toFixed(4)}`,
      Number.isFinite(x.fixedOverhead) ? fmt(x.fixedOverhead) : '–', `${x.calldataBytes} (${x.calldataNonZero})`, (x.proveMs / 1000).toFixed(1),
    ]),
  );
  const fitTable = table(
    ['profile (K)', 'fixed a (gas)', 'marginal b (gas / tx)', 'calldata floor', 'n for ≤ 4 % of L1-only (extrapolated)', 'n for < $0.10 (extrapolated)', 'gas / tx at n = K (fit)'],
    fits.map((f) => [
      `${f.profile} (${f.K})`, Number.isFinite(f.a) ? fmt(f.a) : '–', Number.isFinite(f.b) ? fmt(f.b) : '–', fmt(CALLDATA_FLOOR_PER_TX),
      f.nPaper === undefined ? (Number.isFinite(f.b) ? 'never (b above target)' : '–') : `${f.nPaper.toLocaleString('en-US')}${f.nPaper <= f.K ? '' : ` (> K ${f.K})`}`,
      f.nUsd === undefined ? (Number.isFinite(f.b) ? 'never (b above target)' : '–') : `${f.nUsd.toLocaleString('en-US')}${f.nUsd <= f.K ? '' : ` (> K ${f.K})`}`,
      Number.isFinite(f.b) ? fmt(f.a / f.K + f.b) : '–',
    ]),
  );
  const reached = rows.filter((x) => x.meetsPaperCost);
  const reachedUsd = rows.filter((x) => x.meetsUsd);
  const baseLine = `L1-only baseline: ${fmt(baselineMean)} gas per operation (BaselineRegistry, mean of ${baseOps} upload/update/access/claim calls over ${runs.length} chain(s) of this run: ${Object.entries(runs[0]!.baseline.perOp).map(([k, v]) => `${k} ${fmt(v.mean)}`).join(', ')}); $${usd(baselineMean, gwei, ethUsd).toFixed(4)} at ${gwei} gwei and $${ethUsd}/ETH. Paper targets: -96 % = ${fmt(paperGas)} gas/tx; $0.10 = ${fmt(usdGas)} gas/tx. Calldata floor of one 47-byte record: ${CALLDATA_FLOOR_PER_TX} gas.`;
  const verdict = [
    `-96 % (≤ ${fmt(paperGas)} gas/tx): ${reached.length ? `reached at ${reached.map((x) => `${x.profile} n=${x.n}`).join(', ')}` : 'not reached at any measured size'}.`,
    `< $0.10/tx (≤ ${fmt(usdGas)} gas/tx): ${reachedUsd.length ? `reached at ${reachedUsd.map((x) => `${x.profile} n=${x.n}`).join(', ')}` : 'not reached at any measured size'}.`,
  ].join('\n');
  console.log(`\n${baseLine}\n\n${pointsTable}\n\nFit gas = a + b·n per profile (least squares over its measured sizes; the n columns are extrapolations beyond K, assuming a circuit with that many slots keeps a and b):\n\n${fitTable}\n\n${verdict}\n`);

  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const outDir = values.out ?? join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `batchgas-${stamp}`);
  const settings = { profiles: plan, gasGwei: gwei, ethUsd, baselinePatients: Number(values['baseline-patients']) };
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  writeFileSync(
    `${base}.json`,
    JSON.stringify({ measuredAt: new Date().toISOString(), runSeconds: (performance.now() - t0) / 1000, settings, machine, baseline: { mean: baselineMean, ops: baseOps, perChain: runs.map((r) => ({ profile: r.profile, ...r.baseline })) }, targets: { paperGasPerTx: paperGas, usdGasPerTx: usdGas, calldataFloorPerTx: CALLDATA_FLOOR_PER_TX }, profiles: runs.map((r) => ({ profile: r.profile, constraints: r.constraints, setupSeconds: r.setupSeconds, setupBatches: r.setupBatches })), points: rows, fits }, null, 2),
  );
  const cols = ['profile', 'K', 'F', 'n', 'gasUsed', 'gasPerTx', 'ratioVsL1', 'usdPerTx', 'fixedOverhead', 'calldataBytes', 'calldataNonZero', 'calldataGas', 'recordNonZero', 'witnessMs', 'proveMs', 'txHash'] as const;
  writeFileSync(`${base}.csv`, `${cols.join(',')}\n${rows.map((x) => cols.map((k) => String(x[k])).join(',')).join('\n')}\n`);
  const svg = barChartSvg({
    title: `L1 gas per transaction vs batch size (${gwei} gwei, $${ethUsd}/ETH)`,
    yLabel: 'L1 gas per transaction',
    groups: ['L1-only', ...rows.map((x) => `${x.profile} n=${x.n}`), 'targets'],
    series: [
      { name: 'L1-only (mean)', color: '#9e9e9e', values: [baselineMean, ...rows.map(() => undefined), undefined] },
      { name: 'zk-rollup submitBatch / n', color: '#1f77b4', values: [undefined, ...rows.map((x) => x.gasPerTx), undefined] },
      { name: '-96 % target', color: '#d62728', values: [undefined, ...rows.map(() => undefined), paperGas] },
      { name: '$0.10 target', color: '#2ca02c', values: [undefined, ...rows.map(() => undefined), usdGas] },
    ],
    log: true,
    width: Math.max(720, 90 * (rows.length + 2)),
  });
  writeFileSync(`${base}.svg`, svg);
  writeFileSync(`${base}.png`, svgToPng(svg));
  log(`wrote ${base}.{json,csv,svg,png}; whole run ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((err: unknown) => {
  console.error(`[batchgas] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
