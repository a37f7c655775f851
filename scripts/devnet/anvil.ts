/**
 * One local EVM chain: an anvil process from the npm package `@foundry-rs/anvil`, started on a given
 * port and chain id, optionally persisting its state to a file so a restart resumes the chain.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeExit, probePort, spawnManaged, type ServiceExit } from './service.js';

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

export type AnvilExit = ServiceExit;

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

/**
 * Ports freePort hands out: below Linux's ephemeral range (32768-60999), because a port the OS picks
 * from that range can be given to any outgoing connection (to a chain, Redis...) in the seconds
 * before the service that was meant to have it binds it. Each jest worker draws from its own
 * 2,000-port block, so parallel test files never pick the same port.
 */
const PORT_BLOCK = 2_000;
const PORT_BASE = 20_000;
const handedOut = new Set<number>();
let cursor = -1;

/** A free loopback port for a service a test or bench is about to start; never the same twice in a process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const worker = Number(process.env.JEST_WORKER_ID ?? 0) % 6;
  const first = PORT_BASE + worker * PORT_BLOCK;
  if (cursor < 0) cursor = randomInt(PORT_BLOCK);
  for (let tried = 0; tried < PORT_BLOCK; tried++) {
    const port = first + (cursor++ % PORT_BLOCK);
    if (handedOut.has(port)) continue;
    if ((await probePort(port, host)) !== undefined) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${first}..${first + PORT_BLOCK - 1} on ${host}`);
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

  const proc = spawnManaged({
    name,
    what: 'anvil',
    binary,
    args,
    stopSignal: 'SIGINT',
    graceMs: STOP_GRACE_MS,
    tailLines: STDERR_TAIL_LINES,
    tailStreams: 'stderr',
    log: opts.log,
  });
  const { tail, stop } = proc;

  // Wait for the JSON-RPC endpoint, or for the process to die trying.
  const timeoutMs = opts.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let answered: string | undefined;
  while (!answered) {
    const spawnError = proc.spawnError();
    if (spawnError) throw new AnvilError(`${name}: could not start ${binary}: ${spawnError.message}`);
    const died = proc.died();
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
  proc.markReady();
  note(`listening on ${url} (chain id ${opts.chainId}, pid ${proc.child.pid})`);

  return { name, chainId: opts.chainId, url, pid: proc.pid, exited: proc.exited, stop };
}
