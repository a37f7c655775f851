/**
 * Typed SDK errors. Every error carries a stable `code` that callers branch on (messages are for
 * people and may change). Messages never contain plaintext, keys, seeds or passphrases: errors end
 * up in logs and bug reports.
 */

export abstract class SdkError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${message}`, options);
  }
}

/** A seed or key given to the SDK has the wrong type or length, or is a small-order point. */
export type KeyErrorCode = 'INVALID_SEED' | 'INVALID_KEY' | 'SMALL_ORDER_KEY';
export class KeyError extends SdkError<KeyErrorCode> {
  override readonly name = 'KeyError';
}

/**
 * Keystore files (sdk/keys.ts). WRONG_PASSPHRASE: the passphrase check failed, which a tampered salt
 * or cost parameter also causes (the two cannot be told apart); TAMPERED: the passphrase was right
 * but the ciphertext, nonce or bound public keys were changed.
 */
export type KeystoreErrorCode = 'WRONG_PASSPHRASE' | 'TAMPERED' | 'UNSUPPORTED_VERSION' | 'MALFORMED' | 'INVALID_ARGUMENT' | 'EXISTS' | 'IO';
export class KeystoreError extends SdkError<KeystoreErrorCode> {
  override readonly name = 'KeystoreError';
}

/** Bad arguments to an encrypting call (wrong key length, bad record context, small-order recipient). */
export type CryptoErrorCode = 'INVALID_INPUT' | 'SMALL_ORDER_KEY';
export class CryptoError extends SdkError<CryptoErrorCode> {
  override readonly name = 'CryptoError';
}

/**
 * Data from outside failed to decrypt. AUTH_FAILED covers wrong key, wrong record id or version and
 * tampering alike: AES-GCM cannot say which. SMALL_ORDER_KEY: a wrapped key's ephemeral public key
 * is a low-order point (its shared secret would be all zeros, known to anyone).
 */
export type DecryptErrorCode = 'AUTH_FAILED' | 'SMALL_ORDER_KEY';
export class DecryptError extends SdkError<DecryptErrorCode> {
  override readonly name = 'DecryptError';
}

/** A serialised envelope (what lives on IPFS) does not parse; `field` names the offending field. */
export type EnvelopeErrorCode = 'MALFORMED' | 'UNSUPPORTED_VERSION';
export class EnvelopeError extends SdkError<EnvelopeErrorCode> {
  override readonly name = 'EnvelopeError';
  constructor(
    code: EnvelopeErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(code, `field "${field}": ${message}`);
  }
}
