/**
 * Builds the TEST/DEVNET-ONLY BindingOnly Groth16 circuit (see binding_only.circom: it proves
 * nothing about a batch) and its snarkjs Solidity verifier.
 *
 *   npm run build:binding-circuit      (= tsx circuits/binding/build.ts)
 *
 * Steps: circom2 (circom compiled to wasm, so no native toolchain) -> r1cs + wasm; a fresh, tiny
 * powers-of-tau ceremony (one contribution + beacon); Groth16 setup with one zkey contribution;
 * export of the verification key and of the Solidity verifier.
 *
 * Committed outputs (small, so CI never needs circom):
 *   circuits/binding/build/binding_only.wasm, binding_only.zkey, verification_key.json
 *   contracts/src/verifiers/BindingOnlyVerifier.sol
 * Everything else (r1cs, ptau files, intermediate zkeys, circom's JS glue) lives in a temporary
 * directory that is deleted at the end.
 *
 * The outputs are NOT byte-reproducible: snarkjs mixes OS randomness into every contribution,
 * whatever entropy string is passed. Rerunning the build therefore produces a new zkey and a new
 * verifier (the old proofs stop verifying); commit all four outputs together.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';

const require = createRequire(import.meta.url);

const circuitDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(circuitDir, '..', '..');
const circuitFile = join(circuitDir, 'binding_only.circom');
const buildDir = join(circuitDir, 'build');
const verifierFile = join(repoRoot, 'contracts', 'src', 'verifiers', 'BindingOnlyVerifier.sol');

/**
 * 2^4 = 16 constraints of capacity. The circuit has 1 constraint plus snarkjs's per-public-input
 * constraints, so this is far more than enough, and the ptau is deleted anyway (zkey size depends
 * on the circuit's domain, not on the ceremony power).
 */
const PTAU_POWER = 4;
/**
 * Fixed entropy so the build runs unattended. It is not what keeps the setup honest (snarkjs adds
 * OS randomness and discards the toxic waste), and honesty of this setup is moot anyway: the
 * circuit lets anyone with the zkey prove any input.
 */
const PTAU_ENTROPY = 'medrollup binding-only devnet ptau contribution';
const ZKEY_ENTROPY = 'medrollup binding-only devnet zkey contribution';
/** Deterministic, public beacon value: derived from a label so it is obviously not a secret. */
const BEACON_HASH = createHash('sha256').update('medrollup binding-only devnet beacon').digest('hex');
const BEACON_ITERATIONS_EXP = 10; // snarkjs minimum

const GENERATED_CONTRACT = 'Groth16Verifier';
const CONTRACT_NAME = 'BindingOnlyVerifier';
const EXPECTED_PRAGMA = 'pragma solidity >=0.7.0 <0.9.0;'; // accepts solc 0.8.30

function log(msg: string): void {
  console.log(`[binding-circuit] ${msg}`);
}

/** Runs one build step, logs its duration, and fails loudly if snarkjs signalled failure with `false`. */
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  log(`${name} ...`);
  const started = Date.now();
  const result = await fn();
  // Several snarkjs functions report errors by returning false instead of throwing.
  if (result === false) throw new Error(`${name}: snarkjs returned false`);
  log(`${name} done in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  return result;
}

function compileCircuit(outDir: string): void {
  // circom2 is CommonJS with no exports map, so its CLI file can be resolved directly. Running it
  // with process.execPath keeps the pinned Node 24 instead of whatever `node` is first on PATH.
  const cli = require.resolve('circom2/cli.js');
  const args = [cli, relative(repoRoot, circuitFile), '--r1cs', '--wasm', '--O1', '-o', outDir];
  const res = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`circom2 exited with status ${res.status}`);
}

/** Renames the contract, checks the pragma, and prepends the devnet-only warning. */
function postProcessVerifier(generated: string): string {
  if (!generated.includes(EXPECTED_PRAGMA)) {
    throw new Error(`snarkjs verifier pragma changed; expected "${EXPECTED_PRAGMA}" (must accept solc 0.8.30)`);
  }
  const declaration = `contract ${GENERATED_CONTRACT} {`;
  if (generated.split(declaration).length !== 2) {
    throw new Error(`expected exactly one "${declaration}" in the snarkjs verifier`);
  }
  const renamed = generated.replace(declaration, `contract ${CONTRACT_NAME} {`);

  // Keep the SPDX line first (solc looks for it there by convention); the warning follows it.
  const lines = renamed.split('\n');
  const spdx = lines[0] ?? '';
  if (!spdx.startsWith('// SPDX-License-Identifier:')) throw new Error('snarkjs verifier lost its SPDX line');
  const header = [
    '// =====================================================================================',
    '//  GENERATED by circuits/binding/build.ts (snarkjs zkey export solidityverifier).',
    '//  DO NOT EDIT: rerun `npm run build:binding-circuit`, which also regenerates the zkey.',
    '//',
    '//  TEST / DEVNET ONLY. This verifies proofs of circuits/binding/binding_only.circom, a',
    '//  circuit that proves NOTHING about a batch: anyone with the zkey can prove any input.',
    '//  The real batch circuit replaces it. Never deploy this where real data or value is at stake.',
    '//',
    '//  Gas: verifyProof returns false (it does not revert) when the pairing precompile runs out',
    '//  of gas, so eth_estimateGas on a direct call underestimates (~32k instead of ~217k). Callers',
    '//  must revert on false, which also makes estimation of the calling transaction correct.',
    '// =====================================================================================',
  ];
  return [spdx, ...header, ...lines.slice(1)].join('\n');
}

function sizeOf(file: string): string {
  return `${(statSync(file).size / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'binding-circuit-'));
  const tmpFile = (name: string) => join(tmp, name);
  // snarkjs reuses one bn128 curve (with worker threads) for all calls; stopping it lets node exit.
  let curve: snarkjs.Curve | undefined;
  try {
    await step('compile circuit (circom2 --r1cs --wasm)', async () => compileCircuit(tmp));
    const r1cs = tmpFile('binding_only.r1cs');
    const wasm = tmpFile(join('binding_only_js', 'binding_only.wasm'));
    for (const f of [r1cs, wasm]) if (!existsSync(f)) throw new Error(`circom2 did not produce ${f}`);

    curve = await snarkjs.curves.getCurveFromName('bn128');
    const bn128 = curve;
    await step(`powers of tau: new 2^${PTAU_POWER} ceremony`, () => snarkjs.powersOfTau.newAccumulator(bn128, PTAU_POWER, tmpFile('pot_0000.ptau')));
    await step('powers of tau: contribution', () =>
      snarkjs.powersOfTau.contribute(tmpFile('pot_0000.ptau'), tmpFile('pot_0001.ptau'), 'binding-only devnet', PTAU_ENTROPY),
    );
    await step('powers of tau: beacon', () =>
      snarkjs.powersOfTau.beacon(tmpFile('pot_0001.ptau'), tmpFile('pot_beacon.ptau'), 'binding-only beacon', BEACON_HASH, BEACON_ITERATIONS_EXP),
    );
    await step('powers of tau: prepare phase 2', () => snarkjs.powersOfTau.preparePhase2(tmpFile('pot_beacon.ptau'), tmpFile('pot_final.ptau')));

    await step('groth16 setup (new zkey)', () => snarkjs.zKey.newZKey(r1cs, tmpFile('pot_final.ptau'), tmpFile('binding_only_0000.zkey')));
    await step('zkey contribution', () =>
      snarkjs.zKey.contribute(tmpFile('binding_only_0000.zkey'), tmpFile('binding_only.zkey'), 'binding-only devnet', ZKEY_ENTROPY),
    );
    const ok = await step('verify zkey against r1cs + ptau', () =>
      snarkjs.zKey.verifyFromR1cs(r1cs, tmpFile('pot_final.ptau'), tmpFile('binding_only.zkey')),
    );
    if (!ok) throw new Error('zkey does not match the r1cs and ptau');

    const vk = await step('export verification key', () => snarkjs.zKey.exportVerificationKey(tmpFile('binding_only.zkey')));
    if (vk.protocol !== 'groth16' || vk.nPublic !== 1) {
      throw new Error(`unexpected verification key: protocol ${vk.protocol}, nPublic ${vk.nPublic} (want groth16, 1)`);
    }
    // The template ships in the snarkjs package (the CLI reads the same file); snarkjs's "exports"
    // map hides it from require.resolve, so locate it next to the resolved entry point.
    const templateFile = join(dirname(require.resolve('snarkjs')), '..', 'templates', 'verifier_groth16.sol.ejs');
    const solidity = await step('export solidity verifier', () =>
      snarkjs.zKey.exportSolidityVerifier(tmpFile('binding_only.zkey'), { groth16: readFileSync(templateFile, 'utf8') }),
    );

    // Only now touch the committed outputs, so a failed build leaves the previous set intact.
    mkdirSync(buildDir, { recursive: true });
    mkdirSync(dirname(verifierFile), { recursive: true });
    const outputs = {
      wasm: join(buildDir, 'binding_only.wasm'),
      zkey: join(buildDir, 'binding_only.zkey'),
      vk: join(buildDir, 'verification_key.json'),
    };
    copyFileSync(wasm, outputs.wasm);
    copyFileSync(tmpFile('binding_only.zkey'), outputs.zkey);
    writeFileSync(outputs.vk, `${JSON.stringify(vk, null, 2)}\n`);
    writeFileSync(verifierFile, postProcessVerifier(solidity));
    for (const f of [...Object.values(outputs), verifierFile]) log(`wrote ${relative(repoRoot, f)} (${sizeOf(f)})`);
    log(`finished in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  } finally {
    await curve?.terminate();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
