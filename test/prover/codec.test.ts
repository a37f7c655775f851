import { createHash } from 'node:crypto';
import { getBytes, sha256 as ethersSha256, solidityPacked } from 'ethers';
import {
  CodecError,
  FORCED_OP_BYTES,
  ForcedKind,
  HEADER_BYTES,
  PADDING_TX,
  PUBLIC_INPUT_MASK,
  TX_RECORD_BYTES,
  TxOp,
  ZERO_BYTES32,
  batchCommitment,
  batchDataLength,
  bytesToHex,
  decodeBatchData,
  decodeForcedOp,
  decodeHeader,
  decodeTxRecord,
  encodeBatchData,
  encodeForcedOp,
  encodeHeader,
  encodeTxRecord,
  head,
  publicInput,
  type CodecErrorCode,
  type ForcedOp,
  type TxRecord,
} from '../../prover/codec.js';
import { SNARK_FIELD } from '../../prover/merkleTree.js';

function expectCodecError(fn: () => unknown, code: CodecErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CodecError);
  expect((caught as CodecError).code).toBe(code);
  if (message) expect((caught as CodecError).message).toMatch(message);
}

const grant: TxRecord = { op: TxOp.Grant, actor: 0x01020304, target: 0x05060708, slot: 0x09, scope: 3, expiry: 0x0b0c0d0e0fn, payload: 0n };
const access: TxRecord = { op: TxOp.Access, actor: 7, target: 3, slot: 1, scope: 0, expiry: 0n, payload: (1n << 248n) - 1n };
const register: ForcedOp = { kind: ForcedKind.RegisterAccount, account: 5, counterpart: 0, a: SNARK_FIELD - 1n, b: 12345n };
const revoke: ForcedOp = { kind: ForcedKind.RevokeConsent, account: 5, counterpart: 9, a: 255n, b: 3n };
const shape = { maxTxs: 2, maxForcedOps: 1 };
const PROVENANCE = `0x${'ab'.repeat(32)}`;

describe('codec: transaction records', () => {
  it('encodes the 47-byte layout big-endian and round-trips', () => {
    const bytes = encodeTxRecord(grant);
    expect(bytes).toHaveLength(TX_RECORD_BYTES);
    expect(bytesToHex(bytes.subarray(0, 16))).toBe('0x03010203040506070809030b0c0d0e0f');
    expect(decodeTxRecord(bytes)).toEqual(grant);
    expect(decodeTxRecord(encodeTxRecord(access))).toEqual(access);
    expect(bytesToHex(encodeTxRecord(access).subarray(16))).toBe(`0x${'ff'.repeat(31)}`);
    expect(decodeTxRecord(new Uint8Array(TX_RECORD_BYTES))).toEqual(PADDING_TX);
  });

  it('head is the first 16 bytes as a big-endian integer', () => {
    expect(head(grant)).toBe(0x03010203040506070809030b0c0d0e0fn);
    expect(head(encodeTxRecord(grant))).toBe(0x03010203040506070809030b0c0d0e0fn);
    expect(head(access)).toBe(BigInt(`0x05${'00000007'}${'00000003'}01${'00'}${'0000000000'}`));
  });

  it('rejects wrong lengths, unknown ops, non-zero padding and out-of-range fields', () => {
    expectCodecError(() => decodeTxRecord(new Uint8Array(46)), 'WRONG_LENGTH', /46 bytes, expected 47/);
    expectCodecError(() => decodeTxRecord(new Uint8Array(48)), 'WRONG_LENGTH');
    const unknown = encodeTxRecord(grant);
    unknown[0] = 7;
    expectCodecError(() => decodeTxRecord(unknown), 'UNKNOWN_OP', /unknown op 7/);
    expectCodecError(() => encodeTxRecord({ ...grant, op: 9 as TxOp }), 'UNKNOWN_OP');
    const dirtyPadding = new Uint8Array(TX_RECORD_BYTES);
    dirtyPadding[46] = 1;
    expectCodecError(() => decodeTxRecord(dirtyPadding), 'NONZERO_PADDING');
    expectCodecError(() => encodeTxRecord({ ...PADDING_TX, slot: 1 }), 'NONZERO_PADDING');
    expectCodecError(() => encodeTxRecord({ ...grant, actor: 2 ** 32 }), 'OUT_OF_RANGE', /actor/);
    expectCodecError(() => encodeTxRecord({ ...grant, target: -1 }), 'OUT_OF_RANGE', /target/);
    expectCodecError(() => encodeTxRecord({ ...grant, slot: 256 }), 'OUT_OF_RANGE', /slot/);
    expectCodecError(() => encodeTxRecord({ ...grant, scope: 1.5 }), 'OUT_OF_RANGE', /scope/);
    expectCodecError(() => encodeTxRecord({ ...grant, expiry: 1n << 40n }), 'OUT_OF_RANGE', /expiry/);
    expectCodecError(() => encodeTxRecord({ ...access, payload: 1n << 248n }), 'OUT_OF_RANGE', /payload/);
  });
});

describe('codec: forced operations', () => {
  it('encodes the 73-byte layout and round-trips', () => {
    const bytes = encodeForcedOp(register);
    expect(bytes).toHaveLength(FORCED_OP_BYTES);
    expect(bytesToHex(bytes.subarray(0, 9))).toBe('0x010000000500000000');
    expect(decodeForcedOp(bytes)).toEqual(register);
    expect(decodeForcedOp(encodeForcedOp(revoke))).toEqual(revoke);
    expect(bytesToHex(encodeForcedOp(revoke).subarray(41))).toBe(`0x${'00'.repeat(31)}03`);
    expect(decodeForcedOp(new Uint8Array(FORCED_OP_BYTES)).kind).toBe(ForcedKind.Padding);
  });

  it('rejects wrong lengths, unknown kinds, non-zero padding and out-of-range values', () => {
    expectCodecError(() => decodeForcedOp(new Uint8Array(72)), 'WRONG_LENGTH');
    const unknown = encodeForcedOp(revoke);
    unknown[0] = 3;
    expectCodecError(() => decodeForcedOp(unknown), 'UNKNOWN_OP', /unknown kind 3/);
    const dirty = new Uint8Array(FORCED_OP_BYTES);
    dirty[72] = 1;
    expectCodecError(() => decodeForcedOp(dirty), 'NONZERO_PADDING');
    expectCodecError(() => encodeForcedOp({ ...register, kind: ForcedKind.Padding }), 'NONZERO_PADDING');
    expectCodecError(() => encodeForcedOp({ ...register, a: SNARK_FIELD }), 'OUT_OF_RANGE', /< r/);
    expectCodecError(() => encodeForcedOp({ ...revoke, a: 0n }), 'OUT_OF_RANGE', /1\.\.255/);
    expectCodecError(() => encodeForcedOp({ ...revoke, a: 256n }), 'OUT_OF_RANGE');
    expectCodecError(() => encodeForcedOp({ ...revoke, b: 1n << 256n }), 'OUT_OF_RANGE', /\bb\b/);
    expectCodecError(() => encodeForcedOp({ ...revoke, account: 2 ** 32 }), 'OUT_OF_RANGE');
    const badKey = encodeForcedOp(register);
    badKey.fill(0xff, 9, 41); // a = 2^256 - 1
    expectCodecError(() => decodeForcedOp(badKey), 'OUT_OF_RANGE');
  });
});

describe('codec: header and batch data', () => {
  it('round-trips the 48-byte header', () => {
    const header = { forcedCount: 1, txCount: 2, timestamp: 0x0102030405060708n, provenanceRoot: PROVENANCE };
    const bytes = encodeHeader(header);
    expect(bytes).toHaveLength(HEADER_BYTES);
    expect(bytesToHex(bytes.subarray(0, 16))).toBe('0x00000001000000020102030405060708');
    expect(decodeHeader(bytes)).toEqual(header);
    expectCodecError(() => decodeHeader(new Uint8Array(47)), 'WRONG_LENGTH');
    expectCodecError(() => encodeHeader({ ...header, timestamp: 1n << 64n }), 'OUT_OF_RANGE');
    expectCodecError(() => encodeHeader({ ...header, provenanceRoot: '0x1234' }), 'WRONG_LENGTH');
  });

  it('encodes fixed-size batch data with zero padding and round-trips', () => {
    expect(batchDataLength(shape)).toBe(48 + 73 + 2 * 47);
    expect(batchDataLength({ maxTxs: 64, maxForcedOps: 4 })).toBe(48 + 4 * 73 + 64 * 47);
    const data = encodeBatchData({ timestamp: 1_700_000_000n, provenanceRoot: PROVENANCE, forced: [revoke], txs: [access] }, shape);
    expect(data).toHaveLength(batchDataLength(shape));
    expect(data.subarray(HEADER_BYTES + FORCED_OP_BYTES + TX_RECORD_BYTES).every((b) => b === 0)).toBe(true);
    const decoded = decodeBatchData(data, shape);
    expect(decoded.header).toEqual({ forcedCount: 1, txCount: 1, timestamp: 1_700_000_000n, provenanceRoot: PROVENANCE });
    expect(decoded.forced).toEqual([revoke]);
    expect(decoded.txs).toEqual([access]);

    const empty = encodeBatchData({ timestamp: 5n, forced: [], txs: [] }, shape);
    expect(decodeBatchData(empty, shape)).toEqual({
      header: { forcedCount: 0, txCount: 0, timestamp: 5n, provenanceRoot: ZERO_BYTES32 },
      forced: [],
      txs: [],
    });
  });

  it('rejects malformed batch data', () => {
    const good = encodeBatchData({ timestamp: 1n, forced: [register], txs: [grant] }, shape);
    expectCodecError(() => decodeBatchData(good.subarray(1), shape), 'WRONG_LENGTH', /K=2, F=1/);
    expectCodecError(() => decodeBatchData(good, { maxTxs: 3, maxForcedOps: 1 }), 'WRONG_LENGTH');

    const tooManyTxs = good.slice();
    tooManyTxs[7] = 3; // txCount = 3 > K
    expectCodecError(() => decodeBatchData(tooManyTxs, shape), 'OUT_OF_RANGE', /txCount 3/);
    const tooManyForced = good.slice();
    tooManyForced[3] = 2;
    expectCodecError(() => decodeBatchData(tooManyForced, shape), 'OUT_OF_RANGE', /forcedCount 2/);

    const dirtyTxPadding = good.slice();
    dirtyTxPadding[dirtyTxPadding.length - 1] = 1;
    expectCodecError(() => decodeBatchData(dirtyTxPadding, shape), 'NONZERO_PADDING', /transaction slot 1/);
    const empty = encodeBatchData({ timestamp: 1n, forced: [], txs: [] }, shape);
    empty[HEADER_BYTES + 5] = 1;
    expectCodecError(() => decodeBatchData(empty, shape), 'NONZERO_PADDING', /forced slot 0/);

    const paddingActive = encodeBatchData({ timestamp: 1n, forced: [], txs: [grant] }, shape);
    paddingActive.fill(0, HEADER_BYTES + FORCED_OP_BYTES, HEADER_BYTES + FORCED_OP_BYTES + TX_RECORD_BYTES);
    expectCodecError(() => decodeBatchData(paddingActive, shape), 'PADDING_IN_ACTIVE_SLOT');
    const unknownOp = good.slice();
    unknownOp[HEADER_BYTES + FORCED_OP_BYTES] = 0xff;
    expectCodecError(() => decodeBatchData(unknownOp, shape), 'UNKNOWN_OP');
    const unknownKind = good.slice();
    unknownKind[HEADER_BYTES] = 9;
    expectCodecError(() => decodeBatchData(unknownKind, shape), 'UNKNOWN_OP');

    expectCodecError(() => encodeBatchData({ timestamp: 1n, forced: [register, register], txs: [] }, shape), 'OUT_OF_RANGE', /2 forced/);
    expectCodecError(() => encodeBatchData({ timestamp: 1n, forced: [], txs: [grant, grant, grant] }, shape), 'OUT_OF_RANGE', /3 transactions/);
    expectCodecError(() => encodeBatchData({ timestamp: 1n, forced: [], txs: [PADDING_TX] }, shape), 'PADDING_IN_ACTIVE_SLOT');
    expectCodecError(() => encodeBatchData({ timestamp: 1n, forced: [{ ...register, kind: ForcedKind.Padding }], txs: [] }, shape), 'PADDING_IN_ACTIVE_SLOT');
  });
});

describe('codec: commitment and public input', () => {
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('commitment = sha256(batch data)', () => {
    const data = encodeBatchData({ timestamp: 1n, forced: [register], txs: [grant] }, shape);
    expect(batchCommitment(data)).toBe(`0x${sha(data)}`);
  });

  it('publicInput = sha256(oldRoot || newRoot || commitment) masked to 253 bits', () => {
    const oldRoot = 0x1234n;
    const newRoot = SNARK_FIELD - 1n;
    const commitment = `0x${'cd'.repeat(32)}`;
    const preimage = Buffer.concat([
      Buffer.from(oldRoot.toString(16).padStart(64, '0'), 'hex'),
      Buffer.from(newRoot.toString(16).padStart(64, '0'), 'hex'),
      Buffer.from('cd'.repeat(32), 'hex'),
    ]);
    const full = BigInt(`0x${sha(preimage)}`);
    expect(publicInput(oldRoot, newRoot, commitment)).toBe(full & PUBLIC_INPUT_MASK);
    expect(PUBLIC_INPUT_MASK).toBe(2n ** 253n - 1n);
    expect(publicInput(oldRoot, newRoot, commitment) < 2n ** 253n).toBe(true);
    expectCodecError(() => publicInput(SNARK_FIELD, newRoot, commitment), 'OUT_OF_RANGE', /oldRoot/);
    expectCodecError(() => publicInput(oldRoot, -1n, commitment), 'OUT_OF_RANGE', /newRoot/);
    expectCodecError(() => publicInput(oldRoot, newRoot, '0x12'), 'WRONG_LENGTH', /commitment/);
  });

  it('the mask clears exactly the top 3 bits', () => {
    // find inputs whose full digest has a top bit set, then check the masked value
    for (let i = 0n; i < 50n; i++) {
      const commitment = `0x${i.toString(16).padStart(64, '0')}`;
      const preimage = Buffer.concat([Buffer.alloc(32), Buffer.alloc(32), Buffer.from(commitment.slice(2), 'hex')]);
      const full = BigInt(`0x${sha(preimage)}`);
      expect(publicInput(0n, 0n, commitment)).toBe(full % 2n ** 253n);
    }
  });
});

describe('codec: agrees with Solidity abi.encodePacked (ethers solidityPacked)', () => {
  it('packs header, forced operations and transaction records like the contracts', () => {
    const header = { forcedCount: 1, txCount: 2, timestamp: 1_700_000_123n, provenanceRoot: PROVENANCE };
    expect(bytesToHex(encodeHeader(header))).toBe(
      solidityPacked(['uint32', 'uint32', 'uint64', 'bytes32'], [header.forcedCount, header.txCount, header.timestamp, header.provenanceRoot]),
    );
    for (const op of [register, revoke]) {
      expect(bytesToHex(encodeForcedOp(op))).toBe(
        solidityPacked(['uint8', 'uint32', 'uint32', 'uint256', 'uint256'], [op.kind, op.account, op.counterpart, op.a, op.b]),
      );
    }
    for (const r of [grant, access]) {
      expect(bytesToHex(encodeTxRecord(r))).toBe(
        solidityPacked(
          ['uint8', 'uint32', 'uint32', 'uint8', 'uint8', 'uint40', 'uint248'],
          [r.op, r.actor, r.target, r.slot, r.scope, r.expiry, r.payload],
        ),
      );
    }
    const data = encodeBatchData({ timestamp: 9n, forced: [revoke], txs: [grant, access] }, shape);
    expect(batchCommitment(data)).toBe(ethersSha256(data));
    expect(getBytes(bytesToHex(data))).toEqual(data);
  });
});
