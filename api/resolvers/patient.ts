import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { assertCanReadPatient, isPatient, liveAccount, requireViewer } from '../access.js';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import { Institution, Patient } from '../types.js';
import { limit, uint32 } from './args.js';
import { institutionOf, patientOf } from './mappers.js';

@Resolver()
export class PatientResolver {
  @Query(() => Patient, { nullable: true, description: 'A patient account: the patient itself, or an institution it consented to.' })
  async patient(@Arg('account', () => Int) account: number, @Ctx() ctx: Context): Promise<Patient | null> {
    await assertCanReadPatient(ctx, uint32(account, 'account'));
    const row = await ctx.services.store.patient(account);
    return row ? patientOf(row, await liveAccount(ctx, account)) : null;
  }

  @Query(() => [Patient], { description: 'Patients the caller may see: itself, or (institutions) those with an active consent to it.' })
  async patients(@Ctx() ctx: Context, @Arg('limit', () => Int, { nullable: true }) max?: number): Promise<Patient[]> {
    const viewer = requireViewer(ctx);
    const n = limit(max, 'limit', 100, 500);
    let accounts: number[];
    if (isPatient(viewer)) accounts = [viewer.account];
    else {
      const granted = await ctx.services.store.consents({ grantee: viewer.account, activeOnly: true }, 2_000);
      accounts = [...new Set(granted.map((c) => c.patient))];
    }
    const out: Patient[] = [];
    for (const row of await ctx.services.store.patients(accounts.slice(0, n))) {
      // The indexed consent may be stale: the live state decides, as for patient().
      try {
        await assertCanReadPatient(ctx, row.accountIndex);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'FORBIDDEN') continue;
        throw err;
      }
      out.push(patientOf(row, await liveAccount(ctx, row.accountIndex)));
    }
    return out;
  }

  @Query(() => [Institution], { description: 'The institution registry (public on the Gateway).' })
  async institutions(@Ctx() ctx: Context, @Arg('limit', () => Int, { nullable: true }) max?: number): Promise<Institution[]> {
    return (await ctx.services.store.institutions(limit(max, 'limit', 100, 1_000))).map(institutionOf);
  }
}
