import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForcedKind, TxOp, type ForcedOp } from '../../prover/codec.js';
import { PROFILES } from '../../prover/profiles.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { WAL_TX_BYTES, Wal, WalError, decodeSignedTx, encodeSignedTx, type WalEntry } from '../../prover/wal.js';

const profile = PROFILES.test;
let dir: string;
const open: Wal[] = [];

function walAt(path: string, p = profile): Wal {
  const wal = Wal.open(path, p);
  open.push(wal);
  return wal;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wal-test-'));
});
afterEach(() => {
  for (const w of open.splice(0)) w.close();
  rmSync(dir, { recursive: true, force: true });
});

const secret = randomSecret();
const key = publicKeyOf(secret);
const register: ForcedOp = { kind: ForcedKind.RegisterAccount, account: 1, counterpart: 0, a: key.x, b: key.y };
const upload: SignedTx = signTx(secret, { op: TxOp.Upload, actor: 1, target: 1, slot: 0, scope: 0, expiry: 0n, payload: 12345n }, 0n);
const update: SignedTx = signTx(secret, { op: TxOp.Update, actor: 1, target: 1, slot: 0, scope: 0, expiry: 0n, payload: (1n << 247n) + 7n }, 1n);

function expectWalError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WalError);
    expect((err as WalError).code).toBe(code);
    return;
  }
  throw new Error(`expected WalError ${code}`);
}

describe('signed transaction encoding', () => {
  it('is 47 + 4 x 32 bytes and round trips', () => {
    const bytes = encodeSignedTx(update);
    expect(bytes.length).toBe(WAL_TX_BYTES);
    expect(WAL_TX_BYTES).toBe(175);
    expect(decodeSignedTx(bytes)).toEqual(update);
  });
});

describe('Wal', () => {
  it('round trips entries and batch boundaries', () => {
    const wal = walAt(join(dir, 'a.db'));
    const entries: WalEntry[] = [
      { kind: 'forced', batch: 0, position: 0, op: register, queueIndex: 0 },
      { kind: 'tx', batch: 0, position: 0, tx: upload },
      { kind: 'tx', batch: 0, position: 1, tx: update },
    ];
    expect(wal.append(entries[0]!, { index: 0, timestamp: 1_700_000_000n, oldRoot: 42n })).toBe(1);
    expect(wal.append(entries[1]!)).toBe(2);
    expect(wal.append(entries[2]!)).toBe(3);
    expect(wal.batches()).toEqual([{ index: 0, timestamp: 1_700_000_000n, oldRoot: 42n }]);
    wal.closeBatch(0, 99n, 1234, { index: 1, timestamp: 1_700_000_005n, oldRoot: 99n });
    expect(wal.entries()).toEqual(entries.map((e, i) => ({ ...e, seq: i + 1 })));
    expect(wal.batches()).toEqual([
      { index: 0, timestamp: 1_700_000_000n, oldRoot: 42n, newRoot: 99n, closedAt: 1234 },
      { index: 1, timestamp: 1_700_000_005n, oldRoot: 99n },
    ]);
  });

  it('stores uint64 timestamps and field-sized roots exactly', () => {
    const wal = walAt(join(dir, 'big.db'));
    const root = (1n << 253n) + 3n;
    const ts = (1n << 64n) - 1n;
    wal.openBatch({ index: 0, timestamp: ts, oldRoot: root });
    wal.closeBatch(0, root - 1n, 5);
    expect(wal.batches()).toEqual([{ index: 0, timestamp: ts, oldRoot: root, newRoot: root - 1n, closedAt: 5 }]);
    expectWalError(() => wal.openBatch({ index: 1, timestamp: 1n << 64n, oldRoot: 0n }), 'BAD_ENTRY');
  });

  it('is durable across reopen, and visible to a second connection as soon as append returns', () => {
    const path = join(dir, 'durable.db');
    const writer = walAt(path);
    writer.append({ kind: 'tx', batch: 0, position: 0, tx: upload }, { index: 0, timestamp: 10n, oldRoot: 1n });
    // A second connection (as after a crash of the writer's process) sees the committed entry.
    const reader = walAt(path);
    expect(reader.entries()).toEqual([{ seq: 1, kind: 'tx', batch: 0, position: 0, tx: upload }]);
    reader.close();
    writer.close();
    const again = walAt(path);
    expect(again.entries()).toHaveLength(1);
    expect(again.batches()).toEqual([{ index: 0, timestamp: 10n, oldRoot: 1n }]);
    again.append({ kind: 'tx', batch: 0, position: 1, tx: update });
    expect(again.entries().map((e) => e.seq)).toEqual([1, 2]);
  });

  it('refuses a log written for another profile, with a clear error', () => {
    const path = join(dir, 'profile.db');
    walAt(path).close();
    try {
      Wal.open(path, PROFILES.dev);
      throw new Error('expected PROFILE_MISMATCH');
    } catch (err) {
      expect(err).toBeInstanceOf(WalError);
      expect((err as WalError).code).toBe('PROFILE_MISMATCH');
      expect((err as Error).message).toContain("written for profile 'test'");
      expect((err as Error).message).toContain("not 'dev'");
    }
    // Same name but other parameters is refused too.
    expectWalError(() => Wal.open(path, { ...profile, maxTxs: 3 }), 'PROFILE_MISMATCH');
    expect(walAt(path).entries()).toEqual([]);
  });

  it('refuses bad entries and leaves the log unchanged', () => {
    const wal = walAt(join(dir, 'bad.db'));
    wal.append({ kind: 'tx', batch: 0, position: 0, tx: upload }, { index: 0, timestamp: 10n, oldRoot: 1n });
    // Same slot twice: the whole transaction rolls back (no batch row either).
    expectWalError(() => wal.append({ kind: 'tx', batch: 0, position: 0, tx: update }, { index: 1, timestamp: 10n, oldRoot: 1n }), 'WRITE_FAILED');
    expectWalError(() => wal.append({ kind: 'tx', batch: 0, position: profile.maxTxs, tx: update }), 'BAD_ENTRY');
    expectWalError(() => wal.append({ kind: 'forced', batch: 0, position: profile.maxForcedOps, op: register, queueIndex: 0 }), 'BAD_ENTRY');
    expectWalError(() => wal.append({ kind: 'tx', batch: 0, position: 1, tx: { ...update, record: { ...update.record, actor: -1 } } }), 'BAD_ENTRY');
    // A queue index is logged once.
    wal.append({ kind: 'forced', batch: 1, position: 0, op: register, queueIndex: 0 });
    expectWalError(() => wal.append({ kind: 'forced', batch: 2, position: 0, op: register, queueIndex: 0 }), 'WRITE_FAILED');
    expect(wal.entries().map((e) => e.seq)).toEqual([1, 2]);
    expect(wal.batches()).toHaveLength(1);
  });

  it('closes only open batches, and refuses use after close()', () => {
    const wal = walAt(join(dir, 'close.db'));
    expectWalError(() => wal.closeBatch(0, 1n), 'UNKNOWN_BATCH');
    wal.openBatch({ index: 0, timestamp: 1n, oldRoot: 0n });
    wal.closeBatch(0, 1n);
    expectWalError(() => wal.closeBatch(0, 2n), 'UNKNOWN_BATCH');
    expect(wal.batches()[0]!.newRoot).toBe(1n);
    wal.close();
    expect(wal.isOpen).toBe(false);
    expectWalError(() => wal.entries(), 'CLOSED');
    wal.close(); // idempotent
  });
});
