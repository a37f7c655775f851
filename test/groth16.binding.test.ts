/**
 * The TEST/DEVNET-ONLY BindingOnly Groth16 circuit, through the committed build outputs
 * (circuits/binding/build/) and prover/groth16.ts. Checks soundness of the plumbing, not of the
 * circuit: the circuit itself proves nothing beyond its public input.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import {
  BN254_SCALAR_FIELD,
  FieldElementOutOfRangeError,
  proveBinding,
  shutdownProver,
  toSolidityProof,
  verifyBinding,
  type SnarkjsProof,
} from '../prover/groth16.js';

/** BN254 base field order q; negating a G1 point (x, y) gives (x, q - y), still on the curve. */
const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A deep copy, so tampering never touches the proof other tests use. */
function cloneProof(proof: SnarkjsProof): SnarkjsProof {
  return JSON.parse(JSON.stringify(proof)) as SnarkjsProof;
}

describe('BindingOnly Groth16 (test/devnet-only circuit)', () => {
  const inputHash = 0x1234_5678_9abc_def0_1122_3344_5566_7788_99aa_bbcc_ddee_ff00n;
  let proof: SnarkjsProof;
  let publicSignals: string[];

  beforeAll(async () => {
    ({ proof, publicSignals } = await proveBinding(inputHash));
  });

  afterAll(async () => {
    // snarkjs keeps bn128 worker threads alive; without this jest reports an open handle.
    await shutdownProver();
  });

  it('proves an input and the proof verifies with the committed verification key', async () => {
    expect(publicSignals).toEqual([inputHash.toString()]);
    expect(proof.protocol).toBe('groth16');
    expect(await verifyBinding(proof, publicSignals)).toBe(true);
  });

  it('rejects the proof for a different public signal', async () => {
    expect(await verifyBinding(proof, [(inputHash + 1n).toString()])).toBe(false);
  });

  it('rejects a proof whose pA was changed to another valid curve point', async () => {
    // -A instead of A: still a valid G1 point, so it is the pairing check that must fail.
    const tampered = cloneProof(proof);
    const y = BigInt(tampered.pi_a[1] ?? '0');
    tampered.pi_a[1] = (BN254_BASE_FIELD - y).toString();
    expect(await verifyBinding(tampered, publicSignals)).toBe(false);
  });

  it('rejects a proof whose pA is not on the curve', async () => {
    const tampered = cloneProof(proof);
    tampered.pi_a[0] = (BigInt(tampered.pi_a[0] ?? '0') + 1n).toString();
    expect(await verifyBinding(tampered, publicSignals)).toBe(false);
  });

  it('refuses inputs outside the BN254 scalar field with a typed error', async () => {
    await expect(proveBinding(BN254_SCALAR_FIELD)).rejects.toBeInstanceOf(FieldElementOutOfRangeError);
    await expect(proveBinding(BN254_SCALAR_FIELD + 5n)).rejects.toThrow(/BN254 scalar field/);
    await expect(proveBinding(-1n)).rejects.toBeInstanceOf(FieldElementOutOfRangeError);
    expect(() => toSolidityProof(proof, [BN254_SCALAR_FIELD.toString()])).toThrow(FieldElementOutOfRangeError);
  });

  it('accepts the largest field element r - 1', async () => {
    const max = await proveBinding(BN254_SCALAR_FIELD - 1n);
    expect(max.publicSignals).toEqual([(BN254_SCALAR_FIELD - 1n).toString()]);
    expect(await verifyBinding(max.proof, max.publicSignals)).toBe(true);
  });

  it('uses the same field bound as the generated Solidity verifier', () => {
    const sol = readFileSync(join(repoRoot, 'contracts', 'src', 'verifiers', 'BindingOnlyVerifier.sol'), 'utf8');
    const match = /uint256 constant r\s*=\s*(\d+);/.exec(sol);
    expect(match?.[1]).toBe(BN254_SCALAR_FIELD.toString());
  });

  it('converts to Solidity calldata exactly like snarkjs exportSolidityCallData (pi_b swapped)', async () => {
    const calldata = JSON.parse(`[${await snarkjs.groth16.exportSolidityCallData(proof, publicSignals)}]`) as unknown;
    const toBigInts = (v: unknown): unknown => (Array.isArray(v) ? v.map(toBigInts) : BigInt(v as string));
    const sol = toSolidityProof(proof, publicSignals);
    expect([sol.pA, sol.pB, sol.pC, sol.pubSignals]).toEqual(toBigInts(calldata));
    // The swap itself, spelled out: Solidity wants [x1, x0] where snarkjs has [x0, x1].
    expect(sol.pB[0]).toEqual([BigInt(proof.pi_b[0]?.[1] ?? '0'), BigInt(proof.pi_b[0]?.[0] ?? '0')]);
  });
});
