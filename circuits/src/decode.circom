pragma circom 2.1.0;

// Decoders for the fixed-size batch data records (circuits/SPEC.md, "Batch data", big-endian).
//
// PRECONDITION for every decoder: each input byte is already constrained to [0, 255] by Bytes()
// over the same signals. The Batch circuit gets this from InputHash (which range-checks the whole
// batch data while hashing it); the decoders add only linear constraints (one per output) and must
// not be used on unchecked signals: with a "byte" of 256 the decoded numbers are not those of any
// byte string.

include "bytes.circom";

// ByteFields(total, n, offsets, lengths): out[k] = the big-endian number of the bytes
// in[offsets[k] .. offsets[k] + lengths[k] - 1], for k < n (BytesToNum(lengths[k]): the same
// precondition, and the n = 32 caveat for 32-byte fields). One linear constraint per field of 2+
// bytes; a 1-byte field is the byte itself. `total` must be the end of the last field (every input
// byte belongs to a field, which keeps `circom --inspect` quiet).
template ByteFields(total, n, offsets, lengths) {
    signal input in[total];
    signal output out[n];

    component num[n];
    for (var k = 0; k < n; k++) {
        assert(offsets[k] >= 0 && lengths[k] >= 1 && offsets[k] + lengths[k] <= total);
        num[k] = BytesToNum(lengths[k]);
        for (var i = 0; i < lengths[k]; i++) {
            num[k].in[i] <== in[offsets[k] + i];
        }
        out[k] <== num[k].out;
    }
}

// Header (48 bytes): uint32 forcedCount | uint32 txCount | uint64 timestamp | bytes32 provenanceRoot
// Proves: forcedCount, txCount and timestamp are the big-endian values of bytes 0..3, 4..7 and 8..15.
// provenanceRoot (bytes 16..47) is deliberately not decoded: it is a full 256-bit word that only
// matters through the batch commitment (InputHash hashes the bytes). Those 32 inputs therefore
// appear in no constraint here (`circom --inspect` warns about them; that is intended).
template DecodeHeader() {
    signal input in[48];
    signal output forcedCount;
    signal output txCount;
    signal output timestamp;

    component f = ByteFields(16, 3, [0, 4, 8], [4, 4, 8]);
    for (var i = 0; i < 16; i++) {
        f.in[i] <== in[i];
    }
    forcedCount <== f.out[0];
    txCount <== f.out[1];
    timestamp <== f.out[2];
}

// Forced operation (73 bytes): uint8 kind | uint32 account | uint32 counterpart | uint256 a | uint256 b
// Proves: each output is the big-endian value of its bytes (offsets 0, 1, 5, 9, 41).
// a and b are 32-byte words decoded MODULO r: the Gateway only queues a, b < r (public key
// coordinates checked on the curve; scope bits 1..255; a consent slot index), so for every batch
// the contract accepts, the decoded field element is the word itself.
template DecodeForcedOp() {
    signal input in[73];
    signal output kind;
    signal output account;
    signal output counterpart;
    signal output a;
    signal output b;

    signal f[5] <== ByteFields(73, 5, [0, 1, 5, 9, 41], [1, 4, 4, 32, 32])(in);
    kind <== f[0];
    account <== f[1];
    counterpart <== f[2];
    a <== f[3];
    b <== f[4];
}

// L2 transaction (47 bytes):
//   uint8 op | uint32 actor | uint32 target | uint8 slot | uint8 scope | uint40 expiry | uint248 payload
// Proves: each output is the big-endian value of its bytes (offsets 0, 1, 5, 9, 10, 11, 16), and
// head is the big-endian value of the first 16 bytes (op .. expiry, 128 bits), the `head` of the
// signed message Poseidon4(DOMAIN, head, payload, nonce). All values are < 2^248, so the decoding
// is injective (given the byte precondition).
template DecodeTx() {
    signal input in[47];
    signal output op;
    signal output actor;
    signal output target;
    signal output slot;
    signal output scope;
    signal output expiry;
    signal output payload;
    signal output head;

    signal f[8] <== ByteFields(47, 8, [0, 1, 5, 9, 10, 11, 16, 0], [1, 4, 4, 1, 1, 5, 31, 16])(in);
    op <== f[0];
    actor <== f[1];
    target <== f[2];
    slot <== f[3];
    scope <== f[4];
    expiry <== f[5];
    payload <== f[6];
    head <== f[7];
}
