pragma circom 2.1.0;
// Profile "test" (circuits/SPEC.md): K = 2 transactions, F = 1 forced operations, D = 4, S = 2.
include "../src/batch.circom";
component main {public [inputHash]} = Batch(2, 1, 4, 2);
