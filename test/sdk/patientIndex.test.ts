/**
 * The patient index document (sdk/patientIndex.ts): its hash for the rollup, strict parsing with
 * errors that name the field, and the history walk over an embedded IPFS store.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { wrapKey } from '../../sdk/crypto.js';
import {
  findRecord,
  getIndex,
  history,
  IndexError,
  indexHash,
  parseIndex,
  putIndex,
  serialiseIndex,
  activeGrantees,
  PATIENT_INDEX_TYPE,
  type PatientIndex,
} from '../../sdk/patientIndex.js';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../sdk/storage/embedded.js';

const CID_A = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
const box = x25519.keygen();
const wrapped = wrapKey(new Uint8Array(32).fill(7), box.publicKey, { recordId: 'r1', version: 1 });

function doc(over: Partial<PatientIndex> = {}): PatientIndex {
  return {
    type: PATIENT_INDEX_TYPE,
    v: 1,
    patient: 3,
    seq: 0,
    prev: null,
    updatedAt: '2025-01-01T00:00:00.000Z',
    records: [{ recordId: 'r1', version: 1, cid: CID_A, contentHash: `0x${'ab'.repeat(32)}`, resourceType: 'Bundle', createdAt: '2025-01-01T00:00:00.000Z', wrappedKeys: { '3': wrapped } }],
    grantees: [{ account: 5, slot: 0, x25519Public: bytesToHex(box.publicKey), scope: 1, since: '2025-01-01T00:00:00.000Z', expiry: '1900000000' }],
    ...over,
  };
}

function jsonOf(d: PatientIndex): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(serialiseIndex(d))) as Record<string, unknown>;
}

function indexError(fn: () => unknown): IndexError {
  try {
    fn();
  } catch (err) {
    if (err instanceof IndexError) return err;
    throw err;
  }
  throw new Error('expected an IndexError');
}

let dir: string;
let storage: EmbeddedStorage;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medrollup-index-'));
  storage = await openEmbeddedStorage(join(dir, 'ipfs'));
});
afterAll(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('indexHash', () => {
  it('is the first 31 bytes of SHA-256 of the CID string, as a uint248', () => {
    const expected = BigInt(`0x${createHash('sha256').update(CID_A, 'utf8').digest('hex').slice(0, 62)}`);
    expect(indexHash(CID_A)).toBe(expected);
    expect(indexHash(CID_A) < 1n << 248n).toBe(true);
    expect(indexHash(`${CID_A}x`)).not.toBe(expected);
  });
});

describe('parseIndex / serialiseIndex', () => {
  it('round-trips a document, wrapped keys included', () => {
    const bytes = serialiseIndex(doc());
    const back = parseIndex(bytes);
    expect(back).toEqual(doc());
    expect(back.records[0]!.wrappedKeys['3']!.wrapped).toEqual(wrapped.wrapped);
    expect(findRecord(back, 'r1')?.version).toBe(1);
    expect(findRecord(back, 'r1', 2)).toBeUndefined();
    expect(activeGrantees(back, 1_800_000_000n).map((g) => g.account)).toEqual([5]);
    expect(activeGrantees(back, 1_900_000_000n)).toEqual([]);
  });

  it('refuses malformed documents, naming the field', () => {
    const base = jsonOf(doc());
    const records = base.records as Record<string, unknown>[];
    const cases: [unknown, string, string][] = [
      [{ ...base, extra: 1 }, 'MALFORMED', 'extra'],
      [{ ...base, seq: undefined }, 'MALFORMED', 'seq'],
      [{ ...base, v: 2 }, 'UNSUPPORTED_VERSION', 'v'],
      [{ ...base, type: 'other' }, 'MALFORMED', 'type'],
      [{ ...base, seq: 1 }, 'MALFORMED', 'prev'],
      [{ ...base, records: [{ ...records[0], cid: 'not-a-cid' }] }, 'MALFORMED', 'records[0].cid'],
      [{ ...base, records: [{ ...records[0], contentHash: '0x12' }] }, 'MALFORMED', 'records[0].contentHash'],
      [{ ...base, records: [{ ...records[0], version: 0 }] }, 'MALFORMED', 'records[0].version'],
      [{ ...base, records: [records[0], records[0]] }, 'MALFORMED', 'records[1]'],
      [{ ...base, records: [{ ...records[0], wrappedKeys: { '3': { ...(records[0]!.wrappedKeys as Record<string, object>)['3'], nonce: 'zz' } } }] }, 'MALFORMED', 'records[0].wrappedKeys.3.nonce'],
      [{ ...base, grantees: [{ ...(base.grantees as object[])[0], scope: 4 }] }, 'MALFORMED', 'grantees[0].scope'],
    ];
    for (const [value, code, field] of cases) {
      const err = indexError(() => parseIndex(JSON.stringify(value)));
      expect([err.code, err.field]).toEqual([code, field]);
      expect(err.message).toContain(field);
    }
    expect(indexError(() => parseIndex(new Uint8Array([0xff, 0xfe]))).field).toBe('(root)');
    expect(indexError(() => parseIndex('{')).message).toContain('not valid JSON');
    // The writer applies the same rules.
    expect(indexError(() => serialiseIndex(doc({ patient: -1 }))).field).toBe('patient');
  });
});

describe('history', () => {
  it('walks the chain of previous CIDs and returns every version, newest first', async () => {
    const c0 = await putIndex(storage, doc());
    const c1 = await putIndex(storage, doc({ seq: 1, prev: c0, records: [] }));
    const c2 = await putIndex(storage, doc({ seq: 2, prev: c1 }));
    const all = await history(storage, c2);
    expect(all.map((v) => [v.cid, v.index.seq])).toEqual([
      [c2, 2],
      [c1, 1],
      [c0, 0],
    ]);
    expect((await getIndex(storage, c1)).records).toEqual([]);
    await expect(history(storage, c2, { maxVersions: 2 })).rejects.toMatchObject({ code: 'TOO_LONG' });
  });

  it('refuses a chain that changes patient or skips a sequence number', async () => {
    const other = await putIndex(storage, doc({ patient: 4 }));
    const c1 = await putIndex(storage, doc({ seq: 1, prev: other }));
    await expect(history(storage, c1)).rejects.toMatchObject({ code: 'BAD_CHAIN' });
    const c0 = await putIndex(storage, doc());
    const skip = await putIndex(storage, doc({ seq: 5, prev: c0 }));
    await expect(history(storage, skip)).rejects.toMatchObject({ code: 'BAD_CHAIN' });
  });

  it('refuses content that is not an index', async () => {
    const cid = await storage.put(new TextEncoder().encode('{"type":"medrollup.record"}'));
    await expect(getIndex(storage, cid)).rejects.toMatchObject({ code: 'MALFORMED', field: 'type' });
  });
});
