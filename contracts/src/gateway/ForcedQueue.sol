// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The ordered L1->L2 queue of forced operations. The rollup must consume them in queue
/// order; an operation older than the inclusion deadline makes every batch that leaves it out
/// revert (and opens batch submission to anyone, see Rollup), which bounds censorship.
///
/// Wire format of one operation (FORCED_OP_BYTES = 73, packed, big-endian), the same bytes the
/// Rollup receives in batch calldata and the circuit decodes:
///   uint8 kind | uint32 account | uint32 counterpart | uint256 a | uint256 b
///   kind 1 RegisterAccount: account = new index, a/b = BabyJubJub public key (x, y)
///   kind 2 RevokeConsent:   account = patient, counterpart = grantee, a = scope bits to clear, b = consent slot
abstract contract ForcedQueue {
    uint256 public constant FORCED_OP_BYTES = 73;
    uint8 public constant OP_REGISTER_ACCOUNT = 1;
    uint8 public constant OP_REVOKE_CONSENT = 2;

    struct QueuedOp {
        bytes32 hash;
        uint64 queuedAtBlock;
    }

    QueuedOp[] internal _forcedQueue;
    uint256 public forcedHead;
    /// Blocks an operation may wait before batches that skip it are rejected.
    uint256 public immutable forcedInclusionDeadline;

    event ForcedOperationQueued(uint256 indexed index, uint8 indexed kind, uint32 account, uint32 counterpart, uint256 a, uint256 b);
    event ForcedOperationsConsumed(uint256 fromIndex, uint256 count);

    error NotRollup(address caller);
    error MalformedForcedOps(uint256 length);
    error ForcedOperationNotQueued(uint256 index);
    error ForcedOperationMismatch(uint256 index, bytes32 expected, bytes32 actual);
    error ForcedOperationOverdue(uint256 index, uint256 deadlineBlock);
    error InvalidDeadline();

    constructor(uint256 deadline) {
        if (deadline == 0) revert InvalidDeadline();
        forcedInclusionDeadline = deadline;
    }

    function _rollup() internal view virtual returns (address);

    function encodeForcedOp(uint8 kind, uint32 account, uint32 counterpart, uint256 a, uint256 b) public pure returns (bytes memory) {
        return abi.encodePacked(kind, account, counterpart, a, b);
    }

    function _enqueue(uint8 kind, uint32 account, uint32 counterpart, uint256 a, uint256 b) internal {
        uint256 index = _forcedQueue.length;
        _forcedQueue.push(QueuedOp({hash: keccak256(encodeForcedOp(kind, account, counterpart, a, b)), queuedAtBlock: uint64(block.number)}));
        emit ForcedOperationQueued(index, kind, account, counterpart, a, b);
    }

    function forcedQueueLength() external view returns (uint256) {
        return _forcedQueue.length;
    }

    function forcedOpAt(uint256 index) external view returns (bytes32 hash, uint64 queuedAtBlock) {
        QueuedOp storage op = _forcedQueue[index];
        return (op.hash, op.queuedAtBlock);
    }

    function forcedQueueOverdue() public view returns (bool) {
        uint256 head = forcedHead;
        return head < _forcedQueue.length && block.number > _forcedQueue[head].queuedAtBlock + forcedInclusionDeadline;
    }

    /// @notice Checks that `ops` are exactly the next queued operations, in order, and moves the head.
    function consumeForcedOps(bytes calldata ops) external returns (uint256 count) {
        if (msg.sender != _rollup()) revert NotRollup(msg.sender);
        if (ops.length % FORCED_OP_BYTES != 0) revert MalformedForcedOps(ops.length);
        count = ops.length / FORCED_OP_BYTES;
        uint256 head = forcedHead;
        for (uint256 i = 0; i < count; ++i) {
            uint256 index = head + i;
            if (index >= _forcedQueue.length) revert ForcedOperationNotQueued(index);
            bytes32 actual = keccak256(ops[i * FORCED_OP_BYTES:(i + 1) * FORCED_OP_BYTES]);
            bytes32 expected = _forcedQueue[index].hash;
            if (actual != expected) revert ForcedOperationMismatch(index, expected, actual);
        }
        forcedHead = head + count;
        if (forcedQueueOverdue()) {
            revert ForcedOperationOverdue(forcedHead, _forcedQueue[forcedHead].queuedAtBlock + forcedInclusionDeadline);
        }
        if (count > 0) emit ForcedOperationsConsumed(head, count);
    }
}
