import { createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TxOp, type TxRecord } from '../../prover/codec.js';
import { SNARK_FIELD } from '../../prover/merkleTree.js';
import { publicKeyOf, signTx, verifyTx } from '../../prover/signing.js';
import { KeyError, KeystoreError, type KeystoreErrorCode } from '../../sdk/errors.js';
import {
  KEYSTORE_DEFAULTS,
  decryptKeystore,
  deriveKeys,
  encryptKeystore,
  generateSeed,
  parseKeystore,
  readKeystore,
  writeKeystore,
  type KeystoreFile,
} from '../../sdk/keys.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const seedOf = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i + n) & 0xff);
/** Tests use N = 2^10 (~20 ms); the default 2^17 is exercised once. */
const FAST = { N: 2 ** 10 };
const PASS = 'correct horse battery staple';

/** Flips the hex digit at `i` (to another valid digit). */
function flipHex(s: string, i = 0): string {
  const c = s[i] === '0' ? '1' : '0';
  return s.slice(0, i) + c + s.slice(i + 1);
}

async function keystoreError(p: Promise<unknown>): Promise<KeystoreError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KeystoreError);
    return err as KeystoreError;
  }
  throw new Error('expected a KeystoreError, nothing was thrown');
}

async function expectCode(p: Promise<unknown>, code: KeystoreErrorCode, mentions?: string): Promise<void> {
  const err = await keystoreError(p);
  expect(err.code).toBe(code);
  if (mentions) expect(err.message).toContain(mentions);
}

/** X25519 public key by node's OpenSSL: an implementation independent of @noble. */
function nodeX25519Public(secret: Uint8Array): string {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), secret]);
  const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  return spki.subarray(-32).toString('hex');
}

describe('key derivation', () => {
  it('generateSeed gives 32 fresh random bytes', () => {
    const a = generateSeed();
    const b = generateSeed();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a).toHaveLength(32);
    expect(hex(a)).not.toBe(hex(b));
  });

  it('is deterministic, and different seeds give different keys', () => {
    const a1 = deriveKeys(seedOf(1));
    const a2 = deriveKeys(seedOf(1));
    const b = deriveKeys(seedOf(2));
    expect(a2).toEqual(a1);
    expect(hex(b.signingSecret)).not.toBe(hex(a1.signingSecret));
    expect(hex(b.boxSecret)).not.toBe(hex(a1.boxSecret));
    expect(hex(b.boxPublic)).not.toBe(hex(a1.boxPublic));
    expect(b.signingKey).not.toEqual(a1.signingKey);
    // Independent keys from one seed: neither secret equals the other or the seed.
    expect(hex(a1.signingSecret)).not.toBe(hex(a1.boxSecret));
    expect(hex(a1.signingSecret)).not.toBe(hex(seedOf(1)));
  });

  it('is HKDF-SHA256 with the versioned info strings, checked against node:crypto', () => {
    const seed = seedOf(7);
    const keys = deriveKeys(seed);
    const node = (info: string) => Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), info, 32)).toString('hex');
    expect(hex(keys.signingSecret)).toBe(node('medrollup/v1/babyjubjub'));
    expect(hex(keys.boxSecret)).toBe(node('medrollup/v1/x25519'));
    expect(hex(keys.boxPublic)).toBe(nodeX25519Public(keys.boxSecret));
    expect(keys.signingKey).toEqual(publicKeyOf(keys.signingSecret));
    expect(keys.boxPublic).toHaveLength(32);
  });

  it('the derived BabyJubJub key signs transactions prover/signing.ts verifies', () => {
    const keys = deriveKeys(generateSeed());
    const record: TxRecord = { op: TxOp.Grant, actor: 3, target: 4, slot: 1, scope: 1, expiry: 1_800_000_000n, payload: 0n };
    const tx = signTx(keys.signingSecret, record, 5n);
    expect(verifyTx(keys.signingKey, tx)).toBe(true);
    expect(verifyTx(deriveKeys(generateSeed()).signingKey, tx)).toBe(false);
    expect(verifyTx(keys.signingKey, { ...tx, nonce: 6n })).toBe(false);
  });

  it('refuses seeds that are not 32 bytes', () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0), 'seed' as unknown as Uint8Array]) {
      let err: unknown;
      try {
        deriveKeys(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KeyError);
      expect((err as KeyError).code).toBe('INVALID_SEED');
    }
  });
});

describe('keystore', () => {
  const seed = seedOf(42);
  let file: KeystoreFile;
  beforeAll(async () => {
    file = await encryptKeystore(seed, PASS, FAST);
  });

  it('round-trips through JSON and binds the public keys of the seed', async () => {
    const json = JSON.parse(JSON.stringify(file)) as unknown;
    expect(hex(await decryptKeystore(json, PASS))).toBe(hex(seed));
    const keys = deriveKeys(seed);
    expect(file).toMatchObject({
      version: 1,
      kdf: 'scrypt',
      kdfParams: { N: 1024, r: 8, p: 1 },
      cipher: 'aes-256-gcm',
      publicKeys: { babyjubjub: { x: keys.signingKey.x.toString(), y: keys.signingKey.y.toString() }, x25519: hex(keys.boxPublic) },
    });
    expect(file.kdfParams.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(file.nonce).toMatch(/^[0-9a-f]{24}$/);
    expect(file.ciphertext).toMatch(/^[0-9a-f]{96}$/);
    const text = JSON.stringify(file);
    expect(text).not.toContain(hex(seed));
    expect(text).not.toContain(PASS);
    expect(text).not.toContain(hex(keys.signingSecret));
    expect(text).not.toContain(hex(keys.boxSecret));
  });

  it('uses fresh salt and nonce each time', async () => {
    const again = await encryptKeystore(seed, PASS, FAST);
    expect(again.kdfParams.salt).not.toBe(file.kdfParams.salt);
    expect(again.nonce).not.toBe(file.nonce);
    expect(again.ciphertext).not.toBe(file.ciphertext);
  });

  it('normalises the passphrase (NFKC): composed and decomposed accents unlock the same file', async () => {
    const ks = await encryptKeystore(seed, 'caf\u00e9 \u2460', FAST);
    expect(hex(await decryptKeystore(ks, 'cafe\u0301 1'))).toBe(hex(seed));
  });

  it('wrong passphrase: WRONG_PASSPHRASE, without echoing it', async () => {
    const err = await keystoreError(decryptKeystore(file, 'Correct horse battery staple'));
    expect(err.code).toBe('WRONG_PASSPHRASE');
    expect(err.message).not.toContain('orrect horse');
  });

  it('tampered ciphertext or nonce: TAMPERED', async () => {
    await expectCode(decryptKeystore({ ...file, ciphertext: flipHex(file.ciphertext) }, PASS), 'TAMPERED');
    await expectCode(decryptKeystore({ ...file, ciphertext: flipHex(file.ciphertext, 95) }, PASS), 'TAMPERED');
    await expectCode(decryptKeystore({ ...file, nonce: flipHex(file.nonce, 5) }, PASS), 'TAMPERED');
  });

  it('swapped public keys: TAMPERED (they are associated data)', async () => {
    const other = deriveKeys(seedOf(43));
    await expectCode(decryptKeystore({ ...file, publicKeys: { ...file.publicKeys, x25519: hex(other.boxPublic) } }, PASS), 'TAMPERED');
    const bjj = { x: other.signingKey.x.toString(), y: other.signingKey.y.toString() };
    await expectCode(decryptKeystore({ ...file, publicKeys: { ...file.publicKeys, babyjubjub: bjj } }, PASS), 'TAMPERED');
  });

  it('tampered KDF parameters or check value: WRONG_PASSPHRASE (indistinguishable from a wrong passphrase)', async () => {
    await expectCode(decryptKeystore({ ...file, kdfParams: { ...file.kdfParams, N: 2 ** 11 } }, PASS), 'WRONG_PASSPHRASE');
    await expectCode(decryptKeystore({ ...file, kdfParams: { ...file.kdfParams, r: 4 } }, PASS), 'WRONG_PASSPHRASE');
    await expectCode(decryptKeystore({ ...file, kdfParams: { ...file.kdfParams, salt: flipHex(file.kdfParams.salt, 10) } }, PASS), 'WRONG_PASSPHRASE');
    await expectCode(decryptKeystore({ ...file, passphraseCheck: flipHex(file.passphraseCheck) }, PASS), 'WRONG_PASSPHRASE');
  });

  it('unknown version: UNSUPPORTED_VERSION', async () => {
    await expectCode(decryptKeystore({ ...file, version: 2 }, PASS), 'UNSUPPORTED_VERSION');
    await expectCode(decryptKeystore({ ...file, version: '1' }, PASS), 'UNSUPPORTED_VERSION');
  });

  it('malformed files: MALFORMED naming the field, before any scrypt work', async () => {
    const { nonce: _nonce, ...noNonce } = file;
    const cases: [unknown, string][] = [
      ['{not json', '(root)'],
      [[], '(root)'],
      [noNonce, '"nonce"'],
      [{ ...file, extra: 1 }, '"extra"'],
      [{ ...file, kdf: 'pbkdf2' }, '"kdf"'],
      [{ ...file, cipher: 'aes-128-gcm' }, '"cipher"'],
      [{ ...file, kdfParams: { ...file.kdfParams, N: 2 ** 30 } }, '"kdfParams.N"'], // would need 128 GiB
      [{ ...file, kdfParams: { ...file.kdfParams, N: 1000 } }, '"kdfParams.N"'],
      [{ ...file, kdfParams: { ...file.kdfParams, N: 2 ** 20, r: 16 } }, '"kdfParams.r"'],
      [{ ...file, kdfParams: { ...file.kdfParams, p: 0 } }, '"kdfParams.p"'],
      [{ ...file, kdfParams: { ...file.kdfParams, salt: file.kdfParams.salt.toUpperCase() } }, '"kdfParams.salt"'],
      [{ ...file, nonce: `0x${file.nonce}` }, '"nonce"'],
      [{ ...file, ciphertext: file.ciphertext.slice(2) }, '"ciphertext"'],
      [{ ...file, publicKeys: { ...file.publicKeys, x25519: 'zz' } }, '"publicKeys.x25519"'],
      [{ ...file, publicKeys: { ...file.publicKeys, babyjubjub: { x: SNARK_FIELD.toString(), y: '1' } } }, '"publicKeys.babyjubjub.x"'],
      [{ ...file, publicKeys: { ...file.publicKeys, babyjubjub: { x: '01', y: '1' } } }, '"publicKeys.babyjubjub.x"'],
    ];
    for (const [bad, field] of cases) await expectCode(decryptKeystore(bad, PASS), 'MALFORMED', field);
    expect(parseKeystore(JSON.stringify(file))).toEqual(file);
  });

  it('refuses bad arguments: INVALID_ARGUMENT / INVALID_SEED', async () => {
    await expectCode(encryptKeystore(seed, '', FAST), 'INVALID_ARGUMENT');
    await expectCode(encryptKeystore(seed, 'lone \ud800 surrogate', FAST), 'INVALID_ARGUMENT');
    await expectCode(encryptKeystore(seed, PASS, { N: 2 ** 9 }), 'INVALID_ARGUMENT');
    await expectCode(encryptKeystore(seed, PASS, { N: 3000 }), 'INVALID_ARGUMENT');
    await expectCode(decryptKeystore(file, ''), 'INVALID_ARGUMENT');
    await expect(encryptKeystore(new Uint8Array(16), PASS, FAST)).rejects.toMatchObject({ name: 'KeyError', code: 'INVALID_SEED' });
  });

  it('defaults to scrypt N = 2^17, r = 8, p = 1', async () => {
    expect(KEYSTORE_DEFAULTS).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    const ks = await encryptKeystore(seed, PASS);
    expect(ks.kdfParams).toMatchObject({ N: 131072, r: 8, p: 1 });
    expect(hex(await decryptKeystore(ks, PASS))).toBe(hex(seed));
  });
});

describe('keystore files', () => {
  let dir: string;
  let file: KeystoreFile;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medrollup-keystore-'));
    file = await encryptKeystore(seedOf(9), PASS, FAST);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes mode 0600 atomically and reads back', async () => {
    const path = join(dir, 'nested', 'keystore.json');
    await writeKeystore(path, file);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'nested'))).toEqual(['keystore.json']); // no temp file left
    const read = await readKeystore(path);
    expect(read).toEqual(file);
    expect(hex(await decryptKeystore(read, PASS))).toBe(hex(seedOf(9)));
  });

  it('never replaces an existing keystore unless asked; a replaced file is 0600 too', async () => {
    const path = join(dir, 'existing.json');
    await writeFile(path, 'old', { mode: 0o644 });
    await expectCode(writeKeystore(path, file), 'EXISTS');
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
    await writeKeystore(path, file, { overwrite: true });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readKeystore(path)).toEqual(file);
  });

  it('refuses to write an invalid keystore object', async () => {
    await expectCode(writeKeystore(join(dir, 'bad.json'), { ...file, nonce: 'xx' }), 'MALFORMED', '"nonce"');
    expect(await readdir(dir)).not.toContain('bad.json');
  });

  it('reading: IO for a missing file, MALFORMED for garbage', async () => {
    await expectCode(readKeystore(join(dir, 'missing.json')), 'IO', 'ENOENT');
    const garbage = join(dir, 'garbage.json');
    await writeFile(garbage, '{"version":1}');
    await expectCode(readKeystore(garbage), 'MALFORMED');
  });
});
