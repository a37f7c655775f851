/**
 * A local Redis for `npm start` and the tests: finds `redis-server` (installing the Debian package
 * when it is missing and we may), starts it on a loopback port with command-line config only, and
 * checks an external server given by REDIS_URL. BullMQ needs `maxmemory-policy noeviction`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describeExit, probePort, spawnManaged, type ServiceExit } from './devnet/service.js';
import { aptInstall, findExecutable, isListening, stopServiceStartedByInstall } from './devnet/system.js';

export class RedisError extends Error {
  override readonly name = 'RedisError';
}

export interface FindRedisOptions {
  /** Install the Debian package when redis-server is missing (root + apt-get only); default true. */
  install?: boolean;
  /** Receives progress lines (the apt-get output while installing). */
  log?: (line: string) => void;
}

export interface RedisOptions {
  port: number;
  /** Interface to listen on; 127.0.0.1 unless told. */
  host?: string;
  /**
   * Keep the data here (append-only file, fsync every second; written out on stop) so a restart on
   * the same dir resumes it. Without it the server keeps nothing on disk.
   */
  dataDir?: string;
  /** Used in logs and errors; also names the env var suggested when the port is busy (<NAME>_PORT, REDIS_PORT unless told). */
  name?: string;
  /** Receives redis-server's output lines (it logs at level warning) and lifecycle notes. */
  log?: (line: string) => void;
  /** The redis-server to run; found (or installed) with findRedisServer when not given. */
  binary?: string;
  /** Passed to findRedisServer when binary is not given; default true. */
  install?: boolean;
  /** How long to wait for PING to answer PONG; default 15 000 ms. */
  readyTimeoutMs?: number;
}

export type RedisExit = ServiceExit;

export interface RedisServer {
  readonly name: string;
  /** redis://host:port, for ioredis / BullMQ (REDIS_URL). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the process has exited, whether through stop() or not. */
  readonly exited: Promise<RedisExit>;
  /** SIGTERM (Redis flushes and fsyncs its append-only file), up to 5 s grace, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_LINES = 20;
/** Where the Debian package's service listens. */
const DEBIAN_SERVICE_PORT = 6379;
const HOW_TO_GET_REDIS =
  'install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) ' +
  'or set REDIS_URL to a running Redis (with maxmemory-policy noeviction)';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------
// Finding and installing redis-server

async function installRedisServer(log: (line: string) => void): Promise<string> {
  const started = Date.now();
  const listeningBefore = await isListening(DEBIAN_SERVICE_PORT);
  log('redis-server not found: installing the Debian package redis-server');
  try {
    await aptInstall('redis-server', { noRecommends: true, lockTimeoutSeconds: 300, log });
  } catch (err) {
    throw new RedisError(`redis-server was not found on PATH and could not be installed: ${(err as Error).message}; ${HOW_TO_GET_REDIS}`);
  }
  await stopServiceStartedByInstall({
    what: 'redis-server',
    port: DEBIAN_SERVICE_PORT,
    listeningBefore,
    unit: 'redis-server',
    service: 'redis-server',
    stoppers: [[findExecutable('redis-cli'), ['-h', '127.0.0.1', '-p', String(DEBIAN_SERVICE_PORT), 'shutdown', 'nosave']]],
    waitMs: 3_000,
    log,
  });
  const binary = findExecutable('redis-server');
  if (!binary) {
    throw new RedisError(`apt-get installed redis-server but no redis-server executable is on PATH or in /usr/bin: ${HOW_TO_GET_REDIS}`);
  }
  log(`installed ${binary} in ${seconds(started)}`);
  return binary;
}

let cachedServer: string | undefined;
let installing: Promise<string> | undefined;

/**
 * The redis-server executable: from PATH (or /usr/bin, /usr/sbin, /usr/local/bin); when missing and
 * install is not false, installs the Debian package (as root, with apt-get), leaving no service of
 * its own running on 6379. Throws RedisError saying how to get one otherwise.
 */
export async function findRedisServer(opts: FindRedisOptions = {}): Promise<string> {
  if (cachedServer && existsSync(cachedServer)) return cachedServer;
  const found = findExecutable('redis-server');
  if (found) return (cachedServer = found);
  if (opts.install === false) throw new RedisError(`redis-server was not found on PATH: ${HOW_TO_GET_REDIS}`);
  const log = (line: string) => opts.log?.(`[redis] ${line}`);
  // Concurrent callers share one install.
  installing ??= installRedisServer(log).finally(() => {
    installing = undefined;
  });
  return (cachedServer = await installing);
}

// ---------------------------------------------------------------------------------------------
// A minimal RESP2 client: enough for PING, INFO and CONFIG GET without a connection pool or retries.

class ReplyError {
  constructor(readonly message: string) {}
}
type Reply = string | number | null | ReplyError | Reply[];

interface Endpoint {
  host: string;
  port: number;
  tls?: boolean;
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Parses one reply at pos: [reply, next position], or undefined when more bytes are needed. */
function parseReply(buf: Buffer, pos: number): [Reply, number] | undefined {
  if (pos >= buf.length) return undefined;
  const type = String.fromCharCode(buf[pos] ?? 0);
  if (!'+-:$*'.includes(type)) throw new Error(`got ${JSON.stringify(buf.toString('utf8', pos, pos + 40).split('\r\n')[0])}`);
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', pos + 1, eol);
  const after = eol + 2;
  switch (type) {
    case '+':
      return [line, after];
    case '-':
      return [new ReplyError(line), after];
    case ':':
      return [Number(line), after];
    case '$': {
      const length = Number(line);
      if (length < 0) return [null, after];
      if (buf.length < after + length + 2) return undefined;
      return [buf.toString('utf8', after, after + length), after + length + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, after];
      const items: Reply[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (!item) return undefined;
        items.push(item[0]);
        next = item[1];
      }
      return [items, next];
    }
    default:
      return undefined; // unreachable: checked above
  }
}

/**
 * Sends the commands pipelined on one connection and resolves with their replies (error replies as
 * ReplyError). Rejects with an Error carrying code (ECONNREFUSED, ETIMEDOUT, ...) when the server
 * cannot be reached or does not answer within timeoutMs.
 */
function sendCommands(endpoint: Endpoint, commands: string[][], timeoutMs: number): Promise<Reply[]> {
  return new Promise((resolveReplies, reject) => {
    const socket: Socket = endpoint.tls
      ? tlsConnect({ host: endpoint.host, port: endpoint.port, ...(isIP(endpoint.host) ? {} : { servername: endpoint.host }) })
      : netConnect({ host: endpoint.host, port: endpoint.port });
    let buffer = Buffer.alloc(0);
    let pos = 0;
    const replies: Reply[] = [];
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolveReplies(replies);
    };
    const timer = setTimeout(() => {
      finish(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => socket.write(commands.map(encodeCommand).join('')));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        for (let parsed = parseReply(buffer, pos); parsed; parsed = parseReply(buffer, pos)) {
          replies.push(parsed[0]);
          pos = parsed[1];
          if (replies.length === commands.length) return finish();
        }
      } catch (err) {
        finish(Object.assign(err as Error, { code: 'EPROTO' }));
      }
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(Object.assign(new Error('connection closed before the server answered'), { code: 'ECONNRESET' })));
  });
}

// ---------------------------------------------------------------------------------------------
// An external Redis (REDIS_URL)

interface UrlTarget extends Endpoint {
  username?: string;
  password?: string;
  db?: number;
}

/** The URL with its password replaced, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

function parseRedisUrl(url: string): UrlTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisError(`REDIS_URL ${redactUrl(url)} is not a URL: expected redis://[[user]:password@]host[:port][/db]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RedisError(`REDIS_URL ${redactUrl(url)} must start with redis:// (or rediss:// for TLS)`);
  }
  const path = u.pathname.replace(/^\//, '');
  if (path && !/^\d+$/.test(path)) throw new RedisError(`REDIS_URL ${redactUrl(url)}: the path must be a database number, like /0`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: path ? Number(path) : undefined,
  };
}

/**
 * Checks that the Redis at url answers PING (authenticating and selecting the db the URL names).
 * Throws RedisError when it cannot be reached or refuses us; only warns (through log, else
 * console.warn) when its maxmemory-policy is not noeviction, which BullMQ needs.
 */
export async function pingRedis(url: string, timeoutMs = 2_000, log?: (line: string) => void): Promise<void> {
  const target = parseRedisUrl(url);
  const shown = redactUrl(url);
  const warn = (line: string) => (log ? log(`[redis] ${line}`) : console.warn(`[redis] ${line}`));
  const commands: string[][] = [];
  if (target.password !== undefined) {
    commands.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
  }
  if (target.db !== undefined) commands.push(['SELECT', String(target.db)]);
  commands.push(['PING'], ['CONFIG', 'GET', 'maxmemory-policy']);

  let replies: Reply[];
  try {
    replies = await sendCommands(target, commands, timeoutMs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EPROTO' ? `it does not speak the Redis protocol: ${e.message}` : `${e.code ?? 'error'}: ${e.message}`;
    throw new RedisError(`Redis at ${shown} is unreachable (${why}); start it, fix REDIS_URL, or unset REDIS_URL to run a local redis-server`);
  }
  let i = 0;
  if (target.password !== undefined) {
    const auth = replies[i++];
    if (auth instanceof ReplyError) throw new RedisError(`Redis at ${shown} refused the credentials in REDIS_URL: ${auth.message}`);
  }
  if (target.db !== undefined) {
    const select = replies[i++];
    if (select instanceof ReplyError) throw new RedisError(`Redis at ${shown} refused database ${target.db}: ${select.message}`);
  }
  const pong = replies[i++];
  if (pong instanceof ReplyError && pong.message.startsWith('NOAUTH')) {
    throw new RedisError(`Redis at ${shown} needs a password: put it in REDIS_URL as redis://:PASSWORD@host:port (or redis://USER:PASSWORD@...)`);
  }
  if (pong !== 'PONG') {
    const got = pong instanceof ReplyError ? pong.message : JSON.stringify(pong);
    throw new RedisError(`Redis at ${shown} did not answer PING with PONG: ${got}`);
  }
  const policy = replies[i];
  if (policy instanceof ReplyError || !Array.isArray(policy) || typeof policy[1] !== 'string') {
    const why = policy instanceof ReplyError ? policy.message : 'no answer';
    warn(`could not read maxmemory-policy of ${shown} (${why}); BullMQ needs noeviction: make sure the server runs with it`);
  } else if (policy[1] !== 'noeviction') {
    warn(
      `Redis at ${shown} has maxmemory-policy ${policy[1]}; BullMQ needs noeviction or it may lose jobs ` +
        `(CONFIG SET maxmemory-policy noeviction, or set it in redis.conf)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// A local redis-server

/** Tries to bind host:port; undefined when that works, else the error code (EADDRINUSE, EACCES, ...). */
function envName(name: string | undefined): string {
  return name ? name.toUpperCase().replace(/[^A-Z0-9]+/g, '_') : 'REDIS';
}

/** Throws RedisError when host:port cannot be bound, naming the <NAME>_PORT / <NAME>_HOST variable to change. */
async function assertPortFree(port: number, host: string, name: string | undefined): Promise<void> {
  const code = await probePort(port, host);
  if (code === undefined) return;
  const env = envName(name);
  if (code === 'EADDRINUSE') {
    throw new RedisError(
      `port ${port} is in use: is another Redis running? set ${env}_PORT to another port, or REDIS_URL to use a running Redis`,
    );
  }
  throw new RedisError(`cannot listen on ${host}:${port} (${code}): set ${code === 'EACCES' ? `${env}_PORT` : `${env}_HOST`}`);
}

/**
 * Starts redis-server on host:port (command-line config, no config file): protected mode, no
 * eviction (BullMQ), warnings only, and either no persistence or an append-only file in dataDir.
 * Resolves once PING answers PONG from this very process.
 */
export async function startRedis(opts: RedisOptions): Promise<RedisServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port;
  const name = opts.name ?? `redis:${port}`;
  const url = `redis://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const note = (line: string) => opts.log?.(`[${name}] ${line}`);

  await assertPortFree(port, host, opts.name);
  const binary = opts.binary ?? (await findRedisServer({ install: opts.install, log: opts.log }));

  // Without dataDir nothing is saved; a private scratch dir still keeps a stray SAVE out of the cwd.
  const scratchDir = opts.dataDir ? undefined : mkdtempSync(join(tmpdir(), `redis-${port}-`));
  const dir = opts.dataDir ? resolve(opts.dataDir) : (scratchDir as string);
  mkdirSync(dir, { recursive: true });
  const args = [
    '--port', String(port),
    '--bind', host,
    '--protected-mode', 'yes',
    '--daemonize', 'no',
    '--dir', dir,
    '--save', '',
    '--appendonly', opts.dataDir ? 'yes' : 'no',
    '--appendfsync', 'everysec',
    '--maxmemory-policy', 'noeviction',
    '--loglevel', 'warning',
  ]; // prettier-ignore

  // redis-server logs to stdout; config errors go to stderr. Keep the tail of both for errors.
  const proc = spawnManaged({
    name,
    what: 'redis-server',
    binary,
    args,
    cwd: dir,
    stopSignal: 'SIGTERM',
    graceMs: STOP_GRACE_MS,
    tailLines: OUTPUT_TAIL_LINES,
    tailStreams: 'both',
    log: opts.log,
    onExit: () => {
      if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
    },
  });
  const { tail, stop } = proc;

  // Wait for PONG from this process (INFO's process_id: not another server that took the port
  // meanwhile), or for the process to die trying. LOADING (replaying the AOF) means keep waiting.
  const timeoutMs = opts.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spawnError = proc.spawnError();
    if (spawnError) throw new RedisError(`${name}: could not start ${binary}: ${spawnError.message}`);
    const died = proc.died();
    if (died) {
      throw new RedisError(`${name}: redis-server exited during startup (${describeExit(died.code, died.signal)}) on ${url}${tail()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new RedisError(`${name}: redis-server did not answer PING on ${url} within ${timeoutMs / 1000} s${tail()}`);
    }
    let answeredPid: number | undefined;
    try {
      const [pong, info] = await sendCommands({ host, port }, [['PING'], ['INFO', 'server']], 1_000);
      if (pong === 'PONG' && typeof info === 'string') answeredPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    } catch {
      // not listening yet
    }
    if (answeredPid !== undefined) {
      if (answeredPid === proc.child.pid) break;
      await stop();
      throw new RedisError(`${name}: ${url} is answered by another Redis (pid ${answeredPid}): set ${envName(opts.name)}_PORT to a free port`);
    }
    await sleep(100);
  }
  proc.markReady();
  note(`listening on ${url} (pid ${proc.child.pid}, ${opts.dataDir ? `append-only file in ${dir}` : 'no persistence'})`);

  return { name, url, host, port, pid: proc.pid, exited: proc.exited, stop };
}
