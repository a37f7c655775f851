/**
 * Sessions of the GraphQL API. An account proves it holds its registered L2 key by signing a
 * one-time challenge (sdk/apiAuth.ts); it gets an HMAC-SHA256 token naming the account and its
 * role, valid for a few minutes. Tokens are stateless (any API replica with the same
 * API_TOKEN_SECRET accepts them); challenges are single use and kept in memory until they expire.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { verifyMessage, type PublicKey, type TxSignature } from '../prover/signing.js';
import { challengeDigest, type AuthChallenge } from '../sdk/apiAuth.js';
import { ApiError } from './errors.js';

export type Role = 'Patient' | 'Hospital' | 'Laboratory' | 'Insurer';
export const INSTITUTION_ROLES: readonly Role[] = ['Hospital', 'Laboratory', 'Insurer'];

/** Who is asking. Anonymous callers see only public chain data (batches, roots, anchors). */
export interface Viewer {
  readonly account: number;
  readonly role: Role;
  /** Unix seconds. */
  readonly expiresAt: number;
}

/** What sign-in needs to know about an account: its registered key and role (from the indexer). */
export interface RegisteredAccount {
  readonly account: number;
  readonly role: Role;
  readonly publicKey: PublicKey;
  /** False for an institution that governance deactivated. */
  readonly active: boolean;
}

export interface SessionsOptions {
  readonly chainId: number;
  readonly rollup: string;
  /** HMAC key; undefined = random per process. */
  readonly secret: string | undefined;
  readonly tokenTtlSeconds: number;
  readonly challengeTtlSeconds: number;
  /** Outstanding challenges kept at most (oldest dropped first): bounds memory under a flood. */
  readonly maxChallenges?: number;
  readonly now?: () => number;
}

export interface Session {
  readonly token: string;
  readonly viewer: Viewer;
}

const b64url = (bytes: Uint8Array | Buffer): string => Buffer.from(bytes).toString('base64url');
const TOKEN_PREFIX = 'mr1.';

export class Sessions {
  private readonly key: Uint8Array;
  private readonly challenges = new Map<string, AuthChallenge>();
  private readonly maxChallenges: number;
  private readonly now: () => number;

  constructor(private readonly opts: SessionsOptions) {
    this.key = opts.secret === undefined ? randomBytes(32) : sha256(utf8ToBytes(opts.secret));
    this.maxChallenges = opts.maxChallenges ?? 10_000;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  challenge(account: number): AuthChallenge {
    this.prune();
    const c: AuthChallenge = {
      chainId: this.opts.chainId,
      rollup: this.opts.rollup.toLowerCase(),
      account,
      nonce: randomBytes(32).toString('hex'),
      expiresAt: this.now() + this.opts.challengeTtlSeconds,
    };
    if (this.challenges.size >= this.maxChallenges) {
      const oldest = this.challenges.keys().next().value;
      if (oldest !== undefined) this.challenges.delete(oldest);
    }
    this.challenges.set(c.nonce, c);
    return c;
  }

  /** Consumes the challenge whatever the outcome, so a signature can be tried once only. */
  signIn(nonce: string, signature: TxSignature, registered: RegisteredAccount | undefined, account: number): Session {
    const c = this.challenges.get(nonce);
    this.challenges.delete(nonce);
    if (!c || c.account !== account) throw new ApiError('UNAUTHENTICATED', 'unknown or already used challenge');
    if (c.expiresAt < this.now()) throw new ApiError('UNAUTHENTICATED', 'the challenge expired; ask for a new one');
    if (!registered) throw new ApiError('UNAUTHENTICATED', `account ${account} is not registered`);
    if (!registered.active) throw new ApiError('FORBIDDEN', `institution account ${account} is deactivated`);
    if (!verifyMessage(registered.publicKey, challengeDigest(c), signature)) throw new ApiError('UNAUTHENTICATED', 'the signature does not match the account key');
    const viewer: Viewer = { account, role: registered.role, expiresAt: this.now() + this.opts.tokenTtlSeconds };
    return { token: this.issue(viewer), viewer };
  }

  /** Undefined for no token; throws UNAUTHENTICATED for a bad or expired one (never silently anonymous). */
  verify(token: string | undefined): Viewer | undefined {
    if (token === undefined || token === '') return undefined;
    if (!token.startsWith(TOKEN_PREFIX)) throw new ApiError('UNAUTHENTICATED', 'malformed session token');
    const [body, mac] = token.slice(TOKEN_PREFIX.length).split('.');
    if (!body || !mac) throw new ApiError('UNAUTHENTICATED', 'malformed session token');
    const expected = Buffer.from(hmac(sha256, this.key, utf8ToBytes(body)));
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ApiError('UNAUTHENTICATED', 'invalid session token');
    let viewer: Viewer;
    try {
      viewer = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Viewer;
    } catch {
      throw new ApiError('UNAUTHENTICATED', 'malformed session token');
    }
    if (!(viewer.expiresAt >= this.now())) throw new ApiError('UNAUTHENTICATED', 'the session expired; sign in again');
    return viewer;
  }

  private issue(viewer: Viewer): string {
    const body = b64url(utf8ToBytes(JSON.stringify({ account: viewer.account, role: viewer.role, expiresAt: viewer.expiresAt })));
    return `${TOKEN_PREFIX}${body}.${b64url(hmac(sha256, this.key, utf8ToBytes(body)))}`;
  }

  private prune(): void {
    const now = this.now();
    // One TTL for all: insertion order is expiry order, so stop at the first live challenge.
    for (const [nonce, c] of this.challenges) {
      if (c.expiresAt >= now) break;
      this.challenges.delete(nonce);
    }
  }
}

/** The token from an `Authorization: Bearer <token>` header or a graphql-ws connection parameter. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!m) throw new ApiError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
  return m[1];
}
