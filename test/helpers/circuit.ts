/**
 * Witness helpers for circuit tests (circuits compiled with circuits/compile.ts).
 *
 *   const w = await witness(compiled, { leaf, index, siblings });   // Map<signal name, bigint>
 *   expect(w.get('main.root')).toBe(expectedRoot);
 *   await expectWitnessFailure(compiled, { ...badInput });          // a === or assert failed
 *
 * Witnesses are computed by the circuit's own generated witness_calculator.js (circom's wasm), written
 * to a temporary .wtns file, checked against the R1CS (snarkjs wtns.check) unless disabled, and
 * named through the .sym file. (snarkjs wtns.calculate is not used: when the wasm throws it leaks
 * the FileHandle of the .wtns file it already opened. The values are read from the .wtns bytes
 * directly: snarkjs wtns.exportJson reads them one await at a time, ~1 s per 100k wires.)
 *
 * Names are as in the .sym file: `main.out`, `main.dec.op`, `main.siblings[2]`, ... Only signals
 * that are wires of the R1CS have values: main's inputs and outputs always, intermediate signals
 * unless circom's simplification removed them (--O1 merges signals equal to another signal or to a
 * constant). Compile with optimization 'O0' to keep every signal.
 *
 * Call releaseCircuitResources() in afterAll: the R1CS check starts snarkjs's bn128 worker threads.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjsModule from 'snarkjs';
import type { CompiledCircuit } from '../../circuits/compile.js';

/** A circuit input value: field elements (any integer is reduced mod r), nested for arrays. */
export type SignalValue = bigint | number | string | SignalValue[];
export type CircuitInput = Record<string, SignalValue>;

/** The part of snarkjs 0.7.6 used here (prover/snarkjs.d.ts does not declare `wtns`). */
interface SnarkjsLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
interface SnarkjsWtns {
  wtns: {
    /** Evaluates every R1CS constraint on the witness. The logger is required (it warns on failure). */
    check(r1csFile: string, wtnsFile: string, logger: SnarkjsLogger): Promise<boolean>;
  };
  curves: { getCurveFromName(name: string): Promise<{ terminate(): Promise<void> }> };
}
const snarkjs = snarkjsModule as unknown as SnarkjsWtns;

/** circom's generated witness_calculator.js (CommonJS): `builder(wasmBytes)`. */
interface WitnessCalculator {
  /** The witness in .wtns format. Throws when an assert or === fails ("Assert Failed. ..."). */
  calculateWTNSBin(input: CircuitInput, sanityCheck?: boolean): Promise<Uint8Array>;
}
type WitnessCalculatorBuilder = (code: Uint8Array, options?: unknown) => Promise<WitnessCalculator>;
const require = createRequire(import.meta.url);

/** A fresh calculator (a wasm instance is not reused after it trapped). */
async function calculator(compiled: CompiledCircuit): Promise<WitnessCalculator> {
  const builder = require(compiled.witnessCalculator) as WitnessCalculatorBuilder;
  return builder(readFileSync(compiled.wasm));
}

export interface WitnessOptions {
  /** Check that the witness satisfies the R1CS (default true). Costs time on large circuits. */
  check?: boolean;
}

/**
 * Raised when the wasm produced a witness that violates the R1CS. circom's wasm checks every ===
 * itself, so this would mean the witness generator and the constraints disagree (a compiler or
 * toolchain mismatch, e.g. a stale wasm next to a newer r1cs).
 */
export class WitnessCheckError extends Error {
  override readonly name = 'WitnessCheckError';
}

let workDir: string | undefined;
let fileCounter = 0;
let curveUsed = false;

function tempWtnsFile(): string {
  if (workDir === undefined) workDir = mkdtempSync(join(tmpdir(), 'medrollup-wtns-'));
  mkdirSync(workDir, { recursive: true });
  fileCounter += 1;
  return join(workDir, `w${process.pid}-${fileCounter}.wtns`);
}

/**
 * The wire values of a .wtns file (iden3 binfile "wtns" v2): sections of (u32 id, u64 size);
 * section 1 = u32 n8, prime (n8 bytes), u32 nWitness; section 2 = nWitness little-endian values.
 */
export function parseWtns(bin: Uint8Array): bigint[] {
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const magic = String.fromCharCode(...bin.subarray(0, 4));
  if (magic !== 'wtns') throw new Error(`not a .wtns file (magic ${JSON.stringify(magic)})`);
  const nSections = view.getUint32(8, true);
  let pos = 12;
  let n8 = 0;
  let nWitness = 0;
  let valuesAt = -1;
  for (let s = 0; s < nSections; s++) {
    const id = view.getUint32(pos, true);
    const size = Number(view.getBigUint64(pos + 4, true));
    const body = pos + 12;
    if (id === 1) {
      n8 = view.getUint32(body, true);
      nWitness = view.getUint32(body + 4 + n8, true);
    } else if (id === 2) {
      valuesAt = body;
    }
    pos = body + size;
  }
  if (n8 === 0 || valuesAt < 0) throw new Error('malformed .wtns file (missing header or values section)');
  const values = new Array<bigint>(nWitness);
  for (let i = 0; i < nWitness; i++) {
    let v = 0n;
    const at = valuesAt + i * n8;
    for (let j = n8 - 8; j >= 0; j -= 8) v = (v << 64n) | view.getBigUint64(at + j, true);
    values[i] = v;
  }
  return values;
}

/** name -> wire index for the signals that are wires; parsed once per .sym file. */
const symCache = new Map<string, Array<[string, number]>>();

function symbols(symFile: string): Array<[string, number]> {
  let entries = symCache.get(symFile);
  if (entries === undefined) {
    entries = [];
    // Each line: labelIndex,wireIndex,componentIndex,name (wireIndex -1: removed by simplification).
    // Read in chunks: the .sym of a large circuit lists every label (112 MB for InputHash(215))
    // and may exceed the longest string V8 can hold.
    const fd = openSync(symFile, 'r');
    try {
      const buf = Buffer.alloc(1 << 24);
      let rest = '';
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        const text = rest + buf.toString('latin1', 0, n);
        let start = 0;
        for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
          const c1 = text.indexOf(',', start);
          const c2 = text.indexOf(',', c1 + 1);
          const c3 = text.indexOf(',', c2 + 1);
          if (c1 < 0 || c3 < 0 || c3 > nl) throw new Error(`malformed line in ${symFile}: ${text.slice(start, nl)}`);
          const wire = Number(text.slice(c1 + 1, c2));
          if (wire >= 0) entries.push([text.slice(c3 + 1, nl), wire]);
          start = nl + 1;
        }
        rest = text.slice(start);
      }
    } finally {
      closeSync(fd);
    }
    symCache.set(symFile, entries);
  }
  return entries;
}

async function checkR1cs(compiled: CompiledCircuit, wtnsFile: string): Promise<void> {
  const warnings: string[] = [];
  const logger: SnarkjsLogger = { debug: () => {}, info: () => {}, error: (m) => warnings.push(m), warn: (m) => warnings.push(m) };
  curveUsed = true;
  const ok = await snarkjs.wtns.check(compiled.r1cs, wtnsFile, logger);
  if (!ok) throw new WitnessCheckError(`witness of ${compiled.name} does not satisfy its R1CS: ${warnings.join('; ')}`);
}

/**
 * Computes the witness of `input` and returns the value of every named wire. Throws when witness
 * generation fails (a failed === or assert, a wrong input name or size) or, with check (default),
 * when the witness violates the R1CS.
 */
export async function witness(compiled: CompiledCircuit, input: CircuitInput, options: WitnessOptions = {}): Promise<Map<string, bigint>> {
  const wc = await calculator(compiled);
  const bin = await wc.calculateWTNSBin(input);
  if (options.check ?? true) {
    const wtnsFile = tempWtnsFile();
    try {
      writeFileSync(wtnsFile, bin);
      await checkR1cs(compiled, wtnsFile);
    } finally {
      rmSync(wtnsFile, { force: true });
    }
  }
  const values = parseWtns(bin);
  const out = new Map<string, bigint>();
  for (const [name, wire] of symbols(compiled.sym)) {
    const v = values[wire];
    if (v !== undefined) out.set(name, v);
  }
  return out;
}

/** Reads one signal from a witness map, failing loudly when it is absent (typo or simplified away). */
export function signal(w: Map<string, bigint>, name: string): bigint {
  const v = w.get(name);
  if (v === undefined) throw new Error(`signal ${name} is not in the witness (not a wire, or misspelt)`);
  return v;
}

/** Messages of circom's generated wasm when a constraint (===) or an assert does not hold. */
const CONSTRAINT_FAILURE = /Assert Failed/;

/**
 * Asserts that witness generation for `input` fails because a constraint (===) or an assert does
 * not hold, and returns circom's message (e.g. "Assert Failed. Error in template Num2Bits_3 line:
 * 38"). Any other error (unknown signal, wrong array size) is rethrown:
 * it would mean the test input is malformed, not that the circuit rejected it.
 */
export async function expectWitnessFailure(compiled: CompiledCircuit, input: CircuitInput): Promise<string> {
  const wc = await calculator(compiled);
  let message: string | undefined;
  try {
    await wc.calculateWTNSBin(input);
  } catch (err) {
    message = err instanceof Error ? err.message : String(err);
    if (!CONSTRAINT_FAILURE.test(message)) throw err;
  }
  if (message === undefined) throw new Error(`expected witness generation of ${compiled.name} to fail, but it succeeded`);
  return message.trim();
}

/** Stops snarkjs's bn128 worker threads (started by the R1CS check) and removes temporary files. */
export async function releaseCircuitResources(): Promise<void> {
  if (curveUsed) {
    curveUsed = false;
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await curve.terminate();
  }
  if (workDir !== undefined) {
    rmSync(workDir, { recursive: true, force: true });
    workDir = undefined;
  }
}
