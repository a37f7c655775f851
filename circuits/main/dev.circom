pragma circom 2.1.0;
// Profile "dev" (circuits/SPEC.md): K = 8 transactions, F = 2 forced operations, D = 10, S = 3.
include "../src/batch.circom";
component main {public [inputHash]} = Batch(8, 2, 10, 3);
