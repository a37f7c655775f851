/**
 * The binary formats of circuits/SPEC.md "Batch data" (all integers big-endian):
 *
 *   header  (48 B): uint32 forcedCount | uint32 txCount | uint64 timestamp | bytes32 provenanceRoot
 *   forced  (F x 73 B): uint8 kind | uint32 account | uint32 counterpart | uint256 a | uint256 b
 *   txs     (K x 47 B): uint8 op | uint32 actor | uint32 target | uint8 slot | uint8 scope | uint40 expiry | uint248 payload
 *
 * Slots past forcedCount / txCount are all-zero bytes; active slots come first and are never
 * padding. Also the commitment and the public input the Rollup derives from the batch data:
 *
 *   commitment  = sha256(batchData)
 *   publicInput = uint256(sha256(oldRoot_32B || newRoot_32B || commitment)) & (2^253 - 1)
 *
 * The codec checks the layout and the ranges the SPEC states; whether a transaction is valid
 * against the state (unused fields zero, consent, signature...) is prover/state.ts's job.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { SNARK_FIELD } from './merkleTree.js';

export const HEADER_BYTES = 48;
export const FORCED_OP_BYTES = 73;
export const TX_RECORD_BYTES = 47;
/** The signed `head` of a transaction record: op, actor, target, slot, scope, expiry. */
export const TX_HEAD_BYTES = 16;
export const PUBLIC_INPUT_MASK = (1n << 253n) - 1n;

export const TxOp = {
  Padding: 0,
  Upload: 1,
  Update: 2,
  Grant: 3,
  Revoke: 4,
  Access: 5,
  Claim: 6,
} as const;
export type TxOp = (typeof TxOp)[keyof typeof TxOp];

export const ForcedKind = {
  Padding: 0,
  RegisterAccount: 1,
  RevokeConsent: 2,
} as const;
export type ForcedKind = (typeof ForcedKind)[keyof typeof ForcedKind];

/** Consent scope bits. */
export const Scope = { Read: 1, Claim: 2 } as const;

/** One 47-byte L2 transaction record. */
export interface TxRecord {
  readonly op: TxOp;
  readonly actor: number;
  readonly target: number;
  readonly slot: number;
  readonly scope: number;
  /** Unix seconds, uint40. */
  readonly expiry: bigint;
  /** uint248: an index hash (upload, update), the accessed hash (access), a record reference (claim). */
  readonly payload: bigint;
}

/** One 73-byte forced operation from the Gateway queue. */
export interface ForcedOp {
  readonly kind: ForcedKind;
  readonly account: number;
  readonly counterpart: number;
  readonly a: bigint;
  readonly b: bigint;
}

export interface BatchHeader {
  readonly forcedCount: number;
  readonly txCount: number;
  /** Unix seconds, uint64: consents are judged at this time. */
  readonly timestamp: bigint;
  /** bytes32 as 0x-prefixed lowercase hex. */
  readonly provenanceRoot: string;
}

/** The slot counts of a circuit profile: K transaction slots, F forced-operation slots. */
export interface BatchShape {
  readonly maxTxs: number;
  readonly maxForcedOps: number;
}

export interface BatchContents {
  readonly timestamp: bigint;
  /** bytes32 hex; zero when omitted. */
  readonly provenanceRoot?: string;
  readonly forced: readonly ForcedOp[];
  readonly txs: readonly TxRecord[];
}

export interface DecodedBatch {
  readonly header: BatchHeader;
  readonly forced: ForcedOp[];
  readonly txs: TxRecord[];
}

export type CodecErrorCode = 'WRONG_LENGTH' | 'UNKNOWN_OP' | 'NONZERO_PADDING' | 'PADDING_IN_ACTIVE_SLOT' | 'OUT_OF_RANGE';

export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(
    readonly code: CodecErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export const ZERO_BYTES32 = `0x${'00'.repeat(32)}`;

// ---------------------------------------------------------------------------------------------
// Integers

function checkUint(value: number | bigint, bits: number, what: string): bigint {
  const ok =
    (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) &&
    BigInt(value) >= 0n &&
    BigInt(value) < 1n << BigInt(bits);
  if (!ok) throw new CodecError('OUT_OF_RANGE', `${what} must be an integer in [0, 2^${bits}), got ${String(value)}`);
  return BigInt(value);
}

function writeUint(out: Uint8Array, offset: number, bytes: number, value: bigint): void {
  let v = value;
  for (let i = offset + bytes - 1; i >= offset; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function readUint(data: Uint8Array, offset: number, bytes: number): bigint {
  let v = 0n;
  for (let i = offset; i < offset + bytes; i++) v = (v << 8n) | BigInt(data[i]!);
  return v;
}

function isZero(data: Uint8Array): boolean {
  return data.every((b) => b === 0);
}

function checkLength(data: Uint8Array, expected: number, what: string): void {
  if (!(data instanceof Uint8Array)) throw new CodecError('WRONG_LENGTH', `${what} must be a Uint8Array`);
  if (data.length !== expected) throw new CodecError('WRONG_LENGTH', `${what} is ${data.length} bytes, expected ${expected}`);
}

export function bytesToHex(data: Uint8Array): string {
  return `0x${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex')}`;
}

/** Parses a 0x-prefixed hex string of exactly `bytes` bytes. */
export function hexToBytes(hex: string, bytes: number, what: string): Uint8Array {
  if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]*$/.test(hex) || hex.length !== 2 + 2 * bytes) {
    throw new CodecError('WRONG_LENGTH', `${what} must be 0x-prefixed hex of ${bytes} bytes, got ${String(hex)}`);
  }
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

function uint256Bytes(value: bigint, what: string): Uint8Array {
  const out = new Uint8Array(32);
  writeUint(out, 0, 32, checkUint(value, 256, what));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Transaction records

function checkTxOp(op: number, what: string): asserts op is TxOp {
  if (!Number.isInteger(op) || op < TxOp.Padding || op > TxOp.Claim) {
    throw new CodecError('UNKNOWN_OP', `${what} has unknown op ${String(op)} (known: 0..6)`);
  }
}

export function encodeTxRecord(record: TxRecord): Uint8Array {
  checkTxOp(record.op, 'transaction record');
  const out = new Uint8Array(TX_RECORD_BYTES);
  out[0] = record.op;
  writeUint(out, 1, 4, checkUint(record.actor, 32, 'actor'));
  writeUint(out, 5, 4, checkUint(record.target, 32, 'target'));
  writeUint(out, 9, 1, checkUint(record.slot, 8, 'slot'));
  writeUint(out, 10, 1, checkUint(record.scope, 8, 'scope'));
  writeUint(out, 11, 5, checkUint(record.expiry, 40, 'expiry'));
  writeUint(out, 16, 31, checkUint(record.payload, 248, 'payload'));
  if (record.op === TxOp.Padding && !isZero(out)) {
    throw new CodecError('NONZERO_PADDING', 'a padding transaction record (op 0) must have every field zero');
  }
  return out;
}

export function decodeTxRecord(data: Uint8Array): TxRecord {
  checkLength(data, TX_RECORD_BYTES, 'transaction record');
  const op = data[0]!;
  checkTxOp(op, 'transaction record');
  if (op === TxOp.Padding && !isZero(data)) {
    throw new CodecError('NONZERO_PADDING', 'a padding transaction record (op 0) must be all zero bytes');
  }
  return {
    op,
    actor: Number(readUint(data, 1, 4)),
    target: Number(readUint(data, 5, 4)),
    slot: data[9]!,
    scope: data[10]!,
    expiry: readUint(data, 11, 5),
    payload: readUint(data, 16, 31),
  };
}

export const PADDING_TX: TxRecord = Object.freeze({ op: TxOp.Padding, actor: 0, target: 0, slot: 0, scope: 0, expiry: 0n, payload: 0n });

/** `head`: the first 16 bytes of the record (op..expiry) as a big-endian integer. */
export function head(record: TxRecord | Uint8Array): bigint {
  const bytes = record instanceof Uint8Array ? record : encodeTxRecord(record);
  checkLength(bytes, TX_RECORD_BYTES, 'transaction record');
  return readUint(bytes, 0, TX_HEAD_BYTES);
}

// ---------------------------------------------------------------------------------------------
// Forced operations

function checkForcedOp(op: ForcedOp, what: string): void {
  const { kind, a, b } = op;
  if (kind !== ForcedKind.Padding && kind !== ForcedKind.RegisterAccount && kind !== ForcedKind.RevokeConsent) {
    throw new CodecError('UNKNOWN_OP', `${what} has unknown kind ${String(kind)} (known: 0..2)`);
  }
  if (kind === ForcedKind.RegisterAccount && (a >= SNARK_FIELD || b >= SNARK_FIELD)) {
    throw new CodecError('OUT_OF_RANGE', `${what}: RegisterAccount public key coordinates must be < r`);
  }
  if (kind === ForcedKind.RevokeConsent && (a < 1n || a > 255n)) {
    throw new CodecError('OUT_OF_RANGE', `${what}: RevokeConsent scope bits a must be in 1..255, got ${a}`);
  }
}

export function encodeForcedOp(op: ForcedOp): Uint8Array {
  const out = new Uint8Array(FORCED_OP_BYTES);
  out[0] = Number(checkUint(op.kind, 8, 'forced operation kind'));
  writeUint(out, 1, 4, checkUint(op.account, 32, 'account'));
  writeUint(out, 5, 4, checkUint(op.counterpart, 32, 'counterpart'));
  out.set(uint256Bytes(op.a, 'a'), 9);
  out.set(uint256Bytes(op.b, 'b'), 41);
  checkForcedOp(op, 'forced operation');
  if (op.kind === ForcedKind.Padding && !isZero(out)) {
    throw new CodecError('NONZERO_PADDING', 'a padding forced operation (kind 0) must have every field zero');
  }
  return out;
}

export function decodeForcedOp(data: Uint8Array): ForcedOp {
  checkLength(data, FORCED_OP_BYTES, 'forced operation');
  const kind = data[0]! as ForcedKind;
  const op: ForcedOp = {
    kind,
    account: Number(readUint(data, 1, 4)),
    counterpart: Number(readUint(data, 5, 4)),
    a: readUint(data, 9, 32),
    b: readUint(data, 41, 32),
  };
  checkForcedOp(op, 'forced operation');
  if (kind === ForcedKind.Padding && !isZero(data)) {
    throw new CodecError('NONZERO_PADDING', 'a padding forced operation (kind 0) must be all zero bytes');
  }
  return op;
}

export const PADDING_FORCED_OP: ForcedOp = Object.freeze({ kind: ForcedKind.Padding, account: 0, counterpart: 0, a: 0n, b: 0n });

// ---------------------------------------------------------------------------------------------
// Header and batch

export function encodeHeader(header: BatchHeader): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeUint(out, 0, 4, checkUint(header.forcedCount, 32, 'forcedCount'));
  writeUint(out, 4, 4, checkUint(header.txCount, 32, 'txCount'));
  writeUint(out, 8, 8, checkUint(header.timestamp, 64, 'timestamp'));
  out.set(hexToBytes(header.provenanceRoot, 32, 'provenanceRoot'), 16);
  return out;
}

export function decodeHeader(data: Uint8Array): BatchHeader {
  checkLength(data, HEADER_BYTES, 'batch header');
  return {
    forcedCount: Number(readUint(data, 0, 4)),
    txCount: Number(readUint(data, 4, 4)),
    timestamp: readUint(data, 8, 8),
    provenanceRoot: bytesToHex(data.subarray(16, 48)),
  };
}

function checkShape(shape: BatchShape): void {
  for (const [name, v] of [
    ['maxTxs', shape.maxTxs],
    ['maxForcedOps', shape.maxForcedOps],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
      throw new CodecError('OUT_OF_RANGE', `batch shape ${name} must be an integer in 0..65535, got ${String(v)}`);
    }
  }
}

/** 48 + 73F + 47K. */
export function batchDataLength(shape: BatchShape): number {
  checkShape(shape);
  return HEADER_BYTES + FORCED_OP_BYTES * shape.maxForcedOps + TX_RECORD_BYTES * shape.maxTxs;
}

/** The fixed-size batch data: header, F forced-operation slots, K transaction slots. */
export function encodeBatchData(batch: BatchContents, shape: BatchShape): Uint8Array {
  const length = batchDataLength(shape);
  if (batch.forced.length > shape.maxForcedOps) {
    throw new CodecError('OUT_OF_RANGE', `${batch.forced.length} forced operations exceed the ${shape.maxForcedOps} slots`);
  }
  if (batch.txs.length > shape.maxTxs) {
    throw new CodecError('OUT_OF_RANGE', `${batch.txs.length} transactions exceed the ${shape.maxTxs} slots`);
  }
  const out = new Uint8Array(length);
  out.set(
    encodeHeader({
      forcedCount: batch.forced.length,
      txCount: batch.txs.length,
      timestamp: batch.timestamp,
      provenanceRoot: batch.provenanceRoot ?? ZERO_BYTES32,
    }),
    0,
  );
  batch.forced.forEach((op, i) => {
    if (op.kind === ForcedKind.Padding) throw new CodecError('PADDING_IN_ACTIVE_SLOT', `forced operation ${i} is padding (kind 0)`);
    out.set(encodeForcedOp(op), HEADER_BYTES + i * FORCED_OP_BYTES);
  });
  const txBase = HEADER_BYTES + shape.maxForcedOps * FORCED_OP_BYTES;
  batch.txs.forEach((tx, i) => {
    if (tx.op === TxOp.Padding) throw new CodecError('PADDING_IN_ACTIVE_SLOT', `transaction ${i} is padding (op 0)`);
    out.set(encodeTxRecord(tx), txBase + i * TX_RECORD_BYTES);
  });
  return out;
}

export function decodeBatchData(data: Uint8Array, shape: BatchShape): DecodedBatch {
  checkLength(data, batchDataLength(shape), `batch data for K=${shape.maxTxs}, F=${shape.maxForcedOps}`);
  const header = decodeHeader(data.subarray(0, HEADER_BYTES));
  if (header.forcedCount > shape.maxForcedOps) {
    throw new CodecError('OUT_OF_RANGE', `forcedCount ${header.forcedCount} exceeds the ${shape.maxForcedOps} slots`);
  }
  if (header.txCount > shape.maxTxs) {
    throw new CodecError('OUT_OF_RANGE', `txCount ${header.txCount} exceeds the ${shape.maxTxs} slots`);
  }
  const forced: ForcedOp[] = [];
  for (let i = 0; i < shape.maxForcedOps; i++) {
    const bytes = data.subarray(HEADER_BYTES + i * FORCED_OP_BYTES, HEADER_BYTES + (i + 1) * FORCED_OP_BYTES);
    if (i >= header.forcedCount) {
      if (!isZero(bytes)) throw new CodecError('NONZERO_PADDING', `forced slot ${i} is past forcedCount ${header.forcedCount} but not all zero`);
      continue;
    }
    if (bytes[0] === ForcedKind.Padding) throw new CodecError('PADDING_IN_ACTIVE_SLOT', `active forced slot ${i} holds kind 0 (padding)`);
    forced.push(decodeForcedOp(bytes));
  }
  const txBase = HEADER_BYTES + shape.maxForcedOps * FORCED_OP_BYTES;
  const txs: TxRecord[] = [];
  for (let i = 0; i < shape.maxTxs; i++) {
    const bytes = data.subarray(txBase + i * TX_RECORD_BYTES, txBase + (i + 1) * TX_RECORD_BYTES);
    if (i >= header.txCount) {
      if (!isZero(bytes)) throw new CodecError('NONZERO_PADDING', `transaction slot ${i} is past txCount ${header.txCount} but not all zero`);
      continue;
    }
    if (bytes[0] === TxOp.Padding) throw new CodecError('PADDING_IN_ACTIVE_SLOT', `active transaction slot ${i} holds op 0 (padding)`);
    txs.push(decodeTxRecord(bytes));
  }
  return { header, forced, txs };
}

// ---------------------------------------------------------------------------------------------
// Commitment and public input

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** sha256(batchData) as 0x-prefixed hex (bytes32). */
export function batchCommitment(data: Uint8Array): string {
  return bytesToHex(sha256(data));
}

/** uint256(sha256(oldRoot_32B || newRoot_32B || commitment)) & (2^253 - 1). */
export function publicInput(oldRoot: bigint, newRoot: bigint, commitment: string): bigint {
  for (const [name, root] of [
    ['oldRoot', oldRoot],
    ['newRoot', newRoot],
  ] as const) {
    if (typeof root !== 'bigint' || root < 0n || root >= SNARK_FIELD) {
      throw new CodecError('OUT_OF_RANGE', `${name} must be a field element in [0, r), got ${String(root)}`);
    }
  }
  const digest = sha256(uint256Bytes(oldRoot, 'oldRoot'), uint256Bytes(newRoot, 'newRoot'), hexToBytes(commitment, 32, 'commitment'));
  return readUint(digest, 0, 32) & PUBLIC_INPUT_MASK;
}
