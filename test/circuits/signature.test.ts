/**
 * circuits/src/signature.circom: TxMessage against prover/signing.ts txMessage, and TxSignature
 * (circomlib EdDSA-Poseidon over m = Poseidon4(DOMAIN, head, payload, nonce)) against signatures
 * from prover/signing.ts signTx: accepted when they are the actor's over this record at this nonce,
 * refused otherwise; nothing enforced for a padding slot (enabled = 0).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { head, type TxOp, type TxRecord } from '../../prover/codec.js';
import { BABYJUB_SUBORDER, publicKeyOf, randomSecret, signTx, txMessage, type SignedTx } from '../../prover/signing.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness, type CircuitInput } from '../helpers/circuit.js';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const SOURCE = 'circuits/src/signature.circom';

function randomBits(bits: number): bigint {
  return BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) & ((1n << BigInt(bits)) - 1n);
}

/** A random non-padding record with every field in its SPEC range (validity against a state is irrelevant here). */
function randomRecord(): TxRecord {
  return {
    op: randomInt(1, 7) as TxOp,
    actor: randomInt(0, 2 ** 32 - 1),
    target: randomInt(0, 2 ** 32 - 1),
    slot: randomInt(0, 256),
    scope: randomInt(0, 256),
    expiry: randomBits(40),
    payload: randomBits(248),
  };
}

let message: CompiledCircuit;
let verifier: CompiledCircuit;

beforeAll(async () => {
  message = await compileCircuit({ source: SOURCE, name: 'test_tx_message', main: 'component main = TxMessage();', log: () => {} });
  verifier = await compileCircuit({ source: SOURCE, name: 'test_tx_signature', main: 'component main = TxSignature();', log: () => {} });
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

/** The TxSignature input that checks `tx` under `key` at `nonce` (by default the nonce it was signed at). */
function sigInput(key: { x: bigint; y: bigint }, tx: SignedTx, nonce: bigint = tx.nonce): CircuitInput {
  return {
    enabled: 1,
    pubX: key.x,
    pubY: key.y,
    head: head(tx.record),
    payload: tx.record.payload,
    nonce,
    R8x: tx.signature.r8x,
    R8y: tx.signature.r8y,
    S: tx.signature.s,
  };
}

// ---- BabyJubJub (a x^2 + y^2 = 1 + d x^2 y^2), only to forge under a small-order key ----------

const mod = (v: bigint): bigint => ((v % R) + R) % R;
function inv(v: bigint): bigint {
  let result = 1n;
  let base = mod(v);
  for (let e = R - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * base) % R;
    base = (base * base) % R;
  }
  return result;
}
type Point = readonly [bigint, bigint];
function add([x1, y1]: Point, [x2, y2]: Point): Point {
  const t = mod(168696n * x1 * x2 * y1 * y2);
  return [mod((x1 * y2 + y1 * x2) * inv(1n + t)), mod((y1 * y2 - 168700n * x1 * x2) * inv(1n - t))];
}
function mul(p: Point, k: bigint): Point {
  let acc: Point = [0n, 1n];
  let base = p;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) acc = add(acc, base);
    base = add(base, base);
  }
  return acc;
}
const BASE8: Point = [
  5299619240641551281634865583518297030282874472190772894086521144482721001553n,
  16950150798460657717958625567821834550301663161624707787222815936182638968203n,
];

describe('TxMessage', () => {
  it('equals txMessage(record, nonce) of prover/signing.ts for random records and nonces', async () => {
    for (let i = 0; i < 6; i++) {
      const record = randomRecord();
      const nonce = i % 2 === 0 ? BigInt(i) : randomBits(64);
      const w = await witness(message, { head: head(record), payload: record.payload, nonce }, { check: false });
      expect(signal(w, 'main.m')).toBe(txMessage(record, nonce));
    }
  });

  it('depends on every one of head, payload and nonce', async () => {
    const record = randomRecord();
    const base = { head: head(record), payload: record.payload, nonce: 3n };
    const m = signal(await witness(message, base, { check: false }), 'main.m');
    for (const changed of [{ head: base.head + 1n }, { payload: base.payload + 1n }, { nonce: 4n }]) {
      expect(signal(await witness(message, { ...base, ...changed }, { check: false }), 'main.m')).not.toBe(m);
    }
  });
});

describe('TxSignature', () => {
  const secret = randomSecret();
  const key = publicKeyOf(secret);
  const other = randomSecret();

  it('accepts signTx signatures of random records under the signer key (enabled = 1)', async () => {
    for (let i = 0; i < 3; i++) {
      const nonce = BigInt(i * 5);
      const tx = signTx(secret, randomRecord(), nonce);
      // The R1CS check once per file: the witness also satisfies the constraints.
      await witness(verifier, sigInput(key, tx), { check: i === 0 });
    }
  });

  it('refuses a signature by another key', async () => {
    const tx = signTx(other, randomRecord(), 0n);
    await witness(verifier, sigInput(publicKeyOf(other), tx), { check: false }); // valid under its own key
    await expectWitnessFailure(verifier, sigInput(key, tx));
  });

  it('refuses a tampered S (S + 1, and S + l: the malleable twin the S < l check excludes)', async () => {
    const tx = signTx(secret, randomRecord(), 7n);
    const good = sigInput(key, tx);
    await expectWitnessFailure(verifier, { ...good, S: tx.signature.s + 1n });
    await expectWitnessFailure(verifier, { ...good, S: tx.signature.s === 0n ? 1n : tx.signature.s - 1n });
    // S + l is refused by the S < l range check (eddsaposeidon.circom line 51); (S + l) * B8 == S * B8, so the equation alone would accept it.
    expect(await expectWitnessFailure(verifier, { ...good, S: tx.signature.s + BABYJUB_SUBORDER })).toMatch(/EdDSAPoseidonVerifier.* line: 51/);
  });

  it('refuses a tampered R8 (either coordinate, or the curve point -R8)', async () => {
    const tx = signTx(secret, randomRecord(), 7n);
    const good = sigInput(key, tx);
    await expectWitnessFailure(verifier, { ...good, R8x: tx.signature.r8x + 1n });
    await expectWitnessFailure(verifier, { ...good, R8y: tx.signature.r8y + 1n });
    await expectWitnessFailure(verifier, { ...good, R8x: mod(-tx.signature.r8x) });
  });

  it('refuses the right signature checked at another nonce (signed over nonce + 1)', async () => {
    const record = randomRecord();
    const tx = signTx(secret, record, 4n);
    await witness(verifier, sigInput(key, tx), { check: false });
    await expectWitnessFailure(verifier, sigInput(key, tx, 3n));
    await expectWitnessFailure(verifier, sigInput(key, tx, 5n));
  });

  it('refuses a tampered head (each record field) or payload', async () => {
    const record: TxRecord = { op: 3, actor: 1, target: 2, slot: 1, scope: 1, expiry: 1_700_000_100n, payload: 0n };
    const tx = signTx(secret, record, 2n);
    const good = sigInput(key, tx);
    await witness(verifier, good, { check: false });
    const variants: TxRecord[] = [
      { ...record, op: 5 },
      { ...record, actor: 3 },
      { ...record, target: 3 },
      { ...record, slot: 2 },
      { ...record, scope: 3 },
      { ...record, expiry: record.expiry + 1n },
    ];
    for (const v of variants) await expectWitnessFailure(verifier, { ...good, head: head(v) });
    await expectWitnessFailure(verifier, { ...good, payload: 1n });
  });

  it('refuses a signature forged under a small-order key (the identity (0, 1))', async () => {
    // With A = identity, S * B8 == R8 + h * 8 * A holds for R8 = S * B8 and any message: only the
    // verifier's "8A is not the identity" check stands in the way.
    const s = 12345n;
    const [r8x, r8y] = mul(BASE8, s);
    const forged = { enabled: 1, pubX: 0n, pubY: 1n, head: 77n, payload: 5n, nonce: 0n, R8x: r8x, R8y: r8y, S: s };
    // Refused at the small-order check (eddsaposeidon.circom line 83).
    expect(await expectWitnessFailure(verifier, forged)).toMatch(/EdDSAPoseidonVerifier.* line: 83/);
    // The same forged values with enabled = 0 are not checked (the equation itself holds).
    await witness(verifier, { ...forged, enabled: 0 }, { check: false });
  });

  it('enabled = 0: all-zero inputs (padding) pass, and a bad signature is not checked', async () => {
    const zero = { enabled: 0, pubX: 0, pubY: 0, head: 0, payload: 0, nonce: 0, R8x: 0, R8y: 0, S: 0 };
    await witness(verifier, zero, { check: false });
    const tx = signTx(other, randomRecord(), 1n);
    await witness(verifier, { ...sigInput(key, tx, 9n), enabled: 0 }, { check: false });
  });

  it('refuses all-zero inputs with enabled = 1, and a non-boolean enabled cannot switch a bad signature off', async () => {
    const zero = { enabled: 1, pubX: 0, pubY: 0, head: 0, payload: 0, nonce: 0, R8x: 0, R8y: 0, S: 0 };
    await expectWitnessFailure(verifier, zero);
    const tx = signTx(other, randomRecord(), 1n);
    await expectWitnessFailure(verifier, { ...sigInput(key, tx), enabled: 2 });
  });
});
