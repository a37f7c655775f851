/**
 * What every resolver gets: the caller (from its session token, or none) and the services the
 * API reads. Built per HTTP request and per graphql-ws connection.
 */
import type { RollupClient } from '../sdk/rollupClient.js';
import type { Sessions, Viewer } from './auth.js';
import type { Shared } from './cache.js';
import type { EventFeeds } from './events.js';
import type { ForeignChain } from './foreign.js';
import type { IndexerStore } from './indexerStore.js';
import type { SystemStats } from './types.js';

export interface Services {
  readonly store: IndexerStore;
  readonly sequencer: RollupClient;
  readonly sessions: Sessions;
  readonly feeds: EventFeeds;
  readonly chainId: number;
  readonly rollup: string;
  /** The dashboard figures, shared by all callers for a second. */
  readonly stats: Shared<SystemStats>;
  /** The partner chain's ForeignRoots, when the deployment has one. */
  readonly foreign: ForeignChain | undefined;
}

export interface Context {
  readonly viewer: Viewer | undefined;
  readonly services: Services;
  /** Per-operation memo of lookups several resolvers repeat (e.g. whether the caller's institution is active). */
  readonly memo: Map<string, Promise<unknown>>;
}

export function createContext(viewer: Viewer | undefined, services: Services): Context {
  return { viewer, services, memo: new Map() };
}
