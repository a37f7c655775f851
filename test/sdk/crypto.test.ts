import { createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes } from 'node:crypto';
import {
  contentHash,
  decryptRecord,
  encryptRecord,
  parseRecordEnvelope,
  parseWrappedKey,
  serialiseRecordEnvelope,
  serialiseWrappedKey,
  unwrapKey,
  wrapKey,
  type RecordContext,
  type RecordEnvelope,
  type WrappedKey,
} from '../../sdk/crypto.js';
import { CryptoError, DecryptError, EnvelopeError } from '../../sdk/errors.js';
import { deriveKeys, generateSeed } from '../../sdk/keys.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const CTX: RecordContext = { recordId: 'rec-0001', version: 3 };
const utf8 = (s: string) => new TextEncoder().encode(s);

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, nothing was thrown');
}

function expectError<T extends Error & { code: string }>(fn: () => unknown, cls: new (...args: never[]) => T, code: string): T {
  const err = caught(fn);
  expect(err).toBeInstanceOf(cls);
  expect((err as T).code).toBe(code);
  return err as T;
}

/** Flips one bit of byte i (negative: from the end). */
function flip(bytes: Uint8Array, i: number): Uint8Array {
  const out = bytes.slice();
  const at = i < 0 ? out.length + i : i;
  out[at]! ^= 0x01;
  return out;
}

/** 32-byte little-endian encoding of a u coordinate. */
function uBytes(u: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

const P = (1n << 255n) - 19n;
/** Every u of order dividing 8 (RFC 7748 / libsodium's blocklist), plus non-canonical aliases. */
const LOW_ORDER_U = [
  0n,
  1n,
  P - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P, // = 0 mod p
  P + 1n, // = 1 mod p
];

/** The documented construction, rebuilt with node:crypto (OpenSSL): pins the wire format. */
const node = {
  lengthPrefixed(...parts: (string | Uint8Array)[]): Buffer {
    return Buffer.concat(
      parts.flatMap((p) => {
        const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        return [len, b];
      }),
    );
  },
  ctx(domain: string, ctx: RecordContext): Buffer {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(ctx.version);
    return node.lengthPrefixed(domain, ctx.recordId, v);
  },
  gcmDecrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Buffer {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(aad);
    d.setAuthTag(ct.subarray(-16));
    return Buffer.concat([d.update(ct.subarray(0, -16)), d.final()]);
  },
  x25519(secret: Uint8Array, peer: Uint8Array): Buffer {
    const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), secret]), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), peer]), format: 'der', type: 'spki' });
    return diffieHellman({ privateKey, publicKey });
  },
};

describe('record encryption', () => {
  it.each([
    ['empty', 0],
    ['1 byte', 1],
    ['1 MiB', 1 << 20],
  ])('round-trips %s', (_name, size) => {
    const plaintext = new Uint8Array(randomBytes(size));
    const { dataKey, envelope } = encryptRecord(plaintext, CTX);
    expect(dataKey).toHaveLength(32);
    expect(envelope.nonce).toHaveLength(12);
    expect(envelope.ciphertext).toHaveLength(size + 16);
    expect(envelope).toMatchObject({ v: 1, alg: 'aes-256-gcm' });
    expect(Buffer.from(decryptRecord(envelope, dataKey, CTX)).equals(Buffer.from(plaintext))).toBe(true);
  });

  it('uses a fresh data key and nonce every time', () => {
    const a = encryptRecord(utf8('same'), CTX);
    const b = encryptRecord(utf8('same'), CTX);
    expect(hex(a.dataKey)).not.toBe(hex(b.dataKey));
    expect(hex(a.envelope.nonce)).not.toBe(hex(b.envelope.nonce));
    expect(hex(a.envelope.ciphertext)).not.toBe(hex(b.envelope.ciphertext));
  });

  it('is AES-256-GCM with AAD ("medrollup/v1/record", recordId, uint32 version), checked against node:crypto', () => {
    const plaintext = utf8('{"resourceType":"Observation"}');
    const { dataKey, envelope } = encryptRecord(plaintext, CTX);
    const aad = node.ctx('medrollup/v1/record', CTX);
    expect(node.gcmDecrypt(dataKey, envelope.nonce, aad, envelope.ciphertext).toString()).toBe('{"resourceType":"Observation"}');
  });

  describe('fails with DecryptError AUTH_FAILED', () => {
    const plaintext = utf8('Patient: Jane Doe, HIV positive');
    const { dataKey, envelope } = encryptRecord(plaintext, CTX);
    const authFailed = (env: RecordEnvelope, key: Uint8Array, ctx: RecordContext) => {
      const err = expectError(() => decryptRecord(env, key, ctx), DecryptError, 'AUTH_FAILED');
      expect(err.message).not.toContain('Jane');
      expect(err.message).not.toContain(hex(dataKey));
      expect(err.message).not.toContain(hex(key));
    };

    it('wrong data key', () => authFailed(envelope, new Uint8Array(randomBytes(32)), CTX));
    it('wrong record id', () => authFailed(envelope, dataKey, { ...CTX, recordId: 'rec-0002' }));
    it('wrong version', () => {
      authFailed(envelope, dataKey, { ...CTX, version: 4 });
      authFailed(envelope, dataKey, { ...CTX, version: 2 });
    });
    it('a context that only collides when concatenated', () => {
      const { dataKey: k, envelope: e } = encryptRecord(plaintext, { recordId: '1', version: 23 });
      authFailed(e, k, { recordId: '12', version: 3 });
    });
    it('tampered ciphertext (body or tag)', () => {
      authFailed({ ...envelope, ciphertext: flip(envelope.ciphertext, 0) }, dataKey, CTX);
      authFailed({ ...envelope, ciphertext: flip(envelope.ciphertext, -1) }, dataKey, CTX);
      authFailed({ ...envelope, ciphertext: envelope.ciphertext.subarray(1) }, dataKey, CTX);
    });
    it('tampered nonce', () => authFailed({ ...envelope, nonce: flip(envelope.nonce, 11) }, dataKey, CTX));
  });

  it('bad arguments: CryptoError INVALID_INPUT', () => {
    const { dataKey, envelope } = encryptRecord(utf8('x'), CTX);
    expectError(() => decryptRecord(envelope, dataKey.subarray(1), CTX), CryptoError, 'INVALID_INPUT');
    for (const ctx of [
      { recordId: '', version: 1 },
      { recordId: 'lone \udc00', version: 1 },
      { recordId: 'r', version: -1 },
      { recordId: 'r', version: 1.5 },
      { recordId: 'r', version: 2 ** 32 },
      { recordId: 7, version: 1 },
    ]) {
      expectError(() => encryptRecord(utf8('x'), ctx as RecordContext), CryptoError, 'INVALID_INPUT');
    }
    expectError(() => encryptRecord('text' as unknown as Uint8Array, CTX), CryptoError, 'INVALID_INPUT');
  });
});

describe('key wrapping', () => {
  const alice = deriveKeys(generateSeed());
  const bob = deriveKeys(generateSeed());
  const carol = deriveKeys(generateSeed());
  const dataKey = new Uint8Array(randomBytes(32));

  it('wraps one data key for two grantees; each unwraps it', () => {
    const forAlice = wrapKey(dataKey, alice.boxPublic, CTX);
    const forBob = wrapKey(dataKey, bob.boxPublic, CTX);
    expect(forAlice).toMatchObject({ v: 1, alg: 'x25519-hkdf-sha256-aes-256-gcm' });
    expect(forAlice.ephemeralPublic).toHaveLength(32);
    expect(forAlice.wrapped).toHaveLength(48);
    expect(hex(forAlice.ephemeralPublic)).not.toBe(hex(forBob.ephemeralPublic));
    expect(hex(unwrapKey(forAlice, alice.boxSecret, CTX))).toBe(hex(dataKey));
    expect(hex(unwrapKey(forBob, bob.boxSecret, CTX))).toBe(hex(dataKey));
  });

  it('follows the documented construction (checked with node:crypto X25519, HKDF and AES-GCM)', () => {
    const w = wrapKey(dataKey, alice.boxPublic, CTX);
    const shared = node.x25519(alice.boxSecret, w.ephemeralPublic);
    const salt = node.lengthPrefixed('medrollup/v1/wrap/salt', w.ephemeralPublic, alice.boxPublic);
    const kek = Buffer.from(hkdfSync('sha256', shared, salt, node.ctx('medrollup/v1/wrap/key', CTX), 32));
    expect(hex(node.gcmDecrypt(kek, w.nonce, node.ctx('medrollup/v1/wrap/aad', CTX), w.wrapped))).toBe(hex(dataKey));
  });

  describe('fails with DecryptError AUTH_FAILED', () => {
    const w = wrapKey(dataKey, alice.boxPublic, CTX);
    const authFailed = (wrapped: WrappedKey, secret: Uint8Array, ctx: RecordContext) => {
      const err = expectError(() => unwrapKey(wrapped, secret, ctx), DecryptError, 'AUTH_FAILED');
      expect(err.message).not.toContain(hex(dataKey));
      expect(err.message).not.toContain(hex(secret));
    };
    it('the wrong recipient', () => {
      authFailed(w, bob.boxSecret, CTX);
      authFailed(w, carol.boxSecret, CTX);
    });
    it('moved to another record id or version', () => {
      authFailed(w, alice.boxSecret, { ...CTX, recordId: 'rec-0002' });
      authFailed(w, alice.boxSecret, { ...CTX, version: CTX.version + 1 });
    });
    it('tampered nonce, wrapped key or ephemeral key', () => {
      authFailed({ ...w, nonce: flip(w.nonce, 0) }, alice.boxSecret, CTX);
      authFailed({ ...w, wrapped: flip(w.wrapped, 3) }, alice.boxSecret, CTX);
      authFailed({ ...w, wrapped: flip(w.wrapped, -1) }, alice.boxSecret, CTX);
      authFailed({ ...w, ephemeralPublic: bob.boxPublic }, alice.boxSecret, CTX);
    });
  });

  it('rejects low-order ephemeral keys (all-zero shared secret) with DecryptError SMALL_ORDER_KEY', () => {
    const w = wrapKey(dataKey, alice.boxPublic, CTX);
    const zeroHighBit = uBytes(0n);
    zeroHighBit[31] = 0x80; // X25519 ignores the top bit: still u = 0
    const encodings = [...LOW_ORDER_U.map(uBytes), zeroHighBit];
    for (const ephemeralPublic of encodings) {
      expectError(() => unwrapKey({ ...w, ephemeralPublic }, alice.boxSecret, CTX), DecryptError, 'SMALL_ORDER_KEY');
    }
  });

  it('refuses to wrap to a low-order or non-canonical recipient key (CryptoError)', () => {
    for (const u of LOW_ORDER_U.slice(0, 5)) expectError(() => wrapKey(dataKey, uBytes(u), CTX), CryptoError, 'SMALL_ORDER_KEY');
    expectError(() => wrapKey(dataKey, uBytes(P + 5n), CTX), CryptoError, 'INVALID_INPUT');
    expectError(() => wrapKey(dataKey.subarray(1), alice.boxPublic, CTX), CryptoError, 'INVALID_INPUT');
    expectError(() => wrapKey(dataKey, alice.boxPublic.subarray(1), CTX), CryptoError, 'INVALID_INPUT');
    expectError(() => unwrapKey(wrapKey(dataKey, alice.boxPublic, CTX), alice.boxSecret.subarray(1), CTX), CryptoError, 'INVALID_INPUT');
  });
});

describe('envelopes on IPFS', () => {
  const plaintext = utf8('{"resourceType":"Patient","name":[{"family":"Doe","given":["Jane"]}]}');
  const alice = deriveKeys(generateSeed());

  it('a full round trip through JSON: encrypt, wrap, serialise, parse, unwrap, decrypt', () => {
    const { dataKey, envelope } = encryptRecord(plaintext, CTX);
    const recordJson = serialiseRecordEnvelope(envelope);
    const wrapJson = serialiseWrappedKey(wrapKey(dataKey, alice.boxPublic, CTX));
    const key = unwrapKey(parseWrappedKey(wrapJson), alice.boxSecret, CTX);
    expect(new TextDecoder().decode(decryptRecord(parseRecordEnvelope(recordJson), key, CTX))).toBe(new TextDecoder().decode(plaintext));
    expect(parseRecordEnvelope(recordJson)).toEqual(envelope);
    expect(serialiseRecordEnvelope(parseRecordEnvelope(JSON.parse(recordJson)))).toBe(recordJson);
    expect(JSON.parse(recordJson)).toEqual({ type: 'medrollup.record', v: 1, alg: 'aes-256-gcm', nonce: hex(envelope.nonce), ciphertext: hex(envelope.ciphertext) });
    expect(Object.keys(JSON.parse(wrapJson))).toEqual(['type', 'v', 'alg', 'ephemeralPublic', 'nonce', 'wrapped']);
  });

  it('the serialised envelope holds neither plaintext nor key, whatever object it is given', () => {
    const encrypted = encryptRecord(plaintext, CTX);
    // Even handed the whole { dataKey, envelope }-shaped object by mistake, only envelope fields are written.
    const json = serialiseRecordEnvelope({ ...encrypted.envelope, dataKey: encrypted.dataKey } as RecordEnvelope);
    for (const secret of [hex(plaintext), Buffer.from(plaintext).toString('base64'), 'Jane', 'Patient', hex(encrypted.dataKey)]) {
      expect(json).not.toContain(secret);
    }
    expect(json).not.toMatch(/dataKey/);
  });

  it('contentHash is the 0x-prefixed SHA-256 of the bytes', () => {
    const bytes = utf8(serialiseRecordEnvelope(encryptRecord(plaintext, CTX).envelope));
    expect(contentHash(bytes)).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
    expect(contentHash(new Uint8Array())).toBe('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('parse rejects malformed envelopes, naming the field', () => {
    const good = JSON.parse(serialiseRecordEnvelope(encryptRecord(plaintext, CTX).envelope)) as Record<string, unknown>;
    const { nonce: _n, ...noNonce } = good;
    const cases: [unknown, string, string][] = [
      ['{oops', '(root)', 'MALFORMED'],
      [null, '(root)', 'MALFORMED'],
      [[good], '(root)', 'MALFORMED'],
      [noNonce, 'nonce', 'MALFORMED'],
      [{ ...good, dataKey: 'aa' }, 'dataKey', 'MALFORMED'],
      [{ ...good, type: 'medrollup.wrapped-key' }, 'type', 'MALFORMED'],
      [{ ...good, v: 2 }, 'v', 'UNSUPPORTED_VERSION'],
      [{ ...good, v: '1' }, 'v', 'MALFORMED'],
      [{ ...good, alg: 'aes-128-gcm' }, 'alg', 'MALFORMED'],
      [{ ...good, nonce: (good.nonce as string).slice(2) }, 'nonce', 'MALFORMED'],
      [{ ...good, nonce: (good.nonce as string).toUpperCase() }, 'nonce', 'MALFORMED'],
      [{ ...good, nonce: `0x${good.nonce as string}` }, 'nonce', 'MALFORMED'],
      [{ ...good, nonce: 5 }, 'nonce', 'MALFORMED'],
      [{ ...good, ciphertext: '00'.repeat(15) }, 'ciphertext', 'MALFORMED'],
      [{ ...good, ciphertext: `${good.ciphertext as string}0` }, 'ciphertext', 'MALFORMED'],
    ];
    for (const [input, field, code] of cases) {
      const err = expectError(() => parseRecordEnvelope(input), EnvelopeError, code);
      expect(err.field).toBe(field);
      expect(err.message).toContain(`"${field}"`);
    }
  });

  it('parse rejects malformed wrapped keys, naming the field', () => {
    const good = JSON.parse(serialiseWrappedKey(wrapKey(new Uint8Array(32), alice.boxPublic, CTX))) as Record<string, string>;
    const cases: [unknown, string][] = [
      [{ ...good, type: 'medrollup.record' }, 'type'],
      [{ ...good, ephemeralPublic: good.ephemeralPublic!.slice(2) }, 'ephemeralPublic'],
      [{ ...good, wrapped: `${good.wrapped!}00` }, 'wrapped'],
      [{ ...good, nonce: 'zz'.repeat(12) }, 'nonce'],
      [{ ...good, alg: 'hpke' }, 'alg'],
    ];
    for (const [input, field] of cases) expect((expectError(() => parseWrappedKey(input), EnvelopeError, 'MALFORMED')).field).toBe(field);
    expect(expectError(() => parseWrappedKey({ ...good, v: 9 }), EnvelopeError, 'UNSUPPORTED_VERSION').field).toBe('v');
    // A hand-built object gets the same checks on the decrypting path.
    const w = parseWrappedKey(good);
    expect(expectError(() => unwrapKey({ ...w, nonce: w.nonce.subarray(1) }, alice.boxSecret, CTX), EnvelopeError, 'MALFORMED').field).toBe('nonce');
  });
});
