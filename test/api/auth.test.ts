/**
 * Sessions of the API (api/auth.ts) without chains: the challenge-response against a registered key,
 * single use, expiry of challenges and tokens, tampering, deactivated institutions.
 */
import { Sessions, bearer, type RegisteredAccount } from '../../api/auth.js';
import { ApiError } from '../../api/errors.js';
import { publicKeyOf, randomSecret, signMessage } from '../../prover/signing.js';
import { challengeDigest, challengeText, signChallenge } from '../../sdk/apiAuth.js';

const ROLLUP = '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9';
const secret = randomSecret();
const patient: RegisteredAccount = { account: 7, role: 'Patient', active: true, publicKey: publicKeyOf(secret) };

function sessions(clock: { now: number }, extra: Partial<ConstructorParameters<typeof Sessions>[0]> = {}): Sessions {
  return new Sessions({ chainId: 31337, rollup: ROLLUP, secret: 'x'.repeat(32), tokenTtlSeconds: 900, challengeTtlSeconds: 120, now: () => clock.now, ...extra });
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
  return undefined;
}

test('a signed challenge gives a token naming the account and role; the token verifies until it expires', () => {
  const clock = { now: 1_000_000 };
  const s = sessions(clock);
  const c = s.challenge(7);
  expect(c).toMatchObject({ chainId: 31337, rollup: ROLLUP.toLowerCase(), account: 7, expiresAt: 1_000_120 });
  expect(challengeText(c)).toContain(`account:7\nnonce:${c.nonce}`);
  const { token, viewer } = s.signIn(c.nonce, signChallenge(secret, c), patient, 7);
  expect(viewer).toEqual({ account: 7, role: 'Patient', expiresAt: 1_000_900 });
  expect(s.verify(token)).toEqual(viewer);
  // Another replica with the same secret accepts it; one with another secret does not.
  expect(sessions(clock).verify(token)).toEqual(viewer);
  expect(code(() => sessions(clock, { secret: 'y'.repeat(32) }).verify(token))).toBe('UNAUTHENTICATED');
  clock.now = 1_000_901;
  expect(code(() => s.verify(token))).toBe('UNAUTHENTICATED');
  expect(s.verify(undefined)).toBeUndefined();
});

test('wrong key, reused, expired or foreign challenges and tampered tokens are refused', () => {
  const clock = { now: 2_000_000 };
  const s = sessions(clock);
  const c1 = s.challenge(7);
  expect(code(() => s.signIn(c1.nonce, signChallenge(randomSecret(), c1), patient, 7))).toBe('UNAUTHENTICATED');
  // Consumed by the failed try.
  expect(code(() => s.signIn(c1.nonce, signChallenge(secret, c1), patient, 7))).toBe('UNAUTHENTICATED');
  // A challenge for another account.
  const c2 = s.challenge(8);
  expect(code(() => s.signIn(c2.nonce, signChallenge(secret, c2), patient, 7))).toBe('UNAUTHENTICATED');
  // Expired.
  const c3 = s.challenge(7);
  clock.now += 121;
  expect(code(() => s.signIn(c3.nonce, signChallenge(secret, c3), patient, 7))).toBe('UNAUTHENTICATED');
  // Unregistered and deactivated accounts.
  const c4 = s.challenge(7);
  expect(code(() => s.signIn(c4.nonce, signChallenge(secret, c4), undefined, 7))).toBe('UNAUTHENTICATED');
  const c5 = s.challenge(7);
  expect(code(() => s.signIn(c5.nonce, signChallenge(secret, c5), { ...patient, role: 'Hospital', active: false }, 7))).toBe('FORBIDDEN');
  // A signature over something else (here: the digest + 1) is not a signature of the challenge.
  const c6 = s.challenge(7);
  expect(code(() => s.signIn(c6.nonce, signMessage(secret, challengeDigest(c6) + 1n), patient, 7))).toBe('UNAUTHENTICATED');

  const c7 = s.challenge(7);
  const { token } = s.signIn(c7.nonce, signChallenge(secret, c7), patient, 7);
  const [prefix, body, mac] = token.split('.');
  const forgedBody = Buffer.from(JSON.stringify({ account: 8, role: 'Hospital', expiresAt: clock.now + 900 })).toString('base64url');
  expect(code(() => s.verify(`${prefix}.${forgedBody}.${mac}`))).toBe('UNAUTHENTICATED');
  expect(code(() => s.verify(`${prefix}.${body}`))).toBe('UNAUTHENTICATED');
  expect(code(() => s.verify('nonsense'))).toBe('UNAUTHENTICATED');
});

test('outstanding challenges are bounded: the oldest go first', () => {
  const s = sessions({ now: 3_000_000 }, { maxChallenges: 3 });
  const first = s.challenge(7);
  for (let i = 0; i < 3; i++) s.challenge(7);
  expect(code(() => s.signIn(first.nonce, signChallenge(secret, first), patient, 7))).toBe('UNAUTHENTICATED');
});

test('bearer header parsing', () => {
  expect(bearer(undefined)).toBeUndefined();
  expect(bearer('Bearer abc.def')).toBe('abc.def');
  expect(code(() => bearer('Basic Zm9v'))).toBe('UNAUTHENTICATED');
});
