/**
 * Client-side record encryption and key wrapping. Everything here runs on the patient's or
 * institution's machine; only envelopes (ciphertext) reach IPFS and only hashes reach the chain.
 *
 * Records: AES-256-GCM under a fresh random data key per record version (so one leaked key opens
 * one version, and GCM nonce reuse across versions is impossible). The associated data binds
 * ("medrollup/v1/record", recordId, version): a ciphertext copied to another record id or version
 * does not decrypt. Record id and version are deliberately not stored in the envelope (less
 * metadata on IPFS); the reader takes them from the chain.
 *
 * Key wrapping is HPKE-style, in the spirit of RFC 9180 base mode (DHKEM(X25519) + HKDF-SHA256 +
 * AES-256-GCM) but not wire-compatible with it: a fresh ephemeral X25519 key per wrap, the shared
 * secret through HKDF-SHA256 with salt = (ephemeral public, recipient public) and info = (record
 * id, version), then AES-256-GCM over the 32-byte data key. Binding both public keys into the KDF
 * (as RFC 9180's kem_context does) stops a wrap being re-targeted; binding the record context
 * stops a grantee's wrap for one record being replayed as the key of another. Like HPKE base mode,
 * a wrap does not authenticate its sender: who granted access is proven by the signed rollup
 * transaction, and a grantee who holds a data key could encrypt other content under it, so the
 * content hash anchored on chain (contentHash) is what pins the ciphertext.
 *
 * All primitives are @noble's audited implementations; this module only composes them.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, clean, concatBytes, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { CryptoError, DecryptError, EnvelopeError } from './errors.js';

export const DATA_KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const X25519_KEY_BYTES = 32;
/** A wrapped data key: the 32-byte key plus the GCM tag. */
export const WRAPPED_KEY_BYTES = DATA_KEY_BYTES + TAG_BYTES;
/** Provenance.sol stores the version as uint32. */
export const MAX_RECORD_VERSION = 0xffff_ffff;

const RECORD_AAD_DOMAIN = 'medrollup/v1/record';
const WRAP_SALT_DOMAIN = 'medrollup/v1/wrap/salt';
const WRAP_INFO_DOMAIN = 'medrollup/v1/wrap/key';
const WRAP_AAD_DOMAIN = 'medrollup/v1/wrap/aad';

export const RECORD_ENVELOPE_TYPE = 'medrollup.record';
export const WRAPPED_KEY_TYPE = 'medrollup.wrapped-key';
export const RECORD_ALG = 'aes-256-gcm';
export const WRAP_ALG = 'x25519-hkdf-sha256-aes-256-gcm';

/** Which record version a ciphertext or a wrapped key belongs to. */
export interface RecordContext {
  readonly recordId: string;
  readonly version: number;
}

/** What goes to IPFS for one record version; the data key travels only wrapped. */
export interface RecordEnvelope {
  readonly v: 1;
  readonly alg: typeof RECORD_ALG;
  readonly nonce: Uint8Array;
  /** AES-256-GCM output, tag included. */
  readonly ciphertext: Uint8Array;
}

/** Kept apart so that serialising the envelope can never carry the key along. */
export interface EncryptedRecord {
  readonly dataKey: Uint8Array;
  readonly envelope: RecordEnvelope;
}

/** A data key wrapped for one grantee's X25519 key. */
export interface WrappedKey {
  readonly v: 1;
  readonly alg: typeof WRAP_ALG;
  readonly ephemeralPublic: Uint8Array;
  readonly nonce: Uint8Array;
  readonly wrapped: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Shared encoding helpers (also used by sdk/keys.ts)

/**
 * Injective encoding of a field list for associated data and KDF inputs: each part as a 4-byte
 * big-endian length then its bytes (strings as UTF-8), so ("ab", "c") and ("a", "bc") differ.
 */
export function lengthPrefixed(...parts: readonly (string | Uint8Array)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? utf8ToBytes(part) : part;
    chunks.push(uint32BE(bytes.length), bytes);
  }
  return concatBytes(...chunks);
}

function uint32BE(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** Lone UTF-16 surrogates would all encode to U+FFFD, making distinct strings collide. */
export function hasLoneSurrogate(s: string): boolean {
  return /\p{Cs}/u.test(s);
}

/**
 * Lowercase hex without 0x, of exactly `length` bytes (or at least `min`): the one canonical form
 * we write, so a parsed envelope re-serialises to the same bytes. Returns the bytes or a reason.
 */
export function decodeHex(value: unknown, size: { length: number } | { min: number }): Uint8Array | string {
  if (typeof value !== 'string') return `expected a hex string, got ${value === null ? 'null' : typeof value}`;
  if (!/^(?:[0-9a-f]{2})*$/.test(value)) return 'expected lowercase hex without 0x and of even length';
  const n = value.length / 2;
  if ('length' in size && n !== size.length) return `expected ${size.length} bytes, got ${n}`;
  if ('min' in size && n < size.min) return `expected at least ${size.min} bytes, got ${n}`;
  return hexToBytes(value);
}

/** SHA-256 of the exact bytes stored (e.g. a serialised envelope), 0x-prefixed: a bytes32 on chain. */
export function contentHash(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('INVALID_INPUT', 'contentHash takes a Uint8Array');
  return `0x${bytesToHex(sha256(bytes))}`;
}

// ---------------------------------------------------------------------------------------------
// Argument checks

function checkBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new CryptoError('INVALID_INPUT', `${what} must be a Uint8Array of ${length} bytes, got ${got}`);
  }
  return value;
}

function checkContext(ctx: RecordContext): void {
  if (typeof ctx !== 'object' || ctx === null) throw new CryptoError('INVALID_INPUT', 'record context must be { recordId, version }');
  const { recordId, version } = ctx;
  if (typeof recordId !== 'string' || recordId.length === 0 || hasLoneSurrogate(recordId)) {
    throw new CryptoError('INVALID_INPUT', 'recordId must be a non-empty, well-formed string');
  }
  if (!Number.isSafeInteger(version) || version < 0 || version > MAX_RECORD_VERSION) {
    throw new CryptoError('INVALID_INPUT', `version must be an integer in [0, ${MAX_RECORD_VERSION}], got ${String(version)}`);
  }
}

function contextBytes(domain: string, ctx: RecordContext): Uint8Array {
  return lengthPrefixed(domain, ctx.recordId, uint32BE(ctx.version));
}

/** Field-level checks shared by parse* and the decrypting calls (a hand-built object gets the same checks). */
function checkRecordEnvelope(env: RecordEnvelope): void {
  if (typeof env !== 'object' || env === null) throw new EnvelopeError('MALFORMED', '(root)', 'expected a record envelope object');
  if (env.v !== 1) throw new EnvelopeError('UNSUPPORTED_VERSION', 'v', `unsupported record envelope version ${String(env.v)}`);
  if (env.alg !== RECORD_ALG) throw new EnvelopeError('MALFORMED', 'alg', `expected "${RECORD_ALG}"`);
  if (!(env.nonce instanceof Uint8Array) || env.nonce.length !== NONCE_BYTES) throw new EnvelopeError('MALFORMED', 'nonce', `expected ${NONCE_BYTES} bytes`);
  if (!(env.ciphertext instanceof Uint8Array) || env.ciphertext.length < TAG_BYTES) {
    throw new EnvelopeError('MALFORMED', 'ciphertext', `expected at least ${TAG_BYTES} bytes (the GCM tag)`);
  }
}

function checkWrappedKey(w: WrappedKey): void {
  if (typeof w !== 'object' || w === null) throw new EnvelopeError('MALFORMED', '(root)', 'expected a wrapped key object');
  if (w.v !== 1) throw new EnvelopeError('UNSUPPORTED_VERSION', 'v', `unsupported wrapped key version ${String(w.v)}`);
  if (w.alg !== WRAP_ALG) throw new EnvelopeError('MALFORMED', 'alg', `expected "${WRAP_ALG}"`);
  const sizes = { ephemeralPublic: X25519_KEY_BYTES, nonce: NONCE_BYTES, wrapped: WRAPPED_KEY_BYTES } as const;
  for (const [field, length] of Object.entries(sizes)) {
    const value = w[field as keyof typeof sizes];
    if (!(value instanceof Uint8Array) || value.length !== length) throw new EnvelopeError('MALFORMED', field, `expected ${length} bytes`);
  }
}

// ---------------------------------------------------------------------------------------------
// Records

export function encryptRecord(plaintext: Uint8Array, ctx: RecordContext): EncryptedRecord {
  if (!(plaintext instanceof Uint8Array)) throw new CryptoError('INVALID_INPUT', 'plaintext must be a Uint8Array');
  checkContext(ctx);
  const dataKey = randomBytes(DATA_KEY_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = gcm(dataKey, nonce, contextBytes(RECORD_AAD_DOMAIN, ctx)).encrypt(plaintext);
  return { dataKey, envelope: { v: 1, alg: RECORD_ALG, nonce, ciphertext } };
}

export function decryptRecord(envelope: RecordEnvelope, dataKey: Uint8Array, ctx: RecordContext): Uint8Array {
  checkRecordEnvelope(envelope);
  checkBytes(dataKey, DATA_KEY_BYTES, 'dataKey');
  checkContext(ctx);
  try {
    return gcm(dataKey, envelope.nonce, contextBytes(RECORD_AAD_DOMAIN, ctx)).decrypt(envelope.ciphertext);
  } catch {
    // noble's only failure here is the tag check; its message carries nothing we want to forward.
    throw new DecryptError(
      'AUTH_FAILED',
      `record ${JSON.stringify(ctx.recordId)} version ${ctx.version} did not decrypt: wrong data key, wrong record id or version, or tampered nonce/ciphertext`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Key wrapping

/** p = 2^255 - 19: an X25519 public key we write or accept as a recipient is a canonical u < p. */
const CURVE25519_P = (1n << 255n) - 19n;

function isCanonicalX25519(u: Uint8Array): boolean {
  let v = 0n;
  for (let i = u.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(u[i]!);
  return v < CURVE25519_P;
}

/**
 * X25519 that refuses low-order inputs. noble already rejects them (before the ladder, so no
 * timing oracle on the secret); the all-zero check restates RFC 7748 section 6.1 in case that
 * ever changes. Returns undefined rather than throwing so each caller picks its error type.
 */
function sharedSecret(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array | undefined {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secret, peerPublic);
  } catch {
    return undefined;
  }
  if (shared.every((b) => b === 0)) return undefined;
  return shared;
}

function wrapKeyMaterial(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array, ctx: RecordContext): Uint8Array {
  const salt = lengthPrefixed(WRAP_SALT_DOMAIN, ephemeralPublic, recipientPublic);
  return hkdf(sha256, shared, salt, contextBytes(WRAP_INFO_DOMAIN, ctx), DATA_KEY_BYTES);
}

export function wrapKey(dataKey: Uint8Array, recipientPublic: Uint8Array, ctx: RecordContext): WrappedKey {
  checkBytes(dataKey, DATA_KEY_BYTES, 'dataKey');
  checkBytes(recipientPublic, X25519_KEY_BYTES, 'recipient X25519 public key');
  if (!isCanonicalX25519(recipientPublic)) throw new CryptoError('INVALID_INPUT', 'recipient X25519 public key is not canonically encoded (u >= 2^255 - 19)');
  checkContext(ctx);
  const ephemeral = x25519.keygen();
  const shared = sharedSecret(ephemeral.secretKey, recipientPublic);
  clean(ephemeral.secretKey);
  if (!shared) throw new CryptoError('SMALL_ORDER_KEY', 'recipient X25519 public key is a low-order point; refusing to wrap to it');
  const kek = wrapKeyMaterial(shared, ephemeral.publicKey, recipientPublic, ctx);
  const nonce = randomBytes(NONCE_BYTES);
  const wrapped = gcm(kek, nonce, contextBytes(WRAP_AAD_DOMAIN, ctx)).encrypt(dataKey);
  clean(shared, kek);
  return { v: 1, alg: WRAP_ALG, ephemeralPublic: ephemeral.publicKey, nonce, wrapped };
}

export function unwrapKey(wrapped: WrappedKey, recipientSecret: Uint8Array, ctx: RecordContext): Uint8Array {
  checkWrappedKey(wrapped);
  checkBytes(recipientSecret, X25519_KEY_BYTES, 'recipient X25519 secret key');
  checkContext(ctx);
  const shared = sharedSecret(recipientSecret, wrapped.ephemeralPublic);
  if (!shared) throw new DecryptError('SMALL_ORDER_KEY', 'wrapped key has a low-order ephemeral public key (all-zero shared secret); rejected');
  const kek = wrapKeyMaterial(shared, wrapped.ephemeralPublic, x25519.getPublicKey(recipientSecret), ctx);
  try {
    // 48 bytes in (checkWrappedKey) means a 32-byte key out.
    return gcm(kek, wrapped.nonce, contextBytes(WRAP_AAD_DOMAIN, ctx)).decrypt(wrapped.wrapped);
  } catch {
    throw new DecryptError(
      'AUTH_FAILED',
      `wrapped key for record ${JSON.stringify(ctx.recordId)} version ${ctx.version} did not unwrap: not addressed to this key, wrong record id or version, or tampered`,
    );
  } finally {
    clean(shared, kek);
  }
}

// ---------------------------------------------------------------------------------------------
// Serialisation (IPFS): JSON with lowercase hex, a type tag and an explicit version

interface RecordEnvelopeJson {
  readonly type: typeof RECORD_ENVELOPE_TYPE;
  readonly v: 1;
  readonly alg: typeof RECORD_ALG;
  readonly nonce: string;
  readonly ciphertext: string;
}

interface WrappedKeyJson {
  readonly type: typeof WRAPPED_KEY_TYPE;
  readonly v: 1;
  readonly alg: typeof WRAP_ALG;
  readonly ephemeralPublic: string;
  readonly nonce: string;
  readonly wrapped: string;
}

/** JSON text; only the listed fields are copied, whatever else the object carries. */
export function serialiseRecordEnvelope(envelope: RecordEnvelope): string {
  checkRecordEnvelope(envelope);
  const json: RecordEnvelopeJson = {
    type: RECORD_ENVELOPE_TYPE,
    v: 1,
    alg: RECORD_ALG,
    nonce: bytesToHex(envelope.nonce),
    ciphertext: bytesToHex(envelope.ciphertext),
  };
  return JSON.stringify(json);
}

export function serialiseWrappedKey(wrapped: WrappedKey): string {
  checkWrappedKey(wrapped);
  const json: WrappedKeyJson = {
    type: WRAPPED_KEY_TYPE,
    v: 1,
    alg: WRAP_ALG,
    ephemeralPublic: bytesToHex(wrapped.ephemeralPublic),
    nonce: bytesToHex(wrapped.nonce),
    wrapped: bytesToHex(wrapped.wrapped),
  };
  return JSON.stringify(json);
}

/** JSON text or an already-parsed value; strict: unknown fields and non-canonical hex are refused. */
export function parseRecordEnvelope(input: unknown): RecordEnvelope {
  const obj = envelopeObject(input, RECORD_ENVELOPE_TYPE, ['type', 'v', 'alg', 'nonce', 'ciphertext']);
  if (obj.alg !== RECORD_ALG) throw new EnvelopeError('MALFORMED', 'alg', `expected "${RECORD_ALG}"`);
  return {
    v: 1,
    alg: RECORD_ALG,
    nonce: hexField(obj, 'nonce', { length: NONCE_BYTES }),
    ciphertext: hexField(obj, 'ciphertext', { min: TAG_BYTES }),
  };
}

export function parseWrappedKey(input: unknown): WrappedKey {
  const obj = envelopeObject(input, WRAPPED_KEY_TYPE, ['type', 'v', 'alg', 'ephemeralPublic', 'nonce', 'wrapped']);
  if (obj.alg !== WRAP_ALG) throw new EnvelopeError('MALFORMED', 'alg', `expected "${WRAP_ALG}"`);
  return {
    v: 1,
    alg: WRAP_ALG,
    ephemeralPublic: hexField(obj, 'ephemeralPublic', { length: X25519_KEY_BYTES }),
    nonce: hexField(obj, 'nonce', { length: NONCE_BYTES }),
    wrapped: hexField(obj, 'wrapped', { length: WRAPPED_KEY_BYTES }),
  };
}

function envelopeObject(input: unknown, type: string, fields: readonly string[]): Record<string, unknown> {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new EnvelopeError('MALFORMED', '(root)', 'not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EnvelopeError('MALFORMED', '(root)', 'expected a JSON object');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!fields.includes(key)) throw new EnvelopeError('MALFORMED', key, 'unknown field');
  }
  for (const key of fields) {
    if (!(key in obj)) throw new EnvelopeError('MALFORMED', key, 'missing');
  }
  if (obj.type !== type) throw new EnvelopeError('MALFORMED', 'type', `expected "${type}"`);
  if (typeof obj.v !== 'number' || !Number.isInteger(obj.v)) throw new EnvelopeError('MALFORMED', 'v', 'expected an integer version');
  if (obj.v !== 1) throw new EnvelopeError('UNSUPPORTED_VERSION', 'v', `version ${obj.v} is not supported (this SDK reads version 1)`);
  return obj;
}

function hexField(obj: Record<string, unknown>, field: string, size: { length: number } | { min: number }): Uint8Array {
  const bytes = decodeHex(obj[field], size);
  if (typeof bytes === 'string') throw new EnvelopeError('MALFORMED', field, bytes);
  return bytes;
}
