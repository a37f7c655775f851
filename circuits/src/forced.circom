pragma circom 2.1.0;

// One forced-operation slot from the Gateway's L1 queue (circuits/SPEC.md, "Forced operations"):
// no signature, and every well-formed operation the Gateway can queue is provable, so the queue
// can never halt the rollup. rootIn -> rootOut.

include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/bitify.circom";
include "leaves.circom";
include "merkle.circom";

template ProcessForced(D, S) {
    signal input rootIn;
    signal input emptyConsentRoot;
    // decoded operation
    signal input kind;
    signal input account;
    signal input counterpart;
    signal input a;
    signal input b;
    // witness: the account leaf before, and the consent slot b (RevokeConsent)
    signal input leaf[5];
    signal input path[D];
    signal input consentLeaf[3];
    signal input consentPath[S];
    signal output rootOut;

    component isPad = IsZero();
    isPad.in <== kind;
    component isReg = IsEqual();
    isReg.in[0] <== kind;
    isReg.in[1] <== 1;
    component isRev = IsEqual();
    isRev.in[0] <== kind;
    isRev.in[1] <== 2;
    isPad.out + isReg.out + isRev.out === 1;
    // Padding is all zero; a and b are separate checks since their sum could wrap the field.
    isPad.out * account === 0;
    isPad.out * counterpart === 0;
    isPad.out * a === 0;
    isPad.out * b === 0;

    component old = AccountLeaf();
    old.pubX <== leaf[0];
    old.pubY <== leaf[1];
    old.nonce <== leaf[2];
    old.indexHash <== leaf[3];
    old.consentRoot <== leaf[4];

    // RegisterAccount: a fresh index (the Gateway never reuses one) gets the key.
    isReg.out * (1 - old.empty) === 0;
    component registered = AccountLeaf();
    registered.pubX <== a;
    registered.pubY <== b;
    registered.nonce <== 0;
    registered.indexHash <== 0;
    registered.consentRoot <== emptyConsentRoot;

    // RevokeConsent: the slot is proven against the account's consent root whenever the account
    // exists, so the prover cannot skip a revocation by showing another slot content.
    // Indexes and masks are gated by isRev: for registrations a and b are key coordinates.
    signal slot <== isRev.out * b;
    signal clearMask <== isRev.out * a;
    component consentOld = ConsentLeaf();
    consentOld.grantee <== consentLeaf[0];
    consentOld.scope <== consentLeaf[1];
    consentOld.expiry <== consentLeaf[2];
    component consentRootOld = MerkleRoot(S);
    consentRootOld.leaf <== consentOld.value;
    consentRootOld.index <== slot;
    consentRootOld.siblings <== consentPath;
    signal revOnExisting <== isRev.out * (1 - old.empty);
    revOnExisting * (consentRootOld.root - leaf[4]) === 0;

    component sameGrantee = IsEqual();
    sameGrantee.in[0] <== consentLeaf[0];
    sameGrantee.in[1] <== counterpart;
    signal grantedHere <== sameGrantee.out * (1 - consentOld.empty);
    signal matches <== revOnExisting * grantedHere;

    component held = Num2Bits(2);
    held.in <== consentLeaf[1];
    component cleared = Num2Bits(8);
    cleared.in <== clearMask;
    signal keep0 <== held.out[0] * (1 - cleared.out[0]);
    signal keep1 <== held.out[1] * (1 - cleared.out[1]);
    component consentNew = ConsentLeaf();
    consentNew.grantee <== consentLeaf[0];
    consentNew.scope <== keep0 + 2 * keep1;
    consentNew.expiry <== consentLeaf[2];
    component consentRootNew = MerkleRoot(S);
    consentRootNew.leaf <== consentNew.value;
    consentRootNew.index <== slot;
    consentRootNew.siblings <== consentPath;

    component revoked = AccountLeaf();
    revoked.pubX <== leaf[0];
    revoked.pubY <== leaf[1];
    revoked.nonce <== leaf[2];
    revoked.indexHash <== leaf[3];
    revoked.consentRoot <== leaf[4] + matches * (consentRootNew.root - leaf[4]);

    component update = MerkleUpdate(D);
    update.oldLeaf <== old.value;
    signal regValue <== isReg.out * registered.value;
    signal revValue <== isRev.out * revoked.value;
    update.newLeaf <== regValue + revValue;
    update.index <== account;
    update.siblings <== path;
    update.oldRoot <== rootIn;
    update.enabled <== 1 - isPad.out;
    rootOut <== update.newRoot;
}
