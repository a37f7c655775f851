/**
 * Proving and verifying a batch with the artifacts of circuits/setup.ts: the witness comes from
 * circom's generated witness calculator (the compiled wasm), the proof from snarkjs Groth16.
 * Times are returned so the sequencer, the workers and bench/ report them without re-measuring.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as snarkjs from 'snarkjs';
import type { VerificationKey } from 'snarkjs';
import { toSolidityProof, type SnarkjsProof, type SolidityProof } from './groth16.js';

const require = createRequire(import.meta.url);

/** What a batch proof needs; paths as written by circuits/setup.ts. */
export interface ProvingArtifacts {
  /** circom's witness wasm and its generated witness_calculator (CommonJS). */
  readonly wasm: string;
  readonly witnessCalculator: string;
  readonly zkey: string;
  readonly vkey: string;
}

export interface BatchProof {
  proof: SnarkjsProof;
  publicSignals: string[];
  solidity: SolidityProof;
  witnessMs: number;
  proveMs: number;
}

/** The circuit refused the input: the batch breaks a rule (an `===` or assert failed). */
export class WitnessGenerationError extends Error {
  override readonly name = 'WitnessGenerationError';
}

interface WitnessCalculator {
  calculateWTNSBin(input: unknown, sanityCheck?: boolean): Promise<Uint8Array>;
}
type WitnessCalculatorBuilder = (code: Buffer, options?: { sanityCheck?: boolean }) => Promise<WitnessCalculator>;

const calculators = new Map<string, Promise<WitnessCalculator>>();

function calculator(artifacts: ProvingArtifacts): Promise<WitnessCalculator> {
  let wc = calculators.get(artifacts.wasm);
  if (!wc) {
    const builder = require(artifacts.witnessCalculator) as WitnessCalculatorBuilder;
    wc = builder(readFileSync(artifacts.wasm));
    calculators.set(artifacts.wasm, wc);
  }
  return wc;
}

/** Computes the witness (.wtns bytes) for a circuit input. */
export async function computeWitness(artifacts: ProvingArtifacts, input: object): Promise<Uint8Array> {
  const wc = await calculator(artifacts);
  try {
    return await wc.calculateWTNSBin(input, true);
  } catch (err) {
    throw new WitnessGenerationError(`the circuit refused the batch: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

export async function proveBatch(artifacts: ProvingArtifacts, input: object): Promise<BatchProof> {
  const t0 = performance.now();
  const wtns = await computeWitness(artifacts, input);
  const t1 = performance.now();
  // snarkjs reads files through fastfile, which also takes an in-memory buffer.
  const { proof, publicSignals } = await snarkjs.groth16.prove(artifacts.zkey, { type: 'mem', data: wtns });
  const t2 = performance.now();
  return { proof, publicSignals, solidity: toSolidityProof(proof, publicSignals), witnessMs: t1 - t0, proveMs: t2 - t1 };
}

const vkeys = new Map<string, VerificationKey>();

export async function verifyBatchProof(artifacts: Pick<ProvingArtifacts, 'vkey'>, proof: SnarkjsProof, publicSignals: string[]): Promise<boolean> {
  let vkey = vkeys.get(artifacts.vkey);
  if (!vkey) {
    vkey = JSON.parse(readFileSync(artifacts.vkey, 'utf8')) as VerificationKey;
    vkeys.set(artifacts.vkey, vkey);
  }
  return snarkjs.groth16.verify(vkey, publicSignals, proof);
}
