/**
 * One writer per sequencer log. Two sequencers appending to one log would interleave their
 * batches; SQLite would happily let them. The lock is a file next to the log, created
 * exclusively, naming the holder (host, pid, since). A lock left by a process that no longer runs
 * on this host is taken over; one held by a live process, or by a process on another host
 * (a shared volume, where liveness cannot be checked), is refused with the holder's name.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

export class LogLockError extends Error {
  override readonly name = 'LogLockError';
  readonly code = 'LOG_LOCKED';
}

interface Holder {
  readonly host: string;
  readonly pid: number;
  readonly since: string;
}

/** Locks held by this process (a second Sequencer in one process is refused too). */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? { host: h.host, pid: h.pid, since: String(h.since) } : undefined;
  } catch {
    return undefined;
  }
}

export class LogLock {
  private released = false;

  private constructor(readonly path: string) {}

  /** Takes the lock of the log at `logPath`, or throws LogLockError naming who holds it. */
  static acquire(logPath: string, log: (line: string) => void = () => undefined): LogLock {
    const path = `${logPath}.lock`;
    if (heldHere.has(path)) throw new LogLockError(`${logPath} is already open in this process (one writer per log)`);
    const me: Holder = { host: hostname(), pid: process.pid, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${JSON.stringify(me)}\n`, { flag: 'wx', mode: 0o644 });
        heldHere.add(path);
        return new LogLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new LogLockError(`cannot create ${path}: ${(err as Error).message}`);
      }
      const holder = readHolder(path);
      if (holder && holder.host !== me.host) {
        throw new LogLockError(`${logPath} is locked by pid ${holder.pid} on ${holder.host} since ${holder.since}; if that sequencer is gone, delete ${path}`);
      }
      if (holder && holder.pid !== process.pid && alive(holder.pid)) {
        throw new LogLockError(`${logPath} is in use by another sequencer (pid ${holder.pid}, since ${holder.since}); stop it first`);
      }
      // Left by a process that is gone (or unreadable): take it over.
      log(`taking over the stale lock ${path}${holder ? ` of pid ${holder.pid}` : ''}`);
      try {
        unlinkSync(path);
      } catch {
        // another process may have removed it first; the exclusive create decides
      }
    }
    throw new LogLockError(`${logPath}: could not take its lock (another sequencer is starting?)`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.path);
    if (readHolder(this.path)?.pid === process.pid) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }
}
