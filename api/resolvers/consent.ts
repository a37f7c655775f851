import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { isPatient, requireViewer } from '../access.js';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import { Consent, Transaction } from '../types.js';
import { limit, uint32 } from './args.js';
import { consentOf, transactionOf } from './mappers.js';

const OPS = new Set(['Upload', 'Update', 'Grant', 'Revoke', 'Access', 'Claim']);

@Resolver()
export class ConsentResolver {
  @Query(() => [Consent], {
    description: 'Consents as finalized on L1, by patient or by grantee. Patients see their own; institutions see the consents that name them.',
  })
  async consents(
    @Ctx() ctx: Context,
    @Arg('patient', () => Int, { nullable: true }) patient?: number,
    @Arg('grantee', () => Int, { nullable: true }) grantee?: number,
    @Arg('activeOnly', () => Boolean, { defaultValue: true }) activeOnly = true,
    @Arg('limit', () => Int, { nullable: true }) max?: number,
  ): Promise<Consent[]> {
    const viewer = requireViewer(ctx);
    if (patient === undefined && grantee === undefined) throw new ApiError('BAD_USER_INPUT', 'give patient or grantee');
    if (patient !== undefined) uint32(patient, 'patient');
    if (grantee !== undefined) uint32(grantee, 'grantee');
    if (isPatient(viewer)) {
      if (patient !== undefined && patient !== viewer.account) throw new ApiError('FORBIDDEN', 'patients see only their own consents');
      patient = viewer.account;
    } else {
      if (grantee !== undefined && grantee !== viewer.account) throw new ApiError('FORBIDDEN', 'institutions see only the consents that name them');
      grantee = viewer.account;
    }
    return (await ctx.services.store.consents({ patient, grantee, activeOnly }, limit(max, 'limit', 100, 1_000))).map(consentOf);
  }

  @Query(() => [Transaction], {
    description: "Finalized transactions about a patient (its audit trail): the patient sees all; an institution sees those it made.",
  })
  async transactions(
    @Arg('patient', () => Int) patient: number,
    @Ctx() ctx: Context,
    @Arg('op', () => String, { nullable: true }) op?: string,
    @Arg('limit', () => Int, { nullable: true }) max?: number,
  ): Promise<Transaction[]> {
    const viewer = requireViewer(ctx);
    uint32(patient, 'patient');
    if (op !== undefined && !OPS.has(op)) throw new ApiError('BAD_USER_INPUT', `op must be one of ${[...OPS].join(', ')}`, { argument: 'op' });
    if (isPatient(viewer) && viewer.account !== patient) throw new ApiError('FORBIDDEN', 'patients see only their own transactions');
    const actor = isPatient(viewer) ? undefined : viewer.account;
    return (await ctx.services.store.transactions({ subject: patient, actor, op }, limit(max, 'limit', 100, 1_000))).map(transactionOf);
  }
}
