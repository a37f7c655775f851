pragma circom 2.1.0;

// Byte-level building blocks for the batch data (circuits/SPEC.md, "Batch data").
//
// Library includes use circomlib's package path: compile with `-l node_modules` (circuits/compile.ts
// does this, with the repository layout mirrored in its cache directory).
include "circomlib/circuits/bitify.circom";

// Bytes(n) proves that every in[i] is a byte (0 <= in[i] <= 255) and exposes the bits of the
// byte string in SHA-256 order: MSB first within each byte, bytes in order,
//   bits[8*i + j] = bit (7 - j) of in[i].
// This is the ONLY range check for batch bytes: the decoders (decode.circom) rely on it, and
// InputHash applies it to the whole batch data. Cost: 9 constraints per byte (Num2Bits(8): 8
// booleanity constraints plus one linear recomposition).
template Bytes(n) {
    assert(n >= 1);
    signal input in[n];
    signal output bits[8 * n];

    component nb[n];
    for (var i = 0; i < n; i++) {
        nb[i] = Num2Bits(8);
        nb[i].in <== in[i];
        for (var j = 0; j < 8; j++) {
            bits[8 * i + j] <== nb[i].out[7 - j];
        }
    }
}

// BytesToNum(n): out = in[0] * 256^(n-1) + ... + in[n-1], the big-endian number in the field.
//
// PRECONDITION: every in[i] is already constrained to a byte (by Bytes over the same signals).
// This template adds one linear constraint and no range check.
//
// n <= 31: the value is < 2^248 < r, so the map bytes -> field element is injective.
// n == 32: the value is taken MODULO r (r < 2^254 < 2^256): byte strings encoding x and x + r
// give the same output. Use n = 32 only where the value is known to be < r by construction
// (e.g. the forced operation words a, b: the Gateway only queues values < r), and document it there.
template BytesToNum(n) {
    assert(n >= 1 && n <= 32);
    signal input in[n];
    signal output out;

    var acc = 0;
    for (var i = 0; i < n; i++) {
        acc = acc * 256 + in[i];
    }
    out <== acc;
}
