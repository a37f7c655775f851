pragma circom 2.1.0;

// Binary Poseidon Merkle trees (circuits/SPEC.md, "Hash and field"): inner node =
// Poseidon2(left, right); siblings are ordered from the leaf level up; bit i of the (little-endian)
// index says whether the node at level i is a right child (1) or a left child (0).

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// MerkleRootFromBits(depth): root of the tree in which `leaf` sits at the position given by
// pathBits (bit i = 1: right child at level i) with the given siblings.
// PRECONDITION: every pathBits[i] is boolean (constrained by the caller, e.g. Num2Bits).
// Cost per level: 1 constraint for the left/right selection + Poseidon(2).
template MerkleRootFromBits(depth) {
    assert(depth >= 1);
    signal input leaf;
    signal input pathBits[depth];
    signal input siblings[depth];
    signal output root;

    signal node[depth + 1];
    signal left[depth];
    node[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        // bit 0: (node, sibling); bit 1: (sibling, node). right = node + sibling - left.
        left[i] <== node[i] + pathBits[i] * (siblings[i] - node[i]);
        node[i + 1] <== Poseidon(2)([left[i], node[i] + siblings[i] - left[i]]);
    }
    root <== node[depth];
}

// MerkleRoot(depth): root = the root of the tree with `leaf` at position `index` and the given
// siblings. Proves 0 <= index < 2^depth (Num2Bits(depth): an index >= 2^depth has no witness).
template MerkleRoot(depth) {
    assert(depth >= 1);
    signal input leaf;
    signal input index;
    signal input siblings[depth];
    signal output root;

    signal bits[depth] <== Num2Bits(depth)(index);
    root <== MerkleRootFromBits(depth)(leaf, bits, siblings);
}

// MerkleUpdate(depth): replaces the leaf at `index`.
// When enabled == 1 it proves that oldLeaf sits at `index` under oldRoot (with these siblings) and
// 0 <= index < 2^depth, and outputs newRoot = the root with newLeaf at `index` (same siblings).
// When enabled == 0 nothing is enforced about the leaves, index or siblings, and newRoot = oldRoot
// (padding slots). `enabled` itself must be 0 or 1.
template MerkleUpdate(depth) {
    assert(depth >= 1);
    signal input oldLeaf;
    signal input newLeaf;
    signal input index;
    signal input siblings[depth];
    signal input oldRoot;
    signal input enabled;
    signal output newRoot;

    enabled * (enabled - 1) === 0;

    // A disabled update decomposes index 0 instead, so any index is accepted then.
    signal effectiveIndex <== index * enabled;
    signal bits[depth] <== Num2Bits(depth)(effectiveIndex);

    signal computedOld <== MerkleRootFromBits(depth)(oldLeaf, bits, siblings);
    signal computedNew <== MerkleRootFromBits(depth)(newLeaf, bits, siblings);

    (computedOld - oldRoot) * enabled === 0;
    newRoot <== oldRoot + enabled * (computedNew - oldRoot);
}
