import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { challengeDigest, challengeText } from '../../sdk/apiAuth.js';
import { INSTITUTION_ROLES, type RegisteredAccount, type Role } from '../auth.js';
import type { Context } from '../context.js';
import { Challenge, Session, SignatureInput } from '../types.js';
import { decimal, uint32 } from './args.js';


/** The account's key and role as registered on the Gateway (through the indexer). */
async function registered(ctx: Context, account: number): Promise<RegisteredAccount | undefined> {
  const institution = await ctx.services.store.institutionByAccount(account);
  if (institution && (INSTITUTION_ROLES as readonly string[]).includes(institution.role)) {
    return { account, role: institution.role as Role, active: institution.active, publicKey: { x: BigInt(institution.pubKeyX), y: BigInt(institution.pubKeyY) } };
  }
  const patient = await ctx.services.store.patient(account);
  if (patient) return { account, role: 'Patient', active: true, publicKey: { x: BigInt(patient.pubKeyX), y: BigInt(patient.pubKeyY) } };
  return undefined;
}

@Resolver()
export class AuthResolver {
  @Mutation(() => Challenge, { description: 'Step 1 of sign-in: a one-time challenge for the account to sign with its registered L2 key.' })
  challenge(@Arg('account', () => Int) account: number, @Ctx() ctx: Context): Challenge {
    const c = ctx.services.sessions.challenge(uint32(account, 'account'));
    return { ...c, text: challengeText(c), digest: challengeDigest(c).toString() };
  }

  @Mutation(() => Session, { description: 'Step 2 of sign-in: the signed challenge for a short-lived session token.' })
  async signIn(
    @Arg('account', () => Int) account: number,
    @Arg('nonce', () => String) nonce: string,
    @Arg('signature', () => SignatureInput) signature: SignatureInput,
    @Ctx() ctx: Context,
  ): Promise<Session> {
    const sig = { r8x: decimal(signature.r8x, 'signature.r8x'), r8y: decimal(signature.r8y, 'signature.r8y'), s: decimal(signature.s, 'signature.s') };
    const { token, viewer } = ctx.services.sessions.signIn(nonce, sig, await registered(ctx, uint32(account, 'account')), account);
    return { token, account: viewer.account, role: viewer.role, expiresAt: viewer.expiresAt };
  }

  @Query(() => Session, { nullable: true, description: 'The signed-in account (token omitted), or null when anonymous.' })
  me(@Ctx() ctx: Context): Session | null {
    const v = ctx.viewer;
    return v ? { token: '', account: v.account, role: v.role, expiresAt: v.expiresAt } : null;
  }
}

