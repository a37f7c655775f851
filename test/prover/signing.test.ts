import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js';
import { babyjubjub } from '@noble/curves/misc.js';
import type * as ZkEddsa from '@zk-kit/eddsa-poseidon';
import { signMessage as zkSign, verifySignature as zkVerify } from '@zk-kit/eddsa-poseidon';
import { poseidon2, poseidon4, poseidon5 } from 'poseidon-lite';
import { TxOp, head, type TxRecord } from '../../prover/codec.js';
import { SNARK_FIELD } from '../../prover/merkleTree.js';
import {
  BABYJUB_SUBORDER,
  SigningError,
  TX_DOMAIN,
  isSmallOrderKey,
  publicKeyOf,
  randomSecret,
  signMessage,
  signTx,
  txMessage,
  verifyMessage,
  verifyTx,
} from '../../prover/signing.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/**
 * circomlibjs test/eddsa.js, "Sign (using Poseidon) a single 10 bytes from 0 to 9": the private key
 * 00010203...0001, the message Scalar.fromRprLE(000102030405060708090000), and the expected public
 * key and signature.
 */
const CIRCOMLIB_VECTOR = {
  secret: hex('0001020304050607080900010203040506070809000102030405060708090001'),
  message: 0x09080706050403020100n,
  pubX: 13277427435165878497778222415993513565335242147425444199013288855685581939618n,
  pubY: 13622229784656158136036771217484571176836296686641868549125388198837476602820n,
  r8x: 11384336176656855268977457483345535180380036354188103142384839473266348197733n,
  r8y: 15383486972088797283337779941324724402501462225528836549661220478783371668959n,
  s: 1672775540645840396591609181675628451599263765380031905495115170613215233181n,
};

const record: TxRecord = { op: TxOp.Grant, actor: 3, target: 4, slot: 1, scope: 1, expiry: 1_800_000_000n, payload: 0n };

describe('signing', () => {
  it('poseidon-lite matches circomlibjs Poseidon test vectors', () => {
    expect(poseidon2([1n, 2n])).toBe(0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189an);
    expect(poseidon4([1n, 2n, 3n, 4n])).toBe(0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465n);
  });

  it('reproduces circomlibjs EdDSA-Poseidon key derivation and signature (known test vector)', () => {
    const v = CIRCOMLIB_VECTOR;
    expect(publicKeyOf(v.secret)).toEqual({ x: v.pubX, y: v.pubY });
    expect(signMessage(v.secret, v.message)).toEqual({ r8x: v.r8x, r8y: v.r8y, s: v.s });
    expect(verifyMessage({ x: v.pubX, y: v.pubY }, v.message, { r8x: v.r8x, r8y: v.r8y, s: v.s })).toBe(true);
  });

  it('the domain is "medrollup.v1"', () => {
    expect(TX_DOMAIN).toBe(BigInt(`0x${Buffer.from('medrollup.v1').toString('hex')}`));
  });

  it('m = Poseidon4(DOMAIN, head, payload, nonce)', () => {
    const withPayload = { ...record, op: TxOp.Access, scope: 0, expiry: 0n, payload: 77n };
    expect(txMessage(withPayload, 5n)).toBe(poseidon4([TX_DOMAIN, head(withPayload), 77n, 5n]));
    expect(txMessage(record, 0n)).not.toBe(txMessage(record, 1n));
    expect(() => txMessage(record, -1n)).toThrow(SigningError);
    expect(() => txMessage(record, SNARK_FIELD)).toThrow(SigningError);
  });

  it('signs and verifies a transaction; any tampering fails', () => {
    const secret = randomSecret();
    const key = publicKeyOf(secret);
    const tx = signTx(secret, record, 7n);
    expect(tx.nonce).toBe(7n);
    expect(verifyTx(key, tx)).toBe(true);
    expect(verifyTx(key, { ...tx, nonce: 8n })).toBe(false);
    expect(verifyTx(key, { ...tx, record: { ...record, slot: 2 } })).toBe(false);
    expect(verifyTx(key, { ...tx, record: { ...record, expiry: record.expiry + 1n } })).toBe(false);
    expect(verifyTx(key, { ...tx, signature: { ...tx.signature, s: tx.signature.s + 1n } })).toBe(false);
    expect(verifyTx(key, { ...tx, signature: { ...tx.signature, r8x: tx.signature.r8x + 1n } })).toBe(false);
    expect(verifyTx(publicKeyOf(randomSecret()), tx)).toBe(false);
    expect(verifyTx(key, { ...tx, nonce: -1n })).toBe(false);
  });

  it('rejects a tampered message, S >= l and values outside the field', () => {
    const secret = randomSecret();
    const key = publicKeyOf(secret);
    const sig = signMessage(secret, 42n);
    expect(verifyMessage(key, 42n, sig)).toBe(true);
    expect(verifyMessage(key, 43n, sig)).toBe(false);
    // S + l is the same scalar mod l: the plain equation holds, the circuit's S < l check does not.
    expect(verifyMessage(key, 42n, { ...sig, s: sig.s + BABYJUB_SUBORDER })).toBe(false);
    expect(verifyMessage(key, 42n, { ...sig, r8x: sig.r8x + SNARK_FIELD })).toBe(false);
    expect(verifyMessage({ x: key.x, y: key.y + SNARK_FIELD }, 42n, sig)).toBe(false);
    expect(verifyMessage(key, SNARK_FIELD + 42n, sig)).toBe(false);
    expect(() => signMessage(secret, SNARK_FIELD)).toThrow(SigningError);
  });

  it('rejects small-order keys as circomlib EdDSAPoseidonVerifier does (x of 4A must not be 0)', () => {
    // (0, -1) is on the curve with order 2: 8hA is the identity, so S*B8 == R8 holds for S = 1, R8 = B8.
    const weak = { x: 0n, y: SNARK_FIELD - 1n };
    const B8: [bigint, bigint] = [
      5299619240641551281634865583518297030282874472190772894086521144482721001553n,
      16950150798460657717958625567821834550301663161624707787222815936182638968203n,
    ];
    const forged = { r8x: B8[0], r8y: B8[1], s: 1n };
    expect(zkVerify(123n, { R8: B8, S: 1n }, [weak.x, weak.y])).toBe(true); // the bare library accepts the forgery
    expect(isSmallOrderKey(weak)).toBe(true);
    expect(isSmallOrderKey({ x: 0n, y: 1n })).toBe(true);
    expect(verifyMessage(weak, 123n, forged)).toBe(false);
    expect(isSmallOrderKey(publicKeyOf(CIRCOMLIB_VECTOR.secret))).toBe(false);
  });

  it('signs and derives keys exactly as @zk-kit/eddsa-poseidon does (our noble code against the reference)', () => {
    for (let i = 0; i < 12; i++) {
      const secret = randomSecret();
      const message = i === 0 ? 0n : i === 1 ? SNARK_FIELD - 1n : BigInt(`0x${Buffer.from(randomSecret()).toString('hex')}`) % SNARK_FIELD;
      const sig = zkSign(secret, message);
      expect(signMessage(secret, message)).toEqual({ r8x: sig.R8[0], r8y: sig.R8[1], s: sig.S });
      const [x, y] = zkCjs.derivePublicKey(secret);
      expect(publicKeyOf(secret)).toEqual({ x, y });
    }
  });

  it('needs a 32-byte secret', () => {
    expect(() => publicKeyOf(new Uint8Array(31))).toThrow(SigningError);
    expect(() => signMessage(new Uint8Array(33), 1n)).toThrow(/32 bytes/);
    expect(() => publicKeyOf('secret' as unknown as Uint8Array)).toThrow(SigningError);
  });
});

// -------------------------------------------------------------------------------------------------
// Equivalence of the noble-based verifyMessage with the previous implementation: @zk-kit's
// verifySignature (the CommonJS build, as prover/signing.ts loads it) plus the affine small-order check.

const zkCjs = createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as typeof ZkEddsa;
const Point = babyjubjub.Point;
const L = BABYJUB_SUBORDER;
const P = SNARK_FIELD;
type Sig = { r8x: bigint; r8y: bigint; s: bigint };
type Key = { x: bigint; y: bigint };

/** The small-order check prover/signing.ts had before noble: x of 4A == 0 with affine doublings. */
function affineSmallOrder(key: Key): boolean {
  const mod = (v: bigint) => ((v % P) + P) % P;
  const inverse = (v: bigint) => {
    let result = 1n;
    let base = mod(v);
    for (let e = P - 2n; e > 0n; e >>= 1n) {
      if (e & 1n) result = (result * base) % P;
      base = (base * base) % P;
    }
    return result;
  };
  const double = (x: bigint, y: bigint): [bigint, bigint] => {
    const t = mod(168696n * x * x * y * y);
    return [mod(2n * x * y * inverse(1n + t)), mod((y * y - 168700n * x * x) * inverse(1n - t))];
  };
  const [x2, y2] = double(key.x, key.y);
  return double(x2, y2)[0] === 0n;
}

const isFieldElement = (v: unknown) => typeof v === 'bigint' && v >= 0n && v < P;

/** The bare library's answer, a throw counting as false. */
function zkAccepts(key: Key, message: bigint, sig: Sig): boolean {
  try {
    return zkCjs.verifySignature(message, { R8: [sig.r8x, sig.r8y], S: sig.s }, [key.x, key.y]);
  } catch {
    return false;
  }
}

/** verifyMessage as it was before noble (zk-kit's affine arithmetic). */
function referenceVerify(key: Key, message: bigint, sig: Sig): boolean {
  if (![key.x, key.y, message, sig.r8x, sig.r8y].every(isFieldElement)) return false;
  if (typeof sig.s !== 'bigint' || sig.s < 0n || sig.s >= L) return false;
  return zkAccepts(key, message, sig) && !affineSmallOrder(key);
}

const randomBelow = (n: bigint) => BigInt(`0x${randomBytes(48).toString('hex')}`) % n;
const randomScalar = () => randomBelow(L - 1n) + 1n;
const affine = (p: EdwardsPoint): Key => p.toAffine();
const B8 = Point.BASE;

/** Some point of the full group (order 8l, 4l, ...): random y until x exists. */
function randomCurvePoint(): EdwardsPoint {
  for (;;) {
    try {
      return Point.fromBytes(Uint8Array.from(randomBytes(32)));
    } catch {
      // y >= p or not a square: try another
    }
  }
}

/** The 8 points of order dividing 8, index i being i * T8 for a point T8 of order 8. */
const TORSION: EdwardsPoint[] = (() => {
  for (;;) {
    const q = randomCurvePoint();
    const t8 = q.multiplyUnsafe(L - 1n).add(q); // l * q: its torsion part
    if (!t8.double().double().is0()) return Array.from({ length: 8 }, (_, i) => (i === 0 ? Point.ZERO : t8.multiplyUnsafe(BigInt(i))));
  }
})();

/**
 * A circomlib-style signature by the key k * Base8 + torsion (k plays the role of s >> 3), computed
 * with noble because @zk-kit's signer takes ~60 ms: hm = Poseidon5(R8, A, m), S = r + 8 * hm * k.
 */
function fastSign(k: bigint, torsion: EdwardsPoint, message: bigint, r = randomScalar()): { key: Key; sig: Sig } {
  const key = affine(B8.multiplyUnsafe(k).add(torsion));
  const R8 = r === 0n ? { x: 0n, y: 1n } : affine(B8.multiplyUnsafe(r));
  const hm = poseidon5([R8.x, R8.y, key.x, key.y, message]);
  return { key, sig: { r8x: R8.x, r8y: R8.y, s: (r + 8n * hm * k) % L } };
}

const pick = <T>(items: readonly T[]): T => items[Number(randomBelow(BigInt(items.length)))]!;

describe('signing: noble verification equals the zk-kit implementation', () => {
  it("noble's babyjubjub is circomlib's: base point Base8 of order l", () => {
    expect(affine(B8)).toEqual({
      x: 5299619240641551281634865583518297030282874472190772894086521144482721001553n,
      y: 16950150798460657717958625567821834550301663161624707787222815936182638968203n,
    });
    expect(B8.multiplyUnsafe(L - 1n).add(B8).is0()).toBe(true);
    expect(Point.Fp.ORDER).toBe(SNARK_FIELD);
  });

  it('isSmallOrderKey agrees with the affine check on the torsion points, keys and mixed-order keys', () => {
    for (const [i, t] of TORSION.entries()) {
      const key = affine(t);
      expect([i, isSmallOrderKey(key)]).toEqual([i, true]);
      expect(affineSmallOrder(key)).toBe(true);
      const mixed = affine(B8.multiplyUnsafe(randomScalar()).add(t));
      expect([i, isSmallOrderKey(mixed)]).toEqual([i, false]);
      expect(affineSmallOrder(mixed)).toBe(false);
    }
    expect(isSmallOrderKey({ x: 1n, y: 1n })).toBe(false); // off the curve: not a key at all
  });

  it('accepts and rejects exactly what @zk-kit verifySignature + the small-order check did (random cases)', () => {
    // A few signers, so that keys come back: the first use, the table build and cached use all run.
    const signers = Array.from({ length: 6 }, (_, i) => ({ k: randomScalar(), torsion: i < 4 ? Point.ZERO : TORSION[1 + i]! }));
    type Case = { kind: string; key: Key; message: bigint; sig: Sig };
    const cases: Case[] = [];
    const valid = () => {
      const { k, torsion } = pick(signers);
      const message = randomBelow(P);
      return { message, ...fastSign(k, torsion, message) };
    };
    const otherPoint = () => affine(B8.multiplyUnsafe(randomScalar()));
    const offCurve = (): Key => {
      for (;;) {
        const x = randomBelow(P);
        const y = randomBelow(P);
        if (!isOnCurve(x, y)) return { x, y };
      }
    };
    const makers: Record<string, () => Omit<Case, 'kind'>> = {
      valid,
      'valid, key with a torsion component': () => {
        const { k } = pick(signers);
        const message = randomBelow(P);
        return { message, ...fastSign(k, pick(TORSION.slice(1)), message) };
      },
      'tampered S': () => {
        const c = valid();
        return { ...c, sig: { ...c.sig, s: (c.sig.s + 1n + randomBelow(3n)) % L } };
      },
      'tampered R8x': () => {
        const c = valid();
        return { ...c, sig: { ...c.sig, r8x: (c.sig.r8x + 1n) % P } };
      },
      'tampered R8y': () => {
        const c = valid();
        return { ...c, sig: { ...c.sig, r8y: (c.sig.r8y + 1n) % P } };
      },
      'R8 negated (on the curve)': () => {
        const c = valid();
        return { ...c, sig: { ...c.sig, r8x: (P - c.sig.r8x) % P } };
      },
      'R8 replaced by another point': () => {
        const c = valid();
        const r = otherPoint();
        return { ...c, sig: { ...c.sig, r8x: r.x, r8y: r.y } };
      },
      'tampered message': () => {
        const c = valid();
        return { ...c, message: (c.message + 1n) % P };
      },
      'another key': () => ({ ...valid(), key: otherPoint() }),
      'key negated (on the curve)': () => {
        const c = valid();
        return { ...c, key: { x: (P - c.key.x) % P, y: c.key.y } };
      },
      'key plus a torsion point': () => {
        const c = valid();
        return { ...c, key: affine(Point.fromAffine(c.key).add(pick(TORSION.slice(1)))) };
      },
      'S >= l': () => {
        const c = valid();
        return { ...c, sig: { ...c.sig, s: pick([c.sig.s + L, L, L + randomBelow(P - L), P + 5n]) } };
      },
      'S = 0': () => {
        const c = valid();
        return { ...c, sig: { ...c.sig, s: 0n } };
      },
      'R8 off the curve': () => {
        const c = valid();
        const r = offCurve();
        return { ...c, sig: { ...c.sig, r8x: r.x, r8y: r.y } };
      },
      'R8 = identity, valid': () => {
        const { k, torsion } = pick(signers);
        const message = randomBelow(P);
        return { message, ...fastSign(k, torsion, message, 0n) };
      },
      'R8 = identity, random S': () => ({ key: otherPoint(), message: randomBelow(P), sig: { r8x: 0n, r8y: 1n, s: randomBelow(L) } }),
      'small-order key, forged (R8 = Base8, S = 1)': () => ({ key: affine(pick(TORSION)), message: randomBelow(P), sig: { ...affineSig(B8), s: 1n } }),
      'small-order key, forged (R8 = identity, S = 0)': () => ({ key: affine(pick(TORSION)), message: randomBelow(P), sig: { r8x: 0n, r8y: 1n, s: 0n } }),
      'small-order key, random signature': () => ({ key: affine(pick(TORSION)), message: randomBelow(P), sig: { ...affineSig(B8.multiplyUnsafe(randomScalar())), s: randomBelow(L) } }),
      'key off the curve': () => ({ ...valid(), key: offCurve() }),
      'values outside the field': () => {
        const c = valid();
        return pick([
          { ...c, key: { ...c.key, x: c.key.x + P } },
          { ...c, key: { ...c.key, y: -c.key.y } },
          { ...c, message: c.message + P },
          { ...c, sig: { ...c.sig, r8y: c.sig.r8y + P } },
          { ...c, sig: { ...c.sig, s: -c.sig.s } },
        ]);
      },
    };
    const kinds = Object.keys(makers);
    for (let i = 0; i < 260; i++) {
      const kind = i < kinds.length * 4 ? kinds[i % kinds.length]! : pick(kinds);
      cases.push({ kind, ...makers[kind]!() });
    }

    const mismatches: string[] = [];
    const outcomes = new Map<string, { accepted: number; rejected: number; bareAccepted: number }>();
    for (const c of cases) {
      const expected = referenceVerify(c.key, c.message, c.sig);
      const actual = verifyMessage(c.key, c.message, c.sig);
      if (actual !== expected) mismatches.push(`${c.kind}: expected ${expected}, got ${actual} for ${JSON.stringify(c, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
      const o = outcomes.get(c.kind) ?? { accepted: 0, rejected: 0, bareAccepted: 0 };
      if (expected) o.accepted++;
      else o.rejected++;
      if (c.kind.startsWith('small-order') && zkAccepts(c.key, c.message, c.sig)) o.bareAccepted++;
      outcomes.set(c.kind, o);
    }
    expect(mismatches).toEqual([]);

    // The generator hits what it claims to: valid signatures verify, forgeries for small-order keys
    // pass the bare library and are still refused.
    const count = (kind: string) => outcomes.get(kind)!;
    for (const kind of ['valid', 'valid, key with a torsion component', 'R8 = identity, valid']) {
      expect([kind, count(kind).rejected]).toEqual([kind, 0]);
    }
    for (const kind of kinds.filter((k) => !k.startsWith('valid') && k !== 'R8 = identity, valid')) {
      expect([kind, count(kind).accepted]).toEqual([kind, 0]);
    }
    expect(count('small-order key, forged (R8 = Base8, S = 1)').bareAccepted).toBe(count('small-order key, forged (R8 = Base8, S = 1)').rejected);
    expect(count('small-order key, forged (R8 = identity, S = 0)').bareAccepted).toBe(count('small-order key, forged (R8 = identity, S = 0)').rejected);
  });

  it('keys signed with @zk-kit verify under both implementations, repeatedly (cached key)', () => {
    const secret = randomSecret();
    const key = publicKeyOf(secret);
    for (let i = 0; i < 4; i++) {
      const message = randomBelow(P);
      const sig = signMessage(secret, message);
      expect(verifyMessage(key, message, sig)).toBe(true);
      expect(referenceVerify(key, message, sig)).toBe(true);
      expect(verifyMessage(key, message, { ...sig, s: (sig.s + 1n) % L })).toBe(false);
    }
  });
});

function affineSig(p: EdwardsPoint): { r8x: bigint; r8y: bigint } {
  const { x, y } = p.toAffine();
  return { r8x: x, r8y: y };
}

function isOnCurve(x: bigint, y: bigint): boolean {
  const x2 = (x * x) % P;
  const y2 = (y * y) % P;
  return (168700n * x2 + y2 - 1n - ((168696n * x2) % P) * y2) % P === 0n;
}
