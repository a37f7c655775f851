/**
 * Record flows (sdk/records.ts) against a real Sequencer behind its real HTTP server in process
 * (as test/prover/http.test.ts sets one up) through sdk/rollupClient.ts, with an embedded IPFS store
 * in a temp dir: upload, grant, access, revoke, update, claim, and the refusals.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForcedKind, Scope } from '../../prover/codec.js';
import { createSequencerHttpServer } from '../../prover/http.js';
import { Sequencer } from '../../prover/sequencer.js';
import { contentHash, parseRecordEnvelope, serialiseRecordEnvelope } from '../../sdk/crypto.js';
import { deriveKeys, generateSeed, type DerivedKeys } from '../../sdk/keys.js';
import { indexHash, type PatientIndex } from '../../sdk/patientIndex.js';
import { InstitutionSession, openRecordVersion, PatientSession, RecordsError, recordReference } from '../../sdk/records.js';
import { RollupClient, RollupError } from '../../sdk/rollupClient.js';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../sdk/storage/embedded.js';
import { labBundle, PLAINTEXT_MARKERS } from '../helpers/fhir.js';

const PATIENT = 1;
const HOSPITAL = 2;
const INSURER = 3;
const keys = new Map<number, DerivedKeys>([PATIENT, HOSPITAL, INSURER].map((a) => [a, deriveKeys(generateSeed())]));

let dir: string;
let seq: Sequencer;
let server: http.Server;
let rollup: RollupClient;
let storage: EmbeddedStorage;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medrollup-records-'));
  seq = await Sequencer.open({ profile: 'test', walPath: join(dir, 'wal.db'), batchTimeoutMs: 600_000 });
  [PATIENT, HOSPITAL, INSURER].forEach((account, i) => {
    const k = keys.get(account)!.signingKey;
    seq.addForced({ kind: ForcedKind.RegisterAccount, account, counterpart: 0, a: k.x, b: k.y }, i);
  });
  seq.flush();
  // No L1 here: receipts stay soft (the e2e test waits for finalized ones).
  server = createSequencerHttpServer(seq, { log: () => undefined, receipt: async (hash) => seq.locate(hash) && { txHash: hash, ...seq.locate(hash), status: 'soft', batchClosed: false } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rollup = new RollupClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { pollMs: 50 });
  storage = await openEmbeddedStorage(join(dir, 'ipfs'));
});

afterEach(async () => {
  await storage.close();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  seq.close();
  rmSync(dir, { recursive: true, force: true });
});

const expiry = () => BigInt(Math.floor(Date.now() / 1000) + 3600);
const session = (account: number) => ({ keys: keys.get(account)!, account, storage, rollup });
const hospital = () => new InstitutionSession(session(HOSPITAL));
const insurer = () => new InstitutionSession(session(INSURER));
const grantee = (account: number) => ({ account, x25519Public: keys.get(account)!.boxPublic });

async function rejection<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const p = join(root, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('patient and institution flows', () => {
  it('upload, grant, access, revoke, update, claim: the revoked hospital cannot read a later version', async () => {
    const patient = await PatientSession.open(session(PATIENT));
    const v1 = await patient.upload(labBundle(13.2), { recordId: 'labs-2024' });
    expect(v1).toMatchObject({ recordId: 'labs-2024', version: 1 });
    expect((await rollup.account(PATIENT)).indexHash).toBe(indexHash(v1.indexCid));

    const g = await patient.grant(grantee(HOSPITAL), Scope.Read, expiry());
    expect(g.slot).toBe(0);
    await patient.grant(grantee(INSURER), Scope.Claim, expiry());
    expect((await rollup.account(PATIENT)).consents.map((c) => [c.slot, c.grantee, c.scope])).toEqual([
      [0, HOSPITAL, Scope.Read],
      [1, INSURER, Scope.Claim],
    ]);

    // The hospital reads version 1 (keys re-wrapped for it by the grant); the access is a transaction.
    const nonceBefore = (await rollup.account(HOSPITAL)).nonce;
    const read = await hospital().access(PATIENT, patient.indexCid!, 'labs-2024');
    expect(read.version).toBe(1);
    expect(read.resource).toEqual(labBundle(13.2));
    expect((await rollup.account(HOSPITAL)).nonce).toBe(nonceBefore + 1n);
    expect(seq.locate(read.tx.txHash)).toBeDefined();

    // A Claim-only grantee got no key, and the rollup refuses its Access.
    expect((await rejection(insurer().access(PATIENT, patient.indexCid!, 'labs-2024'), RollupError)).code).toBe('WRONG_SCOPE');
    await expect(openRecordVersion(storage, patient.index!, 'labs-2024', 1, { account: INSURER, boxSecret: keys.get(INSURER)!.boxSecret })).rejects.toMatchObject({ code: 'NO_KEY' });

    await patient.revoke(HOSPITAL);
    const v2 = await patient.update('labs-2024', labBundle(9.1));
    expect(v2.version).toBe(2);

    // The sequencer refuses the revoked hospital's Access before anything is decrypted...
    const refused = await rejection(hospital().access(PATIENT, patient.indexCid!, 'labs-2024'), RollupError);
    expect([refused.code, refused.status]).toEqual(['NO_CONSENT', 422]);
    // ...and even off the rollup, version 2 was never wrapped for it.
    const noKey = await rejection(openRecordVersion(storage, patient.index!, 'labs-2024', 2, { account: HOSPITAL, boxSecret: keys.get(HOSPITAL)!.boxSecret }), RecordsError);
    expect(noKey.code).toBe('NO_KEY');

    // The insurer files a claim on version 2.
    const claim = await insurer().claim(PATIENT, 'labs-2024', 2);
    expect(claim.reference).toBe(recordReference(PATIENT, 'labs-2024', 2));
    expect(seq.locate(claim.tx.txHash)).toBeDefined();

    // The patient reads both versions back; the history shows every index version and record version.
    expect((await patient.read('labs-2024')).resource).toEqual(labBundle(9.1));
    expect((await patient.read('labs-2024', 1)).resource).toEqual(labBundle(13.2));
    const hist = await patient.history();
    expect(hist.map((h) => h.index.seq)).toEqual([4, 3, 2, 1, 0]);
    expect(hist.at(-1)!.index.records.map((r) => r.version)).toEqual([1]);
    expect(hist[0]!.index.records.map((r) => [r.recordId, r.version, r.resourceType])).toEqual([
      ['labs-2024', 1, 'Bundle'],
      ['labs-2024', 2, 'Bundle'],
    ]);
    expect(hist[0]!.index.grantees.map((g) => [g.account, g.revokedAt !== undefined])).toEqual([
      [HOSPITAL, true],
      [INSURER, false],
    ]);

    // A session reopened from the CID continues the chain.
    const again = await PatientSession.open({ ...session(PATIENT), indexCid: patient.indexCid! });
    expect(again.index!.seq).toBe(4);

    // No plaintext anywhere in the blockstore.
    const files = filesUnder(join(dir, 'ipfs'));
    expect(files.length).toBeGreaterThan(5);
    const plain = [...PLAINTEXT_MARKERS, JSON.stringify(labBundle(13.2)), JSON.stringify(labBundle(9.1))];
    for (const f of files) {
      const text = readFileSync(f).toString('latin1');
      for (const p of plain) expect(text.includes(p)).toBe(false);
    }
  });

  it('refuses invalid FHIR before anything is stored or sent', async () => {
    const patient = await PatientSession.open(session(PATIENT));
    const err = await rejection(patient.upload({ resourceType: 'Patient', gender: 'nope' }), RecordsError);
    expect(err.code).toBe('FHIR_INVALID');
    expect(err.issues[0]!.path).toBe('Patient.gender');
    expect((await rejection(patient.upload('text'), RecordsError)).code).toBe('FHIR_INVALID');
    expect((await rollup.account(PATIENT)).nonce).toBe(0n);
    expect(patient.indexCid).toBeUndefined();
  });

  it('refuses a wrong index CID, a tampered envelope and content that does not match its hash', async () => {
    const patient = await PatientSession.open(session(PATIENT));
    const v1 = await patient.upload(labBundle(13.2), { recordId: 'r' });
    await patient.grant(grantee(HOSPITAL), Scope.Read, expiry());
    const h = hospital();

    // The CID of a superseded index (or any other CID) is not the one on chain.
    const stale = await rejection(h.access(PATIENT, v1.indexCid, 'r'), RecordsError);
    expect(stale.code).toBe('INDEX_MISMATCH');
    expect((await rejection(PatientSession.open({ ...session(PATIENT), indexCid: v1.indexCid }), RecordsError)).code).toBe('INDEX_MISMATCH');
    expect((await rejection(PatientSession.open(session(PATIENT)), RecordsError)).code).toBe('INDEX_MISMATCH');
    // A record the index does not list: nothing is sent.
    const nonce = (await rollup.account(HOSPITAL)).nonce;
    expect((await rejection(h.access(PATIENT, patient.indexCid!, 'r', 7), RecordsError)).code).toBe('NOT_FOUND');
    expect((await rollup.account(HOSPITAL)).nonce).toBe(nonce);

    // An envelope pointed at with the listed hash of another: CONTENT_MISMATCH.
    const entry = patient.index!.records[0]!;
    const env = parseRecordEnvelope(new TextDecoder().decode(await storage.get(entry.cid)));
    const flipped = env.ciphertext.slice();
    flipped[0]! ^= 1;
    const tamperedBytes = new TextEncoder().encode(serialiseRecordEnvelope({ ...env, ciphertext: flipped }));
    const tamperedCid = await storage.put(tamperedBytes);
    const pointed: PatientIndex = { ...patient.index!, records: [{ ...entry, cid: tamperedCid }] };
    const reader = { account: HOSPITAL, boxSecret: keys.get(HOSPITAL)!.boxSecret };
    expect((await rejection(openRecordVersion(storage, pointed, 'r', 1, reader), RecordsError)).code).toBe('CONTENT_MISMATCH');
    // With its hash listed too, AES-GCM refuses the tampered ciphertext.
    const relisted: PatientIndex = { ...pointed, records: [{ ...entry, cid: tamperedCid, contentHash: contentHash(tamperedBytes) }] };
    await expect(openRecordVersion(storage, relisted, 'r', 1, reader)).rejects.toMatchObject({ name: 'DecryptError', code: 'AUTH_FAILED' });

    // A byte flipped in the blockstore file itself: the store refuses it against its CID.
    const blockFile = filesUnder(join(dir, 'ipfs', 'blocks')).find((f) => readFileSync(f).toString('latin1').includes(Buffer.from(env.ciphertext.subarray(0, 12)).toString('hex')))!;
    expect(blockFile).toBeDefined();
    const raw = readFileSync(blockFile);
    raw[raw.length - 3] = raw[raw.length - 3] === 0x61 ? 0x62 : 0x61;
    writeFileSync(blockFile, raw);
    await expect(h.access(PATIENT, patient.indexCid!, 'r')).rejects.toMatchObject({ name: 'StorageError', code: 'CID_MISMATCH' });
  });
});

describe('RollupClient', () => {
  it('maps sequencer refusals, unknown receipts, timeouts and unreachable URLs to typed errors', async () => {
    expect(await rollup.receipt(`0x${'00'.repeat(32)}`)).toBeUndefined();
    const unknown = await rejection(rollup.account(9), RollupError);
    expect([unknown.code, unknown.status]).toEqual(['UNKNOWN_ACCOUNT', 404]);
    const h = await rollup.health();
    expect(h.ok).toBe(true);
    expect(h.nextForcedIndex).toBe(3);

    const patient = await PatientSession.open(session(PATIENT));
    const v1 = await patient.upload(labBundle(1));
    expect((await rollup.receipt(v1.tx.txHash))?.status).toBe('soft');
    const timeout = await rejection(rollup.waitFinal(v1.tx.txHash, 200), RollupError);
    expect(timeout.code).toBe('TIMEOUT');

    const down = new RollupClient('http://127.0.0.1:1', { requestTimeoutMs: 2000 });
    const err = await rejection(down.health(), RollupError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toContain('http://127.0.0.1:1');
    expect(() => new RollupClient('ftp://x')).toThrow(RollupError);
  });
});
