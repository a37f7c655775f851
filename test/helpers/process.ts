/**
 * Runs one of the project's scripts as a real child process (node --import tsx <script>), so a
 * test can kill it with SIGKILL like a crash would: the pid is the script's own node process, not
 * a wrapper. Output lines are kept for waitFor() and for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const live = new Set<ChildProcess>();
let netInstalled = false;

export interface ScriptProcess {
  readonly name: string;
  readonly pid: number;
  readonly lines: readonly string[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first output line (past or future) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines, for failure messages. */
  tail(n?: number): string;
}

export function runScript(name: string, script: string, env: Record<string, string>, args: readonly string[] = []): ScriptProcess {
  if (!netInstalled) {
    netInstalled = true;
    // A failing test must not leave orphans behind.
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, DEBUG: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        for (const w of waiters) {
          if (w.pattern.test(line)) {
            waiters.delete(w);
            w.resolve(line);
          }
        }
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  const tail = (n = 30) => lines.slice(-n).map((l) => `    ${name}| ${l}`).join('\n');
  return {
    name,
    pid: child.pid!,
    lines,
    exited,
    tail,
    waitFor(pattern, timeoutMs = 60_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const w = { pattern, resolve };
        waiters.add(w);
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${name}: no line matching ${String(pattern)} within ${timeoutMs} ms; output:\n${tail()}`));
        }, timeoutMs);
        void exited.then(({ code, signal }) => {
          if (!waiters.has(w)) return;
          waiters.delete(w);
          clearTimeout(timer);
          reject(new Error(`${name} exited (${signal ?? String(code)}) before a line matching ${String(pattern)}; output:\n${tail()}`));
        });
        const done = w.resolve;
        w.resolve = (line) => {
          clearTimeout(timer);
          done(line);
        };
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
