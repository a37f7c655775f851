/**
 * circuits/src/bytes.circom: Bytes (range check + SHA-256 bit order) and BytesToNum (big-endian).
 */
import { randomBytes } from 'node:crypto';
import { CircuitCompileError, compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness } from '../helpers/circuit.js';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const SOURCE = 'circuits/src/bytes.circom';

function beValue(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** The bits SHA-256 consumes: MSB first within each byte. */
function msbFirstBits(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (const b of bytes) for (let j = 7; j >= 0; j--) out.push(BigInt((b >> j) & 1));
  return out;
}

let bytes8: CompiledCircuit;
let num31: CompiledCircuit;
let num32: CompiledCircuit;

beforeAll(async () => {
  bytes8 = await compileCircuit({ source: SOURCE, name: 'test_bytes8', main: 'component main = Bytes(8);' });
  num31 = await compileCircuit({ source: SOURCE, name: 'test_bytes_to_num31', main: 'component main = BytesToNum(31);' });
  num32 = await compileCircuit({ source: SOURCE, name: 'test_bytes_to_num32', main: 'component main = BytesToNum(32);' });
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

describe('Bytes(8)', () => {
  it('exposes the bits MSB-first per byte, for edge and random bytes', async () => {
    for (const data of [Uint8Array.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0xa5]), new Uint8Array(randomBytes(8))]) {
      const w = await witness(bytes8, { in: [...data] });
      const expected = msbFirstBits(data);
      expected.forEach((bit, i) => expect(signal(w, `main.bits[${i}]`)).toBe(bit));
    }
  });

  it('rejects any value outside 0..255 in any position', async () => {
    const base = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const [pos, bad] of [
      [0, 256n],
      [7, 256n],
      [3, 511n],
      [5, 1n << 200n],
      [2, R - 1n], // -1
    ] as const) {
      const input = base.map(BigInt);
      input[pos] = bad;
      expect(await expectWitnessFailure(bytes8, { in: input })).toMatch(/Num2Bits/);
    }
  });
});

describe('BytesToNum', () => {
  it('BytesToNum(31) is the big-endian value (up to 2^248 - 1)', async () => {
    for (const data of [new Uint8Array(31), new Uint8Array(31).fill(0xff), new Uint8Array(randomBytes(31))]) {
      const w = await witness(num31, { in: [...data] });
      expect(signal(w, 'main.out')).toBe(beValue(data));
    }
  });

  it('BytesToNum(32) is the big-endian value for words < r', async () => {
    const below = new Uint8Array(Buffer.from((R - 1n).toString(16).padStart(64, '0'), 'hex'));
    const random = new Uint8Array(randomBytes(32));
    random[0] = (random[0] as number) & 0x1f; // < 2^253 < r
    for (const data of [below, random]) {
      const w = await witness(num32, { in: [...data] });
      expect(signal(w, 'main.out')).toBe(beValue(data));
    }
  });

  it('BytesToNum(32) reduces words >= r modulo r (the documented caveat: x and x + r collide)', async () => {
    const word = R + 5n;
    const data = new Uint8Array(Buffer.from(word.toString(16).padStart(64, '0'), 'hex'));
    const w = await witness(num32, { in: [...data] });
    expect(signal(w, 'main.out')).toBe(5n);
  });
});

describe('compileCircuit', () => {
  it('returns the cached outputs on an unchanged second call', async () => {
    const again = await compileCircuit({ source: SOURCE, name: 'test_bytes8', main: 'component main = Bytes(8);', log: () => {} });
    expect(again.cached).toBe(true);
    expect(again.r1cs).toBe(bytes8.r1cs);
    expect(again.constraints).toBe(bytes8.constraints);
  });

  it("fails with a typed error carrying circom's message", async () => {
    const err: unknown = await compileCircuit({
      source: SOURCE,
      name: 'test_bytes_compile_error',
      main: 'component main = NoSuchTemplate(3);',
      log: () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitCompileError);
    expect((err as CircuitCompileError).circomOutput).toMatch(/NoSuchTemplate/);
    expect((err as CircuitCompileError).message).toMatch(/test_bytes_compile_error/);
  });
});
