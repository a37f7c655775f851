/**
 * Sign-in to the GraphQL API: the API hands out a challenge bound to (settlement chain, Rollup,
 * account, nonce, expiry); the caller signs its field-element digest with the account's L2
 * BabyJubJub key (the key registered on the Gateway) and trades the signature for a short-lived
 * session token. The digest is a SHA-256 of a labelled text, masked to 253 bits, never a Poseidon
 * transaction message: a challenge signature cannot be replayed as an L2 transaction, whose
 * message is Poseidon4(TX_DOMAIN, ...), nor the other way round.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { signMessage, type TxSignature } from '../prover/signing.js';

export const AUTH_LABEL = 'medrollup-api-signin-v1';
const MASK_253 = (1n << 253n) - 1n;

export interface AuthChallenge {
  readonly chainId: number;
  /** The Rollup contract, lower-case hex. */
  readonly rollup: string;
  readonly account: number;
  /** 32 random bytes, hex. */
  readonly nonce: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

/** The text a wallet or an auditor can show a person before they sign. */
export function challengeText(c: AuthChallenge): string {
  return `${AUTH_LABEL}\nchain:${c.chainId}\nrollup:${c.rollup.toLowerCase()}\naccount:${c.account}\nnonce:${c.nonce}\nexpires:${c.expiresAt}`;
}

/** The field element that is signed: SHA-256(text) & (2^253 - 1), below the BN254 scalar field. */
export function challengeDigest(c: AuthChallenge): bigint {
  return BigInt(`0x${bytesToHex(sha256(utf8ToBytes(challengeText(c))))}`) & MASK_253;
}

export function signChallenge(secret: Uint8Array, c: AuthChallenge): TxSignature {
  return signMessage(secret, challengeDigest(c));
}
