/**
 * Read access to the indexer's tables over Ponder's SQL-over-HTTP endpoint (@ponder/client): the
 * API never opens the indexer's database itself, so it works the same on PGlite (embedded, inside
 * the Ponder process) and on Postgres. Queries are typed from indexer/ponder.schema.ts; live
 * queries (server-sent events) drive the subscriptions.
 */
import { and, asc, count, desc, eq, gt, lt, or, createClient, type Client } from '@ponder/client';
import * as schema from '../indexer/ponder.schema.js';
import { ApiError } from './errors.js';

export type PatientRow = typeof schema.patient.$inferSelect;
export type InstitutionRow = typeof schema.institution.$inferSelect;
export type BatchRow = typeof schema.batch.$inferSelect;
export type TransactionRow = typeof schema.transaction.$inferSelect;
export type ConsentRow = typeof schema.consent.$inferSelect;
export type ProvenanceAnchorRow = typeof schema.provenanceAnchor.$inferSelect;
export type ForeignRootRow = typeof schema.foreignRoot.$inferSelect;

export interface BatchPage {
  readonly rows: BatchRow[];
  readonly hasNext: boolean;
  readonly hasPrevious: boolean;
  readonly totalCount: number;
}

/** first/after walk forward (oldest first); last/before walk back from the newest. */
export interface BatchPageArgs {
  readonly first?: number | undefined;
  readonly after?: bigint | undefined;
  readonly last?: number | undefined;
  readonly before?: bigint | undefined;
}

export class IndexerStore {
  readonly client: Client<typeof schema>;

  constructor(
    readonly url: string,
    /** The chain whose Rollup the API serves (the settlement chain). */
    readonly chainId: number,
  ) {
    this.client = createClient(`${url}/sql`, { schema });
  }

  private async run<T>(what: string, query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (err) {
      throw new ApiError('UNAVAILABLE', `the indexer did not answer (${what}): ${(err as Error).message}`);
    }
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      return false;
    }
  }

  patient(account: number): Promise<PatientRow | undefined> {
    const t = schema.patient;
    return this.run('patient', async () => (await this.client.db.select().from(t).where(and(eq(t.chainId, this.chainId), eq(t.accountIndex, account))).limit(1))[0]);
  }

  patients(accounts: readonly number[]): Promise<PatientRow[]> {
    const t = schema.patient;
    if (accounts.length === 0) return Promise.resolve([]);
    return this.run('patients', () =>
      this.client.db
        .select()
        .from(t)
        .where(and(eq(t.chainId, this.chainId), or(...accounts.map((a) => eq(t.accountIndex, a)))))
        .orderBy(asc(t.accountIndex)),
    );
  }

  institutionByAccount(account: number): Promise<InstitutionRow | undefined> {
    const t = schema.institution;
    return this.run('institution', async () => (await this.client.db.select().from(t).where(and(eq(t.chainId, this.chainId), eq(t.accountIndex, account))).limit(1))[0]);
  }

  institutions(limit: number): Promise<InstitutionRow[]> {
    const t = schema.institution;
    return this.run('institutions', () => this.client.db.select().from(t).where(eq(t.chainId, this.chainId)).orderBy(asc(t.accountIndex)).limit(limit));
  }

  batch(index: bigint): Promise<BatchRow | undefined> {
    const t = schema.batch;
    return this.run('batch', async () => (await this.client.db.select().from(t).where(and(eq(t.chainId, this.chainId), eq(t.batchIndex, index))).limit(1))[0]);
  }

  /** Finalized batches of this chain. */
  batchCount(): Promise<number> {
    const t = schema.batch;
    return this.run('batch count', async () => Number((await this.client.db.select({ total: count() }).from(t).where(eq(t.chainId, this.chainId)))[0]?.total ?? 0));
  }

  async batchPage(args: BatchPageArgs): Promise<BatchPage> {
    const t = schema.batch;
    const onChain = eq(t.chainId, this.chainId);
    const backward = args.last !== undefined || args.before !== undefined;
    const n = (backward ? args.last : args.first) ?? 20;
    // One more row than asked says whether there is a further page; the count runs alongside.
    const page = this.run('batches', () =>
      backward
        ? this.client.db
            .select()
            .from(t)
            .where(args.before === undefined ? onChain : and(onChain, lt(t.batchIndex, args.before)))
            .orderBy(desc(t.batchIndex))
            .limit(n + 1)
        : this.client.db
            .select()
            .from(t)
            .where(args.after === undefined ? onChain : and(onChain, gt(t.batchIndex, args.after)))
            .orderBy(asc(t.batchIndex))
            .limit(n + 1),
    );
    const [rows, totalCount] = await Promise.all([page, this.batchCount()]);
    if (backward) return { rows: rows.slice(0, n).reverse(), hasPrevious: rows.length > n, hasNext: args.before !== undefined, totalCount };
    return { rows: rows.slice(0, n), hasNext: rows.length > n, hasPrevious: args.after !== undefined, totalCount };
  }

  /** Consents as indexed from finalized batches; either side may be given. */
  consents(filter: { patient?: number | undefined; grantee?: number | undefined; activeOnly: boolean }, limit: number): Promise<ConsentRow[]> {
    const t = schema.consent;
    const conditions = [eq(t.chainId, this.chainId)];
    if (filter.patient !== undefined) conditions.push(eq(t.patient, filter.patient));
    if (filter.grantee !== undefined) conditions.push(eq(t.grantee, filter.grantee));
    if (filter.activeOnly) conditions.push(eq(t.active, true));
    return this.run('consents', () =>
      this.client.db
        .select()
        .from(t)
        .where(and(...conditions))
        .orderBy(asc(t.patient), asc(t.slot))
        .limit(limit),
    );
  }

  /** Finalized transactions concerning a patient (as subject), newest first. */
  transactions(filter: { subject?: number | undefined; actor?: number | undefined; op?: string | undefined; batchIndex?: bigint | undefined }, limit: number): Promise<TransactionRow[]> {
    const t = schema.transaction;
    const conditions = [eq(t.chainId, this.chainId)];
    if (filter.subject !== undefined) conditions.push(eq(t.subject, filter.subject));
    if (filter.actor !== undefined) conditions.push(eq(t.actor, filter.actor));
    if (filter.op !== undefined) conditions.push(eq(t.op, filter.op));
    if (filter.batchIndex !== undefined) conditions.push(eq(t.batchIndex, filter.batchIndex));
    return this.run('transactions', () =>
      this.client.db
        .select()
        .from(t)
        .where(and(...conditions))
        .orderBy(desc(t.batchIndex), desc(t.position))
        .limit(limit),
    );
  }

  /** Roots from `origin` that the relay delivered to chain `chainId` (a partner chain), newest first. */
  foreignRoots(chainId: number, origin: number, limit: number): Promise<ForeignRootRow[]> {
    const t = schema.foreignRoot;
    return this.run('foreign roots', () =>
      this.client.db
        .select()
        .from(t)
        .where(and(eq(t.chainId, chainId), eq(t.origin, origin)))
        .orderBy(desc(t.batchIndex))
        .limit(limit),
    );
  }

  provenanceAnchor(root: string): Promise<ProvenanceAnchorRow | undefined> {
    const t = schema.provenanceAnchor;
    return this.run('provenance', async () => (await this.client.db.select().from(t).where(and(eq(t.chainId, this.chainId), eq(t.root, root.toLowerCase() as `0x${string}`))).limit(1))[0]);
  }

  /**
   * A live query that outlives the indexer's restarts. Ponder's live endpoint sends a result only
   * when it changes (never the current one), and EventSource gives up for good on an HTTP error
   * (Ponder answers 503 until its backfill is done), so: each error closes the stream and opens a
   * new one after a back-off, and each (re)connection is followed by a plain query whose result is
   * delivered like a live one. Callers diff every result against what they have seen; the first
   * result is the state at start.
   */
  private live<T>(what: string, query: (db: Client<typeof schema>['db']) => Promise<T>, onData: (rows: T) => void, onError: (err: Error) => void): () => void {
    let stopped = false;
    let current: { unsubscribe: () => void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let failures = 0;
    const connect = () => {
      if (stopped) return;
      current = this.client.live(
        query as never,
        (rows: T) => {
          failures = 0;
          if (!stopped) onData(rows);
        },
        (err: Error) => {
          current?.unsubscribe();
          current = undefined;
          if (stopped) return;
          failures++;
          // Ponder's first 503s while it gets ready are expected: report the third, then every minute or so.
          if (failures === 3 || (failures > 3 && failures % 12 === 0)) onError(new Error(`${what}: ${err.message} (${failures} tries)`));
          timer = setTimeout(connect, Math.min(250 * 2 ** Math.min(failures, 5), 5_000));
        },
      );
      query(this.client.db).then(
        (rows) => {
          if (!stopped) onData(rows);
        },
        // The stream's own error handler reconnects (and takes a new snapshot) when the indexer is down.
        () => undefined,
      );
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      current?.unsubscribe();
    };
  }

  /** The newest batches, pushed again whenever the batches table changes. */
  liveBatches(limit: number, onData: (rows: BatchRow[]) => void, onError: (err: Error) => void): () => void {
    const t = schema.batch;
    return this.live('batches', (db) => db.select().from(t).where(eq(t.chainId, this.chainId)).orderBy(desc(t.batchIndex)).limit(limit), onData, onError);
  }

  /** The newest roots from `origin` accepted on chain `chainId`, pushed again whenever that table changes. */
  liveForeignRoots(chainId: number, origin: number, limit: number, onData: (rows: ForeignRootRow[]) => void, onError: (err: Error) => void): () => void {
    const t = schema.foreignRoot;
    return this.live('foreign roots', (db) => db.select().from(t).where(and(eq(t.chainId, chainId), eq(t.origin, origin))).orderBy(desc(t.batchIndex)).limit(limit), onData, onError);
  }

  /** The most recently changed consents, pushed again whenever the consents table changes. */
  liveConsents(limit: number, onData: (rows: ConsentRow[]) => void, onError: (err: Error) => void): () => void {
    const t = schema.consent;
    return this.live('consents', (db) => db.select().from(t).where(eq(t.chainId, this.chainId)).orderBy(desc(t.updatedBlock)).limit(limit), onData, onError);
  }

  /** The newest finalized transactions, pushed again whenever the transactions table changes. */
  liveTransactions(limit: number, onData: (rows: TransactionRow[]) => void, onError: (err: Error) => void): () => void {
    const t = schema.transaction;
    return this.live('transactions', (db) => db.select().from(t).where(eq(t.chainId, this.chainId)).orderBy(desc(t.batchIndex), desc(t.position)).limit(limit), onData, onError);
  }
}
