/**
 * The executable schema, built from the resolver classes. scripts/schema.ts prints it to
 * schema.graphql at the repository root; npm test fails when that file and this build differ.
 */
import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { AuthResolver } from './resolvers/auth.js';
import { BatchResolver } from './resolvers/batch.js';
import { ConsentResolver } from './resolvers/consent.js';
import { ForeignResolver } from './resolvers/foreign.js';
import { PatientResolver } from './resolvers/patient.js';
import { SubscriptionResolver } from './resolvers/subscription.js';
import { SystemResolver } from './resolvers/system.js';
import { TransactionResolver } from './resolvers/transaction.js';

/** `pubSub`: the feeds' hub; subscriptions read it from their context, type-graphql only insists on one. */
export function buildApiSchema(pubSub: PubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [AuthResolver, BatchResolver, ConsentResolver, ForeignResolver, PatientResolver, SubscriptionResolver, SystemResolver, TransactionResolver],
    // Arguments are checked by hand in resolvers/args.ts; class-validator is not used.
    validate: false,
    pubSub,
  });
}
