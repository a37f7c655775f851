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
import { readWireMap } from '../circuits/simplify.js';

const require = createRequire(import.meta.url);

/** What a batch proof needs; paths as written by circuits/setup.ts. */
export interface ProvingArtifacts {
  /** circom's witness wasm and its generated witness_calculator (CommonJS). */
  readonly wasm: string;
  readonly witnessCalculator: string;
  readonly zkey: string;
  readonly vkey: string;
  /** Set when the R1CS was simplified after compiling (circuits/simplify.ts): the wasm computes
   * the full witness, and this map selects the wires the proving key knows. */
  readonly witnessMap?: string;
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

/**
 * circom's witness calculator is one wasm instance per circuit, and calculateWTNSBin reads the
 * result back after an await: two concurrent calls would overwrite each other's witness (a proof
 * of the wrong batch). Witnesses are therefore computed one at a time per process; the Groth16
 * step, on snarkjs's worker threads, still overlaps.
 */
let witnessTail: Promise<unknown> = Promise.resolve();

/** Computes the witness (.wtns bytes) for a circuit input. */
export function computeWitness(artifacts: ProvingArtifacts, input: object): Promise<Uint8Array> {
  const run = witnessTail.then(() => computeWitnessNow(artifacts, input));
  witnessTail = run.catch(() => undefined);
  return run;
}

/**
 * ffjavascript builds the bn128 curve and its worker pool on first use and caches it on globalThis
 * only once built: two first proofs at once would build two pools, and only the cached one could be
 * terminated (the process would never exit). The curve is acquired one caller at a time.
 */
let curveTail: Promise<unknown> = Promise.resolve();

function acquireCurve(): Promise<unknown> {
  const run = curveTail.then(() => snarkjs.curves.getCurveFromName('bn128'));
  curveTail = run.catch(() => undefined);
  return run;
}

async function computeWitnessNow(artifacts: ProvingArtifacts, input: object): Promise<Uint8Array> {
  const wc = await calculator(artifacts);
  let full: Uint8Array;
  try {
    full = await wc.calculateWTNSBin(input, true);
  } catch (err) {
    throw new WitnessGenerationError(`the circuit refused the batch: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (!artifacts.witnessMap) return full;
  let kept = wireMaps.get(artifacts.witnessMap);
  if (!kept) {
    kept = (await readWireMap(artifacts.witnessMap)).kept;
    wireMaps.set(artifacts.witnessMap, kept);
  }
  return selectWires(full, kept);
}

const wireMaps = new Map<string, Uint32Array>();

/**
 * The .wtns of only the `kept` wires, in order. Format (snarkjs): "wtns", version, section count,
 * then sections (u32 type, u64 size, bytes): 1 = n8, prime, count; 2 = the values, n8 bytes each.
 */
function selectWires(full: Uint8Array, kept: Uint32Array): Uint8Array {
  const view = new DataView(full.buffer, full.byteOffset, full.byteLength);
  let pos = 12;
  let n8 = 0;
  let header: Uint8Array | undefined;
  let values: Uint8Array | undefined;
  const sections = view.getUint32(8, true);
  for (let i = 0; i < sections; i++) {
    const type = view.getUint32(pos, true);
    const size = Number(view.getBigUint64(pos + 4, true));
    const body = full.subarray(pos + 12, pos + 12 + size);
    if (type === 1) {
      header = body;
      n8 = view.getUint32(pos + 12, true);
    }
    if (type === 2) values = body;
    pos += 12 + size;
  }
  if (!header || !values || n8 === 0) throw new WitnessGenerationError('malformed witness from the circuit wasm');
  const outHeader = new Uint8Array(header);
  new DataView(outHeader.buffer).setUint32(4 + n8, kept.length, true);
  const outValues = new Uint8Array(kept.length * n8);
  for (let i = 0; i < kept.length; i++) {
    const from = kept[i]! * n8;
    outValues.set(values.subarray(from, from + n8), i * n8);
  }
  const out = new Uint8Array(12 + 12 + outHeader.length + 12 + outValues.length);
  const w = new DataView(out.buffer);
  out.set(full.subarray(0, 8)); // magic and version
  w.setUint32(8, 2, true);
  let at = 12;
  for (const [type, body] of [
    [1, outHeader],
    [2, outValues],
  ] as const) {
    w.setUint32(at, type, true);
    w.setBigUint64(at + 4, BigInt(body.length), true);
    out.set(body, at + 12);
    at += 12 + body.length;
  }
  return out;
}

export async function proveBatch(artifacts: ProvingArtifacts, input: object): Promise<BatchProof> {
  const t0 = performance.now();
  const wtns = await computeWitness(artifacts, input);
  const t1 = performance.now();
  await acquireCurve();
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
