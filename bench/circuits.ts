/**
 * `npm run bench -- circuits [profiles...]`: per circuit profile, the cost of proving one full
 * batch: constraints (and per transaction slot), witness time, prove time, peak memory of the
 * proving process, verification gas on anvil; and the same for the one-constraint binding
 * circuit as the baseline of the Groth16 machinery itself (the ratio column).
 * Each profile is measured in a child process so its peak memory is its own. Small circuits get
 * one warm-up proof first; for large ones the first proof is the figure (its warm-up share is small).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import { setupCircuit, readVerifierArtifact } from '../circuits/setup.js';
import { PROFILES, isProfileName, type ProfileName } from '../prover/profiles.js';
import { proveBatch, verifyBatchProof } from '../prover/prove.js';
import { proveBinding, toSolidityProof, shutdownProver } from '../prover/groth16.js';
import { buildBatchWitness } from '../prover/witness.js';
import { startAnvil, freePort } from '../scripts/devnet/anvil.js';
import { ANVIL_DEV_KEY } from '../sdk/config.js';
import { BindingOnlyVerifier__factory } from '../contracts/types/index.js';
import { fullBatch } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Measurement {
  profile: string;
  constraints: number;
  slots: number;
  constraintsPerTx: number;
  setupSeconds: number;
  witnessMs: number;
  proveMs: number;
  verifyMs: number;
  peakRssMb: number;
  verifyGas?: number;
  calldata?: { a: [bigint, bigint]; b: [[bigint, bigint], [bigint, bigint]]; c: [bigint, bigint]; input: bigint; verifier: { abi: unknown[]; bytecode: string } };
}

/** Child: set up, build a full batch, prove it twice (the second is the steady-state figure). */
async function measure(name: ProfileName | 'binding'): Promise<Measurement> {
  if (name === 'binding') {
    await proveBinding(1n); // warm-up: curve and wasm
    const t0 = performance.now();
    const { proof, publicSignals } = await proveBinding(12345n);
    const proveMs = performance.now() - t0;
    const s = toSolidityProof(proof, publicSignals);
    const artifact = { abi: BindingOnlyVerifier__factory.abi as unknown as unknown[], bytecode: BindingOnlyVerifier__factory.bytecode };
    return { profile: 'binding (baseline)', constraints: 1, slots: 1, constraintsPerTx: 1, setupSeconds: 0, witnessMs: 0, proveMs, verifyMs: 0, peakRssMb: process.resourceUsage().maxRSS / 1024, calldata: { a: s.pA, b: s.pB, c: s.pC, input: s.pubSignals[0], verifier: artifact } };
  }
  const profile = PROFILES[name];
  const t = performance.now();
  const artifacts = await setupCircuit({ profile, log: (l) => console.error(`[bench] ${l}`) });
  const setupSeconds = (performance.now() - t) / 1000;
  const { state, batch } = fullBatch(profile, 1_750_000_000n);
  const w = buildBatchWitness(state, batch, profile);
  // Warm-up (curve, wasm) only where it is cheap next to the measured proof.
  if (artifacts.constraints < 1_000_000) await proveBatch(artifacts, w.input);
  const p = await proveBatch(artifacts, w.input);
  const v0 = performance.now();
  if (!(await verifyBatchProof(artifacts, p.proof, p.publicSignals))) throw new Error(`${name}: proof does not verify`);
  const verifyMs = performance.now() - v0;
  const slots = profile.maxTxs + profile.maxForcedOps;
  return {
    profile: name,
    constraints: artifacts.constraints,
    slots,
    constraintsPerTx: Math.round(artifacts.constraints / slots),
    setupSeconds,
    witnessMs: p.witnessMs,
    proveMs: p.proveMs,
    verifyMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    calldata: { a: p.solidity.pA, b: p.solidity.pB, c: p.solidity.pC, input: w.publicInput, verifier: readVerifierArtifact(artifacts) as { abi: unknown[]; bytecode: string } },
  };
}

async function verifyGas(ms: Measurement[]): Promise<void> {
  const anvil = await startAnvil({ chainId: 31337, port: await freePort(), name: 'bench' });
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: true });
  try {
    const wallet = new NonceManager(new Wallet(ANVIL_DEV_KEY, provider));
    for (const m of ms) {
      if (!m.calldata) continue;
      const { verifier, a, b, c, input } = m.calldata;
      const contract = await new ContractFactory(verifier.abi as never, verifier.bytecode, wallet).deploy();
      await contract.waitForDeployment();
      const data = contract.interface.encodeFunctionData('verifyProof', [a, b, c, [input]]);
      const ok = contract.interface.decodeFunctionResult('verifyProof', await provider.call({ to: await contract.getAddress(), data }))[0] as boolean;
      if (!ok) throw new Error(`${m.profile}: the Solidity verifier refused the proof`);
      // As a transaction, so the figure includes calldata and is not an estimate (the generated
      // verifier returns false instead of reverting when gas runs short).
      const receipt = await (await wallet.sendTransaction({ to: await contract.getAddress(), data, gasLimit: 1_000_000 })).wait();
      m.verifyGas = Number(receipt!.gasUsed);
      delete m.calldata;
    }
  } finally {
    provider.destroy();
    await anvil.stop();
  }
}

function runChild(name: string): Measurement {
  const res = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`measuring ${name} failed (exit ${res.status})`);
  const line = res.stdout.trim().split('\n').pop()!;
  return JSON.parse(line, (_k, v: unknown) => (typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as Measurement;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    const m = await measure(argv[1] as ProfileName | 'binding');
    await shutdownProver();
    process.stdout.write(`${JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}\n`);
    return;
  }
  const names = argv.filter((a) => isProfileName(a));
  const profiles: ProfileName[] = names.length > 0 ? names : ['test', 'dev'];
  const results: Measurement[] = [];
  for (const name of ['binding', ...profiles]) {
    console.error(`[bench] circuits: measuring ${name} ...`);
    results.push(runChild(name));
  }
  await verifyGas(results);
  const base = results[0]!;
  const rows = results.map((m) => [
    m.profile,
    m.constraints.toLocaleString('en-US'),
    m.constraintsPerTx.toLocaleString('en-US'),
    m.witnessMs.toFixed(0),
    m.proveMs.toFixed(0),
    `${(m.proveMs / base.proveMs).toFixed(1)}x`,
    m.verifyMs.toFixed(0),
    m.peakRssMb.toFixed(0),
    String(m.verifyGas ?? ''),
  ]);
  const header = ['profile', 'constraints', 'per slot', 'witness ms', 'prove ms', 'prove vs baseline', 'verify ms', 'peak RSS MB', 'verifyProof gas'];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
  // Results accumulate per profile across runs (prod is measured on its own: it takes minutes).
  const out = join(here, 'results', 'circuits.json');
  mkdirSync(dirname(out), { recursive: true });
  const measuredAt = new Date().toISOString();
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { results?: (Measurement & { measuredAt?: string })[] }).results ?? [] : [];
  const merged = new Map(previous.map((m) => [m.profile, m]));
  for (const m of results) merged.set(m.profile, { ...m, measuredAt });
  writeFileSync(out, JSON.stringify({ results: [...merged.values()] }, null, 2));
  console.error(`[bench] wrote ${out}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`[bench] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
