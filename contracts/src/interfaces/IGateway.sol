// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice What the Rollup and Provenance contracts need from the Gateway.
interface IGateway {
    function governance() external view returns (address);
    function isActiveInstitution(address account) external view returns (bool);
    /// @dev Called by the Rollup with the forced operations a batch consumed, in queue order, its
    /// forced-slot capacity and its timestamp (the overdue rule, see ForcedQueue).
    function consumeForcedOps(bytes calldata ops, uint256 capacity, uint64 batchTimestamp) external returns (uint256 count);
    /// @return true when the oldest unconsumed forced operation has passed its inclusion deadline.
    function forcedQueueOverdue() external view returns (bool);
}

interface IRollup {
    function isTxFinalized(uint64 batchIndex, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);
}

interface IProvenance {
    function anchorFromRollup(bytes32 root, uint64 batchIndex) external;
}
