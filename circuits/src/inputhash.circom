pragma circom 2.1.0;

// The public input of a batch proof (circuits/SPEC.md, "Batch data"):
//   commitment  = sha256(batchData)
//   publicInput = uint256(sha256(oldRoot_32B || newRoot_32B || commitment)) & (2^253 - 1)
// (the same computation as contracts/src/Rollup.sol).

include "circomlib/circuits/sha256/sha256.circom";
include "circomlib/circuits/bitify.circom";
include "bytes.circom";

// FieldToBits256(): the 32-byte big-endian encoding of a field element as 256 bits, MSB first.
// Uses Num2Bits_strict, so the encoding is the canonical one (the integer in [0, r)): without the
// alias check a prover could hash x + r instead of x. The top two bits are the constant 0.
template FieldToBits256() {
    signal input in;
    signal output bits[256];

    signal le[254] <== Num2Bits_strict()(in);
    bits[0] <== 0;
    bits[1] <== 0;
    for (var i = 0; i < 254; i++) {
        bits[2 + i] <== le[253 - i];
    }
}

// InputHash(nBytes): out = sha256(oldRoot_32B || newRoot_32B || sha256(data)) with the top 3 bits
// dropped (the low 253 bits as a number, < 2^253 < r).
// Also proves that every data[i] is a byte (Bytes(nBytes)): this is the range check the decoders
// rely on. Cost at --O1: 31,264 constraints per SHA-256 block, over ceil((8*nBytes + 65) / 512)
// blocks for the data plus 2 blocks for the 96-byte outer message; 9 per data byte for Bytes; 520
// per root for FieldToBits256. InputHash(215) = 190,556 constraints.
template InputHash(nBytes) {
    assert(nBytes >= 1);
    signal input data[nBytes];
    signal input oldRoot;
    signal input newRoot;
    signal output out;

    signal dataBits[8 * nBytes] <== Bytes(nBytes)(data);
    signal commitment[256] <== Sha256(8 * nBytes)(dataBits);

    signal oldBits[256] <== FieldToBits256()(oldRoot);
    signal newBits[256] <== FieldToBits256()(newRoot);

    component outer = Sha256(768);
    for (var i = 0; i < 256; i++) {
        outer.in[i] <== oldBits[i];
        outer.in[256 + i] <== newBits[i];
        outer.in[512 + i] <== commitment[i];
    }

    // outer.out[0] is the most significant bit of the digest; keep the low 253 bits.
    component num = Bits2Num(253);
    for (var i = 0; i < 253; i++) {
        num.in[i] <== outer.out[255 - i];
    }
    out <== num.out;
}
