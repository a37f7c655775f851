/**
 * Who may see what. Batches, roots, anchors and the institution registry are public chain data.
 * A patient sees its own account, consents and transactions. An institution sees a patient only
 * while it holds an unexpired consent of the needed scope in the live L2 state (the sequencer's),
 * so a revoke takes effect at once, not when its batch is finalized; it sees consents that name
 * it and transactions it made. An institution that governance deactivated sees no patient data,
 * even with a session issued before. When the sequencer cannot be asked, access is refused
 * (UNAVAILABLE), never granted from a possibly stale copy.
 */
import { isRollupError, type AccountState } from '../sdk/rollupClient.js';
import { Scope } from '../prover/codec.js';
import type { Viewer } from './auth.js';
import type { Context } from './context.js';
import { ApiError } from './errors.js';

export function requireViewer(ctx: Context): Viewer {
  if (!ctx.viewer) throw new ApiError('UNAUTHENTICATED', 'sign in first (mutation challenge, then signIn) and send the token');
  return ctx.viewer;
}

export const isPatient = (v: Viewer): boolean => v.role === 'Patient';

/** One lookup per operation however many resolvers ask (ctx.memo). */
function memo<T>(ctx: Context, key: string, load: () => Promise<T>): Promise<T> {
  let value = ctx.memo.get(key) as Promise<T> | undefined;
  if (!value) {
    value = load();
    ctx.memo.set(key, value);
  }
  return value;
}

/**
 * An account's live L2 state from the sequencer (key, nonce, index hash, consents); undefined
 * while the sequencer has not applied its registration. UNAVAILABLE when it cannot be asked.
 */
export function liveAccount(ctx: Context, account: number): Promise<AccountState | undefined> {
  return memo(ctx, `account:${account}`, async () => {
    try {
      return await ctx.services.sequencer.account(account);
    } catch (err) {
      if (isRollupError(err, 'UNKNOWN_ACCOUNT')) return undefined;
      throw new ApiError('UNAVAILABLE', `the sequencer did not answer: ${(err as Error).message}`);
    }
  });
}

/** True when `grantee` holds an unexpired consent of `patient` with the scope bits. */
export async function consentAllows(ctx: Context, patient: number, grantee: number, scope: number = Scope.Read): Promise<boolean> {
  const state = await liveAccount(ctx, patient);
  const now = BigInt(Math.floor(Date.now() / 1000));
  return state !== undefined && state.consents.some((c) => c.grantee === grantee && (c.scope & scope) === scope && c.expiry > now);
}

/** Sessions outlive a deactivation by up to their TTL: the registry is asked again per operation. */
export async function assertActiveInstitution(ctx: Context, viewer: Viewer): Promise<void> {
  const active = await memo(ctx, `active:${viewer.account}`, async () => (await ctx.services.store.institutionByAccount(viewer.account))?.active === true);
  if (!active) throw new ApiError('FORBIDDEN', `institution account ${viewer.account} is not active`);
}

/** Throws FORBIDDEN unless the viewer is the patient or an institution with a read consent. */
export async function assertCanReadPatient(ctx: Context, patient: number): Promise<Viewer> {
  const viewer = requireViewer(ctx);
  if (isPatient(viewer)) {
    if (viewer.account === patient) return viewer;
    throw new ApiError('FORBIDDEN', 'patients see only their own data');
  }
  await assertActiveInstitution(ctx, viewer);
  if (await consentAllows(ctx, patient, viewer.account)) return viewer;
  throw new ApiError('FORBIDDEN', `no active consent from patient ${patient} to account ${viewer.account}`);
}
