pragma circom 2.1.0;

// The batch validity relation (circuits/SPEC.md): starting from oldRoot, the F forced-operation
// slots and then the K transaction slots of `data` are applied in order and end at newRoot, and
// the single public input is the hash the Rollup contract computes from calldata.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";
include "decode.circom";
include "inputhash.circom";
include "forced.circom";
include "transaction.circom";

// Root of an empty tree of the given depth: zero[i+1] = Poseidon2(zero[i], zero[i]).
template EmptyRoot(depth) {
    signal output root;
    component h[depth];
    signal level[depth + 1];
    level[0] <== 0;
    for (var i = 0; i < depth; i++) {
        h[i] = Poseidon(2);
        h[i].inputs[0] <== level[i];
        h[i].inputs[1] <== level[i];
        level[i + 1] <== h[i].out;
    }
    root <== level[depth];
}

// active[i] is 1 for the first `count` slots and 0 after: slots are filled from the front and the
// header's count is the number of filled slots.
template ActivePrefix(n) {
    signal input active[n];
    signal input count;
    var sum = 0;
    for (var i = 0; i < n; i++) {
        active[i] * (1 - active[i]) === 0;
        if (i > 0) {
            active[i] * (1 - active[i - 1]) === 0;
        }
        sum += active[i];
    }
    sum === count;
}

template Batch(K, F, D, S) {
    var HEADER = 48;
    var FORCED = 73;
    var TX = 47;
    var N = HEADER + F * FORCED + K * TX;

    signal input inputHash;
    signal input oldRoot;
    signal input newRoot;
    signal input data[N];
    signal input fLeaf[F][5];
    signal input fPath[F][D];
    signal input fConsentLeaf[F][3];
    signal input fConsentPath[F][S];
    signal input txSig[K][3];
    signal input actorLeaf[K][5];
    signal input actorPath[K][D];
    signal input targetLeaf[K][5];
    signal input targetPath[K][D];
    signal input consentLeaf[K][3];
    signal input consentPath[K][S];

    // Range-checks every byte of data (the decoders rely on it) and binds the proof to calldata.
    component hash = InputHash(N);
    hash.data <== data;
    hash.oldRoot <== oldRoot;
    hash.newRoot <== newRoot;
    hash.out === inputHash;

    component header = DecodeHeader();
    for (var i = 0; i < HEADER; i++) header.in[i] <== data[i];

    component emptyConsent = EmptyRoot(S);
    signal roots[F + K + 1];
    roots[0] <== oldRoot;

    component fDecode[F];
    component forced[F];
    component fActive[F];
    component fPrefix = ActivePrefix(F);
    for (var j = 0; j < F; j++) {
        fDecode[j] = DecodeForcedOp();
        for (var i = 0; i < FORCED; i++) fDecode[j].in[i] <== data[HEADER + j * FORCED + i];
        forced[j] = ProcessForced(D, S);
        forced[j].rootIn <== roots[j];
        forced[j].emptyConsentRoot <== emptyConsent.root;
        forced[j].kind <== fDecode[j].kind;
        forced[j].account <== fDecode[j].account;
        forced[j].counterpart <== fDecode[j].counterpart;
        forced[j].a <== fDecode[j].a;
        forced[j].b <== fDecode[j].b;
        forced[j].leaf <== fLeaf[j];
        forced[j].path <== fPath[j];
        forced[j].consentLeaf <== fConsentLeaf[j];
        forced[j].consentPath <== fConsentPath[j];
        roots[j + 1] <== forced[j].rootOut;
        fActive[j] = IsZero();
        fActive[j].in <== fDecode[j].kind;
        fPrefix.active[j] <== 1 - fActive[j].out;
    }
    fPrefix.count <== header.forcedCount;

    component tDecode[K];
    component txs[K];
    component tActive[K];
    component tPrefix = ActivePrefix(K);
    for (var k = 0; k < K; k++) {
        tDecode[k] = DecodeTx();
        for (var i = 0; i < TX; i++) tDecode[k].in[i] <== data[HEADER + F * FORCED + k * TX + i];
        txs[k] = ProcessTx(D, S);
        txs[k].rootIn <== roots[F + k];
        txs[k].timestamp <== header.timestamp;
        txs[k].op <== tDecode[k].op;
        txs[k].actor <== tDecode[k].actor;
        txs[k].target <== tDecode[k].target;
        txs[k].slot <== tDecode[k].slot;
        txs[k].scope <== tDecode[k].scope;
        txs[k].expiry <== tDecode[k].expiry;
        txs[k].payload <== tDecode[k].payload;
        txs[k].head <== tDecode[k].head;
        txs[k].sig <== txSig[k];
        txs[k].actorLeaf <== actorLeaf[k];
        txs[k].actorPath <== actorPath[k];
        txs[k].targetLeaf <== targetLeaf[k];
        txs[k].targetPath <== targetPath[k];
        txs[k].consentLeaf <== consentLeaf[k];
        txs[k].consentPath <== consentPath[k];
        roots[F + k + 1] <== txs[k].rootOut;
        tActive[k] = IsZero();
        tActive[k].in <== tDecode[k].op;
        tPrefix.active[k] <== 1 - tActive[k].out;
    }
    tPrefix.count <== header.txCount;

    roots[F + K] === newRoot;
}
