// =====================================================================================
//  WARNING: TEST / DEVNET ONLY.  THIS CIRCUIT PROVES NOTHING ABOUT A BATCH.
// =====================================================================================
//  BindingOnly has exactly one public input, `inputHash`, and no private inputs. The
//  only constraint is a dummy square (sq = inputHash^2) that exists so the R1CS is not
//  empty. It does NOT check any state transition, signature, consent or Merkle path.
//
//  Consequence: ANYONE WHO HAS THE ZKEY CAN PROVE ANY inputHash THEY LIKE. A Rollup wired
//  to this verifier accepts every batch whose inputHash is an in-field value.
//
//  It exists only so the Rollup contract can be tested end to end against a real,
//  snarkjs-generated Groth16 verifier (same `verifyProof(uint[2],uint[2][2],uint[2],uint[1])`
//  ABI) before the real batch circuit exists. The real batch circuit replaces it; never
//  deploy BindingOnlyVerifier anywhere that holds real data or value.
//
//  Build: `npm run build:binding-circuit` (circuits/binding/build.ts).
// =====================================================================================
pragma circom 2.1.0;

template BindingOnly() {
    // The single public signal; the Rollup passes its batch input hash here.
    signal input inputHash;

    // Dummy quadratic constraint: keeps the circuit non-degenerate (at least one
    // multiplicative constraint over the public input). It constrains nothing useful.
    signal sq;
    sq <== inputHash * inputHash;
}

component main {public [inputHash]} = BindingOnly();
