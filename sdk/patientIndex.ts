/**
 * The patient index file (the paper's consolidated index): one versioned JSON document per patient
 * on IPFS that lists every record version of the patient (record id, version, CID of the encrypted
 * envelope, content hash of the envelope bytes, FHIR resource type, creation time, the data key
 * wrapped for each reader) and the patient's grantees, and points at the previous index document.
 *
 *   { "type": "medrollup.patient-index", "v": 1, "patient": 1, "seq": 3, "prev": "bafkrei..." | null,
 *     "updatedAt": "2025-01-01T00:00:00.000Z",
 *     "records": [ { "recordId", "version", "cid", "contentHash", "resourceType", "createdAt",
 *                    "wrappedKeys": { "<account>": <wrapped key JSON, sdk/crypto.ts> } } ],
 *     "grantees": [ { "account", "slot", "x25519Public", "scope", "since", "expiry", "revokedAt"? } ] }
 *
 * Choices (the issue leaves them open):
 * - Each document is cumulative: it lists every version of every record, so the latest index alone
 *   is enough to read any version; `history()` walks `prev` for the document's own history (who was
 *   granted or revoked when, which index the chain pointed at).
 * - The patient's own wrap sits in `wrappedKeys` under the patient's account number: the patient
 *   reads back with the same code path as a grantee, and the seed is all a patient must back up.
 * - Wrapped keys are embedded as JSON objects (the exact `serialiseWrappedKey` form, re-checked by
 *   `parseWrappedKey` on read) rather than as JSON text inside a string.
 * - `expiry` is a decimal string of unix seconds (uint40 on chain; JSON numbers would do, strings
 *   match the sequencer's API); `scope` uses prover/codec.ts's bits (Read 1, Claim 2).
 * - The document is public metadata (whoever holds its CID sees record ids, resource types, times
 *   and the grantee list); only the record contents and data keys are encrypted.
 *
 * Only `indexHash(cid)` enters the rollup state (the Upload/Update payload): the first 31 bytes of
 * SHA-256 over the CID string's UTF-8 bytes, big-endian, i.e. a uint248. A reader handed a CID
 * checks it against the account's indexHash before trusting it (sdk/records.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { hasLoneSurrogate, MAX_RECORD_VERSION, parseWrappedKey, serialiseWrappedKey, X25519_KEY_BYTES, type WrappedKey } from './crypto.js';
import { EnvelopeError, SdkError } from './errors.js';
import type { BlockStorage } from './storage.js';
import { parseCid } from './storage/cid.js';

export const PATIENT_INDEX_TYPE = 'medrollup.patient-index';
/** Longest chain history() walks by default. */
export const MAX_HISTORY = 10_000;
/** Largest index document parseIndex accepts (a hostile CID must not make the reader parse gigabytes). */
export const MAX_INDEX_BYTES = 8 * 1024 * 1024;
const MAX_RECORD_ID_CHARS = 128;

export type IndexErrorCode =
  /** A field is missing, unknown or invalid (`field` names it). */
  | 'MALFORMED'
  | 'UNSUPPORTED_VERSION'
  /** history(): a previous index names another patient, a non-consecutive seq, or comes back to a CID seen before. */
  | 'BAD_CHAIN'
  /** history(): more than maxVersions documents. */
  | 'TOO_LONG';

export class IndexError extends SdkError<IndexErrorCode> {
  override readonly name = 'IndexError';
  constructor(
    code: IndexErrorCode,
    /** The offending field (e.g. `records[2].wrappedKeys.3.nonce`), or `(root)`, or `(chain)`. */
    readonly field: string,
    message: string,
  ) {
    super(code, `patient index field "${field}": ${message}`);
  }
}

export interface IndexRecordEntry {
  readonly recordId: string;
  /** 1, 2, ... per record. */
  readonly version: number;
  /** CID of the serialised record envelope (sdk/crypto.ts). */
  readonly cid: string;
  /** contentHash() of the envelope bytes stored under `cid` (0x + 64 hex). */
  readonly contentHash: string;
  /** FHIR resourceType of the plaintext (e.g. "Bundle"). */
  readonly resourceType: string;
  /** ISO 8601 time the version was written. */
  readonly createdAt: string;
  /** The version's data key wrapped for each reader, by decimal account index (the patient's own included). */
  readonly wrappedKeys: Readonly<Record<string, WrappedKey>>;
}

export interface IndexGrantee {
  readonly account: number;
  /** Consent slot in the patient's consent tree. */
  readonly slot: number;
  /** The grantee's X25519 public key, 64 lowercase hex digits. */
  readonly x25519Public: string;
  /** Scope bits: Read 1, Claim 2. */
  readonly scope: number;
  /** ISO time of the grant. */
  readonly since: string;
  /** Unix seconds, decimal. */
  readonly expiry: string;
  /** ISO time of the revocation; absent while the grant stands. */
  readonly revokedAt?: string;
}

export interface PatientIndex {
  readonly type: typeof PATIENT_INDEX_TYPE;
  readonly v: 1;
  /** The patient's account index. */
  readonly patient: number;
  /** 0 for the first document, +1 per version. */
  readonly seq: number;
  /** CID of the previous document, null for the first. */
  readonly prev: string | null;
  readonly updatedAt: string;
  readonly records: readonly IndexRecordEntry[];
  readonly grantees: readonly IndexGrantee[];
}

export interface IndexVersion {
  readonly cid: string;
  readonly index: PatientIndex;
}

/** The uint248 rollup payload for an index CID: the first 31 bytes of SHA-256(UTF-8 of the CID string). */
export function indexHash(cid: string): bigint {
  if (typeof cid !== 'string' || cid.length === 0) throw new IndexError('MALFORMED', '(cid)', 'an index CID must be a non-empty string');
  return bytesToBigint(sha256(utf8ToBytes(cid)).subarray(0, 31));
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Serialisation

/** The JSON bytes stored on IPFS; the document is validated first, so nothing malformed is ever written. */
export function serialiseIndex(index: PatientIndex): Uint8Array {
  const json = {
    type: PATIENT_INDEX_TYPE,
    v: 1,
    patient: index.patient,
    seq: index.seq,
    prev: index.prev,
    updatedAt: index.updatedAt,
    records: index.records.map((r) => ({
      recordId: r.recordId,
      version: r.version,
      cid: r.cid,
      contentHash: r.contentHash,
      resourceType: r.resourceType,
      createdAt: r.createdAt,
      wrappedKeys: Object.fromEntries(Object.entries(r.wrappedKeys).map(([account, w]) => [account, JSON.parse(serialiseWrappedKey(w)) as unknown])),
    })),
    grantees: index.grantees.map((g) => ({
      account: g.account,
      slot: g.slot,
      x25519Public: g.x25519Public,
      scope: g.scope,
      since: g.since,
      expiry: g.expiry,
      ...(g.revokedAt === undefined ? {} : { revokedAt: g.revokedAt }),
    })),
  };
  const text = JSON.stringify(json);
  parseIndex(text); // one set of rules for writing and reading
  return utf8ToBytes(text);
}

function malformed(field: string, why: string): never {
  throw new IndexError('MALFORMED', field, why);
}

function objectWith(value: unknown, field: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed(field, 'expected an object');
  const obj = value as Record<string, unknown>;
  const at = (k: string) => (field === '(root)' ? k : `${field}.${k}`);
  for (const k of Object.keys(obj)) if (!required.includes(k) && !optional.includes(k)) malformed(at(k), 'unknown field');
  for (const k of required) if (!(k in obj)) malformed(at(k), 'missing');
  return obj;
}

function uint(value: unknown, field: string, max: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) malformed(field, `expected an integer in [${min}, ${max}]`);
  return value as number;
}

function isoTime(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    malformed(field, 'expected an ISO 8601 date-time with a zone');
  }
  return value as string;
}

function cidText(value: unknown, field: string): string {
  if (typeof value !== 'string') malformed(field, 'expected a CID string');
  try {
    parseCid(value as string);
  } catch (err) {
    malformed(field, `not a CIDv1 sha2-256 of this store (${(err as Error).message.replace(/^[A-Z_]+: /, '')})`);
  }
  return value as string;
}

function recordEntry(value: unknown, field: string): IndexRecordEntry {
  const o = objectWith(value, field, ['recordId', 'version', 'cid', 'contentHash', 'resourceType', 'createdAt', 'wrappedKeys']);
  const recordId = o.recordId;
  if (typeof recordId !== 'string' || recordId.length === 0 || recordId.length > MAX_RECORD_ID_CHARS || hasLoneSurrogate(recordId)) {
    malformed(`${field}.recordId`, `expected a non-empty, well-formed string of at most ${MAX_RECORD_ID_CHARS} characters`);
  }
  if (typeof o.contentHash !== 'string' || !/^0x[0-9a-f]{64}$/.test(o.contentHash)) malformed(`${field}.contentHash`, 'expected 0x and 64 lowercase hex digits');
  if (typeof o.resourceType !== 'string' || !/^[A-Z][A-Za-z]{0,63}$/.test(o.resourceType)) malformed(`${field}.resourceType`, 'expected a FHIR resource type name');
  const wk = o.wrappedKeys;
  if (typeof wk !== 'object' || wk === null || Array.isArray(wk)) malformed(`${field}.wrappedKeys`, 'expected an object keyed by account index');
  const wrappedKeys: Record<string, WrappedKey> = {};
  for (const [account, w] of Object.entries(wk as Record<string, unknown>)) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(account) || Number(account) >= 2 ** 32) malformed(`${field}.wrappedKeys.${account.slice(0, 20)}`, 'keys must be decimal account indexes');
    try {
      wrappedKeys[account] = parseWrappedKey(w);
    } catch (err) {
      if (err instanceof EnvelopeError) malformed(`${field}.wrappedKeys.${account}${err.field === '(root)' ? '' : `.${err.field}`}`, err.message.replace(/^[A-Z_]+: field "[^"]*": /, ''));
      throw err;
    }
  }
  return {
    recordId: recordId as string,
    version: uint(o.version, `${field}.version`, MAX_RECORD_VERSION, 1),
    cid: cidText(o.cid, `${field}.cid`),
    contentHash: o.contentHash as string,
    resourceType: o.resourceType as string,
    createdAt: isoTime(o.createdAt, `${field}.createdAt`),
    wrappedKeys,
  };
}

function grantee(value: unknown, field: string): IndexGrantee {
  const o = objectWith(value, field, ['account', 'slot', 'x25519Public', 'scope', 'since', 'expiry'], ['revokedAt']);
  if (typeof o.x25519Public !== 'string' || !new RegExp(`^[0-9a-f]{${X25519_KEY_BYTES * 2}}$`).test(o.x25519Public)) malformed(`${field}.x25519Public`, `expected ${X25519_KEY_BYTES * 2} lowercase hex digits`);
  if (typeof o.expiry !== 'string' || !/^(0|[1-9][0-9]{0,12})$/.test(o.expiry) || BigInt(o.expiry) >= 1n << 40n) malformed(`${field}.expiry`, 'expected a decimal string of unix seconds below 2^40');
  return {
    account: uint(o.account, `${field}.account`, 2 ** 32 - 1),
    slot: uint(o.slot, `${field}.slot`, 255),
    x25519Public: o.x25519Public as string,
    scope: uint(o.scope, `${field}.scope`, 3, 1),
    since: isoTime(o.since, `${field}.since`),
    expiry: o.expiry as string,
    ...(o.revokedAt === undefined ? {} : { revokedAt: isoTime(o.revokedAt, `${field}.revokedAt`) }),
  };
}

/** Validates an index document (bytes, JSON text or a parsed value); IndexError names the first bad field. */
export function parseIndex(input: Uint8Array | string | unknown): PatientIndex {
  let value = input;
  if (input instanceof Uint8Array) {
    if (input.byteLength > MAX_INDEX_BYTES) malformed('(root)', `${input.byteLength} bytes is above the ${MAX_INDEX_BYTES}-byte limit`);
    try {
      value = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      malformed('(root)', 'not valid UTF-8');
    }
  }
  if (typeof value === 'string') {
    if (value.length > MAX_INDEX_BYTES) malformed('(root)', `above the ${MAX_INDEX_BYTES}-byte limit`);
    try {
      value = JSON.parse(value);
    } catch {
      malformed('(root)', 'not valid JSON');
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (o.type !== PATIENT_INDEX_TYPE) malformed('type', `expected "${PATIENT_INDEX_TYPE}"`);
    if (o.v !== 1) throw new IndexError('UNSUPPORTED_VERSION', 'v', `version ${JSON.stringify(o.v)} is not supported (this SDK reads version 1)`);
  }
  const o = objectWith(value, '(root)', ['type', 'v', 'patient', 'seq', 'prev', 'updatedAt', 'records', 'grantees']);
  const seq = uint(o.seq, 'seq', Number.MAX_SAFE_INTEGER);
  if (o.prev !== null) cidText(o.prev, 'prev');
  if ((seq === 0) !== (o.prev === null)) malformed('prev', seq === 0 ? 'the first index (seq 0) has no previous index' : 'a later index (seq > 0) must name its previous index');
  if (!Array.isArray(o.records)) malformed('records', 'expected an array');
  if (!Array.isArray(o.grantees)) malformed('grantees', 'expected an array');
  const records = (o.records as unknown[]).map((r, i) => recordEntry(r, `records[${i}]`));
  const seen = new Set<string>();
  records.forEach((r, i) => {
    const key = `${r.version}:${r.recordId}`;
    if (seen.has(key)) malformed(`records[${i}]`, `record ${JSON.stringify(r.recordId)} version ${r.version} is listed twice`);
    seen.add(key);
  });
  return {
    type: PATIENT_INDEX_TYPE,
    v: 1,
    patient: uint(o.patient, 'patient', 2 ** 32 - 1),
    seq,
    prev: o.prev as string | null,
    updatedAt: isoTime(o.updatedAt, 'updatedAt'),
    records,
    grantees: (o.grantees as unknown[]).map((g, i) => grantee(g, `grantees[${i}]`)),
  };
}

// ---------------------------------------------------------------------------------------------
// Storage

export async function putIndex(storage: BlockStorage, index: PatientIndex): Promise<string> {
  return storage.put(serialiseIndex(index));
}

/** Fetches (CID-verified by the store) and parses an index document. */
export async function getIndex(storage: BlockStorage, cid: string): Promise<PatientIndex> {
  return parseIndex(await storage.get(cid));
}

/**
 * Every index document from `latestCid` back to the first, newest first, by walking `prev`.
 * Each step must stay with the same patient and count seq down by one (BAD_CHAIN), which also rules
 * out cycles; at most `maxVersions` documents are read (TOO_LONG).
 */
export async function history(storage: BlockStorage, latestCid: string, opts: { maxVersions?: number } = {}): Promise<IndexVersion[]> {
  const max = opts.maxVersions ?? MAX_HISTORY;
  const out: IndexVersion[] = [];
  const seen = new Set<string>();
  let cid: string | null = latestCid;
  while (cid !== null) {
    if (seen.has(cid)) throw new IndexError('BAD_CHAIN', '(chain)', `index ${cid} appears twice in the chain (a cycle)`);
    if (out.length >= max) throw new IndexError('TOO_LONG', '(chain)', `more than ${max} index versions from ${latestCid}`);
    seen.add(cid);
    const index = await getIndex(storage, cid);
    const newer = out.at(-1);
    if (newer) {
      if (index.patient !== newer.index.patient) throw new IndexError('BAD_CHAIN', '(chain)', `index ${cid} belongs to patient ${index.patient}, its successor to ${newer.index.patient}`);
      if (index.seq !== newer.index.seq - 1) throw new IndexError('BAD_CHAIN', '(chain)', `index ${cid} has seq ${index.seq}, its successor ${newer.index.seq}`);
    }
    out.push({ cid, index });
    cid = index.prev;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Queries

/** The entry of `recordId` at `version`, or its highest version when `version` is omitted. */
export function findRecord(index: PatientIndex, recordId: string, version?: number): IndexRecordEntry | undefined {
  let best: IndexRecordEntry | undefined;
  for (const r of index.records) {
    if (r.recordId !== recordId) continue;
    if (version !== undefined) {
      if (r.version === version) return r;
    } else if (best === undefined || r.version > best.version) {
      best = r;
    }
  }
  return best;
}

/** Grantees whose grant stands (not revoked and, given `nowSeconds`, not expired). */
export function activeGrantees(index: PatientIndex | undefined, nowSeconds?: bigint): IndexGrantee[] {
  return (index?.grantees ?? []).filter((g) => g.revokedAt === undefined && (nowSeconds === undefined || BigInt(g.expiry) > nowSeconds));
}
