/**
 * Record flows through the rollup (issue item 6): upload, update, grant, revoke (PatientSession),
 * access and claim (InstitutionSession). Everything that touches plaintext or keys runs here, on the
 * client; IPFS gets envelopes and index documents, the rollup gets signed transactions whose
 * payloads are hashes.
 *
 *   upload(resource)       FHIR validation, encryption under a fresh data key, envelope to IPFS, the
 *                          key wrapped for the patient and every standing Read grantee, a new index
 *                          document, then Upload (first index) or Update with payload indexHash(cid)
 *   update(id, resource)   the same as a new version of an existing record
 *   grant(grantee, ...)    Grant tx, then a new index that wraps every existing version's key for the
 *                          grantee (the keys come from the patient's own wraps) and lists it; Update
 *   revoke(account)        Revoke tx, then a new index marking the grant revoked; Update. Later
 *                          versions have fresh keys never wrapped for it. What a grantee could read
 *                          before stays readable to it (its wraps of earlier versions remain in
 *                          earlier index documents on IPFS anyway); the rollup refuses its Access.
 *   access(patient, cid, id, v?)  (institution) the CID checked against the patient's on-chain
 *                          indexHash (INDEX_MISMATCH), an Access tx (payload accessPayload) that the
 *                          sequencer must accept before anything is decrypted, then the envelope is
 *                          fetched, its content hash checked, the key unwrapped (NO_KEY when the
 *                          version was never wrapped for this account) and the record decrypted
 *   claim(patient, id, v)  (insurer) a Claim tx with payload recordReference(patient, id, v)
 *
 * Deviations from the design brief, and why:
 * - access() reads the index document before the Access transaction (the brief: after). It is public
 *   metadata (no plaintext, no key), and reading it first lets access() resolve "latest version" and
 *   refuse an unknown record (NOT_FOUND) without logging an access to nothing. The envelope is fetched
 *   and decrypted only after the sequencer accepted the Access.
 * - Keys are wrapped only for grantees whose scope includes Read: a Claim-only grant (an insurer)
 *   lets the insurer reference a record version on chain, not read it.
 * - A grantee's X25519 public key is passed in by the caller: there is no key directory yet (the
 *   Gateway holds BabyJubJub keys and DIDs only). Likewise the latest index CID travels off-chain.
 * - The patient reads its own records without an Access transaction: the rollup has no consent of a
 *   patient to itself (SELF_GRANT), and reading one's own data is not an access event.
 * - Transactions are sent one at a time with the nonce read from GET /v1/accounts just before;
 *   a session is not meant to be used concurrently with another writer of the same account
 *   (INDEX_MISMATCH tells a patient session that someone else moved the index).
 */
import { randomUUID } from 'node:crypto';
import { bytesToHex, clean, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Scope, TxOp, type TxRecord } from '../prover/codec.js';
import { signTx } from '../prover/signing.js';
import {
  contentHash,
  decryptRecord,
  encryptRecord,
  lengthPrefixed,
  parseRecordEnvelope,
  serialiseRecordEnvelope,
  unwrapKey,
  wrapKey,
  X25519_KEY_BYTES,
  type WrappedKey,
} from './crypto.js';
import { SdkError } from './errors.js';
// The only coupling to the FHIR module: this import and validateFhir() below.
import { FhirValidationError, validateResource } from './fhir/index.js';
import type { DerivedKeys } from './keys.js';
import {
  activeGrantees,
  bytesToBigint,
  findRecord,
  getIndex,
  history,
  indexHash,
  putIndex,
  type IndexGrantee,
  type IndexRecordEntry,
  type IndexVersion,
  type PatientIndex,
  PATIENT_INDEX_TYPE,
} from './patientIndex.js';
import type { AccountState, RollupClient, SoftReceipt } from './rollupClient.js';
import type { BlockStorage } from './storage.js';

export type RecordsErrorCode =
  /** The resource is not valid FHIR R4 (`issues` lists why). */
  | 'FHIR_INVALID'
  /** A CID does not hash to the account's on-chain indexHash, or the index names another patient. */
  | 'INDEX_MISMATCH'
  /** The record or version is not in the index. */
  | 'NOT_FOUND'
  /** The version's data key was never wrapped for this account (e.g. written after a revocation). */
  | 'NO_KEY'
  /** The envelope's bytes do not match the content hash the index lists. */
  | 'CONTENT_MISMATCH'
  /** revoke(): the account holds no consent of this patient. */
  | 'NOT_GRANTED'
  /** grant(): every consent slot the client tried is taken. */
  | 'NO_FREE_SLOT'
  | 'INVALID_ARGUMENT';

export class RecordsError extends SdkError<RecordsErrorCode> {
  override readonly name = 'RecordsError';
  constructor(
    code: RecordsErrorCode,
    message: string,
    readonly issues: readonly { readonly path: string; readonly message: string }[] = [],
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

export function isRecordsError(err: unknown, code?: RecordsErrorCode): err is RecordsError {
  return err instanceof RecordsError && (code === undefined || err.code === code);
}

export interface SessionOptions {
  /** From deriveKeys(seed). */
  readonly keys: DerivedKeys;
  /** The account index of this party on the rollup. */
  readonly account: number;
  readonly storage: BlockStorage;
  readonly rollup: RollupClient;
  /** Clock for timestamps in index documents and for consent expiry (default: the system clock). */
  readonly now?: () => Date;
}

/** What an upload or update produced. */
export interface RecordVersionResult {
  readonly recordId: string;
  readonly version: number;
  readonly cid: string;
  readonly contentHash: string;
  /** The new index document's CID (its indexHash is now the account's). */
  readonly indexCid: string;
  readonly tx: SoftReceipt;
}

export interface IndexCommit {
  readonly indexCid: string;
  /** The Upload or Update that anchored the index. */
  readonly indexTx: SoftReceipt;
}

export interface Grantee {
  readonly account: number;
  /** 32-byte X25519 public key (DerivedKeys.boxPublic of the grantee), passed in out of band. */
  readonly x25519Public: Uint8Array;
}

export interface ReadResult {
  readonly recordId: string;
  readonly version: number;
  readonly entry: IndexRecordEntry;
  /** The decrypted bytes (the FHIR JSON as uploaded). */
  readonly plaintext: Uint8Array;
  readonly resource: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Hashes that go on chain

const truncate248 = (digest: Uint8Array): bigint => bytesToBigint(digest.subarray(0, 31));

function uint32BE(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** The Access payload: SHA-256 of (domain, index CID, record id, version), first 31 bytes (uint248). */
export function accessPayload(indexCid: string, recordId: string, version: number): bigint {
  return truncate248(sha256(lengthPrefixed('medrollup/v1/access', indexCid, recordId, uint32BE(version))));
}

/** The Claim payload, a record reference: SHA-256 of (domain, patient account, record id, version), first 31 bytes. */
export function recordReference(patientAccount: number, recordId: string, version: number): bigint {
  return truncate248(sha256(lengthPrefixed('medrollup/v1/record-ref', uint32BE(patientAccount), recordId, uint32BE(version))));
}

// ---------------------------------------------------------------------------------------------
// Shared steps

/** The only place that knows the FHIR module's API: a validated resource and its type, or FHIR_INVALID. */
export function validateFhir(resource: unknown): { resource: Record<string, unknown>; resourceType: string } {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    throw new RecordsError('FHIR_INVALID', 'a record must be a FHIR resource (a JSON object with resourceType)');
  }
  const { valid, issues } = validateResource(resource);
  if (!valid) {
    const e = new FhirValidationError(issues);
    throw new RecordsError('FHIR_INVALID', e.message, issues, { cause: e });
  }
  return { resource: resource as Record<string, unknown>, resourceType: (resource as { resourceType: string }).resourceType };
}

async function send(rollup: RollupClient, keys: DerivedKeys, actor: number, fields: Partial<TxRecord> & Pick<TxRecord, 'op'>): Promise<SoftReceipt> {
  const { nonce } = await rollup.account(actor);
  const record: TxRecord = { actor, target: actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields };
  return rollup.submit(signTx(keys.signingSecret, record, nonce));
}

/** Refuses a CID that is not the patient's anchored index (the check a reader makes before trusting it). */
export async function verifyIndexCid(rollup: RollupClient, patientAccount: number, indexCid: string): Promise<AccountState> {
  const account = await rollup.account(patientAccount);
  if (account.indexHash === 0n) throw new RecordsError('INDEX_MISMATCH', `patient ${patientAccount} has no index on chain yet`);
  if (indexHash(indexCid) !== account.indexHash) {
    throw new RecordsError('INDEX_MISMATCH', `index ${indexCid} is not patient ${patientAccount}'s current index (its hash differs from the on-chain indexHash)`);
  }
  return account;
}

/**
 * The local half of reading a record version: fetch the envelope (CID-verified by the store), check
 * its content hash against the index, unwrap this reader's key and decrypt. No transaction.
 */
export async function openRecordVersion(storage: BlockStorage, index: PatientIndex, recordId: string, version: number | undefined, reader: { account: number; boxSecret: Uint8Array }): Promise<ReadResult> {
  const entry = findRecord(index, recordId, version);
  if (!entry) throw new RecordsError('NOT_FOUND', `record ${JSON.stringify(recordId)}${version === undefined ? '' : ` version ${version}`} is not in patient ${index.patient}'s index (seq ${index.seq})`);
  const ctx = { recordId: entry.recordId, version: entry.version };
  const wrapped = entry.wrappedKeys[String(reader.account)];
  if (!wrapped) throw new RecordsError('NO_KEY', `record ${JSON.stringify(recordId)} version ${entry.version} was never wrapped for account ${reader.account}`);
  const bytes = await storage.get(entry.cid);
  if (contentHash(bytes) !== entry.contentHash) {
    throw new RecordsError('CONTENT_MISMATCH', `the envelope under ${entry.cid} does not match the content hash the index lists for record ${JSON.stringify(recordId)} version ${entry.version}`);
  }
  const envelope = parseRecordEnvelope(new TextDecoder().decode(bytes));
  const dataKey = unwrapKey(wrapped, reader.boxSecret, ctx);
  let plaintext: Uint8Array;
  try {
    plaintext = decryptRecord(envelope, dataKey, ctx);
  } finally {
    clean(dataKey);
  }
  let resource: Record<string, unknown>;
  try {
    resource = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext)) as Record<string, unknown>;
  } catch {
    throw new RecordsError('FHIR_INVALID', `record ${JSON.stringify(recordId)} version ${entry.version} decrypted but is not JSON`);
  }
  return { recordId: entry.recordId, version: entry.version, entry, plaintext, resource };
}

function checkAccount(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n >= 2 ** 32) throw new RecordsError('INVALID_ARGUMENT', `${what} must be a uint32 account index, got ${String(n)}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Patient

export class PatientSession {
  private latest: IndexVersion | undefined;
  private readonly now: () => Date;

  private constructor(
    private readonly opts: SessionOptions,
    latest: IndexVersion | undefined,
  ) {
    this.latest = latest;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Opens a patient's session. `indexCid`: the patient's latest index (required once the account
   * has one; checked against the on-chain indexHash: INDEX_MISMATCH).
   */
  static async open(opts: SessionOptions & { readonly indexCid?: string }): Promise<PatientSession> {
    checkAccount(opts.account, 'account');
    const account = await opts.rollup.account(opts.account);
    if (account.publicKey.x !== opts.keys.signingKey.x || account.publicKey.y !== opts.keys.signingKey.y) {
      throw new RecordsError('INVALID_ARGUMENT', `account ${opts.account} is registered with another signing key`);
    }
    if (opts.indexCid === undefined) {
      if (account.indexHash !== 0n) throw new RecordsError('INDEX_MISMATCH', `account ${opts.account} already has an index on chain: pass its CID`);
      return new PatientSession(opts, undefined);
    }
    await verifyIndexCid(opts.rollup, opts.account, opts.indexCid);
    const index = await getIndex(opts.storage, opts.indexCid);
    if (index.patient !== opts.account) throw new RecordsError('INDEX_MISMATCH', `index ${opts.indexCid} belongs to patient ${index.patient}`);
    return new PatientSession(opts, { cid: opts.indexCid, index });
  }

  get account(): number {
    return this.opts.account;
  }

  /** The latest index CID (what the patient hands to grantees), undefined before the first upload. */
  get indexCid(): string | undefined {
    return this.latest?.cid;
  }

  get index(): PatientIndex | undefined {
    return this.latest?.index;
  }

  async upload(resource: unknown, opts: { readonly recordId?: string } = {}): Promise<RecordVersionResult> {
    const recordId = opts.recordId ?? randomUUID();
    if (typeof recordId !== 'string' || recordId.length === 0 || recordId.length > 128) throw new RecordsError('INVALID_ARGUMENT', 'recordId must be a string of 1 to 128 characters');
    if (this.latest && findRecord(this.latest.index, recordId)) throw new RecordsError('INVALID_ARGUMENT', `record ${JSON.stringify(recordId)} exists: use update()`);
    return this.writeVersion(recordId, 1, resource);
  }

  /** A new version of an existing record, under a fresh data key. */
  async update(recordId: string, resource: unknown): Promise<RecordVersionResult> {
    const last = this.latest && findRecord(this.latest.index, recordId);
    if (!last) throw new RecordsError('NOT_FOUND', `record ${JSON.stringify(recordId)} is not in the index: use upload()`);
    return this.writeVersion(recordId, last.version + 1, resource);
  }

  /**
   * Grants `scope` (Scope.Read and/or Scope.Claim) until `expiry` (unix seconds) in consent slot
   * `slot` (default: the grantee's current slot, else the lowest free one). With Read, every
   * existing version's key is wrapped for the grantee in the new index.
   */
  async grant(grantee: Grantee, scope: number, expiry: bigint, slot?: number): Promise<IndexCommit & { readonly slot: number; readonly grantTx: SoftReceipt }> {
    checkAccount(grantee.account, 'grantee.account');
    if (grantee.account === this.opts.account) throw new RecordsError('INVALID_ARGUMENT', 'a patient cannot grant consent to itself');
    if (!(grantee.x25519Public instanceof Uint8Array) || grantee.x25519Public.length !== X25519_KEY_BYTES) throw new RecordsError('INVALID_ARGUMENT', `grantee.x25519Public must be ${X25519_KEY_BYTES} bytes`);
    if (!Number.isInteger(scope) || scope < 1 || scope > (Scope.Read | Scope.Claim)) throw new RecordsError('INVALID_ARGUMENT', `scope must be Read (1), Claim (2) or both (3), got ${String(scope)}`);
    if (typeof expiry !== 'bigint') throw new RecordsError('INVALID_ARGUMENT', 'expiry must be a bigint of unix seconds');
    const account = await this.checkChain();
    const chosen = slot ?? account.consents.find((c) => c.grantee === grantee.account)?.slot ?? firstFreeSlot(account);
    const grantTx = await send(this.opts.rollup, this.opts.keys, this.opts.account, { op: TxOp.Grant, target: grantee.account, slot: chosen, scope, expiry });

    const x25519Public = bytesToHex(grantee.x25519Public);
    const old = this.latest?.index;
    const records = (old?.records ?? []).map((r) => {
      if ((scope & Scope.Read) === 0) return r;
      const ctx = { recordId: r.recordId, version: r.version };
      const own = r.wrappedKeys[String(this.opts.account)];
      if (!own) return r; // cannot happen for indexes this SDK writes
      const dataKey = unwrapKey(own, this.opts.keys.boxSecret, ctx);
      try {
        return { ...r, wrappedKeys: { ...r.wrappedKeys, [String(grantee.account)]: wrapKey(dataKey, grantee.x25519Public, ctx) } };
      } finally {
        clean(dataKey);
      }
    });
    const entry: IndexGrantee = { account: grantee.account, slot: chosen, x25519Public, scope, since: this.now().toISOString(), expiry: expiry.toString() };
    // A new grant replaces the grantee's standing one, and whatever held this slot before.
    const grantees = [...(old?.grantees ?? []).map((g) => (g.revokedAt === undefined && (g.account === grantee.account || g.slot === chosen) ? { ...g, revokedAt: entry.since } : g)), entry];
    const commit = await this.commit(records, grantees);
    return { ...commit, slot: chosen, grantTx };
  }

  /** Revokes the grantee's consent; versions written from now on are not wrapped for it. */
  async revoke(granteeAccount: number): Promise<IndexCommit & { readonly revokeTx: SoftReceipt }> {
    checkAccount(granteeAccount, 'granteeAccount');
    const account = await this.checkChain();
    const consent = account.consents.find((c) => c.grantee === granteeAccount);
    if (!consent) throw new RecordsError('NOT_GRANTED', `account ${granteeAccount} holds no consent of patient ${this.opts.account}`);
    const revokeTx = await send(this.opts.rollup, this.opts.keys, this.opts.account, { op: TxOp.Revoke, target: granteeAccount, slot: consent.slot });
    const at = this.now().toISOString();
    const grantees = (this.latest?.index.grantees ?? []).map((g) => (g.account === granteeAccount && g.revokedAt === undefined ? { ...g, revokedAt: at } : g));
    const commit = await this.commit(this.latest?.index.records ?? [], grantees);
    return { ...commit, revokeTx };
  }

  /** Reads one of the patient's own records (latest version by default), locally. */
  async read(recordId: string, version?: number): Promise<ReadResult> {
    if (!this.latest) throw new RecordsError('NOT_FOUND', 'the patient has no records yet');
    return openRecordVersion(this.opts.storage, this.latest.index, recordId, version, { account: this.opts.account, boxSecret: this.opts.keys.boxSecret });
  }

  /** Every index version, newest first. */
  async history(): Promise<IndexVersion[]> {
    return this.latest ? history(this.opts.storage, this.latest.cid) : [];
  }

  // -------------------------------------------------------------------------------------------

  private async writeVersion(recordId: string, version: number, input: unknown): Promise<RecordVersionResult> {
    const { resource, resourceType } = validateFhir(input);
    await this.checkChain();
    const ctx = { recordId, version };
    const { dataKey, envelope } = encryptRecord(utf8ToBytes(JSON.stringify(resource)), ctx);
    let wrappedKeys: Record<string, WrappedKey>;
    try {
      wrappedKeys = { [String(this.opts.account)]: wrapKey(dataKey, this.opts.keys.boxPublic, ctx) };
      const nowSeconds = BigInt(Math.floor(this.now().getTime() / 1000));
      for (const g of activeGrantees(this.latest?.index, nowSeconds)) {
        if ((g.scope & Scope.Read) !== 0) wrappedKeys[String(g.account)] = wrapKey(dataKey, hexToBytes(g.x25519Public), ctx);
      }
    } finally {
      clean(dataKey);
    }
    const envelopeBytes = utf8ToBytes(serialiseRecordEnvelope(envelope));
    const cid = await this.opts.storage.put(envelopeBytes);
    const entry: IndexRecordEntry = { recordId, version, cid, contentHash: contentHash(envelopeBytes), resourceType, createdAt: this.now().toISOString(), wrappedKeys };
    const commit = await this.commit([...(this.latest?.index.records ?? []), entry], this.latest?.index.grantees ?? []);
    return { recordId, version, cid, contentHash: entry.contentHash, indexCid: commit.indexCid, tx: commit.indexTx };
  }

  /** Writes the next index document and anchors it (Upload the first time, Update after). */
  private async commit(records: readonly IndexRecordEntry[], grantees: readonly IndexGrantee[]): Promise<IndexCommit> {
    const prev = this.latest;
    const index: PatientIndex = {
      type: PATIENT_INDEX_TYPE,
      v: 1,
      patient: this.opts.account,
      seq: prev ? prev.index.seq + 1 : 0,
      prev: prev?.cid ?? null,
      updatedAt: this.now().toISOString(),
      records,
      grantees,
    };
    const indexCid = await putIndex(this.opts.storage, index);
    const indexTx = await send(this.opts.rollup, this.opts.keys, this.opts.account, { op: prev ? TxOp.Update : TxOp.Upload, payload: indexHash(indexCid) });
    this.latest = { cid: indexCid, index };
    return { indexCid, indexTx };
  }

  /** The account as the sequencer has it, after checking that its indexHash is still this session's. */
  private async checkChain(): Promise<AccountState> {
    const account = await this.opts.rollup.account(this.opts.account);
    const expected = this.latest ? indexHash(this.latest.cid) : 0n;
    if (account.indexHash !== expected) {
      throw new RecordsError('INDEX_MISMATCH', `patient ${this.opts.account}'s on-chain index changed outside this session (reopen it with the current index CID)`);
    }
    return account;
  }
}

/** The lowest slot without a consent; the sequencer refuses (BAD_FIELD) one beyond its consent tree. */
function firstFreeSlot(account: AccountState): number {
  const used = new Set(account.consents.map((c) => c.slot));
  for (let s = 0; s < 256; s++) if (!used.has(s)) return s;
  throw new RecordsError('NO_FREE_SLOT', `every consent slot of patient ${account.index} is taken`);
}

// ---------------------------------------------------------------------------------------------
// Institutions (hospitals, laboratories, insurers)

export class InstitutionSession {
  constructor(private readonly opts: SessionOptions) {
    checkAccount(opts.account, 'account');
  }

  get account(): number {
    return this.opts.account;
  }

  /**
   * Reads a patient's record version (latest when omitted): checks `indexCid` against the patient's
   * on-chain indexHash, logs the access as an Access transaction (a refusal such as NO_CONSENT comes
   * back as the RollupError and nothing is decrypted), then fetches, checks and decrypts locally.
   */
  async access(patientAccount: number, indexCid: string, recordId: string, version?: number): Promise<ReadResult & { readonly tx: SoftReceipt }> {
    checkAccount(patientAccount, 'patientAccount');
    const account = await verifyIndexCid(this.opts.rollup, patientAccount, indexCid);
    const index = await getIndex(this.opts.storage, indexCid);
    if (index.patient !== patientAccount) throw new RecordsError('INDEX_MISMATCH', `index ${indexCid} belongs to patient ${index.patient}, not ${patientAccount}`);
    const entry = findRecord(index, recordId, version);
    if (!entry) throw new RecordsError('NOT_FOUND', `record ${JSON.stringify(recordId)}${version === undefined ? '' : ` version ${version}`} is not in patient ${patientAccount}'s index`);
    const slot = this.consentSlot(account, Scope.Read);
    const tx = await send(this.opts.rollup, this.opts.keys, this.opts.account, {
      op: TxOp.Access,
      target: patientAccount,
      slot,
      payload: accessPayload(indexCid, entry.recordId, entry.version),
    });
    const read = await openRecordVersion(this.opts.storage, index, entry.recordId, entry.version, { account: this.opts.account, boxSecret: this.opts.keys.boxSecret });
    return { ...read, tx };
  }

  /** Files a claim on a record version (an insurer with a Claim consent): payload recordReference(...). */
  async claim(patientAccount: number, recordId: string, version: number): Promise<{ readonly tx: SoftReceipt; readonly reference: bigint }> {
    checkAccount(patientAccount, 'patientAccount');
    if (typeof recordId !== 'string' || recordId.length === 0) throw new RecordsError('INVALID_ARGUMENT', 'recordId must be a non-empty string');
    if (!Number.isSafeInteger(version) || version < 1) throw new RecordsError('INVALID_ARGUMENT', `version must be a positive integer, got ${String(version)}`);
    const account = await this.opts.rollup.account(patientAccount);
    const reference = recordReference(patientAccount, recordId, version);
    const tx = await send(this.opts.rollup, this.opts.keys, this.opts.account, { op: TxOp.Claim, target: patientAccount, slot: this.consentSlot(account, Scope.Claim), payload: reference });
    return { tx, reference };
  }

  /**
   * The patient's consent slot for this account with `scope`; failing that, any slot of this
   * account, else 0 — so that the sequencer, the authority, answers NO_CONSENT or WRONG_SCOPE.
   */
  private consentSlot(patient: AccountState, scope: number): number {
    const mine = patient.consents.filter((c) => c.grantee === this.opts.account);
    return (mine.find((c) => (c.scope & scope) !== 0) ?? mine[0])?.slot ?? 0;
  }
}
