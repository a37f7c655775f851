import { signMessage as zkSign, verifySignature as zkVerify } from '@zk-kit/eddsa-poseidon';
import { poseidon2, poseidon4 } from 'poseidon-lite';
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

  it('agrees with @zk-kit/eddsa-poseidon used directly', () => {
    const secret = randomSecret();
    const sig = zkSign(secret, 99n);
    expect(signMessage(secret, 99n)).toEqual({ r8x: sig.R8[0], r8y: sig.R8[1], s: sig.S });
  });

  it('needs a 32-byte secret', () => {
    expect(() => publicKeyOf(new Uint8Array(31))).toThrow(SigningError);
    expect(() => signMessage(new Uint8Array(33), 1n)).toThrow(/32 bytes/);
    expect(() => publicKeyOf('secret' as unknown as Uint8Array)).toThrow(SigningError);
  });
});
