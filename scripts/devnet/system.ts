/**
 * System programs the project runs but npm cannot ship (redis-server, PostgreSQL, Chromium for the
 * browser tests): finding an executable, installing a Debian package with apt-get when we are root,
 * and stopping the service such a package starts.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { delimiter, join } from 'node:path';
import { describeExit } from './service.js';

const OUTPUT_TAIL_LINES = 20;

/** Thrown by aptInstall; callers wrap it in their own error type with their how-to. */
export class SystemInstallError extends Error {
  override readonly name = 'SystemInstallError';
}

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** PATH entries, then the usual system dirs (PATH may lack sbin for non-login shells). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  const file = process.platform === 'win32' ? `${name}.exe` : name;
  return dirs.map((dir) => join(dir, file)).find(isExecutableFile);
}

/** Runs a command, sending each output line to log; rejects with the tail of its output on failure. */
export function runLogged(command: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const pipeLines = (stream: NodeJS.ReadableStream | null) => {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split(/\r?\n|\r/);
        buffered = parts.pop() ?? '';
        for (const raw of parts) {
          const line = raw.trimEnd();
          if (!line) continue;
          tail.push(line);
          if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
          log(line);
        }
      });
    };
    pipeLines(child.stdout);
    pipeLines(child.stderr);
    const what = `${command} ${args.join(' ')}`;
    child.once('error', (err) => reject(new SystemInstallError(`could not run ${what}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolveRun();
      else reject(new SystemInstallError(`${what} failed (${describeExit(code, signal)})${tail.length ? `:\n    ${tail.join('\n    ')}` : ''}`));
    });
  });
}

/** True when apt knows an installable candidate for the package (its package lists are present). */
function aptKnows(pkg: string): Promise<boolean> {
  const aptCache = findExecutable('apt-cache');
  if (!aptCache) return Promise.resolve(false);
  return new Promise((resolveKnown) => {
    execFile(aptCache, ['policy', pkg], { timeout: 30_000 }, (err, stdout) => {
      const candidate = /Candidate:\s*(\S+)/.exec(stdout ?? '')?.[1];
      resolveKnown(!err && candidate !== undefined && candidate !== '(none)');
    });
  });
}

export interface AptInstallOptions {
  /** Leave out recommended packages (redis-server needs none; Chromium wants its fonts). */
  readonly noRecommends: boolean;
  /** How long to wait for another apt/dpkg holding the lock, seconds. */
  readonly lockTimeoutSeconds: number;
  readonly log: (line: string) => void;
}

/**
 * apt-get install -y <pkg> as root on Linux, non-interactive, keeping existing config files; runs
 * apt-get update first when apt does not know the package, or once after a failed install (old
 * package lists name files the mirror no longer has). Throws SystemInstallError with a reason
 * (no apt-get, not root, apt's own output) otherwise.
 */
export async function aptInstall(pkg: string, opts: AptInstallOptions): Promise<void> {
  const aptGet = findExecutable('apt-get');
  if (process.platform !== 'linux' || !aptGet) throw new SystemInstallError(`there is no apt-get here to install ${pkg}`);
  if (process.getuid?.() !== 0) throw new SystemInstallError(`installing ${pkg} needs root (this process is not)`);
  const env: NodeJS.ProcessEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' };
  const apt = (args: string[]) => runLogged(aptGet, args, env, (line) => opts.log(`apt-get: ${line}`));
  const install = () =>
    apt([
      'install',
      '-y',
      ...(opts.noRecommends ? ['--no-install-recommends'] : []),
      // Wait for another apt/dpkg (or a parallel test worker) instead of failing on the lock.
      '-o',
      `DPkg::Lock::Timeout=${opts.lockTimeoutSeconds}`,
      '-o',
      'Dpkg::Options::=--force-confdef',
      '-o',
      'Dpkg::Options::=--force-confold',
      pkg,
    ]);
  let updated = false;
  if (!(await aptKnows(pkg))) {
    opts.log(`apt does not know ${pkg} yet: apt-get update`);
    await apt(['update']);
    updated = true;
  }
  try {
    await install();
  } catch (err) {
    if (updated) throw err;
    opts.log(`install failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); apt-get update and retrying`);
    await apt(['update']);
    await install();
  }
}

/** True when something accepts TCP connections on host:port. */
export function isListening(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolveListening) => {
    const socket = netConnect({ port, host });
    const done = (listening: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolveListening(listening);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `check` every 100 ms until it is true (true) or `timeoutMs` passed (false). */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise<void>((r) => setTimeout(r, 100));
  }
}

/** Runs a command quietly; resolves with its exit code (or -1 when it could not be run). */
export function runQuiet(command: string, args: string[], timeoutMs = 15_000): Promise<number> {
  return new Promise((resolveRun) => {
    execFile(command, args, { timeout: timeoutMs }, (err) => {
      if (!err) resolveRun(0);
      else resolveRun(typeof err.code === 'number' ? err.code : -1);
    });
  });
}

export interface PackageServiceOptions {
  /** What the log calls it ("redis-server", "PostgreSQL"). */
  readonly what: string;
  /** The port the package's service listens on. */
  readonly port: number;
  /** Whether something listened there before the install (then it is not ours to touch). */
  readonly listeningBefore: boolean;
  /** systemd unit and init-script name. */
  readonly unit: string;
  readonly service: string;
  /** Tried between systemctl and the init script, e.g. the server's own shutdown command. */
  readonly stoppers?: readonly (readonly [command: string | undefined, args: string[]])[];
  readonly waitMs: number;
  readonly log: (line: string) => void;
}

/**
 * Debian's postinst starts (and enables) a package's service where services may start. The
 * project runs its own servers, so it stops one that the install left running: systemctl (systemd
 * would restart a server that merely shut down), then the given stoppers, then the init script.
 */
export async function stopServiceStartedByInstall(opts: PackageServiceOptions): Promise<void> {
  const { port, log } = opts;
  if (opts.listeningBefore) {
    log(`something was already listening on port ${port} before the install; leaving it alone`);
    return;
  }
  // The init script returns once the daemon forks; give it a moment to listen.
  if (!(await waitUntil(() => isListening(port), 2_000))) return;
  log(`the package started its ${opts.what} service on port ${port}; stopping it (the scripts run their own servers)`);
  const closed = () => isListening(port).then((l) => !l);
  const systemctl = findExecutable('systemctl');
  type Attempt = readonly [command: string | undefined, args: string[]];
  const attempts: Attempt[] = [
    ...(systemctl && existsSync('/run/systemd/system') ? [[systemctl, ['stop', `${opts.unit}.service`]] satisfies Attempt] : []),
    ...(opts.stoppers ?? []),
    [findExecutable('service'), [opts.service, 'stop']],
  ];
  for (const [command, args] of attempts) {
    if (!command) continue;
    await runQuiet(command, args, 60_000);
    if (await waitUntil(closed, opts.waitMs)) return;
  }
  log(`warning: could not stop the ${opts.what} service on port ${port}; stop it with: service ${opts.service} stop`);
}
