pragma circom 2.1.0;

// Leaf values of the state tree and of the consent trees (circuits/SPEC.md, "State").

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";

// AccountLeaf(): value = 0 when pubX == 0 and pubY == 0 (unregistered: (0, 0) is not on the curve),
// else Poseidon5(pubX, pubY, nonce, indexHash, consentRoot). empty = 1 exactly in the first case.
// The other fields of an empty leaf are NOT constrained (they do not change its value): a caller
// that reads them must itself require what it needs (e.g. zero nonce on registration).
template AccountLeaf() {
    signal input pubX;
    signal input pubY;
    signal input nonce;
    signal input indexHash;
    signal input consentRoot;
    signal output value;
    signal output empty;

    signal zeroX <== IsZero()(pubX);
    signal zeroY <== IsZero()(pubY);
    empty <== zeroX * zeroY;

    signal hash <== Poseidon(5)([pubX, pubY, nonce, indexHash, consentRoot]);
    value <== (1 - empty) * hash;
}

// ConsentLeaf(): value = 0 when scope == 0 (empty slot), else Poseidon3(grantee, scope, expiry).
// empty = 1 exactly when scope == 0. grantee and expiry of an empty slot are NOT constrained, and
// scope is not range-checked here (the transaction checks own the allowed scope values).
template ConsentLeaf() {
    signal input grantee;
    signal input scope;
    signal input expiry;
    signal output value;
    signal output empty;

    empty <== IsZero()(scope);
    signal hash <== Poseidon(3)([grantee, scope, expiry]);
    value <== (1 - empty) * hash;
}
