/**
 * circuits/src/inputhash.circom: InputHash(n) against node:crypto SHA-256, for the batch size of
 * the test profile (48 + 73F + 47K = 215 bytes with F = 1, K = 2) and a smaller one (120 bytes).
 * The test main makes the hash a public input (`out === expected`), as the Batch circuit does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness } from '../helpers/circuit.js';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const SOURCE = 'circuits/src/inputhash.circom';
const MASK_253 = (1n << 253n) - 1n;

function word(v: bigint): Buffer {
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

/** The contract's computation (SPEC): sha256(oldRoot || newRoot || sha256(data)) & (2^253 - 1). */
function publicInput(data: Uint8Array, oldRoot: bigint, newRoot: bigint): bigint {
  const commitment = createHash('sha256').update(data).digest();
  const digest = createHash('sha256').update(Buffer.concat([word(oldRoot), word(newRoot), commitment])).digest();
  return BigInt(`0x${digest.toString('hex')}`) & MASK_253;
}

function randomField(): bigint {
  return BigInt(`0x${randomBytes(32).toString('hex')}`) % R;
}

function testMain(n: number): string {
  return `
template InputHashIs(n) {
    signal input data[n];
    signal input oldRoot;
    signal input newRoot;
    signal input expected;
    signal output out <== InputHash(n)(data, oldRoot, newRoot);
    out === expected;
}
component main {public [expected]} = InputHashIs(${n});`;
}

const SIZES = [120, 215] as const;
const circuits = new Map<number, CompiledCircuit>();

beforeAll(async () => {
  for (const n of SIZES) circuits.set(n, await compileCircuit({ source: SOURCE, name: `test_input_hash${n}`, main: testMain(n) }));
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

function circuit(n: number): CompiledCircuit {
  const c = circuits.get(n);
  if (!c) throw new Error(`no circuit for ${n} bytes`);
  return c;
}

describe.each(SIZES)('InputHash(%i)', (n) => {
  it('equals the SHA-256 reference for random data and roots (R1CS checked)', async () => {
    const data = new Uint8Array(randomBytes(n));
    const [oldRoot, newRoot] = [randomField(), randomField()];
    const expected = publicInput(data, oldRoot, newRoot);
    const w = await witness(circuit(n), { data: [...data], oldRoot, newRoot, expected });
    expect(signal(w, 'main.out')).toBe(expected);
  });

  it('equals the reference at the edges: zero data and roots, 0xff data, roots r - 1', async () => {
    const cases: Array<[Uint8Array, bigint, bigint]> = [
      [new Uint8Array(n), 0n, 0n],
      [new Uint8Array(n).fill(0xff), R - 1n, R - 1n],
    ];
    for (const [data, oldRoot, newRoot] of cases) {
      const expected = publicInput(data, oldRoot, newRoot);
      const w = await witness(circuit(n), { data: [...data], oldRoot, newRoot, expected }, { check: false });
      expect(signal(w, 'main.out')).toBe(expected);
    }
  });

  it('rejects a tampered public input, data byte, old root or new root', async () => {
    const data = new Uint8Array(randomBytes(n));
    const [oldRoot, newRoot] = [randomField(), randomField()];
    const good = { data: [...data], oldRoot, newRoot, expected: publicInput(data, oldRoot, newRoot) };
    await expectWitnessFailure(circuit(n), { ...good, expected: good.expected + 1n });
    // The full digest without the top-bit mask is not the public input either.
    await expectWitnessFailure(circuit(n), { ...good, expected: good.expected + (1n << 253n) });
    const tampered = [...data];
    tampered[n - 1] = ((tampered[n - 1] as number) + 1) & 0xff;
    await expectWitnessFailure(circuit(n), { ...good, data: tampered });
    await expectWitnessFailure(circuit(n), { ...good, oldRoot: oldRoot + 1n });
    // Swapping the roots changes the hash.
    await expectWitnessFailure(circuit(n), { ...good, oldRoot: newRoot, newRoot: oldRoot });
  });

  it('rejects a data byte > 255', async () => {
    const data: bigint[] = [...new Uint8Array(randomBytes(n))].map(BigInt);
    data[7] = 256n;
    const input = { data, oldRoot: 1n, newRoot: 2n, expected: 0n };
    expect(await expectWitnessFailure(circuit(n), input)).toMatch(/Num2Bits/);
  });
});
