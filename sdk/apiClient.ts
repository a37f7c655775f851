/**
 * The smallest client of the GraphQL API a service needs: sign in with an account's L2 key (the
 * challenge-response of sdk/apiAuth.ts) and run operations with the session token. Errors keep the
 * API's `extensions.code`.
 */
import { signChallenge, type AuthChallenge } from './apiAuth.js';
import { SdkError } from './errors.js';

export class ApiClientError extends SdkError<string> {
  override readonly name = 'ApiClientError';
}

export interface ApiSession {
  readonly token: string;
  readonly account: number;
  readonly role: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** POSTs one operation; throws ApiClientError with the first error's code (UNAVAILABLE when the API does not answer). */
export async function graphqlRequest<T>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string, timeoutMs = 15_000): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ApiClientError('UNAVAILABLE', `${url}: ${(err as Error).message} (is the API running? npm start)`);
  }
  const body = (await res.json().catch(() => undefined)) as GraphQLResponse<T> | undefined;
  const first = body?.errors?.[0];
  if (first) throw new ApiClientError(first.extensions?.code ?? `HTTP_${res.status}`, first.message);
  if (!res.ok || !body?.data) throw new ApiClientError(`HTTP_${res.status}`, `${url} answered ${res.status} without data`);
  return body.data;
}

/** Challenge, sign with the account's L2 secret, trade for a session token. */
export async function signInToApi(url: string, account: number, secret: Uint8Array): Promise<ApiSession> {
  const { challenge } = await graphqlRequest<{ challenge: AuthChallenge }>(url, 'mutation($a: Int!) { challenge(account: $a) { chainId rollup account nonce expiresAt } }', { a: account });
  const s = signChallenge(secret, challenge);
  const { signIn } = await graphqlRequest<{ signIn: ApiSession }>(
    url,
    'mutation($a: Int!, $n: String!, $s: SignatureInput!) { signIn(account: $a, nonce: $n, signature: $s) { token account role expiresAt } }',
    { a: account, n: challenge.nonce, s: { r8x: s.r8x.toString(), r8y: s.r8y.toString(), s: s.s.toString() } },
  );
  return signIn;
}
