pragma circom 2.1.0;

// The actor's authorisation of an L2 transaction (circuits/SPEC.md, "L2 transactions"):
//   m = Poseidon4(DOMAIN, head, payload, nonce), EdDSA-Poseidon over BabyJubJub (circomlib).
// With enabled = 0 (padding slot) nothing is enforced.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/eddsaposeidon.circom";

function TX_DOMAIN() {
    return 0x6d6564726f6c6c75702e7631; // "medrollup.v1"
}

template TxMessage() {
    signal input head;
    signal input payload;
    signal input nonce;
    signal output m;

    component h = Poseidon(4);
    h.inputs[0] <== TX_DOMAIN();
    h.inputs[1] <== head;
    h.inputs[2] <== payload;
    h.inputs[3] <== nonce;
    m <== h.out;
}

template TxSignature() {
    signal input enabled;
    signal input pubX;
    signal input pubY;
    signal input head;
    signal input payload;
    signal input nonce;
    signal input R8x;
    signal input R8y;
    signal input S;

    component msg = TxMessage();
    msg.head <== head;
    msg.payload <== payload;
    msg.nonce <== nonce;

    component v = EdDSAPoseidonVerifier();
    v.enabled <== enabled;
    v.Ax <== pubX;
    v.Ay <== pubY;
    v.S <== S;
    v.R8x <== R8x;
    v.R8y <== R8y;
    v.M <== msg.m;
}
