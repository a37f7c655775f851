/**
 * Account keys and the passphrase-encrypted keystore file.
 *
 * One 32-byte seed is the only secret a user backs up. Two keys are derived from it with
 * HKDF-SHA256 under distinct, versioned info strings:
 *
 *   signingSecret = HKDF(seed, info "medrollup/v1/babyjubjub")  -> BabyJubJub EdDSA-Poseidon (rollup txs)
 *   boxSecret     = HKDF(seed, info "medrollup/v1/x25519")      -> X25519 (receiving wrapped data keys)
 *
 * Distinct info strings make the two keys computationally independent: neither algorithm ever
 * sees the other's key (no cross-protocol use of one secret), and a weakness in one scheme does
 * not hand over the other key. The "v1" lets a future derivation change coexist with old seeds.
 * The HKDF salt is left empty (RFC 5869 section 3.1): the seed is already uniformly random.
 *
 * Keystore (version 1): scrypt(passphrase NFKC, 32-byte salt) gives 64 bytes; the first half is
 * the AES-256-GCM key for the seed, the second half feeds a passphrase check value, so a wrong
 * passphrase (WRONG_PASSPHRASE) is told apart from a tampered file (TAMPERED), as Ethereum's v3
 * keystore does with its MAC. The check costs an attacker nothing extra: every guess still pays
 * a full scrypt. The AEAD's associated data binds the whole header (version, KDF and its
 * parameters, cipher, public keys), so the public keys shown to others cannot be swapped.
 *
 * scrypt cost: default N = 2^17, r = 8, p = 1 (128 MiB, the OWASP minimum for scrypt). Measured on
 * Node 24, 2-core x64: ~0.4-0.45 s per scryptAsync call, ~0.5-0.6 s per encrypt/decryptKeystore,
 * ~0.85 s under jest; N = 2^10 takes ~20 ms, which the tests use. Files may ask for at most 1 GiB
 * and 2^24 block mixes, so a hostile keystore cannot make the reader allocate or spin unbounded.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, clean, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SNARK_FIELD } from '../prover/merkleTree.js';
import { publicKeyOf, type PublicKey } from '../prover/signing.js';
import { decodeHex, hasLoneSurrogate, lengthPrefixed, NONCE_BYTES, TAG_BYTES, X25519_KEY_BYTES } from './crypto.js';
import { KeyError, KeystoreError } from './errors.js';

export type { PublicKey } from '../prover/signing.js';

export const SEED_BYTES = 32;
export const SIGNING_INFO = 'medrollup/v1/babyjubjub';
export const X25519_INFO = 'medrollup/v1/x25519';

export interface DerivedKeys {
  /** 32-byte secret for prover/signing.ts (signTx, publicKeyOf). */
  readonly signingSecret: Uint8Array;
  /** The BabyJubJub public key registered on chain. */
  readonly signingKey: PublicKey;
  /** X25519 secret that unwraps data keys granted to this account. */
  readonly boxSecret: Uint8Array;
  /** X25519 public key grantors wrap data keys to (32 bytes). */
  readonly boxPublic: Uint8Array;
}

export function generateSeed(): Uint8Array {
  return randomBytes(SEED_BYTES);
}

function checkSeed(seed: unknown): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
    const got = seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed;
    throw new KeyError('INVALID_SEED', `a seed must be a Uint8Array of ${SEED_BYTES} bytes, got ${got}`);
  }
  return seed;
}

export function deriveKeys(seed: Uint8Array): DerivedKeys {
  checkSeed(seed);
  const signingSecret = hkdf(sha256, seed, undefined, utf8ToBytes(SIGNING_INFO), 32);
  const boxSecret = hkdf(sha256, seed, undefined, utf8ToBytes(X25519_INFO), X25519_KEY_BYTES);
  return { signingSecret, signingKey: publicKeyOf(signingSecret), boxSecret, boxPublic: x25519.getPublicKey(boxSecret) };
}

// ---------------------------------------------------------------------------------------------
// Keystore file

export const KEYSTORE_VERSION = 1;
export const KEYSTORE_DEFAULTS = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/** Lowest N accepted (tests use it); anything below the default is for tests only. */
export const MIN_SCRYPT_N = 2 ** 10;
const MAX_SCRYPT_N = 2 ** 20;
const MAX_SCRYPT_MEMORY = 2 ** 30; // 128 * N * r bytes
const MAX_SCRYPT_WORK = 2 ** 24; // N * r * p block mixes: ~16x the default
const SALT_BYTES = 32;
const AAD_DOMAIN = 'medrollup/v1/keystore';
const CHECK_INFO = 'medrollup/v1/keystore/passphrase-check';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** The JSON document on disk; every byte string is lowercase hex, BabyJubJub coordinates decimal. */
export interface KeystoreFile {
  readonly version: 1;
  readonly kdf: 'scrypt';
  readonly kdfParams: ScryptParams & { readonly salt: string };
  readonly cipher: 'aes-256-gcm';
  readonly nonce: string;
  /** The 32-byte seed under AES-256-GCM, tag included. */
  readonly ciphertext: string;
  /** HMAC-SHA256 under the second half of the scrypt output: tells a wrong passphrase from tampering. */
  readonly passphraseCheck: string;
  readonly publicKeys: {
    readonly babyjubjub: { readonly x: string; readonly y: string };
    readonly x25519: string;
  };
}

/** The first bad parameter and why, or undefined. */
function scryptParamsProblem({ N, r, p }: ScryptParams): { field: 'N' | 'r' | 'p'; why: string } | undefined {
  if (!Number.isSafeInteger(N) || N < MIN_SCRYPT_N || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0) {
    return { field: 'N', why: `must be a power of two in [2^10, 2^20], got ${String(N)}` };
  }
  if (!Number.isSafeInteger(r) || r < 1 || r > 32) return { field: 'r', why: `must be an integer in [1, 32], got ${String(r)}` };
  if (!Number.isSafeInteger(p) || p < 1 || p > 16) return { field: 'p', why: `must be an integer in [1, 16], got ${String(p)}` };
  if (128 * N * r > MAX_SCRYPT_MEMORY) return { field: 'r', why: `N * r needs ${(128 * N * r) / 2 ** 20} MiB, more than 1 GiB` };
  if (N * r * p > MAX_SCRYPT_WORK) return { field: 'p', why: `N * r * p = ${N * r * p} exceeds 2^24` };
  return undefined;
}

function passphraseBytes(passphrase: unknown): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0 || hasLoneSurrogate(passphrase)) {
    throw new KeystoreError('INVALID_ARGUMENT', 'the passphrase must be a non-empty, well-formed string');
  }
  // NFKC: the same passphrase typed on another keyboard or OS must give the same key.
  return utf8ToBytes(passphrase.normalize('NFKC'));
}

/** The bytes the AEAD binds: everything in the file but the nonce, ciphertext and check. */
function headerAad(file: Omit<KeystoreFile, 'nonce' | 'ciphertext' | 'passphraseCheck'>): Uint8Array {
  const { N, r, p, salt } = file.kdfParams;
  const { babyjubjub, x25519: box } = file.publicKeys;
  return lengthPrefixed(AAD_DOMAIN, String(file.version), file.kdf, String(N), String(r), String(p), salt, file.cipher, babyjubjub.x, babyjubjub.y, box);
}

async function deriveKek(passphrase: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<{ key: Uint8Array; check: Uint8Array }> {
  const dk = await scryptAsync(passphrase, salt, { ...params, dkLen: 64, maxmem: MAX_SCRYPT_MEMORY + 2 ** 20 });
  const key = dk.slice(0, 32);
  const check = hmac(sha256, dk.subarray(32), utf8ToBytes(CHECK_INFO));
  clean(dk);
  return { key, check };
}

function publicKeysOf(keys: DerivedKeys): KeystoreFile['publicKeys'] {
  return { babyjubjub: { x: keys.signingKey.x.toString(10), y: keys.signingKey.y.toString(10) }, x25519: bytesToHex(keys.boxPublic) };
}

/** Encrypts a seed under a passphrase. `opts` lowers the scrypt cost for tests (N >= 2^10). */
export async function encryptKeystore(seed: Uint8Array, passphrase: string, opts: Partial<ScryptParams> = {}): Promise<KeystoreFile> {
  checkSeed(seed);
  const pw = passphraseBytes(passphrase);
  const params = { N: opts.N ?? KEYSTORE_DEFAULTS.N, r: opts.r ?? KEYSTORE_DEFAULTS.r, p: opts.p ?? KEYSTORE_DEFAULTS.p };
  const problem = scryptParamsProblem(params);
  if (problem) throw new KeystoreError('INVALID_ARGUMENT', `scrypt ${problem.field} ${problem.why}`);
  const keys = deriveKeys(seed);
  const salt = randomBytes(SALT_BYTES);
  const header = {
    version: 1,
    kdf: 'scrypt',
    kdfParams: { ...params, salt: bytesToHex(salt) },
    cipher: 'aes-256-gcm',
    publicKeys: publicKeysOf(keys),
  } as const;
  clean(keys.signingSecret, keys.boxSecret);
  const { key, check } = await deriveKek(pw, salt, params);
  clean(pw);
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = gcm(key, nonce, headerAad(header)).encrypt(seed);
  clean(key);
  return { ...header, nonce: bytesToHex(nonce), ciphertext: bytesToHex(ciphertext), passphraseCheck: bytesToHex(check) };
}

/** The seed, or KeystoreError WRONG_PASSPHRASE / TAMPERED / UNSUPPORTED_VERSION / MALFORMED. */
export async function decryptKeystore(file: unknown, passphrase: string): Promise<Uint8Array> {
  const ks = parseKeystore(file);
  const pw = passphraseBytes(passphrase);
  const { N, r, p, salt } = ks.kdfParams;
  const { key, check } = await deriveKek(pw, hex(salt), { N, r, p });
  clean(pw);
  if (!equalBytes(check, hex(ks.passphraseCheck))) {
    clean(key);
    throw new KeystoreError('WRONG_PASSPHRASE', 'wrong passphrase (or the salt or scrypt parameters were altered)');
  }
  let seed: Uint8Array;
  try {
    seed = gcm(key, hex(ks.nonce), headerAad(ks)).decrypt(hex(ks.ciphertext));
  } catch {
    throw new KeystoreError('TAMPERED', 'the passphrase is right but the keystore failed authentication: its ciphertext, nonce or public keys were altered');
  } finally {
    clean(key);
  }
  // Unreachable unless the writer was faulty: the AEAD already binds these public keys.
  const keys = deriveKeys(seed);
  const expected = publicKeysOf(keys);
  clean(keys.signingSecret, keys.boxSecret);
  if (JSON.stringify(expected) !== JSON.stringify(ks.publicKeys)) {
    clean(seed);
    throw new KeystoreError('TAMPERED', 'the public keys in the keystore do not belong to its seed');
  }
  return seed;
}

function hex(s: string): Uint8Array {
  const bytes = decodeHex(s, { min: 0 });
  if (typeof bytes === 'string') throw new Error(`internal: unvalidated hex reached the keystore (${bytes})`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Validation

function malformed(field: string, why: string): never {
  throw new KeystoreError('MALFORMED', `keystore field "${field}": ${why}`);
}

function objectWith(value: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed(field, 'expected an object');
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!keys.includes(k)) malformed(field === '(root)' ? k : `${field}.${k}`, 'unknown field');
  for (const k of keys) if (!(k in obj)) malformed(field === '(root)' ? k : `${field}.${k}`, 'missing');
  return obj;
}

function hexString(value: unknown, field: string, length: number | { min: number }): string {
  const bytes = decodeHex(value, typeof length === 'number' ? { length } : length);
  if (typeof bytes === 'string') malformed(field, bytes);
  return value as string;
}

function fieldElement(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^(?:0|[1-9][0-9]{0,77})$/.test(value) || BigInt(value) >= SNARK_FIELD) {
    malformed(field, 'expected a canonical decimal string below the BN254 scalar field');
  }
  return value;
}

/** Validates a keystore document (JSON text or parsed) without decrypting it. */
export function parseKeystore(input: unknown): KeystoreFile {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      malformed('(root)', 'not valid JSON');
    }
  }
  // The version decides the layout, so it is read before anything else.
  if (typeof value === 'object' && value !== null && 'version' in value && value.version !== KEYSTORE_VERSION) {
    throw new KeystoreError('UNSUPPORTED_VERSION', `keystore version ${JSON.stringify(value.version)} is not supported (this SDK reads version ${KEYSTORE_VERSION})`);
  }
  const obj = objectWith(value, '(root)', ['version', 'kdf', 'kdfParams', 'cipher', 'nonce', 'ciphertext', 'passphraseCheck', 'publicKeys']);
  if (obj.kdf !== 'scrypt') malformed('kdf', 'expected "scrypt"');
  if (obj.cipher !== 'aes-256-gcm') malformed('cipher', 'expected "aes-256-gcm"');
  const kp = objectWith(obj.kdfParams, 'kdfParams', ['N', 'r', 'p', 'salt']);
  const params = { N: kp.N as number, r: kp.r as number, p: kp.p as number };
  const problem = scryptParamsProblem(params);
  if (problem) malformed(`kdfParams.${problem.field}`, problem.why);
  const pk = objectWith(obj.publicKeys, 'publicKeys', ['babyjubjub', 'x25519']);
  const bjj = objectWith(pk.babyjubjub, 'publicKeys.babyjubjub', ['x', 'y']);
  return {
    version: 1,
    kdf: 'scrypt',
    kdfParams: { ...params, salt: hexString(kp.salt, 'kdfParams.salt', SALT_BYTES) },
    cipher: 'aes-256-gcm',
    nonce: hexString(obj.nonce, 'nonce', NONCE_BYTES),
    ciphertext: hexString(obj.ciphertext, 'ciphertext', SEED_BYTES + TAG_BYTES),
    passphraseCheck: hexString(obj.passphraseCheck, 'passphraseCheck', 32),
    publicKeys: {
      babyjubjub: { x: fieldElement(bjj.x, 'publicKeys.babyjubjub.x'), y: fieldElement(bjj.y, 'publicKeys.babyjubjub.y') },
      x25519: hexString(pk.x25519, 'publicKeys.x25519', X25519_KEY_BYTES),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Files

function ioError(action: string, path: string, err: unknown): KeystoreError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
  return new KeystoreError('IO', `could not ${action} keystore ${path} (${code})`, { cause: err });
}

/**
 * Writes the keystore with mode 0600, atomically: a temp file in the same directory (created
 * exclusively, so a planted file or symlink is not followed) is fsynced, then renamed over the
 * target, or hard-linked to it when `overwrite` is false so an existing keystore (perhaps the only
 * copy of a seed) is never replaced by accident (KeystoreError EXISTS).
 */
export async function writeKeystore(path: string, file: KeystoreFile, opts: { overwrite?: boolean } = {}): Promise<void> {
  const text = `${JSON.stringify(parseKeystore(file), null, 2)}\n`;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${nodeRandomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.chmod(0o600); // whatever the umask
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.overwrite) {
      await rename(tmp, path);
    } else {
      try {
        await link(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeystoreError('EXISTS', `${path} already exists; pass { overwrite: true } to replace it`);
        throw err;
      }
    }
  } catch (err) {
    if (err instanceof KeystoreError) throw err;
    throw ioError('write', path, err);
  } finally {
    await unlink(tmp).catch(() => undefined); // gone already after a rename
  }
  await syncDir(dir);
}

/** Makes the rename durable; some platforms cannot open a directory, which is fine. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort
  }
}

/** Reads and validates a keystore file (still encrypted: pass it to decryptKeystore). */
export async function readKeystore(path: string): Promise<KeystoreFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw ioError('read', path, err);
  }
  return parseKeystore(text);
}
