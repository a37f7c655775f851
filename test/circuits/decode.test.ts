/**
 * circuits/src/decode.circom: DecodeHeader, DecodeForcedOp and DecodeTx round trips against a TS
 * encoder of the SPEC layout (big-endian), composed with Bytes() as in the Batch circuit (the
 * decoders rely on that range check: bytes > 255 are rejected there).
 */
import { randomBytes } from 'node:crypto';
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness } from '../helpers/circuit.js';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const SOURCE = 'circuits/src/decode.circom';

// ---- TS encoder, per circuits/SPEC.md "Batch data" ----------------------------------------------

/** `width` bytes, big-endian; throws when the value does not fit. */
function be(value: bigint, width: number): number[] {
  if (value < 0n || value >= 1n << BigInt(8 * width)) throw new RangeError(`${value} does not fit in ${width} bytes`);
  const out = new Array<number>(width);
  let v = value;
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

interface Header {
  forcedCount: bigint;
  txCount: bigint;
  timestamp: bigint;
  provenanceRoot: bigint;
}
function encodeHeader(h: Header): number[] {
  return [...be(h.forcedCount, 4), ...be(h.txCount, 4), ...be(h.timestamp, 8), ...be(h.provenanceRoot, 32)];
}

interface ForcedOp {
  kind: bigint;
  account: bigint;
  counterpart: bigint;
  a: bigint;
  b: bigint;
}
function encodeForcedOp(f: ForcedOp): number[] {
  return [...be(f.kind, 1), ...be(f.account, 4), ...be(f.counterpart, 4), ...be(f.a, 32), ...be(f.b, 32)];
}

interface Tx {
  op: bigint;
  actor: bigint;
  target: bigint;
  slot: bigint;
  scope: bigint;
  expiry: bigint;
  payload: bigint;
}
function encodeTx(t: Tx): number[] {
  return [...be(t.op, 1), ...be(t.actor, 4), ...be(t.target, 4), ...be(t.slot, 1), ...be(t.scope, 1), ...be(t.expiry, 5), ...be(t.payload, 31)];
}
/** `head` of the signed message: the first 16 bytes (op .. expiry) as a big-endian integer. */
function txHead(t: Tx): bigint {
  return BigInt(`0x${Buffer.from(encodeTx(t).slice(0, 16)).toString('hex')}`);
}

function randomBits(bits: number): bigint {
  return BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) & ((1n << BigInt(bits)) - 1n);
}

// ---- circuits ------------------------------------------------------------------------------------

/** Test main: Bytes(n) over the input (the range check the Batch gets from InputHash) + the decoder. */
function checkedMain(decoder: string, n: number, outputs: string[]): string {
  return `
template Checked${decoder}() {
    signal input in[${n}];
    component range = Bytes(${n});
    range.in <== in;
    component dec = ${decoder}();
    dec.in <== in;
${outputs.map((o) => `    signal output ${o} <== dec.${o};`).join('\n')}
}
component main = Checked${decoder}();`;
}

const HEADER_OUT = ['forcedCount', 'txCount', 'timestamp'];
const FORCED_OUT = ['kind', 'account', 'counterpart', 'a', 'b'];
const TX_OUT = ['op', 'actor', 'target', 'slot', 'scope', 'expiry', 'payload', 'head'];

let header: CompiledCircuit;
let forced: CompiledCircuit;
let tx: CompiledCircuit;
let txUnchecked: CompiledCircuit;

beforeAll(async () => {
  header = await compileCircuit({ source: SOURCE, name: 'test_decode_header', main: checkedMain('DecodeHeader', 48, HEADER_OUT) });
  forced = await compileCircuit({ source: SOURCE, name: 'test_decode_forced', main: checkedMain('DecodeForcedOp', 73, FORCED_OUT) });
  tx = await compileCircuit({ source: SOURCE, name: 'test_decode_tx', main: checkedMain('DecodeTx', 47, TX_OUT) });
  txUnchecked = await compileCircuit({ source: SOURCE, name: 'test_decode_tx_unchecked', main: 'component main = DecodeTx();' });
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

async function decoded(c: CompiledCircuit, bytes: number[], outputs: string[]): Promise<Record<string, bigint>> {
  const w = await witness(c, { in: bytes });
  return Object.fromEntries(outputs.map((o) => [o, signal(w, `main.${o}`)]));
}

describe('DecodeHeader', () => {
  it('round-trips counts and timestamp (provenanceRoot is left to the hash)', async () => {
    const cases: Header[] = [
      { forcedCount: 0n, txCount: 0n, timestamp: 0n, provenanceRoot: 0n },
      { forcedCount: 1n, txCount: 2n, timestamp: 1_750_000_000n, provenanceRoot: randomBits(256) },
      { forcedCount: 0xffff_ffffn, txCount: 0xffff_fffen, timestamp: (1n << 64n) - 1n, provenanceRoot: (1n << 256n) - 1n },
    ];
    for (const h of cases) {
      const bytes = encodeHeader(h);
      expect(bytes).toHaveLength(48);
      expect(await decoded(header, bytes, HEADER_OUT)).toEqual({ forcedCount: h.forcedCount, txCount: h.txCount, timestamp: h.timestamp });
    }
  });

  it('rejects a byte > 255 (in a decoded field and in provenanceRoot)', async () => {
    const bytes = encodeHeader({ forcedCount: 1n, txCount: 2n, timestamp: 3n, provenanceRoot: 4n });
    for (const pos of [3, 15, 47]) {
      const bad: bigint[] = bytes.map(BigInt);
      bad[pos] = 256n;
      await expectWitnessFailure(header, { in: bad });
    }
  });
});

describe('DecodeForcedOp', () => {
  it('round-trips every field; a and b as field elements (< r)', async () => {
    const cases: ForcedOp[] = [
      { kind: 0n, account: 0n, counterpart: 0n, a: 0n, b: 0n }, // padding
      { kind: 1n, account: 7n, counterpart: 0n, a: randomBits(256) % R, b: randomBits(256) % R }, // RegisterAccount
      { kind: 2n, account: 0xffff_ffffn, counterpart: 0x1234_5678n, a: 0xffn, b: 3n }, // RevokeConsent
      { kind: 255n, account: 1n, counterpart: 2n, a: R - 1n, b: R - 1n },
    ];
    for (const f of cases) {
      const bytes = encodeForcedOp(f);
      expect(bytes).toHaveLength(73);
      expect(await decoded(forced, bytes, FORCED_OUT)).toEqual({ ...f });
    }
  });

  it('rejects a byte > 255', async () => {
    const bytes = encodeForcedOp({ kind: 1n, account: 7n, counterpart: 0n, a: 5n, b: 6n });
    for (const pos of [0, 4, 40, 72]) {
      const bad: bigint[] = bytes.map(BigInt);
      bad[pos] = 300n;
      await expectWitnessFailure(forced, { in: bad });
    }
  });
});

describe('DecodeTx', () => {
  it('round-trips every field and head = first 16 bytes', async () => {
    const cases: Tx[] = [
      { op: 0n, actor: 0n, target: 0n, slot: 0n, scope: 0n, expiry: 0n, payload: 0n }, // padding
      { op: 1n, actor: 5n, target: 5n, slot: 0n, scope: 0n, expiry: 0n, payload: randomBits(248) }, // upload
      { op: 3n, actor: 5n, target: 9n, slot: 2n, scope: 3n, expiry: 1_900_000_000n, payload: 0n }, // grant
      { op: 6n, actor: 0xffff_ffffn, target: 0xffff_fffen, slot: 255n, scope: 255n, expiry: (1n << 40n) - 1n, payload: (1n << 248n) - 1n },
      { op: randomBits(8), actor: randomBits(32), target: randomBits(32), slot: randomBits(8), scope: randomBits(8), expiry: randomBits(40), payload: randomBits(248) },
    ];
    for (const t of cases) {
      const bytes = encodeTx(t);
      expect(bytes).toHaveLength(47);
      expect(await decoded(tx, bytes, TX_OUT)).toEqual({ ...t, head: txHead(t) });
    }
  });

  it('head layout: op in the top byte, expiry in the low 5 bytes', async () => {
    const t: Tx = { op: 0xabn, actor: 0x01020304n, target: 0x05060708n, slot: 0x09n, scope: 0x0an, expiry: 0x0b0c0d0e0fn, payload: 1n };
    const out = await decoded(tx, encodeTx(t), TX_OUT);
    expect(out.head).toBe(0xab_01020304_05060708_09_0a_0b0c0d0e0fn);
  });

  it('rejects a byte > 255 in any field', async () => {
    const bytes = encodeTx({ op: 1n, actor: 5n, target: 5n, slot: 0n, scope: 0n, expiry: 0n, payload: 77n });
    for (const pos of [0, 1, 8, 9, 10, 15, 16, 46]) {
      const bad: bigint[] = bytes.map(BigInt);
      bad[pos] = 256n;
      expect(await expectWitnessFailure(tx, { in: bad })).toMatch(/Num2Bits/);
    }
  });

  it('precondition: the decoder alone does not range-check (a 256 "byte" decodes as 256)', async () => {
    // Documents why the Batch must apply Bytes() (InputHash does) to the same signals.
    const bytes: bigint[] = encodeTx({ op: 1n, actor: 5n, target: 5n, slot: 0n, scope: 0n, expiry: 0n, payload: 0n }).map(BigInt);
    bytes[0] = 256n;
    const w = await witness(txUnchecked, { in: bytes });
    expect(signal(w, 'main.op')).toBe(256n);
  });
});
