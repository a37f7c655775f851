// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Leaf encodings shared by every contract and by the off-chain trees. Each leaf is the
/// "standard" leaf of OpenZeppelin's merkle-tree package: keccak256(bytes.concat(keccak256(abi.encode(...)))),
/// double-hashed so a leaf can never be confused with an inner node.
library Leaves {
    /// A record version: StandardMerkleTree types ["uint32", "bytes32", "uint32", "bytes32"].
    function recordLeaf(uint32 patientAccount, bytes32 recordId, uint32 version, bytes32 contentHash) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(patientAccount, recordId, version, contentHash))));
    }

    /// A rolled-up transaction: types ["uint64", "uint32", "bytes32"] = (batch, position, keccak(tx record)).
    function txLeaf(uint64 batchIndex, uint32 position, bytes32 txHash) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(batchIndex, position, txHash))));
    }
}
