// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IGateway} from "./interfaces/IGateway.sol";
import {Leaves} from "./libraries/Leaves.sol";

/// @notice Record provenance: Merkle roots of record versions anchored by the Rollup (one per
/// batch that touched records) or by an active institution, and the paper's
/// verifyProof(leaf, proof[], root) with Keccak-256 sorted pairs, delegated to OpenZeppelin's
/// MerkleProof. Leaves come from StandardMerkleTree (the npm package openzeppelin merkle-tree) with types
/// ["uint32", "bytes32", "uint32", "bytes32"] = (patient account, record id, version, content hash).
contract Provenance {
    /// An institution's anchor of its own record set.
    struct Anchor {
        uint64 l1Block;
        address anchoredBy;
    }

    /// A rollup batch's anchor: the record versions the batch touched.
    struct RollupAnchor {
        uint64 l1Block;
        uint64 batchIndex;
    }

    IGateway public immutable gateway;
    address public rollup;
    // Kept apart so that nobody can make a batch revert by anchoring its root first.
    mapping(bytes32 => Anchor) internal _institutionAnchors;
    mapping(bytes32 => RollupAnchor) internal _rollupAnchors;

    event RootAnchored(bytes32 indexed root, address indexed anchoredBy, bool fromRollup, uint64 batchIndex);
    event RollupWired(address rollup);

    error NotGovernance(address caller);
    error NotRollup(address caller);
    error NotInstitution(address caller);
    error AlreadyAnchored(bytes32 root);
    error ZeroRoot();
    error ZeroAddress();
    error AlreadyWired();

    constructor(IGateway gateway_) {
        gateway = gateway_;
    }

    function setRollup(address rollup_) external {
        if (msg.sender != gateway.governance()) revert NotGovernance(msg.sender);
        if (rollup_ == address(0)) revert ZeroAddress();
        if (rollup != address(0)) revert AlreadyWired();
        rollup = rollup_;
        emit RollupWired(rollup_);
    }

    /// @notice Never reverts for a root anchored before: a finalized batch must not fail on it.
    /// The first batch that anchored a root keeps it.
    function anchorFromRollup(bytes32 root, uint64 batchIndex) external {
        if (msg.sender != rollup || rollup == address(0)) revert NotRollup(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        if (_rollupAnchors[root].l1Block != 0) return;
        _rollupAnchors[root] = RollupAnchor({l1Block: uint64(block.number), batchIndex: batchIndex});
        emit RootAnchored(root, msg.sender, true, batchIndex);
    }

    /// @notice An institution anchors the root of its own record set (e.g. a lab's result batch).
    function anchor(bytes32 root) external {
        if (!gateway.isActiveInstitution(msg.sender)) revert NotInstitution(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        if (_institutionAnchors[root].l1Block != 0) revert AlreadyAnchored(root);
        _institutionAnchors[root] = Anchor({l1Block: uint64(block.number), anchoredBy: msg.sender});
        emit RootAnchored(root, msg.sender, false, 0);
    }

    function isAnchored(bytes32 root) public view returns (bool) {
        return _institutionAnchors[root].l1Block != 0 || _rollupAnchors[root].l1Block != 0;
    }

    function institutionAnchorOf(bytes32 root) external view returns (Anchor memory) {
        return _institutionAnchors[root];
    }

    function rollupAnchorOf(bytes32 root) external view returns (RollupAnchor memory) {
        return _rollupAnchors[root];
    }

    /// @notice The paper's verifyProof: is `leaf` in the tree with `root`?
    function verifyProof(bytes32 leaf, bytes32[] calldata proof, bytes32 root) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice verifyProof against a root that was anchored here.
    function verifyAnchored(bytes32 leaf, bytes32[] calldata proof, bytes32 root) external view returns (bool) {
        return isAnchored(root) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function recordLeaf(uint32 patientAccount, bytes32 recordId, uint32 version, bytes32 contentHash) external pure returns (bytes32) {
        return Leaves.recordLeaf(patientAccount, recordId, version, contentHash);
    }

    function verifyRecord(uint32 patientAccount, bytes32 recordId, uint32 version, bytes32 contentHash, bytes32[] calldata proof, bytes32 root)
        external
        view
        returns (bool)
    {
        return isAnchored(root) && MerkleProof.verifyCalldata(proof, root, Leaves.recordLeaf(patientAccount, recordId, version, contentHash));
    }
}
