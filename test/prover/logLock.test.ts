/**
 * One writer per sequencer log (prover/logLock.ts): a second sequencer on the same log is refused,
 * in this process or another; a lock left by a dead process is taken over.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogLock, LogLockError } from '../../prover/logLock.js';
import { Sequencer } from '../../prover/sequencer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loglock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function refusal(f: () => unknown): LogLockError {
  try {
    f();
  } catch (err) {
    if (err instanceof LogLockError) return err;
    throw err;
  }
  throw new Error('expected LOG_LOCKED');
}

test('a second lock in this process is refused until the first is released; release removes the file', () => {
  const log = join(dir, 'a.db');
  const lock = LogLock.acquire(log);
  expect(existsSync(`${log}.lock`)).toBe(true);
  expect(refusal(() => LogLock.acquire(log)).code).toBe('LOG_LOCKED');
  lock.release();
  expect(existsSync(`${log}.lock`)).toBe(false);
  LogLock.acquire(log).release();
});

test('a live process elsewhere holds it; a dead one leaves a stale lock that is taken over', async () => {
  const log = join(dir, 'b.db');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    writeFileSync(`${log}.lock`, JSON.stringify({ host: hostname(), pid: child.pid, since: 'then' }));
    expect(refusal(() => LogLock.acquire(log)).message).toContain(`pid ${child.pid}`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(`${log}.lock`, JSON.stringify({ host: hostname(), pid: dead, since: 'then' }));
  const notes: string[] = [];
  const lock = LogLock.acquire(log, (l) => notes.push(l));
  expect(notes.join()).toContain(`stale lock`);
  lock.release();
});

test('a lock from another host is refused with how to clear it', () => {
  const log = join(dir, 'c.db');
  writeFileSync(`${log}.lock`, JSON.stringify({ host: 'elsewhere.example', pid: 1, since: 'then' }));
  const err = refusal(() => LogLock.acquire(log));
  expect(err.message).toContain('elsewhere.example');
  expect(err.message).toContain(`delete ${log}.lock`);
});

test('a second Sequencer on the same log is refused; after close it opens', async () => {
  const walPath = join(dir, 'wal.db');
  const first = await Sequencer.open({ profile: 'test', walPath });
  await expect(Sequencer.open({ profile: 'test', walPath })).rejects.toMatchObject({ code: 'LOG_LOCKED' });
  first.close();
  (await Sequencer.open({ profile: 'test', walPath })).close();
});
