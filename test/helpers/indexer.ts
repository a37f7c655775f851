/**
 * Runs the Ponder indexer (indexer/) as a real process (`ponder start`) against a deployment file,
 * on a free port with its own database schema, and reads its tables over SQL over HTTP
 * (@ponder/client, as api/ does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hexlify, randomBytes } from 'ethers';
import { createClient, type Client } from '@ponder/client';
import * as schema from '../../indexer/ponder.schema.js';
import { freePort } from '../../scripts/devnet/anvil.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PONDER_BIN = join(ROOT, 'node_modules', 'ponder', 'dist', 'esm', 'bin', 'ponder.js');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface IndexerProcess {
  /** http://127.0.0.1:<port> */
  readonly base: string;
  /** SQL over HTTP client typed from indexer/ponder.schema.ts. */
  readonly client: Client<typeof schema>;
  /** When `ponder start` was spawned (Date.now()). */
  readonly startedAt: number;
  /** The last lines the process printed, indented, for error messages. */
  tail(lines?: number): string;
  /** Polls `check` every 200 ms until it returns a value (errors count as "not yet"). */
  until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T>;
  /** SIGTERM, SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

export { schema };

/** Starts `ponder start` and resolves once /ready answers 200. */
export async function startIndexer(opts: { dataDir: string; deploymentFile: string; readyTimeoutMs?: number }): Promise<IndexerProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const startedAt = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [PONDER_BIN, '--log-format', 'json', 'start', '--root', join(ROOT, 'indexer'), '--schema', `test_${hexlify(randomBytes(4)).slice(2)}`, '--port', String(port), '--hostname', '127.0.0.1'],
    {
      // Ponder writes generated/schema.graphql under its working directory, not its root.
      cwd: join(ROOT, 'indexer'),
      env: { ...process.env, DATA_DIR: opts.dataDir, DEPLOYMENT_FILE: opts.deploymentFile, PONDER_TELEMETRY_DISABLED: 'true', INDEXER_POLLING_MS: '200', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => output.push(...chunk.split('\n').filter((l) => l.length > 0)));
  }
  const tail = (lines = 40) => output.slice(-lines).map((l) => `    indexer| ${l}`).join('\n');

  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`indexer exited (${child.exitCode}) while waiting for ${what}\n${tail()}`);
      let value: T | undefined;
      try {
        value = await check();
      } catch {
        value = undefined;
      }
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${tail()}`);
      await sleep(200);
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    })());

  try {
    await until('the indexer to be ready', async () => ((await fetch(`${base}/ready`)).status === 200 ? true : undefined), opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, client: createClient(`${base}/sql`, { schema }), startedAt, tail, until, stop };
}
