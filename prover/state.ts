/**
 * The rollup state of circuits/SPEC.md "State": a state tree of depth D whose leaf i is account i,
 *
 *   accountLeaf = Poseidon5(pubX, pubY, nonce, indexHash, consentRoot)    (0 when unregistered)
 *
 * and, per account, a consent tree of depth S whose leaf at the slot the owner chose is
 *
 *   consentLeaf = Poseidon3(grantee, scope, expiry)                       (0 when scope == 0)
 *
 * Forced operations (RegisterAccount, RevokeConsent) come from the Gateway queue and never fail;
 * L2 transactions are validated in full and a rejected one throws TxRejected and changes nothing.
 *
 * clone() is cheap: account records are shared between copies and copied on first write.
 */
import { poseidon3, poseidon5 } from 'poseidon-lite';
import { ForcedKind, Scope, TxOp, type ForcedOp, type TxRecord } from './codec.js';
import { SNARK_FIELD, SparseMerkleTree, zeroNodes } from './merkleTree.js';
import { verifyTx, type PublicKey, type SignedTx } from './signing.js';

/** The fields of an account leaf, as the circuit's `*Leaf[5]` witnesses give them. */
export interface AccountFields {
  readonly pubX: bigint;
  readonly pubY: bigint;
  readonly nonce: bigint;
  readonly indexHash: bigint;
  readonly consentRoot: bigint;
}

/** The fields of a consent leaf, as the circuit's `*ConsentLeaf[3]` witnesses give them. */
export interface ConsentFields {
  readonly grantee: bigint;
  readonly scope: bigint;
  readonly expiry: bigint;
}

export interface Account extends AccountFields {
  readonly index: number;
  /** The non-empty consent slots. */
  readonly consents: ReadonlyMap<number, ConsentFields>;
}

export interface StateParams {
  /** D: state tree depth. */
  readonly treeDepth: number;
  /** S: consent tree depth. */
  readonly consentDepth: number;
}

export const EMPTY_ACCOUNT: AccountFields = Object.freeze({ pubX: 0n, pubY: 0n, nonce: 0n, indexHash: 0n, consentRoot: 0n });
export const EMPTY_CONSENT: ConsentFields = Object.freeze({ grantee: 0n, scope: 0n, expiry: 0n });

/** Index hashes and payloads are < 2^248. */
export const PAYLOAD_LIMIT = 1n << 248n;
/** Expiries are uint40 unix seconds. */
export const EXPIRY_LIMIT = 1n << 40n;
const ALL_SCOPES = BigInt(Scope.Read | Scope.Claim);

/** EMPTY_CONSENT_ROOT for consent depth S: zero[S]. */
export function emptyConsentRoot(consentDepth: number): bigint {
  return zeroNodes(consentDepth)[consentDepth]!;
}

/** 0 when pubX == pubY == 0, else Poseidon5(pubX, pubY, nonce, indexHash, consentRoot). */
export function accountLeafHash(a: AccountFields): bigint {
  if (a.pubX === 0n && a.pubY === 0n) return 0n;
  return poseidon5([a.pubX, a.pubY, a.nonce, a.indexHash, a.consentRoot]);
}

/** 0 when scope == 0, else Poseidon3(grantee, scope, expiry). */
export function consentLeafHash(c: ConsentFields): bigint {
  if (c.scope === 0n) return 0n;
  return poseidon3([c.grantee, c.scope, c.expiry]);
}

export const TxRejectCode = {
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  BAD_NONCE: 'BAD_NONCE',
  UNKNOWN_ACTOR: 'UNKNOWN_ACTOR',
  UNKNOWN_TARGET: 'UNKNOWN_TARGET',
  NOT_OWNER: 'NOT_OWNER',
  NO_CONSENT: 'NO_CONSENT',
  CONSENT_EXPIRED: 'CONSENT_EXPIRED',
  WRONG_SCOPE: 'WRONG_SCOPE',
  ALREADY_UPLOADED: 'ALREADY_UPLOADED',
  NOTHING_TO_UPDATE: 'NOTHING_TO_UPDATE',
  BAD_FIELD: 'BAD_FIELD',
  SELF_GRANT: 'SELF_GRANT',
} as const;
export type TxRejectCode = (typeof TxRejectCode)[keyof typeof TxRejectCode];

/** An L2 transaction the state (and so the circuit) would not accept. */
export class TxRejected extends Error {
  override readonly name = 'TxRejected';
  constructor(
    readonly code: TxRejectCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export type ForcedOpErrorCode = 'UNKNOWN_KIND' | 'ACCOUNT_OUT_OF_RANGE' | 'ACCOUNT_EXISTS' | 'INVALID_KEY';

/**
 * A forced operation that breaks a precondition the Gateway guarantees (RegisterAccount on an
 * index that is taken, outside the tree, or with a key that cannot be a curve point). Seeing one
 * means the prover's state and L1 disagree: no batch including the operation could be proven.
 */
export class ForcedOpError extends Error {
  override readonly name = 'ForcedOpError';
  constructor(
    readonly code: ForcedOpErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Options of RollupState.checkTx and applyTx. */
export interface TxCheckOptions {
  /**
   * The key the caller already verified the transaction's signature against (e.g. in a
   * VerifyPool): when it is the actor's registered key, the signature is not checked again; any
   * other key is ignored and the signature is verified as usual.
   */
  readonly verifiedKey?: PublicKey;
}

export interface ApplyTxOptions extends TxCheckOptions {
  /** Apply without validating (adversarial witnesses only, see applyTx). */
  readonly unchecked?: boolean;
}

/** What a forced operation did: RevokeConsent is a no-op when the slot holds no consent for the grantee. */
export type ForcedOutcome = 'registered' | 'revoked' | 'noop';

interface AccountRecord {
  pubX: bigint;
  pubY: bigint;
  nonce: bigint;
  indexHash: bigint;
  consents: SparseMerkleTree;
  slots: Map<number, ConsentFields>;
}

function copyRecord(r: AccountRecord): AccountRecord {
  return { ...r, consents: r.consents.clone(), slots: new Map(r.slots) };
}

function isUint(v: unknown, limit: bigint): boolean {
  return (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))) && BigInt(v) >= 0n && BigInt(v) < limit;
}

export class RollupState {
  readonly treeDepth: number;
  readonly consentDepth: number;
  /** EMPTY_CONSENT_ROOT for this state's consent depth. */
  readonly emptyConsentRoot: bigint;
  private tree: SparseMerkleTree;
  private accounts: Map<number, AccountRecord>;
  /** Indices whose record this copy may mutate in place (not shared with another copy). */
  private owned: Set<number>;
  /** Bumped on every write, so a validation can be reused only while nothing changed. */
  private version = 0;
  private lastChecked?: { tx: SignedTx; timestamp: bigint; version: number };

  constructor(params: StateParams) {
    this.treeDepth = params.treeDepth;
    this.consentDepth = params.consentDepth;
    this.tree = new SparseMerkleTree(params.treeDepth);
    this.emptyConsentRoot = emptyConsentRoot(params.consentDepth);
    this.accounts = new Map();
    this.owned = new Set();
  }

  get root(): bigint {
    return this.tree.root;
  }

  /** Number of accounts in the tree (2^D). */
  get capacity(): number {
    return this.tree.capacity;
  }

  /** Number of consent slots per account (2^S). */
  get consentSlots(): number {
    return 2 ** this.consentDepth;
  }

  /** Number of registered accounts. */
  get accountCount(): number {
    return this.accounts.size;
  }

  /** An independent copy: writes to either state never show in the other (copy-on-write per account). */
  clone(): RollupState {
    const copy = new RollupState({ treeDepth: this.treeDepth, consentDepth: this.consentDepth });
    copy.tree = this.tree.clone();
    copy.accounts = new Map(this.accounts);
    // The records are now shared: neither copy may write them in place any more.
    this.owned = new Set();
    this.version++;
    return copy;
  }

  isRegistered(index: number): boolean {
    return this.accounts.has(index);
  }

  account(index: number): Account | undefined {
    const r = this.accounts.get(index);
    if (!r) return undefined;
    return { index, ...this.fieldsOf(r), consents: new Map(r.slots) };
  }

  publicKey(index: number): PublicKey | undefined {
    const r = this.accounts.get(index);
    return r && { x: r.pubX, y: r.pubY };
  }

  /** The leaf fields of account `index`; all zero when unregistered. */
  accountFields(index: number): AccountFields {
    this.checkAccountIndex(index);
    const r = this.accounts.get(index);
    return r ? this.fieldsOf(r) : EMPTY_ACCOUNT;
  }

  accountLeaf(index: number): bigint {
    this.checkAccountIndex(index);
    return this.tree.get(index);
  }

  /** The D siblings of account `index` in the current root, leaf level first. */
  accountPath(index: number): bigint[] {
    return this.tree.siblings(index);
  }

  /** The consent fields in slot `slot` of account `owner`; all zero when empty or unregistered. */
  consent(owner: number, slot: number): ConsentFields {
    this.checkAccountIndex(owner);
    this.checkSlot(slot);
    return this.accounts.get(owner)?.slots.get(slot) ?? EMPTY_CONSENT;
  }

  /** The S siblings of `slot` in the consent tree of registered account `owner`, leaf level first. */
  consentPath(owner: number, slot: number): bigint[] {
    const r = this.accounts.get(owner);
    if (!r) throw new RangeError(`account ${owner} is not registered: it has no consent tree`);
    this.checkSlot(slot);
    return r.consents.siblings(slot);
  }

  // -------------------------------------------------------------------------------------------
  // Forced operations

  /** Applies a forced operation; see ForcedOpError for the only ways it can throw. */
  applyForced(op: ForcedOp): ForcedOutcome {
    switch (op.kind) {
      case ForcedKind.RegisterAccount:
        return this.register(op);
      case ForcedKind.RevokeConsent:
        return this.forcedRevoke(op);
      default:
        throw new ForcedOpError('UNKNOWN_KIND', `forced operation kind ${String(op.kind)} is neither RegisterAccount (1) nor RevokeConsent (2)`);
    }
  }

  private register(op: ForcedOp): ForcedOutcome {
    const { account, a, b } = op;
    if (!Number.isSafeInteger(account) || account < 1 || account >= this.capacity) {
      throw new ForcedOpError('ACCOUNT_OUT_OF_RANGE', `RegisterAccount index ${account} is outside 1..${this.capacity - 1} (D = ${this.treeDepth})`);
    }
    if (this.accounts.has(account)) throw new ForcedOpError('ACCOUNT_EXISTS', `RegisterAccount index ${account} is already registered`);
    if (typeof a !== 'bigint' || typeof b !== 'bigint' || a < 0n || b < 0n || a >= SNARK_FIELD || b >= SNARK_FIELD || (a === 0n && b === 0n)) {
      throw new ForcedOpError('INVALID_KEY', `RegisterAccount key (${String(a)}, ${String(b)}) is not a pair of field elements other than (0, 0)`);
    }
    const record: AccountRecord = {
      pubX: a,
      pubY: b,
      nonce: 0n,
      indexHash: 0n,
      consents: new SparseMerkleTree(this.consentDepth),
      slots: new Map(),
    };
    this.accounts.set(account, record);
    this.owned.add(account);
    this.writeLeaf(account, record);
    return 'registered';
  }

  /**
   * RevokeConsent: if the patient's slot b holds a consent whose grantee is `counterpart`, its scope
   * becomes scope & ~a (the slot empties when nothing is left); otherwise nothing changes (also for
   * an unregistered patient and for a slot outside the consent tree).
   */
  private forcedRevoke(op: ForcedOp): ForcedOutcome {
    const { account, counterpart, a, b } = op;
    if (!this.accounts.has(account) || b < 0n || b >= BigInt(this.consentSlots)) return 'noop';
    const slot = Number(b);
    const current = this.accounts.get(account)!.slots.get(slot);
    if (!current || current.grantee !== BigInt(counterpart)) return 'noop';
    const scope = current.scope & ~a;
    if (scope === current.scope) return 'noop';
    const record = this.writable(account);
    this.writeConsent(record, slot, { ...current, scope });
    this.writeLeaf(account, record);
    return 'revoked';
  }

  // -------------------------------------------------------------------------------------------
  // L2 transactions

  /**
   * Validates `tx` against the state at batch time `timestamp` without changing anything; throws
   * TxRejected. Order of checks: the record's fields (BAD_FIELD), then who may send it (NOT_OWNER,
   * SELF_GRANT), the actor (UNKNOWN_ACTOR, BAD_NONCE, BAD_SIGNATURE), then the op's own checks.
   * See TxCheckOptions for `verifiedKey`.
   */
  checkTx(tx: SignedTx, timestamp: bigint, { verifiedKey }: TxCheckOptions = {}): void {
    this.validate(tx, timestamp, verifiedKey);
    this.lastChecked = { tx, timestamp, version: this.version };
  }

  /**
   * Validates and applies `tx`; a rejected transaction throws TxRejected and changes nothing.
   * `unchecked` applies the effects without validating, as a dishonest prover would: it exists
   * only to build adversarial witnesses that the circuit must refuse (never in the sequencer).
   * See TxCheckOptions for `verifiedKey`.
   */
  applyTx(tx: SignedTx, timestamp: bigint, { unchecked = false, verifiedKey }: ApplyTxOptions = {}): void {
    const { record } = tx;
    const checked = this.lastChecked;
    // checkTx just accepted this very object and nothing changed since: skip the second signature check.
    const validated = checked && checked.tx === tx && checked.timestamp === timestamp && checked.version === this.version;
    if (!unchecked && !validated) this.validate(tx, timestamp, verifiedKey);
    this.lastChecked = undefined;
    const actor = this.writable(record.actor);
    switch (record.op) {
      case TxOp.Upload:
      case TxOp.Update:
        actor.indexHash = record.payload;
        break;
      case TxOp.Grant:
        this.writeConsent(actor, record.slot, { grantee: BigInt(record.target), scope: BigInt(record.scope), expiry: record.expiry });
        break;
      case TxOp.Revoke:
        this.writeConsent(actor, record.slot, EMPTY_CONSENT);
        break;
      default: // access and claim change nothing but the nonce
        break;
    }
    actor.nonce += 1n;
    this.writeLeaf(record.actor, actor);
  }

  private validate(tx: SignedTx, timestamp: bigint, verifiedKey?: PublicKey): void {
    if (typeof timestamp !== 'bigint' || timestamp < 0n || timestamp >= 1n << 64n) {
      throw new RangeError(`batch timestamp must be a uint64 bigint, got ${String(timestamp)}`);
    }
    const { record } = tx;
    this.checkFields(record, timestamp);

    const { op, actor, target } = record;
    if ((op === TxOp.Upload || op === TxOp.Update) && target !== actor) {
      throw new TxRejected('NOT_OWNER', `${opName(op)}: target ${target} must be the actor ${actor} (only the patient sets its own index)`);
    }
    if (op === TxOp.Grant && target === actor) throw new TxRejected('SELF_GRANT', `grant: account ${actor} cannot grant consent to itself`);

    const sender = this.accounts.get(actor);
    if (!sender) throw new TxRejected('UNKNOWN_ACTOR', `actor ${actor} is not a registered account`);
    if (tx.nonce !== sender.nonce) throw new TxRejected('BAD_NONCE', `actor ${actor} has nonce ${sender.nonce}, the transaction carries ${String(tx.nonce)}`);
    // A key the caller verified counts only when it is the registered one: never trust any other.
    const preverified = verifiedKey?.x === sender.pubX && verifiedKey?.y === sender.pubY;
    if (!preverified && !verifyTx({ x: sender.pubX, y: sender.pubY }, tx)) {
      throw new TxRejected('BAD_SIGNATURE', `the signature does not verify under actor ${actor}'s key for nonce ${sender.nonce}`);
    }

    switch (op) {
      case TxOp.Upload:
        if (sender.indexHash !== 0n) throw new TxRejected('ALREADY_UPLOADED', `upload: account ${actor} already has an index (use update)`);
        return;
      case TxOp.Update:
        if (sender.indexHash === 0n) throw new TxRejected('NOTHING_TO_UPDATE', `update: account ${actor} has no index yet (use upload)`);
        return;
      case TxOp.Grant:
        if (!this.accounts.has(target)) throw new TxRejected('UNKNOWN_TARGET', `grant: grantee ${target} is not a registered account`);
        return;
      case TxOp.Revoke: {
        const c = sender.slots.get(record.slot);
        if (!c || c.grantee !== BigInt(target)) {
          throw new TxRejected('NO_CONSENT', `revoke: slot ${record.slot} of account ${actor} holds no consent for grantee ${target}`);
        }
        return;
      }
      case TxOp.Access:
      case TxOp.Claim: {
        const owner = this.accounts.get(target);
        if (!owner) throw new TxRejected('UNKNOWN_TARGET', `${opName(op)}: patient ${target} is not a registered account`);
        const c = owner.slots.get(record.slot);
        if (!c || c.grantee !== BigInt(actor)) {
          throw new TxRejected('NO_CONSENT', `${opName(op)}: slot ${record.slot} of patient ${target} holds no consent for account ${actor}`);
        }
        const needed = BigInt(op === TxOp.Access ? Scope.Read : Scope.Claim);
        if ((c.scope & needed) === 0n) {
          throw new TxRejected('WRONG_SCOPE', `${opName(op)}: the consent in slot ${record.slot} of patient ${target} has scope ${c.scope}, without ${op === TxOp.Access ? 'READ' : 'CLAIM'}`);
        }
        if (c.expiry < timestamp) {
          throw new TxRejected('CONSENT_EXPIRED', `${opName(op)}: the consent in slot ${record.slot} of patient ${target} expired at ${c.expiry}, batch time ${timestamp}`);
        }
        return;
      }
    }
  }

  /** Stateless checks of the record: ranges and the fields an op does not use. */
  private checkFields(record: TxRecord, timestamp: bigint): void {
    const { op } = record;
    const bad = (why: string): never => {
      throw new TxRejected('BAD_FIELD', `${opName(op)}: ${why}`);
    };
    if (!Number.isInteger(op) || op < TxOp.Upload || op > TxOp.Claim) bad(`op ${String(op)} is not a transaction (1..6)`);
    if (!isUint(record.actor, 1n << 32n) || !isUint(record.target, 1n << 32n)) bad('actor and target must be uint32');
    if (!isUint(record.slot, 256n) || !isUint(record.scope, 256n)) bad('slot and scope must be uint8');
    if (!isUint(record.expiry, EXPIRY_LIMIT)) bad(`expiry must be a uint40, got ${String(record.expiry)}`);
    if (!isUint(record.payload, PAYLOAD_LIMIT)) bad(`payload must be below 2^248, got ${String(record.payload)}`);
    const usesSlot = op !== TxOp.Upload && op !== TxOp.Update;
    if (!usesSlot && record.slot !== 0) bad(`slot must be 0, got ${record.slot}`);
    if (usesSlot && record.slot >= this.consentSlots) bad(`slot ${record.slot} is outside the consent tree (0..${this.consentSlots - 1})`);
    if (op === TxOp.Grant) {
      const scope = BigInt(record.scope);
      if (scope === 0n || (scope & ~ALL_SCOPES) !== 0n) bad(`scope must be READ (1), CLAIM (2) or both (3), got ${record.scope}`);
      if (record.expiry <= timestamp) bad(`expiry ${record.expiry} is not after the batch time ${timestamp}`);
      if (record.payload !== 0n) bad('payload must be 0');
      return;
    }
    if (record.scope !== 0) bad(`scope must be 0, got ${record.scope}`);
    if (record.expiry !== 0n) bad(`expiry must be 0, got ${record.expiry}`);
    if (op === TxOp.Revoke && record.payload !== 0n) bad('payload must be 0');
    if ((op === TxOp.Upload || op === TxOp.Update) && record.payload === 0n) bad('payload (the new index hash) must not be 0');
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private fieldsOf(r: AccountRecord): AccountFields {
    return { pubX: r.pubX, pubY: r.pubY, nonce: r.nonce, indexHash: r.indexHash, consentRoot: r.consents.root };
  }

  /** The record of `index`, copied first if another state copy shares it. */
  private writable(index: number): AccountRecord {
    const r = this.accounts.get(index);
    if (!r) throw new Error(`internal: account ${index} is not registered`);
    if (this.owned.has(index)) return r;
    const copy = copyRecord(r);
    this.accounts.set(index, copy);
    this.owned.add(index);
    return copy;
  }

  private writeConsent(record: AccountRecord, slot: number, c: ConsentFields): void {
    if (c.scope === 0n) {
      record.slots.delete(slot);
      record.consents.set(slot, 0n);
    } else {
      record.slots.set(slot, c);
      record.consents.set(slot, consentLeafHash(c));
    }
  }

  private writeLeaf(index: number, record: AccountRecord): void {
    this.version++;
    this.tree.set(index, accountLeafHash(this.fieldsOf(record)));
  }

  private checkAccountIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.capacity) {
      throw new RangeError(`account index ${String(index)} is outside 0..${this.capacity - 1} (D = ${this.treeDepth})`);
    }
  }

  private checkSlot(slot: number): void {
    if (!Number.isSafeInteger(slot) || slot < 0 || slot >= this.consentSlots) {
      throw new RangeError(`consent slot ${String(slot)} is outside 0..${this.consentSlots - 1} (S = ${this.consentDepth})`);
    }
  }
}

export function opName(op: number): string {
  return ['padding', 'upload', 'update', 'grant', 'revoke', 'access', 'claim'][op] ?? `op ${op}`;
}
