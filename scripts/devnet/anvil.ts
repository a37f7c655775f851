/**
 * One local EVM chain: an anvil process from the npm package `@foundry-rs/anvil`, started on a given
 * port and chain id, optionally persisting its state to a file so a restart resumes the chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AnvilOptions {
  chainId: number;
  /** Interface to listen on; 127.0.0.1 unless told. */
  host?: string;
  port: number;
  /** Seconds between blocks; 0 or undefined = automine (a block per transaction). */
  blockTime?: number;
  /** Persist and resume chain state in this file (anvil --state, dumped on stop and every stateInterval s). */
  statePath?: string;
  /** Seconds between periodic state dumps when statePath is set; default 10. */
  stateInterval?: number;
  /** Used in logs and errors; also names the env var suggested when the port is busy (<NAME>_PORT). */
  name?: string;
  /** Receives anvil's output lines (anvil runs with --silent when no log is given) and lifecycle notes. */
  log?: (line: string) => void;
  /** How long to wait for the JSON-RPC endpoint to answer; default 20 000 ms. */
  readyTimeoutMs?: number;
}

export interface AnvilExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the exit was asked for through stop(). */
  readonly expected: boolean;
}

export interface AnvilChain {
  readonly name: string;
  readonly chainId: number;
  readonly url: string;
  readonly pid: number;
  /** Resolves when the process has exited, whether through stop() or not. */
  readonly exited: Promise<AnvilExit>;
  /** SIGINT (anvil dumps --state), up to 5 s grace, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

export class AnvilError extends Error {
  override readonly name = 'AnvilError';
}

const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_LINES = 20;

/** Children still running; killed by the process 'exit' safety net below. */
const live = new Set<ChildProcess>();
let safetyNetInstalled = false;

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  // Runs on normal exit, process.exit() and uncaught exceptions. Only synchronous work is possible
  // here: SIGINT lets anvil dump its state and exit on its own. A parent killed with SIGKILL cannot
  // clean up; its anvil children then keep running until killed.
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGINT');
      } catch {
        // already gone
      }
    }
  });
}

function platformPackage(): string | undefined {
  const platform = ({ linux: 'linux', darwin: 'darwin', win32: 'win32' } as Partial<Record<NodeJS.Platform, string>>)[process.platform];
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Partial<Record<string, string>>)[process.arch];
  return platform && arch ? `@foundry-rs/anvil-${platform}-${arch}` : undefined;
}

let cachedBinary: string | undefined;

/**
 * The anvil executable: the platform package's binary (@foundry-rs/anvil-<os>-<arch>), else the one
 * @foundry-rs/anvil's postinstall downloaded, else the node_modules/.bin wrapper.
 */
export function anvilBinary(): string {
  if (cachedBinary) return cachedBinary;
  const require = createRequire(import.meta.url);
  const pkg = platformPackage();
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  if (pkg) {
    try {
      const dir = dirname(require.resolve(`${pkg}/package.json`));
      const bin = join(dir, 'bin', exe);
      if (existsSync(bin)) return (cachedBinary = bin);
    } catch {
      // platform package not installed: try the wrapper
    }
  }
  try {
    // @foundry-rs/anvil's postinstall downloads the binary here when the platform package is missing.
    const downloaded = join(dirname(require.resolve('@foundry-rs/anvil/package.json')), exe);
    if (existsSync(downloaded)) return (cachedBinary = downloaded);
  } catch {
    // wrapper package not installed either
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const base of [root, process.cwd()]) {
    const wrapper = join(base, 'node_modules', '.bin', process.platform === 'win32' ? 'anvil.cmd' : 'anvil');
    if (existsSync(wrapper)) return (cachedBinary = wrapper);
  }
  throw new AnvilError(
    `anvil not found: neither ${pkg ?? `a @foundry-rs/anvil build for ${process.platform}-${process.arch}`} nor node_modules/.bin/anvil is installed; run npm install`,
  );
}

/** Tries to bind host:port; undefined when that works, else the error code (EADDRINUSE, EACCES, ...). */
function probePort(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => resolvePort(err.code ?? err.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolvePort(undefined)));
  });
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return (await probePort(port, host)) === undefined;
}

/** Throws AnvilError when host:port cannot be bound, suggesting the <NAME>_PORT / <NAME>_HOST variable to change. */
export async function assertPortFree(port: number, host = '127.0.0.1', name?: string): Promise<void> {
  const code = await probePort(port, host);
  if (code === undefined) return;
  const env = (what: string) => (name ? `set ${name.toUpperCase()}_${what}` : `choose another ${what.toLowerCase()}`);
  if (code === 'EADDRINUSE') throw new AnvilError(`port ${port} is in use: is another devnet running? ${env('PORT')}`);
  throw new AnvilError(`cannot listen on ${host}:${port} (${code}): ${code === 'EACCES' ? env('PORT') : env('HOST')}`);
}

/** Asks the OS for a free loopback port (for tests). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** Sends one JSON-RPC call; resolves with the result or throws. */
export async function rpcCall<T = unknown>(url: string, method: string, params: unknown[] = [], timeoutMs = 2_000): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

export async function startAnvil(opts: AnvilOptions): Promise<AnvilChain> {
  const host = opts.host ?? '127.0.0.1';
  const name = opts.name ?? `anvil:${opts.port}`;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${opts.port}`;
  const note = (line: string) => opts.log?.(`[${name}] ${line}`);

  await assertPortFree(opts.port, host, opts.name);
  const binary = anvilBinary();

  const args = ['--host', host, '--port', String(opts.port), '--chain-id', String(opts.chainId)];
  if (opts.blockTime && opts.blockTime > 0) args.push('--block-time', String(opts.blockTime));
  if (opts.statePath) {
    mkdirSync(dirname(opts.statePath), { recursive: true });
    args.push('--state', opts.statePath, '--state-interval', String(opts.stateInterval ?? 10));
  }
  if (!opts.log) args.push('--silent');

  const child = spawn(binary, args, {
    // Own process group: a Ctrl-C in the terminal reaches the parent, which stops the chains in
    // order; the 'exit' safety net covers the parent going away.
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  installSafetyNet();
  live.add(child);

  const stderrTail: string[] = [];
  const lines = (stream: NodeJS.ReadableStream | null, isErr: boolean) => {
    let buffered = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const raw of parts) {
        const line = raw.trimEnd();
        if (!line) continue;
        if (isErr) {
          stderrTail.push(line);
          if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
        }
        opts.log?.(`[${name}] ${line}`);
      }
    });
  };
  lines(child.stdout, false);
  lines(child.stderr, true);
  const tail = () => (stderrTail.length ? `\n  anvil stderr:\n    ${stderrTail.join('\n    ')}` : '');

  let stopping = false;
  let ready = false;
  let spawnError: Error | undefined;
  const exited = new Promise<AnvilExit>((resolveExit) => {
    child.once('error', (err) => {
      // spawn failure (ENOENT, EACCES): no 'exit' follows
      spawnError = err;
      live.delete(child);
      resolveExit({ code: null, signal: null, expected: stopping });
    });
    child.once('exit', (code, signal) => {
      live.delete(child);
      const expected = stopping;
      if (!expected && ready) {
        const msg = `[${name}] anvil exited unexpectedly (${describeExit(code, signal)})${tail()}`;
        if (opts.log) opts.log(msg);
        else console.error(msg);
      }
      resolveExit({ code, signal, expected });
    });
  });

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopPromise ??= (async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null || spawnError) {
        await exited;
        return;
      }
      child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!graceful) {
        note(`did not exit within ${STOP_GRACE_MS / 1000} s of SIGINT; killing`);
        child.kill('SIGKILL');
        await exited;
      }
    })());

  // Wait for the JSON-RPC endpoint, or for the process to die trying.
  const timeoutMs = opts.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let died: AnvilExit | undefined;
  void exited.then((e) => (died = e));
  let answered: string | undefined;
  while (!answered) {
    if (spawnError) throw new AnvilError(`${name}: could not start ${binary}: ${spawnError.message}`);
    if (died) {
      throw new AnvilError(`${name}: anvil exited during startup (${describeExit(died.code, died.signal)}) on ${url}${tail()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new AnvilError(`${name}: anvil did not answer JSON-RPC on ${url} within ${timeoutMs / 1000} s${tail()}`);
    }
    try {
      answered = await rpcCall<string>(url, 'eth_chainId', [], 1_000);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (Number(answered) !== opts.chainId) {
    await stop();
    throw new AnvilError(`${name}: ${url} answered chain id ${Number(answered)}, expected ${opts.chainId}`);
  }
  ready = true;
  note(`listening on ${url} (chain id ${opts.chainId}, pid ${child.pid})`);

  return { name, chainId: opts.chainId, url, pid: child.pid ?? -1, exited, stop };
}
