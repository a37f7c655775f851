pragma circom 2.1.0;
// Profile "prod" (circuits/SPEC.md): K = 64 transactions, F = 4 forced operations, D = 20, S = 4.
include "../src/batch.circom";
component main {public [inputHash]} = Batch(64, 4, 20, 4);
