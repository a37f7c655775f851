/**
 * A managed child process for the local services (anvil, redis-server): spawned in its own process
 * group, its output lines forwarded to a log and the last few kept for error messages, an `exited`
 * promise, an idempotent stop() (signal, grace period, SIGKILL), and a process 'exit' safety net that
 * signals every child still running. Readiness checks stay with the callers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the exit was asked for through stop(). */
  readonly expected: boolean;
}

export interface SpawnManagedOptions {
  /** Prefixes log lines and messages: `[name] ...`. */
  name: string;
  /** The program, for messages: 'anvil', 'redis-server'. */
  what: string;
  binary: string;
  args: string[];
  cwd?: string;
  /** The child's environment; default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Sent by stop() and by the 'exit' safety net; the child should shut down cleanly on it. */
  stopSignal: NodeJS.Signals;
  /** How long stop() waits after stopSignal before SIGKILL. */
  graceMs: number;
  /** How many output lines tail() keeps. */
  tailLines: number;
  /** Which output tail() keeps: stderr only, or stdout and stderr. Both are forwarded to log. */
  tailStreams: 'stderr' | 'both';
  /** Receives the output lines and lifecycle notes, prefixed with [name]. */
  log?: (line: string) => void;
  /** Called once when the process is gone (exited, or failed to spawn), before anything is reported. */
  onExit?: () => void;
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** The child's pid, -1 when it failed to spawn. */
  readonly pid: number;
  /** Resolves when the process has exited (or failed to spawn), whether through stop() or not. */
  readonly exited: Promise<ServiceExit>;
  /** The kept output lines as a message suffix (`\n  <what> stderr|output:\n    ...`), '' when none. */
  tail(): string;
  /** Set when spawning failed (ENOENT, EACCES); no exit follows. */
  spawnError(): Error | undefined;
  /** Set once exited has resolved. */
  died(): ServiceExit | undefined;
  /** From now on an exit not asked for through stop() is reported (through log, else console.error). */
  markReady(): void;
  /** stopSignal, up to graceMs, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

/** Children still running, with the signal that stops each cleanly; signalled by the safety net below. */
const live = new Map<ChildProcess, NodeJS.Signals>();
let safetyNetInstalled = false;

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  // Runs on normal exit, process.exit() and uncaught exceptions. Only synchronous work is possible
  // here: the stop signal lets each child finish on its own (anvil dumps its --state on SIGINT,
  // redis-server flushes its append-only file on SIGTERM). A parent killed with SIGKILL (or by a
  // signal it does not handle) cannot clean up; its children then keep running until killed.
  process.on('exit', () => {
    for (const [child, signal] of live) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  });
}

export function spawnManaged(opts: SpawnManagedOptions): ManagedProcess {
  const { name, what, stopSignal, graceMs } = opts;
  const note = (line: string) => opts.log?.(`[${name}] ${line}`);

  const child = spawn(opts.binary, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    // Own process group: a Ctrl-C in the terminal reaches the parent, which stops the services in
    // order; the 'exit' safety net covers the parent going away.
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  installSafetyNet();
  live.set(child, stopSignal);

  const outputTail: string[] = [];
  const lines = (stream: NodeJS.ReadableStream | null, keep: boolean) => {
    let buffered = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const raw of parts) {
        const line = raw.trimEnd();
        if (!line) continue;
        if (keep) {
          outputTail.push(line);
          if (outputTail.length > opts.tailLines) outputTail.shift();
        }
        note(line);
      }
    });
  };
  lines(child.stdout, opts.tailStreams === 'both');
  lines(child.stderr, true);
  const kept = opts.tailStreams === 'both' ? 'output' : 'stderr';
  const tail = () => (outputTail.length ? `\n  ${what} ${kept}:\n    ${outputTail.join('\n    ')}` : '');

  let stopping = false;
  let ready = false;
  let spawnError: Error | undefined;
  const gone = () => {
    live.delete(child);
    opts.onExit?.();
  };
  const exited = new Promise<ServiceExit>((resolveExit) => {
    child.once('error', (err) => {
      // spawn failure (ENOENT, EACCES): no 'exit' follows
      spawnError = err;
      gone();
      resolveExit({ code: null, signal: null, expected: stopping });
    });
    child.once('exit', (code, signal) => {
      gone();
      const expected = stopping;
      if (!expected && ready) {
        const msg = `[${name}] ${what} exited unexpectedly (${describeExit(code, signal)})${tail()}`;
        if (opts.log) opts.log(msg);
        else console.error(msg);
      }
      resolveExit({ code, signal, expected });
    });
  });
  let died: ServiceExit | undefined;
  void exited.then((e) => (died = e));

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopPromise ??= (async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null || spawnError) {
        await exited;
        return;
      }
      child.kill(stopSignal);
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!graceful) {
        note(`did not exit within ${graceMs / 1000} s of ${stopSignal}; killing`);
        child.kill('SIGKILL');
        await exited;
      }
    })());

  return {
    child,
    pid: child.pid ?? -1,
    exited,
    tail,
    spawnError: () => spawnError,
    died: () => died,
    markReady: () => {
      ready = true;
    },
    stop,
  };
}

/** Tries to bind host:port; undefined when that works, else the error code (EADDRINUSE, EACCES, ...). */
export function probePort(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => resolvePort(err.code ?? err.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolvePort(undefined)));
  });
}
