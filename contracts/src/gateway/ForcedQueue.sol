// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The ordered L1->L2 queue of forced operations. The rollup must consume them in queue
/// order. With D = forcedInclusionDeadline:
/// - once the oldest unconsumed operation is more than D blocks old, anyone may submit batches
///   (see Rollup), so a stalled operator cannot freeze the queue;
/// - a batch that leaves it out is refused when it is overdue AND the batch had a free forced slot
///   AND the batch was opened (its proved timestamp) more than D seconds after the operation was
///   queued: the sequencer had the operation and room for it. Judging by the batch's own time,
///   not by when its proof lands, keeps batches sequenced in good faith settleable after a proving
///   backlog (otherwise one late proof would make every batch already sequenced unsettleable, and
///   the rollup would halt for good); a batch whose forced slots are all used made all the
///   progress the circuit allows, so a backlog of forced operations drains.
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
        uint64 queuedAtTime;
    }

    QueuedOp[] internal _forcedQueue;
    uint256 public forcedHead;
    /// D: blocks before anyone may submit; seconds a sequencer may take to put an operation in a batch.
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
        _forcedQueue.push(
            QueuedOp({hash: keccak256(encodeForcedOp(kind, account, counterpart, a, b)), queuedAtBlock: uint64(block.number), queuedAtTime: uint64(block.timestamp)})
        );
        emit ForcedOperationQueued(index, kind, account, counterpart, a, b);
    }

    function forcedQueueLength() external view returns (uint256) {
        return _forcedQueue.length;
    }

    function forcedOpAt(uint256 index) external view returns (bytes32 hash, uint64 queuedAtBlock, uint64 queuedAtTime) {
        QueuedOp storage op = _forcedQueue[index];
        return (op.hash, op.queuedAtBlock, op.queuedAtTime);
    }

    function forcedQueueOverdue() public view returns (bool) {
        uint256 head = forcedHead;
        return head < _forcedQueue.length && block.number > _forcedQueue[head].queuedAtBlock + forcedInclusionDeadline;
    }

    /// @notice Checks that `ops` are exactly the next queued operations, in order, and moves the head.
    /// `capacity`: the batch's forced slots; `batchTimestamp`: its proved opening time (see above).
    function consumeForcedOps(bytes calldata ops, uint256 capacity, uint64 batchTimestamp) external returns (uint256 count) {
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
        if (count < capacity && forcedQueueOverdue()) {
            QueuedOp storage next = _forcedQueue[head + count];
            if (uint256(batchTimestamp) > uint256(next.queuedAtTime) + forcedInclusionDeadline) {
                revert ForcedOperationOverdue(head + count, next.queuedAtBlock + forcedInclusionDeadline);
            }
        }
        if (count > 0) emit ForcedOperationsConsumed(head, count);
    }
}
