/**
 * The feeds behind the subscriptions, in one pub/sub (type-graphql's, from @graphql-yoga):
 *
 *   BullMQ QueueEvents (Redis) --PipelineEvents--> BATCH   sequenced, proving, proven, submitted, finalized, failed
 *   Ponder live query (batches)  -----------------> BATCH   finalized (the indexed BatchFinalized)
 *   Ponder live query (consents) -----------------> CONSENT a consent row changed (grant, revoke, forced revoke)
 *   Ponder live query (transactions, Access) -----> ACCESS  an access was finalized
 *   Ponder live query (foreign roots) ------------> BATCH   relayed (its root accepted on the partner chain)
 *
 * FINALIZED comes from both sources, each naming itself: the settlement worker's receipt (first,
 * when the API runs next to the pipeline) and the indexed chain event (with the batch's tx count
 * and root; what any API replica sees). Clients that want one per batch filter on `source`.
 * The first result of each live query (a snapshot taken when it connects) is history, not news:
 * it seeds the seen-sets and is not published; after a reconnect the snapshot is diffed like any
 * update, so what changed while the indexer was away is published then.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { PipelineEvent, PipelineEvents } from '../prover/pipeline.js';
import type { BatchRow, ConsentRow, ForeignRootRow, IndexerStore, TransactionRow } from './indexerStore.js';

export type BatchStage = 'SEQUENCED' | 'PROVING' | 'PROVEN' | 'SUBMITTED' | 'FINALIZED' | 'FAILED' | 'RELAYED';

export interface BatchEventPayload {
  readonly batch: number;
  readonly stage: BatchStage;
  /** pipeline (the Redis queues) or indexer (the chain, through Ponder). */
  readonly source: 'pipeline' | 'indexer';
  /** Unix milliseconds when the API saw it. */
  readonly at: number;
  readonly l1Block?: number | undefined;
  readonly l1TxHash?: string | undefined;
  readonly proveMs?: number | undefined;
  readonly txCount?: number | undefined;
  readonly newRoot?: string | undefined;
  readonly reason?: string | undefined;
  /** Set when l1Block/l1TxHash are on another chain (RELAYED: the partner chain). */
  readonly chainId?: number | undefined;
}

export type Topics = {
  BATCH: [BatchEventPayload];
  CONSENT: [ConsentRow];
  ACCESS: [TransactionRow];
};

export type Hub = ReturnType<typeof createPubSub<Topics>>;

const LIVE_WINDOW = 200;
/** Keys remembered to publish each indexed row once. */
const SEEN_MEMORY = 4_096;

/** Adds `key` to a bounded seen-set (oldest forgotten first); false when it was there already. */
function firstSight<K>(seen: Set<K>, key: K): boolean {
  if (seen.has(key)) return false;
  seen.add(key);
  if (seen.size > SEEN_MEMORY) seen.delete(seen.values().next().value!);
  return true;
}

export class EventFeeds {
  readonly hub: Hub = createPubSub<Topics>();
  private readonly stops: (() => void)[] = [];
  /** Batches whose indexed row was seen (published, or history at start). */
  private readonly finalized = new Set<number>();
  private readonly seenConsents = new Map<string, bigint>();
  private readonly seenAccesses = new Set<string>();
  private readonly relayed = new Set<number>();
  private primed = { batches: false, consents: false, accesses: false, relayed: false };
  /** Recent activity for the dashboard's throughput figure: (unix ms, tx count) per finalized batch. */
  readonly recentFinalized: { at: number; txCount: number; batch: number }[] = [];

  constructor(private readonly log: (line: string) => void = () => {}) {}

  publishBatch(e: BatchEventPayload): void {
    if (e.stage === 'FINALIZED' && e.source === 'indexer') {
      this.recentFinalized.push({ at: e.at, txCount: e.txCount ?? 0, batch: e.batch });
      if (this.recentFinalized.length > 256) this.recentFinalized.shift();
    }
    this.hub.publish('BATCH', e);
  }

  /** Redis-side stages of every batch, from any process's workers. */
  attachPipeline(events: PipelineEvents): void {
    this.stops.push(
      events.on((e: PipelineEvent) => {
        const base = { batch: e.batch, source: 'pipeline' as const, at: e.at, l1TxHash: e.l1TxHash, proveMs: e.proveMs, reason: e.reason };
        this.publishBatch({ ...base, stage: e.stage.toUpperCase() as BatchStage, l1Block: e.l1Block });
      }),
    );
  }

  /** Chain-side events through Ponder's live queries. */
  attachIndexer(store: IndexerStore, relay?: { readonly chainId: number; readonly origin: number }): void {
    const onError = (what: string) => (err: Error) => this.log(`live query (${what}) failed: ${err.message}; retrying`);
    if (relay) this.stops.push(store.liveForeignRoots(relay.chainId, relay.origin, LIVE_WINDOW, (rows) => this.onForeignRoots(rows), onError('foreign roots')));
    this.stops.push(store.liveBatches(LIVE_WINDOW, (rows) => this.onBatches(rows), onError('batches')));
    this.stops.push(store.liveConsents(LIVE_WINDOW, (rows) => this.onConsents(rows), onError('consents')));
    this.stops.push(store.liveTransactions(LIVE_WINDOW, (rows) => this.onTransactions(rows), onError('transactions')));
  }

  private onBatches(rows: BatchRow[]): void {
    const primed = this.primed.batches;
    this.primed.batches = true;
    for (const row of [...rows].reverse()) {
      const batch = Number(row.batchIndex);
      if (!firstSight(this.finalized, batch) || !primed) continue;
      this.publishBatch({
        batch,
        stage: 'FINALIZED',
        source: 'indexer',
        at: Date.now(),
        l1Block: Number(row.l1Block),
        l1TxHash: row.l1TxHash,
        txCount: row.txCount,
        newRoot: row.newRoot,
      });
    }
  }

  private onForeignRoots(rows: ForeignRootRow[]): void {
    const primed = this.primed.relayed;
    this.primed.relayed = true;
    for (const row of [...rows].reverse()) {
      const batch = Number(row.batchIndex);
      if (!firstSight(this.relayed, batch) || !primed) continue;
      this.publishBatch({ batch, stage: 'RELAYED', source: 'indexer', at: Date.now(), l1Block: Number(row.block), l1TxHash: row.txHash, chainId: row.chainId, newRoot: row.stateRoot.toString() });
    }
  }

  private onConsents(rows: ConsentRow[]): void {
    const primed = this.primed.consents;
    this.primed.consents = true;
    for (const row of [...rows].reverse()) {
      const key = `${row.patient}:${row.slot}`;
      const version = row.updatedBlock;
      if (this.seenConsents.get(key) === version) continue;
      this.seenConsents.set(key, version);
      if (primed) this.hub.publish('CONSENT', row);
    }
  }

  private onTransactions(rows: TransactionRow[]): void {
    const primed = this.primed.accesses;
    this.primed.accesses = true;
    for (const row of [...rows].reverse()) {
      if (row.op !== 'Access') continue;
      if (firstSight(this.seenAccesses, `${row.batchIndex}:${row.position}`) && primed) this.hub.publish('ACCESS', row);
    }
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }
}
