// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @notice Root of an ordered list of leaves, built exactly like OpenZeppelin's merkle-tree package's
/// SimpleMerkleTree with `sortLeaves: false` (array-heap layout, sorted-pair Keccak from
/// OpenZeppelin's Hashes), so proofs made off chain by that library verify here with
/// OpenZeppelin's MerkleProof.
library ListMerkle {
    error EmptyList();

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) revert EmptyList();
        bytes32[] memory tree = new bytes32[](2 * n - 1);
        for (uint256 i = 0; i < n; ++i) {
            tree[tree.length - 1 - i] = leaves[i];
        }
        for (uint256 i = tree.length - n; i > 0; --i) {
            tree[i - 1] = Hashes.commutativeKeccak256(tree[2 * i - 1], tree[2 * i]);
        }
        return tree[0];
    }
}
