/**
 * Runs the Ponder indexer (indexer/) as a managed child of `npm start`, for the deployment the
 * devnet wrote. Ponder runs from indexer/ (it writes generated/ under its working directory) with
 * telemetry off; it gets DATA_DIR and DEPLOYMENT_FILE from the config (so a test's config reaches it)
 * and DATABASE_URL from the inherited environment.
 */
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../sdk/config.js';
import { spawnManaged, type ManagedProcess } from './devnet/service.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface IndexerProcess {
  readonly url: string;
  readonly proc: ManagedProcess;
  stop(): Promise<void>;
}

export class IndexerError extends Error {
  override readonly name = 'IndexerError';
}

export interface StartIndexerOptions {
  /** How long to wait for /ready (default 120 s). */
  readonly timeoutMs?: number;
  /** Added to the child's environment (tests: a faster INDEXER_POLLING_MS, no DATABASE_URL). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `ponder start` and waits for /ready (Ponder answers 503 until its backfill is done). */
export async function startIndexer(config: Config, log: (line: string) => void, options: StartIndexerOptions = {}): Promise<IndexerProcess> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  // ponder's exports hide package.json and its bin (import only): find them from its ESM entry.
  const entry = fileURLToPath(import.meta.resolve('ponder'));
  const bin = join(entry.slice(0, entry.lastIndexOf(`${sep}dist${sep}`)), 'dist', 'esm', 'bin', 'ponder.js');
  const { host, port, schema } = config.indexer;
  const env = { ...process.env, PONDER_TELEMETRY_DISABLED: 'true', DATA_DIR: config.dataDir, DEPLOYMENT_FILE: config.deploymentFile, ...options.env };
  const proc = spawnManaged({
    name: 'indexer',
    what: 'ponder',
    binary: process.execPath,
    args: [bin, '--log-level', 'warn', 'start', '--root', '.', '--schema', schema, '--hostname', host, '--port', String(port)],
    cwd: join(ROOT, 'indexer'),
    env,
    stopSignal: 'SIGTERM',
    graceMs: 10_000,
    tailLines: 30,
    tailStreams: 'both',
    log,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let slowNoted = false;
  for (;;) {
    const gone = proc.died() ?? proc.spawnError();
    if (gone) throw new IndexerError(`ponder exited before it was ready${proc.tail()}`);
    try {
      if ((await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (!slowNoted && Date.now() > deadline - timeoutMs + 15_000) {
      slowNoted = true;
      log('[indexer] still starting (right after a restart Ponder waits up to ~20 s for its previous schema lock)');
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new IndexerError(`ponder was not ready on ${url} within ${timeoutMs / 1000} s (INDEXER_PORT in use?)${proc.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  proc.markReady();
  return { url, proc, stop: () => proc.stop() };
}
