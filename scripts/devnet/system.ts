/**
 * System programs the project runs but npm cannot ship (redis-server, Chromium for the browser
 * tests): finding an executable, and installing a Debian package with apt-get when we are root.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
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
