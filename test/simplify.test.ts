/**
 * circuits/simplify.ts: our O1-style simplification of circom --O0 R1CS files. Each circuit is
 * compiled at --O0 (and at --O1 for comparison), the --O0 r1cs is simplified, a full witness from the
 * --O0 wasm is cut down with reduceWitness and checked against the simplified R1CS with snarkjs's
 * wtns.check; a tampered reduced witness must fail it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poseidon2 } from 'poseidon-lite';
import * as snarkjsModule from 'snarkjs';
import { compileCircuit, type CompiledCircuit } from '../circuits/compile.js';
import { readWireMap, reduceWitness, simplifyR1cs, type SimplifyResult } from '../circuits/simplify.js';
import { ForcedKind, TxOp, type ForcedOp } from '../prover/codec.js';
import { publicKeyOf, randomSecret, signTx } from '../prover/signing.js';
import { RollupState } from '../prover/state.js';
import { buildBatchWitness, type BatchParams } from '../prover/witness.js';

interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
/** The part of snarkjs 0.7.6 used here (prover/snarkjs.d.ts does not declare `wtns`). */
const snarkjs = snarkjsModule as unknown as {
  wtns: { check(r1csFile: string, wtnsFile: string, logger: Logger): Promise<boolean> };
  curves: { getCurveFromName(name: string): Promise<{ terminate(): Promise<void> }> };
};
type WitnessCalculatorBuilder = (code: Uint8Array) => Promise<{ calculateWTNSBin(input: unknown, sanityCheck?: boolean): Promise<Uint8Array> }>;
const require = createRequire(import.meta.url);

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const quiet = () => {};
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'medrollup-simplify-'));
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  await curve.terminate();
});

/** The full witness of `input` from the circuit's own (here: --O0) wasm, written to a .wtns file. */
async function fullWitness(c: CompiledCircuit, input: unknown, file: string): Promise<void> {
  const builder = require(c.witnessCalculator) as WitnessCalculatorBuilder;
  const wc = await builder(readFileSync(c.wasm));
  writeFileSync(file, await wc.calculateWTNSBin(input, true));
}

async function check(r1cs: string, wtns: string): Promise<boolean> {
  const logger: Logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
  return snarkjs.wtns.check(r1cs, wtns, logger);
}

/** iden3 binfile sections: type -> [body offset, size]. */
function sections(bin: Buffer): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let pos = 12;
  for (let i = 0; i < bin.readUInt32LE(8); i++) {
    const size = Number(bin.readBigUInt64LE(pos + 4));
    out.set(bin.readUInt32LE(pos), [pos + 12, size]);
    pos += 12 + size;
  }
  return out;
}

/** Values of a .wtns file (n8 = 32). */
function wtnsValues(file: string): bigint[] {
  const bin = readFileSync(file);
  const [at, size] = sections(bin).get(2)!;
  const values: bigint[] = [];
  for (let p = at; p < at + size; p += 32) {
    let v = 0n;
    for (let j = 24; j >= 0; j -= 8) v = (v << 64n) | bin.readBigUInt64LE(p + j);
    values.push(v);
  }
  return values;
}

/** Adds 1 to wire `wire` of a .wtns file, in place. */
function tamper(file: string, wire: number): void {
  const bin = readFileSync(file);
  const [at] = sections(bin).get(2)!;
  const p = at + wire * 32;
  let v = 0n;
  for (let j = 24; j >= 0; j -= 8) v = (v << 64n) | bin.readBigUInt64LE(p + j);
  v = (v + 1n) % R;
  for (let j = 0; j < 32; j += 8) bin.writeBigUInt64LE((v >> BigInt(8 * j)) & 0xffffffffffffffffn, p + j);
  writeFileSync(file, bin);
}

interface R1csSummary {
  nWires: number;
  nPub: number;
  nPrvIn: number;
  /**
   * A wire that occurs in C but not in A or B of some constraint (a private, non-input one when
   * there is one): adding 1 to it changes C's value and nothing else, so that constraint fails.
   */
  tamperWire: number;
  /** Wire-to-label map. */
  labels: number[];
}

function summarize(file: string): R1csSummary {
  const bin = readFileSync(file);
  const secs = sections(bin);
  const [h] = secs.get(1)!;
  const n8 = bin.readUInt32LE(h);
  const nWires = bin.readUInt32LE(h + 4 + n8);
  const nPub = bin.readUInt32LE(h + 8 + n8) + bin.readUInt32LE(h + 12 + n8);
  const nPrvIn = bin.readUInt32LE(h + 16 + n8);
  const nConstraints = bin.readUInt32LE(h + 28 + n8);
  let [p] = secs.get(2)!;
  let tamperWire = -1;
  let fallback = -1; // a public or input wire, when no other wire qualifies
  for (let c = 0; c < nConstraints && tamperWire < 0; c++) {
    const wires: number[][] = [];
    for (let l = 0; l < 3; l++) {
      const n = bin.readUInt32LE(p);
      p += 4;
      const lc: number[] = [];
      for (let i = 0; i < n; i++, p += 4 + n8) lc.push(bin.readUInt32LE(p));
      wires.push(lc);
    }
    const [a, b, cc] = wires as [number[], number[], number[]];
    const onlyInC = cc.filter((w) => w > 0 && !a.includes(w) && !b.includes(w));
    tamperWire = onlyInC.find((w) => w > nPub + nPrvIn) ?? -1;
    if (fallback < 0) fallback = onlyInC[0] ?? -1;
  }
  if (tamperWire < 0) tamperWire = fallback;
  const [m] = secs.get(3)!;
  const labels = Array.from({ length: nWires }, (_, i) => Number(bin.readBigUInt64LE(m + 8 * i)));
  return { nWires, nPub, nPrvIn, tamperWire, labels };
}

function report(name: string, o0: CompiledCircuit, o1: CompiledCircuit, results: Array<[string, SimplifyResult]>): void {
  const f = (n: number) => n.toLocaleString('en-US');
  const line = (label: string, c: { constraints: number; nonLinear: number; linear: number; wires: number }, extra = '') =>
    `  ${label.padEnd(34)} ${f(c.constraints).padStart(10)} constraints (${f(c.nonLinear)} non-linear + ${f(c.linear)} linear), ${f(c.wires)} wires${extra}`;
  console.log(
    [
      `${name}:`,
      line('circom --O0', o0),
      line('circom --O1', o1),
      ...results.map(([label, r]) => line(label, r.after, `, ${f(r.after.terms)} terms (--O0: ${f(r.before.terms)}), ${r.seconds.toFixed(1)} s`)),
    ].join('\n'),
  );
}

const MODES: Array<[string, { maxUses: number }]> = [
  ['simplifyR1cs maxUses 0 (O1 scope)', { maxUses: 0 }],
  ['simplifyR1cs (default)', { maxUses: 2 }],
];

/**
 * For each mode: simplifies the --O0 circuit, checks the sizes against circom's --O1 and the
 * reduced witness of `input` against the simplified R1CS (and a tampered one against it).
 * Returns the results and the reduced values of the default mode.
 */
async function roundTrip(name: string, o0: CompiledCircuit, o1: CompiledCircuit, input: unknown, minNonLinear = 0.9): Promise<{ results: SimplifyResult[]; values: bigint[] }> {
  const full = join(dir, `${name}.full.wtns`);
  await fullWitness(o0, input, full);
  const fullValues = wtnsValues(full);
  const results: SimplifyResult[] = [];
  let values: bigint[] = [];
  for (const [mode, opts] of MODES) {
    const out = join(dir, `${name}.${opts.maxUses}.r1cs`);
    const r = await simplifyR1cs(o0.r1cs, out, opts);
    results.push(r);
    expect(r.before).toMatchObject({ constraints: o0.constraints, wires: o0.wires, nonLinear: o0.nonLinear, linear: o0.linear });
    // Equalities removed: at most O1's size, and nothing non-linear lost wholesale.
    expect([mode, r.after.constraints <= o1.constraints, r.after.wires <= o1.wires]).toEqual([mode, true, true]);
    expect(r.after.nonLinear).toBeLessThanOrEqual(o1.nonLinear);
    expect(r.after.nonLinear).toBeGreaterThanOrEqual(minNonLinear * o1.nonLinear);

    const s = summarize(out);
    expect(s.nWires).toBe(r.after.wires);
    expect([s.nPub, s.nPrvIn]).toEqual([o1.publicInputs + o1.publicOutputs, o1.privateInputs]);
    const { originalWires, kept } = await readWireMap(r.mapPath);
    expect(originalWires).toBe(o0.wires);
    expect(s.labels).toEqual(Array.from(kept)); // --O0's label map is the identity
    // ONE, the public signals and the private inputs keep their positions
    for (let w = 0; w <= s.nPub + s.nPrvIn; w++) expect(kept[w]).toBe(w);

    const reduced = join(dir, `${name}.${opts.maxUses}.wtns`);
    await reduceWitness(full, r.mapPath, reduced);
    values = wtnsValues(reduced);
    expect(values).toHaveLength(r.after.wires);
    expect(values).toEqual(Array.from(kept, (w) => fullValues[w]));
    expect([mode, await check(out, reduced)]).toEqual([mode, true]);

    expect(s.tamperWire).toBeGreaterThan(0);
    tamper(reduced, s.tamperWire);
    expect([mode, await check(out, reduced)]).toEqual([mode, false]);
  }
  report(name, o0, o1, MODES.map(([mode], i) => [mode, results[i]!]));
  return { results, values };
}

describe('simplifyR1cs + reduceWitness', () => {
  it('Poseidon chain: at most circom --O1 and keeps the witness valid', async () => {
    const main = [
      'template PoseidonChain(n) {',
      '    signal input in[2];',
      '    signal output out;',
      '    signal acc[n + 1];',
      '    component h[n];',
      '    acc[0] <== in[0];',
      '    for (var i = 0; i < n; i++) {',
      '        h[i] = Poseidon(2);',
      '        h[i].inputs[0] <== acc[i];',
      '        h[i].inputs[1] <== in[1] + i;',
      '        acc[i + 1] <== h[i].out;',
      '    }',
      '    out <== acc[n];',
      '}',
      'component main = PoseidonChain(8);',
    ].join('\n');
    const opts = { source: 'circuits/src/merkle.circom', main, log: quiet };
    const o0 = await compileCircuit({ ...opts, name: 'simplify_poseidon_chain_o0', optimization: 'O0' });
    const o1 = await compileCircuit({ ...opts, name: 'simplify_poseidon_chain_o1', optimization: 'O1' });
    const input = { in: ['12345', '678'] };
    const { values } = await roundTrip('poseidon_chain', o0, o1, input);
    let acc = 12345n;
    for (let i = 0n; i < 8n; i++) acc = poseidon2([acc, 678n + i]);
    expect(values[1]).toBe(acc); // main.out, the public output
  });

  it('edge cases: constants, scaled and affine equalities, public = public, unused signals', async () => {
    const main = [
      'template Edges() {',
      '    signal input a;',
      '    signal input b;',
      '    signal output pubCopy;',
      '    signal output y;',
      '    signal seven;',
      '    signal c;',
      '    signal d;',
      '    signal e;',
      '    signal f;',
      '    signal unused;',
      '    pubCopy <== a;',                 // public output = private input: both protected, kept
      '    seven <== 7;',                    // signal = constant
      '    c <== 3 * a + seven;',            // affine in a
      '    d <== c * c;',                    // non-linear
      '    e <== seven * b;',                // becomes linear (7*b) once seven is a constant
      '    f <== d - 2 * e;',
      '    y <== f * seven;',                // linear once seven is known
      '    unused <-- a + 1;',               // unconstrained: dropped
      '}',
      'component main = Edges();',
    ].join('\n');
    const opts = { source: 'circuits/src/merkle.circom', main, log: quiet };
    const o0 = await compileCircuit({ ...opts, name: 'simplify_edges_o0', optimization: 'O0' });
    const o1 = await compileCircuit({ ...opts, name: 'simplify_edges_o1', optimization: 'O1' });
    const { results, values } = await roundTrip('edges', o0, o1, { a: '5', b: '11' }, 0);
    const c = 3n * 5n + 7n;
    expect(values[1]).toBe(5n);
    expect(values[2]).toBe(((c * c - 2n * 7n * 11n) * 7n) % R);
    // d = c*c is the only product left; pubCopy = a stays as a linear constraint
    expect(results.map((r) => r.after.nonLinear)).toEqual([1, 1]);
    // equalities only: also y = 7 * (d - 14 * b); with linear substitution d is replaced by (y + 98 * b) / 7
    expect(results.map((r) => [r.after.constraints, r.after.wires])).toEqual([
      [3, 6],
      [2, 5],
    ]);
  });

  it('batch circuit, test profile (K=2, F=1, D=4, S=2): close to circom --O1, reduced witness satisfies the R1CS', async () => {
    const o0 = await compileCircuit({ source: 'circuits/main/test.circom', name: 'batch_test_o0', optimization: 'O0', log: quiet });
    const o1 = await compileCircuit({ source: 'circuits/main/test.circom', name: 'batch_test', log: quiet });

    const params: BatchParams = { maxTxs: 2, maxForcedOps: 1, treeDepth: 4, consentDepth: 2 };
    const secrets = [randomSecret(), randomSecret()];
    const register = (account: number): ForcedOp => {
      const key = publicKeyOf(secrets[account - 1]!);
      return { kind: ForcedKind.RegisterAccount, account, counterpart: 0, a: key.x, b: key.y };
    };
    const T = 1_700_000_000n;
    const s1 = buildBatchWitness(new RollupState(params), { forced: [register(1)], txs: [], timestamp: T }, params).state;
    const upload = signTx(secrets[0]!, { op: TxOp.Upload, actor: 1, target: 1, slot: 0, scope: 0, expiry: 0n, payload: 0xfeedn }, 0n);
    const w = buildBatchWitness(s1, { forced: [register(2)], txs: [upload], timestamp: T + 1n }, params);

    const { results, values } = await roundTrip('batch_test', o0, o1, w.input);
    expect(values[1]).toBe(w.publicInput);
    // O1 scope: "close to" circom's --O1, within 10 % (affine equalities and constants propagated
    // through products make it a little smaller)
    expect(results[0]!.after.constraints).toBeGreaterThan(0.9 * o1.constraints);
    // the default also substitutes linear constraints into at most 2 others
    expect(results[1]!.after.constraints).toBeLessThan(results[0]!.after.constraints);
  });
});
