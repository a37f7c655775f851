pragma circom 2.1.0;

// Which operation a slot holds, and whether the actor may perform it (circuits/SPEC.md, table of
// L2 transactions). Pure checks: the Merkle work that proves the leaves these checks read is in
// ProcessTx.

include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/bitify.circom";

// One-hot flags of op in 0..6; any other op is unprovable.
template OpFlags() {
    signal input op;
    signal output pad;
    signal output upload;
    signal output update;
    signal output grant;
    signal output revoke;
    signal output access;
    signal output claim;

    component eq[7];
    var sum = 0;
    for (var i = 0; i < 7; i++) {
        eq[i] = IsEqual();
        eq[i].in[0] <== op;
        eq[i].in[1] <== i;
        sum += eq[i].out;
    }
    sum === 1;
    pad <== eq[0].out;
    upload <== eq[1].out;
    update <== eq[2].out;
    grant <== eq[3].out;
    revoke <== eq[4].out;
    access <== eq[5].out;
    claim <== eq[6].out;
}

// Inputs are the decoded record (bytes already range-checked: actor, target < 2^32, slot, scope
// < 2^8, expiry < 2^40, payload < 2^248), the batch timestamp (< 2^64), the actor's indexHash
// before the transaction, whether the target account exists, and the consent slot's fields (the
// caller proves them against the owner's consent root).
template TxPermission() {
    signal input pad;
    signal input upload;
    signal input update;
    signal input grant;
    signal input revoke;
    signal input access;
    signal input claim;

    signal input actor;
    signal input target;
    signal input slot;
    signal input scope;
    signal input expiry;
    signal input payload;
    signal input timestamp;
    signal input actorIndexHash;
    signal input targetExists;
    signal input consentGrantee;
    signal input consentScope;
    signal input consentExpiry;

    // Padding: the whole record is zero (the sum of non-negative bounded fields cannot wrap).
    pad * (actor + target + slot + scope + expiry + payload) === 0;

    // upload / update: the patient writes its own index.
    signal writesIndex <== upload + update;
    writesIndex * (target - actor) === 0;
    writesIndex * (slot + scope + expiry) === 0;
    component payloadZero = IsZero();
    payloadZero.in <== payload;
    writesIndex * payloadZero.out === 0;
    component indexZero = IsZero();
    indexZero.in <== actorIndexHash;
    upload * (1 - indexZero.out) === 0;
    update * indexZero.out === 0;

    // grant, access, claim name another, registered account.
    signal needsTarget <== grant + access + claim;
    component self = IsEqual();
    self.in[0] <== actor;
    self.in[1] <== target;
    needsTarget * self.out === 0;
    needsTarget * (1 - targetExists) === 0;

    // grant: scope in {1, 2, 3}, expiry in the future, no payload.
    component scopeBits = Num2Bits(8);
    scopeBits.in <== scope;
    grant * (scope - scopeBits.out[0] - 2 * scopeBits.out[1]) === 0;
    component scopeZero = IsZero();
    scopeZero.in <== scope;
    grant * scopeZero.out === 0;
    component future = LessThan(64);
    future.in[0] <== timestamp;
    future.in[1] <== expiry;
    grant * (1 - future.out) === 0;
    (grant + revoke) * payload === 0;

    // revoke: the slot holds a consent for exactly this grantee.
    revoke * (scope + expiry) === 0;
    component consentEmpty = IsZero();
    consentEmpty.in <== consentScope;
    revoke * consentEmpty.out === 0;
    revoke * (consentGrantee - target) === 0;

    // access / claim: a live consent for the actor with the right scope bit.
    signal reads <== access + claim;
    reads * (scope + expiry) === 0;
    reads * (consentGrantee - actor) === 0;
    component held = Num2Bits(2);
    held.in <== consentScope;
    access * (1 - held.out[0]) === 0;
    claim * (1 - held.out[1]) === 0;
    component live = LessEqThan(64);
    live.in[0] <== timestamp;
    live.in[1] <== consentExpiry;
    reads * (1 - live.out) === 0;
}
