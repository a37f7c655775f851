/**
 * The Ponder indexer (indexer/) for the indexer tests: started as npm start starts it
 * (scripts/indexer.ts), on a free port with its own database schema and a faster chain poll, and
 * read over SQL over HTTP (@ponder/client, as api/ does).
 */
import { hexlify, randomBytes } from 'ethers';
import { createClient, type Client } from '@ponder/client';
import * as schema from '../../indexer/ponder.schema.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startIndexer as startIndexerProcess } from '../../scripts/indexer.js';
import { loadConfig } from '../../sdk/config.js';
import { until as poll } from './until.js';


export interface IndexerProcess {
  /** http://127.0.0.1:<port> */
  readonly base: string;
  /** SQL over HTTP client typed from indexer/ponder.schema.ts. */
  readonly client: Client<typeof schema>;
  /** When `ponder start` was spawned (Date.now()). */
  readonly startedAt: number;
  /** Polls `check` every 200 ms until it returns a value (errors count as "not yet"). */
  until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T>;
  /** SIGTERM, SIGKILL after the grace period. Idempotent. */
  stop(): Promise<void>;
}

export { schema };

/** Starts `ponder start` and resolves once /ready answers 200. */
export async function startIndexer(opts: { dataDir: string; deploymentFile: string; readyTimeoutMs?: number }): Promise<IndexerProcess> {
  const config = loadConfig({
    DATA_DIR: opts.dataDir,
    DEPLOYMENT_FILE: opts.deploymentFile,
    INDEXER_PORT: String(await freePort()),
    INDEXER_SCHEMA: `test_${hexlify(randomBytes(4)).slice(2)}`,
  });
  const output: string[] = [];
  const startedAt = Date.now();
  const indexer = await startIndexerProcess(config, (line) => output.push(line), {
    timeoutMs: opts.readyTimeoutMs ?? 60_000,
    env: { INDEXER_POLLING_MS: '200', DATABASE_URL: '' },
  });
  const tail = (lines = 40) => output.slice(-lines).map((l) => `    ${l}`).join('\n');

  function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    return poll(what, check, timeoutMs, {
      intervalMs: 200,
      context: tail,
      abort: () => {
        const gone = indexer.proc.died();
        return gone ? `indexer exited (${gone.signal ?? gone.code})` : undefined;
      },
    });
  }

  return { base: indexer.url, client: createClient(`${indexer.url}/sql`, { schema }), startedAt, until, stop: indexer.stop };
}
