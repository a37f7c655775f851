/**
 * The API process: Apollo Server (HTTP POST/GET /graphql) and graphql-ws (subscriptions on the
 * same port and path), the dashboard at /, and /health. Around every operation, on both
 * transports: a per-caller rate limit, graphql-armor's depth, cost, alias, directive and token
 * limits, and, with API_PERSISTED_ONLY, a safelist of persisted operations (api/persisted/*.graphql,
 * addressed by SHA-256 as in Apollo's automatic persisted queries).
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import express from 'express';
import { GraphQLError, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { WebSocketServer } from 'ws';
import type { ApiConfig } from '../sdk/config.js';
import { RollupClient } from '../sdk/rollupClient.js';
import { PipelineEvents } from '../prover/pipeline.js';
import { bearer, Sessions, type Viewer } from './auth.js';
import { createContext, type Context, type Services } from './context.js';
import { ApiError } from './errors.js';
import { Shared } from './cache.js';
import { EventFeeds } from './events.js';
import { ForeignChain, type ForeignChainOptions } from './foreign.js';
import { apiMetrics } from './metrics.js';
import { sendMetrics } from '../sdk/metrics.js';
import { IndexerStore } from './indexerStore.js';
import { computeStats } from './resolvers/system.js';
import { buildApiSchema } from './schema.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..');
export const GRAPHQL_PATH = '/graphql';

export interface ApiServerOptions {
  readonly api: ApiConfig;
  readonly indexerUrl: string;
  readonly sequencerUrl: string;
  /** The settlement chain and Rollup the API serves (session challenges are bound to them). */
  readonly chainId: number;
  readonly rollup: string;
  /** Redis of the proving pipeline with its key prefix; without it batchEvents has only indexer events. */
  readonly pipeline?: { readonly redisUrl: string; readonly prefix: string } | undefined;
  /** The partner chain's ForeignRoots (cross-chain checks); without it those queries answer UNAVAILABLE. */
  readonly partner?: ForeignChainOptions | undefined;
  readonly log?: (line: string) => void;
}

export interface ApiServer {
  readonly url: string;
  readonly wsUrl: string;
  readonly schema: GraphQLSchema;
  readonly services: Services;
  close(): Promise<void>;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The persisted operations: file name (operation) -> query text, and its APQ hash. */
export function persistedOperations(): { name: string; query: string; hash: string }[] {
  const dir = join(HERE, 'persisted');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => {
      const query = readFileSync(join(dir, f), 'utf8').trim();
      return { name: f.replace(/\.graphql$/, ''), query, hash: sha256(query) };
    });
}

/**
 * Hash-only requests for safelisted operations run; query text (even with a hash, which would
 * register it) is refused. Batched (array) bodies are refused anyway by Apollo with graphql-armor.
 */
function checkPersisted(body: unknown, safelist: ReadonlyMap<string, string>): void {
  const b = (body ?? {}) as { query?: unknown; extensions?: unknown };
  let ext = b.extensions;
  if (typeof ext === 'string') {
    try {
      ext = JSON.parse(ext);
    } catch {
      ext = undefined;
    }
  }
  const hash = (ext as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  if (b.query !== undefined || typeof hash !== 'string' || !safelist.has(hash)) {
    throw new ApiError('PERSISTED_QUERY_ONLY', 'this API runs persisted operations only: send extensions.persistedQuery.sha256Hash of a safelisted operation', { http: { status: 400 } });
  }
}

function rateLimitError(res: RateLimiterRes): ApiError {
  const retry = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new ApiError('RATE_LIMITED', `too many requests; retry in ${retry} s`, { retryAfterSeconds: retry, http: { status: 429 } });
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const log = opts.log ?? ((line: string) => console.log(`[api] ${line}`));
  const store = new IndexerStore(opts.indexerUrl, opts.chainId);
  const sessions = new Sessions({
    chainId: opts.chainId,
    rollup: opts.rollup,
    secret: opts.api.tokenSecret,
    tokenTtlSeconds: opts.api.tokenTtlSeconds,
    challengeTtlSeconds: opts.api.challengeTtlSeconds,
  });
  const feeds = new EventFeeds(log);
  const schema = await buildApiSchema(feeds.hub);
  const sequencer = new RollupClient(opts.sequencerUrl, { requestTimeoutMs: 5_000 });
  const stats = new Shared(1_000, () => computeStats({ store, sequencer, feeds }));
  const foreign = opts.partner ? new ForeignChain(opts.partner) : undefined;
  const services: Services = { store, sequencer, sessions, feeds, chainId: opts.chainId, rollup: opts.rollup, stats, foreign };

  let pipelineEvents: PipelineEvents | undefined;
  if (opts.pipeline) {
    pipelineEvents = await PipelineEvents.open({ url: opts.pipeline.redisUrl, maxRetriesPerRequest: null }, (err) => log(`pipeline events: ${err.message}`), opts.pipeline.prefix);
    feeds.attachPipeline(pipelineEvents);
  }
  feeds.attachIndexer(store, foreign ? { chainId: foreign.chainId, origin: opts.chainId } : undefined);

  const limiter = new RateLimiterMemory({ points: opts.api.rateLimitPerMinute, duration: 60 });
  const consume = async (key: string): Promise<void> => {
    try {
      await limiter.consume(key);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw rateLimitError(res);
      throw res;
    }
  };
  const callerKey = (viewer: Viewer | undefined, address: string | undefined): string => (viewer ? `account:${viewer.account}` : `ip:${address ?? 'unknown'}`);

  const armor = new ApolloArmor({
    maxDepth: { n: opts.api.maxDepth },
    costLimit: { maxCost: opts.api.maxCost },
    maxAliases: { n: 15 },
    maxDirectives: { n: 20 },
    maxTokens: { n: 2_000 },
    blockFieldSuggestion: { enabled: true },
  });
  const protection = armor.protect();
  const safelist = new Map(persistedOperations().map((op) => [op.hash, op.query]));
  const apqCache = new InMemoryLRUCache<string>({ maxSize: 2 ** 20 * 8 });
  for (const [hash, query] of safelist) await apqCache.set(`apq:${hash}`, query);

  const app = express();
  app.disable('x-powered-by');
  const http: Server = createServer(app);
  const wss = new WebSocketServer({ server: http, path: GRAPHQL_PATH, maxPayload: 64 * 1024 });
  const metrics = apiMetrics();
  wss.on('connection', (socket) => {
    metrics.sockets.inc();
    socket.once('close', () => metrics.sockets.dec());
  });
  const armorRules = protection.validationRules;
  const wsServer = useServer<{ token?: string }, { viewer?: Viewer | undefined }>(
    {
      schema,
      validate: (s, doc) => validate(s, doc, [...specifiedRules, ...armorRules]),
      onConnect: (ctx) => {
        let viewer: Viewer | undefined;
        try {
          viewer = sessions.verify(typeof ctx.connectionParams?.token === 'string' ? ctx.connectionParams.token : undefined);
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
        ctx.extra.viewer = viewer;
        if (viewer) {
          // Running subscriptions end with the session: the client reconnects with a fresh token.
          const timer = setTimeout(() => ctx.extra.socket.close(4401, 'session expired'), Math.max(0, viewer.expiresAt * 1000 - Date.now()));
          timer.unref();
          ctx.extra.socket.once('close', () => clearTimeout(timer));
        }
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        try {
          await consume(callerKey(ctx.extra.viewer, ctx.extra.request.socket.remoteAddress));
        } catch (err) {
          return [err as GraphQLError];
        }
        if (opts.api.persistedOnly && !safelist.has(sha256(payload.query.trim()))) {
          return [new ApiError('PERSISTED_QUERY_ONLY', 'this API runs persisted operations only')];
        }
        return undefined;
      },
      context: (ctx): Context => {
        // A session may end while its socket stays open: re-check on each operation.
        const viewer = ctx.extra.viewer && ctx.extra.viewer.expiresAt >= Date.now() / 1000 ? ctx.extra.viewer : undefined;
        return createContext(viewer, services);
      },
    },
    wss,
  );

  const apollo = new ApolloServer<Context>({
    schema,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      // graphql-armor's typings name @apollo/server's CJS build; the plugin objects are the same.
      ...(protection.plugins as unknown as ApolloServerPlugin<Context>[]),
      metrics.plugin as ApolloServerPlugin<Context>,
      ApolloServerPluginDrainHttpServer({ httpServer: http }),
      {
        async serverWillStart() {
          return {
            drainServer: async () => {
              await wsServer.dispose();
            },
          };
        },
      },
    ],
    validationRules: protection.validationRules,
    persistedQueries: { cache: apqCache, ttl: null },
    introspection: true,
    formatError: (formatted, err) => {
      // Unexpected failures keep their code but not their internals.
      const original = (err as { originalError?: unknown }).originalError;
      if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR' && !(original instanceof GraphQLError)) {
        log(`internal error: ${(original as Error | undefined)?.stack ?? String(err)}`);
        return { message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      }
      return formatted;
    },
  });
  await apollo.start();

  app.get('/metrics', (req, res) => void sendMetrics(metrics.registry, req, res));
  app.get('/health', async (_req, res) => {
    const [indexer, sequencer] = await Promise.all([store.ready(), services.sequencer.health().then(() => true, () => false)]);
    res.status(indexer && sequencer ? 200 : 503).json({ ok: indexer && sequencer, indexer, sequencer, pipelineEvents: pipelineEvents !== undefined });
  });
  app.get('/dashboard/operations.json', (_req, res) => {
    res.json(Object.fromEntries(persistedOperations().map((op) => [op.name, { query: op.query, sha256Hash: op.hash }])));
  });
  app.get('/dashboard/graphql-ws.js', (_req, res) => res.sendFile(join(REPO, 'node_modules', 'graphql-ws', 'umd', 'graphql-ws.min.js')));
  app.use('/dashboard', express.static(join(HERE, 'dashboard'), { index: 'index.html' }));
  app.get('/', (_req, res) => res.redirect('/dashboard/'));
  app.use(
    GRAPHQL_PATH,
    express.json({ limit: '64kb' }),
    async (req, res, next) => {
      let viewer: Viewer | undefined;
      try {
        viewer = sessions.verify(bearer(req.header('authorization')));
        await consume(callerKey(viewer, req.socket.remoteAddress));
        if (opts.api.persistedOnly) checkPersisted(req.method === 'GET' ? req.query : req.body, safelist);
      } catch (err) {
        const e = err as ApiError;
        const status = (e.extensions?.http as { status?: number } | undefined)?.status ?? 401;
        if (e.extensions?.code === 'RATE_LIMITED') res.setHeader('retry-after', String(e.extensions.retryAfterSeconds));
        res.status(status).json({ errors: [{ message: e.message, extensions: { code: e.extensions?.code ?? 'UNAUTHENTICATED' } }] });
        return;
      }
      res.locals.viewer = viewer;
      next();
    },
    expressMiddleware(apollo, { context: async ({ res }) => createContext(res.locals.viewer as Viewer | undefined, services) }),
  );

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.api.port, opts.api.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const host = opts.api.host.includes(':') ? `[${opts.api.host}]` : opts.api.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    wsUrl: `ws://${host}:${port}${GRAPHQL_PATH}`,
    schema,
    services,
    close: () =>
      (closing ??= (async () => {
        feeds.close();
        foreign?.close();
        await apollo.stop();
        await pipelineEvents?.close();
      })()),
  };
}
