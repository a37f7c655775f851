import { filter, pipe } from '@graphql-yoga/subscription';
import { Arg, Int, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { isPatient, requireViewer } from '../access.js';
import type { Context } from '../context.js';
import type { BatchEventPayload } from '../events.js';
import { ApiError } from '../errors.js';
import type { ConsentRow, TransactionRow } from '../indexerStore.js';
import { BatchEvent, BatchStage, Consent, Transaction } from '../types.js';
import { uint32 } from './args.js';
import { consentOf, transactionOf } from './mappers.js';

type Data = SubscribeResolverData<unknown, { patient?: number; stages?: BatchStage[] }, Context>;

/** A patient follows its own events; an institution follows those about it (grantee or actor). */
function viewerFilter(data: Data, institutionSide: (row: ConsentRow | TransactionRow, account: number) => boolean) {
  const viewer = requireViewer(data.context);
  const patient = uint32(data.args.patient ?? -1, 'patient');
  if (isPatient(viewer) && viewer.account !== patient) throw new ApiError('FORBIDDEN', 'patients follow only their own events');
  return (row: ConsentRow | TransactionRow): boolean => {
    const subject = 'subject' in row ? row.subject : row.patient;
    return subject === patient && (isPatient(viewer) || institutionSide(row, viewer.account));
  };
}

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => BatchEvent, {
    description: 'Every batch through the pipeline: sequenced, proving, proven, submitted (Redis queues) and finalized (the chain, through the indexer), or failed. Public.',
    subscribe: ({ context, args }: Data) => {
      const stages = args.stages;
      const all = context.services.feeds.hub.subscribe('BATCH');
      return stages && stages.length > 0 ? pipe(all, filter((e: BatchEventPayload) => stages.includes(e.stage as BatchStage))) : all;
    },
  })
  batchEvents(@Root() e: BatchEventPayload, @Arg('stages', () => [BatchStage], { nullable: true }) _stages?: BatchStage[]): BatchEvent {
    return { ...e, stage: e.stage as BatchStage };
  }

  @Subscription(() => Consent, {
    description: "A patient's consent changed on L1 (grant, revoke, forced revoke). The patient sees all; an institution those naming it.",
    subscribe: (data: Data) => {
      const allowed = viewerFilter(data, (row, account) => (row as ConsentRow).grantee === account);
      return pipe(data.context.services.feeds.hub.subscribe('CONSENT'), filter((row: ConsentRow) => allowed(row)));
    },
  })
  consentChanged(@Root() row: ConsentRow, @Arg('patient', () => Int) _patient: number): Consent {
    return consentOf(row);
  }

  @Subscription(() => Transaction, {
    description: "An access to a patient's records was finalized on L1. The patient sees every access; an institution its own.",
    subscribe: (data: Data) => {
      const allowed = viewerFilter(data, (row, account) => (row as TransactionRow).actor === account);
      return pipe(data.context.services.feeds.hub.subscribe('ACCESS'), filter((row: TransactionRow) => allowed(row)));
    },
  })
  accessLogged(@Root() row: TransactionRow, @Arg('patient', () => Int) _patient: number): Transaction {
    return transactionOf(row);
  }
}
