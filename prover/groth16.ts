/**
 * Groth16 plumbing shared by every circuit: the field bound, proof-to-calldata conversion and
 * shutting snarkjs's workers down; plus the TEST-ONLY BindingOnly circuit
 * (circuits/binding/binding_only.circom): it proves nothing about a batch, anyone with the zkey can
 * prove any input. The contract unit tests use it to submit batches against a real Groth16
 * verifier (contracts/src/verifiers/BindingOnlyVerifier.sol) without proving the batch circuit;
 * batch proofs go through prover/prove.ts.
 *
 * The wasm, zkey and verification key are the committed outputs of circuits/binding/build.ts.
 * snarkjs starts bn128 worker threads on first use and keeps them alive; call shutdownProver()
 * when done (e.g. in a jest afterAll) or node will not exit.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import type { Groth16Proof, VerificationKey } from 'snarkjs';

/** A Groth16 proof in snarkjs's JSON shape (decimal strings, projective coordinates). */
export type SnarkjsProof = Groth16Proof;

/** Arguments of `verifyProof(uint[2] pA, uint[2][2] pB, uint[2] pC, uint[1] pubSignals)`. */
export interface SolidityProof {
  pA: [bigint, bigint];
  pB: [[bigint, bigint], [bigint, bigint]];
  pC: [bigint, bigint];
  pubSignals: [bigint];
}

/**
 * BN254 (bn128) scalar field order r: circuit signals live in Z_r. The generated Solidity verifier
 * rejects any public signal >= r (`checkField`), and the witness calculator would silently reduce
 * an out-of-range input mod r, so out-of-range inputs are refused up front instead.
 */
export const BN254_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Thrown when a public input is not a canonical element of the BN254 scalar field. */
export class FieldElementOutOfRangeError extends Error {
  override readonly name = 'FieldElementOutOfRangeError';
  readonly value: bigint;

  constructor(what: string, value: bigint) {
    super(`${what} must be in [0, r) for the BN254 scalar field r = ${BN254_SCALAR_FIELD}; got ${value}`);
    this.value = value;
  }
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(repoRoot, 'circuits', 'binding', 'build');
export const BINDING_WASM = join(buildDir, 'binding_only.wasm');
export const BINDING_ZKEY = join(buildDir, 'binding_only.zkey');
export const BINDING_VKEY = join(buildDir, 'verification_key.json');

let cachedVerificationKey: VerificationKey | undefined;

function bindingVerificationKey(): VerificationKey {
  cachedVerificationKey ??= JSON.parse(readFileSync(BINDING_VKEY, 'utf8')) as VerificationKey;
  return cachedVerificationKey;
}

function assertFieldElement(what: string, value: bigint): void {
  if (value < 0n || value >= BN254_SCALAR_FIELD) throw new FieldElementOutOfRangeError(what, value);
}

/** Proves knowledge of nothing but `inputHash` itself (see the file comment). Takes ~0.1 s. */
export async function proveBinding(inputHash: bigint): Promise<{ proof: SnarkjsProof; publicSignals: string[] }> {
  assertFieldElement('inputHash', inputHash);
  return snarkjs.groth16.fullProve({ inputHash: inputHash.toString() }, BINDING_WASM, BINDING_ZKEY);
}

/** Off-chain check with the committed verification key; same answer as BindingOnlyVerifier. */
export async function verifyBinding(proof: SnarkjsProof, publicSignals: string[]): Promise<boolean> {
  return snarkjs.groth16.verify(bindingVerificationKey(), publicSignals, proof);
}

function pair(values: string[] | undefined, what: string): [bigint, bigint] {
  // snarkjs points are projective: [x, y, "1"] for G1, [[x0, x1], [y0, y1], ["1", "0"]] for G2.
  // Only the affine x and y go to Solidity.
  const x = values?.[0];
  const y = values?.[1];
  if (x === undefined || y === undefined) throw new Error(`malformed snarkjs proof: ${what} needs two coordinates`);
  return [BigInt(x), BigInt(y)];
}

/**
 * Converts a snarkjs proof to the verifier's calldata, matching snarkjs's
 * `groth16.exportSolidityCallData`: G2 coordinates are Fp2 elements c0 + c1*u, which snarkjs
 * stores as [c0, c1] but the EVM pairing precompile (EIP-197) expects as [c1, c0], so each pair
 * of pi_b is swapped.
 */
export function toSolidityProof(proof: SnarkjsProof, publicSignals: string[]): SolidityProof {
  if (publicSignals.length !== 1 || publicSignals[0] === undefined) {
    throw new Error(`the rollup circuits have exactly one public signal; got ${publicSignals.length}`);
  }
  const pubSignal = BigInt(publicSignals[0]);
  assertFieldElement('public signal', pubSignal);
  const [bx0, bx1] = pair(proof.pi_b[0], 'pi_b[0]');
  const [by0, by1] = pair(proof.pi_b[1], 'pi_b[1]');
  return {
    pA: pair(proof.pi_a, 'pi_a'),
    pB: [
      [bx1, bx0],
      [by1, by0],
    ],
    pC: pair(proof.pi_c, 'pi_c'),
    pubSignals: [pubSignal],
  };
}

/**
 * Stops the bn128 worker threads snarkjs keeps alive (ffjavascript caches the curve on
 * globalThis.curve_bn128; its terminate() clears that cache and ends the workers). Safe to call
 * repeatedly; the next snarkjs call simply starts a fresh curve.
 */
export async function shutdownProver(): Promise<void> {
  const curve = (globalThis as { curve_bn128?: { terminate?: () => Promise<void> } | null }).curve_bn128;
  await curve?.terminate?.();
}
