/**
 * Builds everything a circuit profile needs to prove and settle batches, cached outside git:
 * compile (circom2) -> proving key -> verification key -> Solidity verifier (compiled with
 * solc) into `<cacheDir>/<profile>-<key>/`. The key hashes the R1CS and the ceremony file, so a
 * change to any circuit source rebuilds, and an unchanged one returns at once.
 *
 * Keys: with a ceremony file (config CEREMONY_PTAU, a prepared phase-2 powers-of-tau from a
 * public ceremony) the zkey is snarkjs's `zkey new` plus a fresh contribution of ours. Without
 * one, the DEV-ONLY route (circuits/setup/devKeygen.ts) is used: insecure by construction, and the
 * artifacts say so (`insecure: true`).
 *
 *   npm run setup:circuit -- <test|dev|prod> [--force] [--ceremony file.ptau]
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import type { JsonFragment } from 'ethers';
import { compileCircuit, REPO_ROOT } from './compile.js';
import { devKeygen, INSECURE_WARNING } from './setup/devKeygen.js';
import { simplifyR1cs } from './simplify.js';
import { PROFILES, isProfileName, type CircuitProfile, type ProfileName } from '../prover/profiles.js';
import type { ProvingArtifacts } from '../prover/prove.js';

const require = createRequire(import.meta.url);

export const DEFAULT_CIRCUIT_CACHE_DIR = join(REPO_ROOT, '.cache', 'circuits');
const META = 'artifacts.json';
const WITNESS_MAP = 'witness.map';
const FORMAT = 1;

export interface CircuitArtifacts extends ProvingArtifacts {
  readonly format: number;
  readonly profile: ProfileName;
  readonly dir: string;
  readonly r1cs: string;
  readonly verifierSource: string;
  /** { abi, bytecode } of the generated BatchVerifier contract. */
  readonly verifierArtifact: string;
  readonly constraints: number;
  /** True for the dev-only key route: anyone who kept the toxic waste could forge proofs. */
  readonly insecure: boolean;
  readonly keygenSeconds: number;
  readonly createdAt: string;
}

export interface SetupOptions {
  profile: CircuitProfile;
  cacheDir?: string;
  /** A prepared phase-2 .ptau from a public ceremony; without it the dev-only route is used. */
  ceremonyPtau?: string;
  force?: boolean;
  log?: (line: string) => void;
}

export class CircuitSetupError extends Error {
  override readonly name = 'CircuitSetupError';
}

function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const SOLC_SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

function compileVerifier(source: string): { abi: unknown[]; bytecode: string } {
  const solc = require('solc') as { compile(input: string): string };
  const out = JSON.parse(
    solc.compile(JSON.stringify({ language: 'Solidity', sources: { 'BatchVerifier.sol': { content: source } }, settings: SOLC_SETTINGS })),
  ) as { errors?: { severity: string; formattedMessage: string }[]; contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>> };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new CircuitSetupError(`the generated verifier does not compile:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  const c = out.contracts?.['BatchVerifier.sol']?.['BatchVerifier'];
  if (!c) throw new CircuitSetupError('solc produced no BatchVerifier');
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

/** Returns the cached artifacts of a profile, building what is missing. */
export async function setupCircuit(opts: SetupOptions): Promise<CircuitArtifacts> {
  const { profile } = opts;
  const log = opts.log ?? ((line: string) => console.log(`[setup] ${line}`));
  const started = performance.now();
  const simplify = profile.compile === 'O0+simplify';
  const compiled = await compileCircuit({
    source: `circuits/main/${profile.name}.circom`,
    name: `batch_${profile.name}`,
    optimization: simplify ? 'O0' : 'O1',
    log,
  });

  const ceremony = opts.ceremonyPtau ? resolve(opts.ceremonyPtau) : undefined;
  if (ceremony && !existsSync(ceremony)) throw new CircuitSetupError(`ceremony file ${ceremony} does not exist (CEREMONY_PTAU)`);
  const key = createHash('sha256')
    .update(`${FORMAT}:${profile.compile}:${fileHash(compiled.r1cs)}:`)
    .update(ceremony ? `${ceremony}:${statSync(ceremony).size}:${statSync(ceremony).mtimeMs}` : 'dev')
    .digest('hex')
    .slice(0, 16);
  const cacheDir = resolve(opts.cacheDir ?? DEFAULT_CIRCUIT_CACHE_DIR);
  const dir = join(cacheDir, `${profile.name}-${key}`);
  const metaFile = join(dir, META);
  if (!opts.force && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CircuitArtifacts;
    log(`${profile.name}: artifacts up to date (${dir})`);
    return meta;
  }

  // Build in a temporary directory, rename when complete: a crash leaves no half-built artifacts.
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const files = { r1cs: 'circuit.r1cs', wasm: 'circuit.wasm', witnessCalculator: 'witness_calculator.cjs', zkey: 'circuit.zkey', vkey: 'verification_key.json' };
    let constraints = compiled.constraints;
    if (simplify) {
      log(`${profile.name}: simplifying the --O0 R1CS (${compiled.constraints.toLocaleString('en-US')} constraints) ...`);
      const result = await simplifyR1cs(compiled.r1cs, join(tmp, files.r1cs), { mapPath: join(tmp, WITNESS_MAP), log: (m) => log(`${profile.name}: ${m}`) });
      constraints = result.after.constraints;
      log(`${profile.name}: ${result.before.constraints.toLocaleString('en-US')} -> ${constraints.toLocaleString('en-US')} constraints in ${result.seconds.toFixed(1)} s`);
    } else {
      copyFileSync(compiled.r1cs, join(tmp, files.r1cs));
    }
    copyFileSync(compiled.wasm, join(tmp, files.wasm));
    copyFileSync(compiled.witnessCalculator, join(tmp, files.witnessCalculator));

    const keygenStarted = performance.now();
    if (ceremony) {
      log(`${profile.name}: proving key from ceremony ${ceremony} (zkey new + our contribution) ...`);
      const initial = join(tmp, 'initial.zkey');
      await snarkjs.zKey.newZKey(join(tmp, files.r1cs), ceremony, initial);
      await snarkjs.zKey.contribute(initial, join(tmp, files.zkey), 'medrollup operator', randomBytes(32).toString('hex'));
      rmSync(initial);
    } else {
      log(`${profile.name}: ${INSECURE_WARNING}`);
      await devKeygen({ r1csPath: join(tmp, files.r1cs), zkeyPath: join(tmp, files.zkey), log: (m) => log(`${profile.name}: ${m}`) });
    }
    const keygenSeconds = (performance.now() - keygenStarted) / 1000;

    const vkey = await snarkjs.zKey.exportVerificationKey(join(tmp, files.zkey));
    writeFileSync(join(tmp, files.vkey), JSON.stringify(vkey, null, 1));
    const template = readFileSync(join(REPO_ROOT, 'node_modules', 'snarkjs', 'templates', 'verifier_groth16.sol.ejs'), 'utf8');
    const generated = await snarkjs.zKey.exportSolidityVerifier(join(tmp, files.zkey), { groth16: template });
    const header = `// Generated by circuits/setup.ts for the "${profile.name}" batch circuit (K=${profile.maxTxs}, F=${profile.maxForcedOps}, D=${profile.treeDepth}, S=${profile.consentDepth}).\n// ${ceremony ? `Proving key from ceremony ${ceremony}.` : 'DEV-ONLY INSECURE KEY: its toxic waste was known while it was generated.'}\n`;
    const source = header + generated.replace('contract Groth16Verifier', 'contract BatchVerifier');
    writeFileSync(join(tmp, 'BatchVerifier.sol'), source);
    writeFileSync(join(tmp, 'BatchVerifier.json'), JSON.stringify(compileVerifier(source)));

    const meta: CircuitArtifacts = {
      format: FORMAT,
      profile: profile.name,
      dir,
      r1cs: join(dir, files.r1cs),
      wasm: join(dir, files.wasm),
      witnessCalculator: join(dir, files.witnessCalculator),
      zkey: join(dir, files.zkey),
      vkey: join(dir, files.vkey),
      verifierSource: join(dir, 'BatchVerifier.sol'),
      verifierArtifact: join(dir, 'BatchVerifier.json'),
      ...(simplify ? { witnessMap: join(dir, WITNESS_MAP) } : {}),
      constraints,
      insecure: !ceremony,
      keygenSeconds,
      createdAt: new Date().toISOString(),
    };
    // The metadata goes in before the rename: a directory under its final name is complete.
    writeFileSync(join(tmp, META), JSON.stringify(meta, null, 2));
    if (opts.force) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process (a parallel test worker) finished the same build first: use its result.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(metaFile)) {
        rmSync(tmp, { recursive: true, force: true });
        log(`${profile.name}: another process built the same artifacts; using them`);
        return JSON.parse(readFileSync(metaFile, 'utf8')) as CircuitArtifacts;
      }
      throw err;
    }
    log(`${profile.name}: ready in ${((performance.now() - started) / 1000).toFixed(1)} s (${constraints.toLocaleString('en-US')} constraints, key ${keygenSeconds.toFixed(1)} s) at ${dir}`);
    return meta;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The generated verifier's deployable form. */
export function readVerifierArtifact(artifacts: CircuitArtifacts): { abi: JsonFragment[]; bytecode: string } {
  return JSON.parse(readFileSync(artifacts.verifierArtifact, 'utf8')) as { abi: JsonFragment[]; bytecode: string };
}

async function main(argv: string[]): Promise<void> {
  const name = argv.find((a) => !a.startsWith('--')) ?? 'test';
  if (!isProfileName(name)) throw new CircuitSetupError(`unknown profile "${name}": use ${Object.keys(PROFILES).join(', ')}`);
  const ceremonyIndex = argv.indexOf('--ceremony');
  const ceremonyPtau = ceremonyIndex >= 0 ? argv[ceremonyIndex + 1] : process.env.CEREMONY_PTAU || undefined;
  await setupCircuit({ profile: PROFILES[name], force: argv.includes('--force'), ...(ceremonyPtau ? { ceremonyPtau } : {}) });
  const curve = (globalThis as { curve_bn128?: { terminate?: () => Promise<void> } }).curve_bn128;
  await curve?.terminate?.();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`[setup] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

/** The artifacts setupCircuit left in `dir` (a deployment's circuit.artifactsDir). */
export function readCircuitArtifacts(dir: string): CircuitArtifacts {
  const file = join(dir, META);
  let meta: CircuitArtifacts;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as CircuitArtifacts;
  } catch (err) {
    throw new CircuitSetupError(`no circuit artifacts in ${dir} (${(err as Error).message}): run npm run setup:circuit, or restart the devnet with --reset`);
  }
  for (const f of [meta.wasm, meta.zkey, meta.witnessCalculator]) {
    if (!existsSync(f)) throw new CircuitSetupError(`circuit artifact ${f} listed in ${file} is missing: run npm run setup:circuit -- ${meta.profile} --force`);
  }
  return meta;
}
