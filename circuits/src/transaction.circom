pragma circom 2.1.0;

// One L2 transaction slot: signature, permission and the state-tree updates it causes
// (circuits/SPEC.md). rootIn -> rootOut; a padding slot leaves the root unchanged.

include "leaves.circom";
include "merkle.circom";
include "signature.circom";
include "permission.circom";

template ProcessTx(D, S) {
    signal input rootIn;
    signal input timestamp;
    // decoded record
    signal input op;
    signal input actor;
    signal input target;
    signal input slot;
    signal input scope;
    signal input expiry;
    signal input payload;
    signal input head;
    // witness
    signal input sig[3];
    signal input actorLeaf[5];
    signal input actorPath[D];
    signal input targetLeaf[5];
    signal input targetPath[D];
    signal input consentLeaf[3];
    signal input consentPath[S];
    signal output rootOut;

    component f = OpFlags();
    f.op <== op;
    signal enabled <== 1 - f.pad;

    // The actor: a registered account whose key signed this record at its current nonce.
    component actorOld = AccountLeaf();
    actorOld.pubX <== actorLeaf[0];
    actorOld.pubY <== actorLeaf[1];
    actorOld.nonce <== actorLeaf[2];
    actorOld.indexHash <== actorLeaf[3];
    actorOld.consentRoot <== actorLeaf[4];
    enabled * actorOld.empty === 0;

    component signature = TxSignature();
    signature.enabled <== enabled;
    signature.pubX <== actorLeaf[0];
    signature.pubY <== actorLeaf[1];
    signature.head <== head;
    signature.payload <== payload;
    signature.nonce <== actorLeaf[2];
    signature.R8x <== sig[0];
    signature.R8y <== sig[1];
    signature.S <== sig[2];

    // The target account, proven in the same root (it is not the actor, see TxPermission).
    component targetOld = AccountLeaf();
    targetOld.pubX <== targetLeaf[0];
    targetOld.pubY <== targetLeaf[1];
    targetOld.nonce <== targetLeaf[2];
    targetOld.indexHash <== targetLeaf[3];
    targetOld.consentRoot <== targetLeaf[4];
    component targetRoot = MerkleRoot(D);
    targetRoot.leaf <== targetOld.value;
    targetRoot.index <== target;
    targetRoot.siblings <== targetPath;
    signal needsTarget <== f.grant + f.access + f.claim;
    needsTarget * (targetRoot.root - rootIn) === 0;

    // The consent slot, in the owner's consent tree: the actor's for grant and revoke, the
    // target's for access and claim.
    signal readsTarget <== f.access + f.claim;
    signal ownerConsentRoot <== actorLeaf[4] + readsTarget * (targetLeaf[4] - actorLeaf[4]);
    component consentOld = ConsentLeaf();
    consentOld.grantee <== consentLeaf[0];
    consentOld.scope <== consentLeaf[1];
    consentOld.expiry <== consentLeaf[2];
    component consentRootOld = MerkleRoot(S);
    consentRootOld.leaf <== consentOld.value;
    consentRootOld.index <== slot;
    consentRootOld.siblings <== consentPath;
    signal usesConsent <== f.grant + f.revoke + readsTarget;
    usesConsent * (consentRootOld.root - ownerConsentRoot) === 0;

    component permission = TxPermission();
    permission.pad <== f.pad;
    permission.upload <== f.upload;
    permission.update <== f.update;
    permission.grant <== f.grant;
    permission.revoke <== f.revoke;
    permission.access <== f.access;
    permission.claim <== f.claim;
    permission.actor <== actor;
    permission.target <== target;
    permission.slot <== slot;
    permission.scope <== scope;
    permission.expiry <== expiry;
    permission.payload <== payload;
    permission.timestamp <== timestamp;
    permission.actorIndexHash <== actorLeaf[3];
    permission.targetExists <== 1 - targetOld.empty;
    permission.consentGrantee <== consentLeaf[0];
    permission.consentScope <== consentLeaf[1];
    permission.consentExpiry <== consentLeaf[2];

    // New consent slot: grant writes (target, scope, expiry), revoke clears it.
    component granted = ConsentLeaf();
    granted.grantee <== target;
    granted.scope <== scope;
    granted.expiry <== expiry;
    component consentRootNew = MerkleRoot(S);
    consentRootNew.leaf <== f.grant * granted.value;
    consentRootNew.index <== slot;
    consentRootNew.siblings <== consentPath;

    // New actor leaf: nonce + 1, index for upload/update, consent root for grant/revoke.
    component actorNew = AccountLeaf();
    actorNew.pubX <== actorLeaf[0];
    actorNew.pubY <== actorLeaf[1];
    actorNew.nonce <== actorLeaf[2] + 1;
    actorNew.indexHash <== actorLeaf[3] + (f.upload + f.update) * (payload - actorLeaf[3]);
    actorNew.consentRoot <== actorLeaf[4] + (f.grant + f.revoke) * (consentRootNew.root - actorLeaf[4]);

    component update = MerkleUpdate(D);
    update.oldLeaf <== actorOld.value;
    update.newLeaf <== actorNew.value;
    update.index <== actor;
    update.siblings <== actorPath;
    update.oldRoot <== rootIn;
    update.enabled <== enabled;
    rootOut <== update.newRoot;
}
