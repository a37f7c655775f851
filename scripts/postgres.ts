/**
 * A local PostgreSQL for the tests and local use (the indexer's DATABASE_URL): finds the server
 * binaries (installing the Debian package when they are missing and we may), creates a cluster of
 * our own with initdb and runs `postgres` on a loopback port as a managed child process. Debian's
 * own cluster (5432, started by the package's service scripts) is neither used nor needed.
 *
 * PostgreSQL refuses to run as root: as root the cluster belongs to, and the server runs as, the
 * `postgres` user the package creates (else `nobody`), through setpriv (which execs, so signals
 * reach postgres itself).
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './devnet/anvil.js';
import { describeExit, probePort, spawnManaged, type ServiceExit } from './devnet/service.js';
import { aptInstall, findExecutable, isExecutableFile, isListening, stopServiceStartedByInstall } from './devnet/system.js';

export class PostgresError extends Error {
  override readonly name = 'PostgresError';
}

export interface PostgresBinaries {
  /** The directory holding initdb, postgres and psql (e.g. /usr/lib/postgresql/15/bin). */
  readonly binDir: string;
  readonly initdb: string;
  readonly postgres: string;
  readonly psql: string;
  /** Major version, from the directory name or `postgres --version`; 0 when unknown. */
  readonly version: number;
}

export interface FindPostgresOptions {
  /** Install the Debian package when the server is missing (root + apt-get only); default true. */
  install?: boolean;
  /** Receives progress lines (the apt-get output while installing). */
  log?: (line: string) => void;
}

export interface PostgresOptions {
  /** Loopback port to listen on; a free one (never 5432) unless told. */
  port?: number;
  /**
   * Keep the cluster in this directory (created with initdb when empty or missing, reused when it
   * holds one) so a restart on the same dir resumes it. Without it the cluster lives in a temp dir,
   * with fsync off, removed when the server stops.
   */
  dir?: string;
  /** Receives postgres's output lines and lifecycle notes. */
  log?: (line: string) => void;
  /** Role the URL logs in as (the cluster's superuser); default medrollup. */
  user?: string;
  /** Its password; a random one unless told (set again on every start). */
  password?: string;
  /** Database the URL names, created when missing; default medrollup. */
  database?: string;
  /** Used in logs and errors; default postgres:<port>. */
  name?: string;
  /** Passed to findPostgres; default true. */
  install?: boolean;
  /** How long to wait for the server to accept connections; default 30 000 ms. */
  readyTimeoutMs?: number;
}

export type PostgresExit = ServiceExit;

export interface PostgresServer {
  readonly name: string;
  /** postgres://user:password@127.0.0.1:port/database (DATABASE_URL). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The cluster's data directory. */
  readonly dataDir: string;
  readonly pid: number;
  readonly binaries: PostgresBinaries;
  /** Resolves when the process has exited, whether through stop() or not. */
  readonly exited: Promise<PostgresExit>;
  /**
   * Runs SQL with psql over the URL (TCP, password auth) and resolves with its unaligned,
   * tuples-only output: one line per row, columns separated by |. Rejects on any SQL error.
   */
  query(sql: string): Promise<string>;
  /** SIGINT (fast shutdown: disconnects clients, checkpoints), up to 10 s grace, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_LINES = 20;
/** Where Debian's cluster (and most others) listen; ours never picks it. */
const DEFAULT_PG_PORT = 5432;
const HOW_TO_GET_POSTGRES =
  'install the PostgreSQL server (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql) ' +
  'or set DATABASE_URL to a running Postgres';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code (-1 when it could not be run) and output. */
function run(command: string, args: string[], options: ExecFileOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolveRun) => {
    execFile(command, args, { timeout: options.timeoutMs ?? 15_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8', ...options }, (err, stdout, stderr) => {
      const code = !err ? 0 : typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1;
      resolveRun({ code, stdout: String(stdout ?? ''), stderr: String(stderr ?? '') || (code === -1 && err ? err.message : '') });
    });
  });
}

/** The environment for the PostgreSQL programs: ours without PG* variables (PGHOST, PGDATA...), C locale. */
function pgEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, LC_ALL: 'C', LANG: 'C', ...extra };
}

// ---------------------------------------------------------------------------------------------
// Finding and installing the server

function binariesIn(binDir: string): PostgresBinaries | undefined {
  const [initdb, postgres, psql] = ['initdb', 'postgres', 'psql'].map((n) => join(binDir, n)) as [string, string, string];
  if (!isExecutableFile(initdb) || !isExecutableFile(postgres) || !isExecutableFile(psql)) return undefined;
  const version = Number(/postgresql\/(\d+)\/bin$/.exec(binDir)?.[1] ?? 0);
  return { binDir, initdb, postgres, psql, version };
}

/** The newest /usr/lib/postgresql/<major>/bin with a server (Debian), else initdb + postgres on PATH. */
function locateBinaries(): PostgresBinaries | undefined {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) {
      const found = binariesIn(join(debian, major, 'bin'));
      if (found) return found;
    }
  }
  // Elsewhere (Homebrew, Fedora, a source build) the server sits on PATH with initdb next to it.
  // On Debian /usr/bin/psql etc. are wrappers, but they do not include initdb or postgres.
  const postgres = findExecutable('postgres');
  return postgres ? binariesIn(dirname(postgres)) : undefined;
}

async function installPostgres(log: (line: string) => void): Promise<PostgresBinaries> {
  const started = Date.now();
  const listeningBefore = await isListening(DEFAULT_PG_PORT);
  log('the PostgreSQL server (initdb, postgres) was not found: installing the Debian package postgresql');
  try {
    await aptInstall('postgresql', { noRecommends: true, lockTimeoutSeconds: 600, log });
  } catch (err) {
    throw new PostgresError(`the PostgreSQL server was not found and could not be installed: ${(err as Error).message}; ${HOW_TO_GET_POSTGRES}`);
  }
  const binaries = locateBinaries();
  if (!binaries) {
    throw new PostgresError(`apt-get installed postgresql but no initdb/postgres/psql is in /usr/lib/postgresql/*/bin: ${HOW_TO_GET_POSTGRES}`);
  }
  const pgCtlCluster = findExecutable('pg_ctlcluster');
  await stopServiceStartedByInstall({
    what: 'PostgreSQL',
    port: DEFAULT_PG_PORT,
    listeningBefore,
    unit: 'postgresql',
    service: 'postgresql',
    stoppers: binaries.version ? [[pgCtlCluster, ['-m', 'fast', String(binaries.version), 'main', 'stop']]] : [],
    waitMs: 5_000,
    log,
  });
  log(`installed PostgreSQL ${binaries.version || ''} (${binaries.binDir}) in ${seconds(started)}`);
  return binaries;
}

let cached: PostgresBinaries | undefined;
let installing: Promise<PostgresBinaries> | undefined;

/**
 * The PostgreSQL server binaries: the newest /usr/lib/postgresql/<major>/bin, else postgres on
 * PATH with initdb and psql next to it; when missing and install is not false, installs the Debian
 * package (as root, with apt-get), leaving no service of its own running on 5432. Throws
 * PostgresError saying how to get one otherwise.
 */
export async function findPostgres(opts: FindPostgresOptions = {}): Promise<PostgresBinaries> {
  if (cached && existsSync(cached.postgres)) return cached;
  const found = locateBinaries();
  if (found) return (cached = found);
  if (opts.install === false) throw new PostgresError(`the PostgreSQL server (initdb, postgres) was not found: ${HOW_TO_GET_POSTGRES}`);
  const log = (line: string) => opts.log?.(`[postgres] ${line}`);
  // Concurrent callers share one install.
  installing ??= installPostgres(log).finally(() => {
    installing = undefined;
  });
  return (cached = await installing);
}

// ---------------------------------------------------------------------------------------------
// Running as another user (root only)

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** The unprivileged account to run PostgreSQL as when we are root: postgres (the package's), else nobody. */
function unprivilegedUser(): RunAs {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // no passwd file: fall through to the error
  }
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
    const [, , uid, gid] = entry?.split(':') ?? [];
    if (uid !== undefined && gid !== undefined && Number(uid) !== 0) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new PostgresError('PostgreSQL refuses to run as root and there is no postgres or nobody user to run it as: run as another user');
}

/** A free loopback port other than 5432. */
async function pickPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port !== DEFAULT_PG_PORT) return port;
  }
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

// ---------------------------------------------------------------------------------------------
// A local server

/**
 * Creates (or reuses) a cluster and starts `postgres` on 127.0.0.1:port, with its Unix socket in a
 * private directory. Local (socket) connections are trusted, TCP ones need the password
 * (scram-sha-256). Resolves once the server answers queries, the role has its password and the
 * database exists.
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const host = '127.0.0.1';
  const port = opts.port ?? (await pickPort());
  const name = opts.name ?? `postgres:${port}`;
  const user = opts.user ?? 'medrollup';
  const password = opts.password ?? randomBytes(16).toString('hex');
  const database = opts.database ?? 'medrollup';
  const note = (line: string) => opts.log?.(`[${name}] ${line}`);

  const code = await probePort(port, host);
  if (code === 'EADDRINUSE') throw new PostgresError(`${name}: port ${port} is in use: is another Postgres running? pick another port`);
  if (code !== undefined) throw new PostgresError(`${name}: cannot listen on ${host}:${port} (${code})`);

  const binaries = await findPostgres({ install: opts.install, log: opts.log });
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  const setpriv = runAs ? findExecutable('setpriv') : undefined;
  if (runAs && !setpriv) throw new PostgresError('PostgreSQL refuses to run as root and setpriv (util-linux) is missing to run it as another user');
  const own = (path: string) => {
    if (runAs) chownSync(path, runAs.uid, runAs.gid);
  };

  // The scratch dir holds the socket, and the cluster too when no dir was given. mkdtemp makes it
  // 0700: only the server's user (and root) can reach the trusted socket.
  const scratchDir = mkdtempSync(join(tmpdir(), `postgres-${port}-`));
  own(scratchDir);
  const cleanup = () => rmSync(scratchDir, { recursive: true, force: true });
  const dataDir = opts.dir ? resolve(opts.dir) : join(scratchDir, 'data');
  const scratch = !opts.dir;
  const socketDir = scratchDir;

  let proc: ReturnType<typeof spawnManaged> | undefined;
  try {
    // initdb a new cluster unless the dir holds one already.
    const existing = existsSync(join(dataDir, 'PG_VERSION'));
    if (!existing) {
      if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
        throw new PostgresError(`${name}: ${dataDir} is neither empty nor a PostgreSQL data directory`);
      }
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      own(dataDir);
      const started = Date.now();
      const args = ['-D', dataDir, '-U', user, '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C', ...(scratch ? ['--no-sync'] : [])];
      const r = await run(binaries.initdb, args, {
        cwd: scratchDir,
        env: pgEnv(),
        timeoutMs: 120_000,
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      });
      if (r.code !== 0) {
        const out = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n    ');
        const hint = runAs ? ` (as user ${runAs.name}: it needs access to ${dirname(dataDir)})` : '';
        throw new PostgresError(`${name}: initdb failed (code ${r.code})${hint}:\n    ${out}`);
      }
      note(`initdb ${dataDir} in ${seconds(started)}`);
    }

    const serverArgs = [
      '-D', dataDir,
      '-p', String(port),
      '-k', socketDir,
      '-c', `listen_addresses=${host}`,
      '-c', 'log_destination=stderr',
      '-c', 'logging_collector=off',
      // A scratch cluster is thrown away: no need to survive a machine crash.
      ...(scratch ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ]; // prettier-ignore
    const [binary, args] = runAs
      ? [setpriv as string, [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--', binaries.postgres, ...serverArgs]]
      : [binaries.postgres, serverArgs];
    proc = spawnManaged({
      name,
      what: 'postgres',
      binary,
      args,
      cwd: scratchDir,
      env: pgEnv(runAs ? { HOME: scratchDir } : {}),
      stopSignal: 'SIGINT',
      graceMs: STOP_GRACE_MS,
      tailLines: OUTPUT_TAIL_LINES,
      tailStreams: 'both',
      log: opts.log,
      onExit: cleanup,
    });
  } catch (err) {
    cleanup();
    throw err;
  }
  const { tail, stop } = proc;

  // psql over the private socket (trusted): only this very server answers there.
  const socketSql = (sql: string, db = 'postgres') =>
    run(binaries.psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', user, '-d', db, '-c', sql], {
      env: pgEnv(),
      timeoutMs: 15_000,
    });

  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spawnError = proc.spawnError();
    if (spawnError) throw new PostgresError(`${name}: could not start ${binaries.postgres}: ${spawnError.message}`);
    const died = proc.died();
    if (died) throw new PostgresError(`${name}: postgres exited during startup (${describeExit(died.code, died.signal)}) on port ${port}${tail()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new PostgresError(`${name}: postgres did not accept connections on port ${port} within ${timeoutMs / 1000} s${tail()}`);
    }
    if ((await socketSql('SELECT 1')).stdout.trim() === '1' && (await isListening(port, host))) break;
    await sleep(100);
  }

  const fail = async (what: string, r: RunResult): Promise<never> => {
    await stop();
    throw new PostgresError(`${name}: ${what} failed: ${(r.stderr || r.stdout).trim()}`);
  };
  const setPassword = await socketSql(`ALTER ROLE ${quoteIdent(user)} WITH LOGIN PASSWORD ${quoteLiteral(password)}`);
  if (setPassword.code !== 0) await fail(`setting the password of role ${user}`, setPassword);
  const exists = await socketSql(`SELECT 1 FROM pg_database WHERE datname = ${quoteLiteral(database)}`);
  if (exists.code !== 0) await fail('listing the databases', exists);
  if (exists.stdout.trim() !== '1') {
    const created = await socketSql(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(user)}`);
    if (created.code !== 0) await fail(`creating database ${database}`, created);
  }
  proc.markReady();

  const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
  const withoutPassword = `postgres://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(database)}`;
  note(`listening on ${host}:${port} (pid ${proc.pid}${runAs ? `, as ${runAs.name}` : ''}, data in ${dataDir}${scratch ? ', removed on stop' : ''})`);

  const query = async (sql: string): Promise<string> => {
    const r = await run(binaries.psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', withoutPassword, '-c', sql], {
      env: pgEnv({ PGPASSWORD: password }),
      timeoutMs: 30_000,
    });
    if (r.code !== 0) throw new PostgresError(`${name}: query failed: ${(r.stderr || r.stdout).trim()}\n    ${sql}`);
    return r.stdout.replace(/\n$/, '');
  };

  return { name, url, host, port, user, password, database, dataDir, pid: proc.pid, binaries, exited: proc.exited, query, stop };
}
