// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @notice The institutions' council: proposals are signed off chain by a 2f+1 quorum of members
/// (PBFT-style coordination, off the rollup's correctness path) and anyone may submit them. The
/// council is the `governance` of the Gateway (and other Governed contracts), and holds the
/// sequencer's batching policy, which the node reads and obeys.
contract Council is EIP712 {
    struct Call {
        address target;
        uint256 value;
        bytes data;
    }

    struct Params {
        /// Transactions per batch; 0 = the circuit's full capacity.
        uint32 batchSize;
        uint32 batchTimeoutMs;
        /// Bitmask over the op order upload, update, grant, revoke, access, claim (bit 0 = upload).
        uint8 priorityOps;
    }

    bytes32 public constant CALL_TYPEHASH = keccak256("Call(address target,uint256 value,bytes data)");
    bytes32 public constant PROPOSAL_TYPEHASH =
        keccak256("Proposal(uint64 nonce,uint64 deadline,Call[] calls)Call(address target,uint256 value,bytes data)");
    uint32 public constant MIN_BATCH_TIMEOUT_MS = 100;
    uint8 public constant PRIORITY_OPS_MASK = 0x3f;

    address[] private _members;
    mapping(address => bool) public isMember;
    /// The nonce the next proposal must carry.
    uint64 public proposalCount;
    Params private _params;

    event ProposalExecuted(uint64 indexed nonce, bytes32 digest);
    event MembersChanged(address[] members, uint256 quorum);
    event ParamsChanged(uint32 batchSize, uint32 batchTimeoutMs, uint8 priorityOps);

    error NotSelf(address caller);
    error NotMember(address signer);
    error SignersNotAscending(uint256 index);
    error InvalidSignature(uint256 index);
    error BelowQuorum(uint256 have, uint256 need);
    error BadNonce(uint64 expected, uint64 got);
    error Expired(uint64 deadline);
    error CallFailed(uint256 index, bytes returndata);
    error NoMembers();
    error ZeroMember();
    error DuplicateMember(address member);
    error InvalidBatchTimeout(uint32 batchTimeoutMs);
    error InvalidPriorityOps(uint8 priorityOps);

    modifier onlySelf() {
        if (msg.sender != address(this)) revert NotSelf(msg.sender);
        _;
    }

    constructor(address[] memory members_, uint32 batchSize, uint32 batchTimeoutMs, uint8 priorityOps) EIP712("MedRollupCouncil", "1") {
        _setMembers(members_);
        _setParams(batchSize, batchTimeoutMs, priorityOps);
    }

    /// @notice Receives value for proposals whose calls carry some.
    receive() external payable {}

    /// @notice Runs `calls` in order when at least quorum() distinct members signed the proposal.
    /// Signatures must be sorted by signer address, ascending (a cheap duplicate check).
    function execute(Call[] calldata calls, uint64 nonce, uint64 deadline, bytes[] calldata signatures) external payable {
        if (nonce != proposalCount) revert BadNonce(proposalCount, nonce);
        if (block.timestamp > deadline) revert Expired(deadline);
        uint256 need = quorum();
        if (signatures.length < need) revert BelowQuorum(signatures.length, need);
        bytes32 digest = proposalDigest(calls, nonce, deadline);
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert InvalidSignature(i);
            if (!isMember[signer]) revert NotMember(signer);
            if (signer <= last) revert SignersNotAscending(i);
            last = signer;
        }
        // Bumped before the calls: a call re-entering execute needs the next nonce and a fresh quorum.
        proposalCount = nonce + 1;
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call{value: calls[i].value}(calls[i].data);
            if (!ok) revert CallFailed(i, ret);
        }
        emit ProposalExecuted(nonce, digest);
    }

    /// @notice The EIP-712 digest members sign for a proposal.
    function proposalDigest(Call[] calldata calls, uint64 nonce, uint64 deadline) public view returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            hashes[i] = keccak256(abi.encode(CALL_TYPEHASH, calls[i].target, calls[i].value, keccak256(calls[i].data)));
        }
        bytes32 structHash = keccak256(abi.encode(PROPOSAL_TYPEHASH, nonce, deadline, keccak256(abi.encodePacked(hashes))));
        return _hashTypedDataV4(structHash);
    }

    /// @notice n - floor((n-1)/3): 2f+1 when n = 3f+1, so any two quorums share an honest member.
    function quorum() public view returns (uint256) {
        uint256 n = _members.length;
        return n - (n - 1) / 3;
    }

    function members() external view returns (address[] memory) {
        return _members;
    }

    function memberCount() external view returns (uint256) {
        return _members.length;
    }

    function params() external view returns (uint32 batchSize, uint32 batchTimeoutMs, uint8 priorityOps) {
        Params memory p = _params;
        return (p.batchSize, p.batchTimeoutMs, p.priorityOps);
    }

    function setMembers(address[] calldata members_) external onlySelf {
        _setMembers(members_);
    }

    function setParams(uint32 batchSize, uint32 batchTimeoutMs, uint8 priorityOps) external onlySelf {
        _setParams(batchSize, batchTimeoutMs, priorityOps);
    }

    function _setMembers(address[] memory next) private {
        if (next.length == 0) revert NoMembers();
        for (uint256 i = 0; i < _members.length; i++) isMember[_members[i]] = false;
        for (uint256 i = 0; i < next.length; i++) {
            address m = next[i];
            if (m == address(0)) revert ZeroMember();
            if (isMember[m]) revert DuplicateMember(m);
            isMember[m] = true;
        }
        _members = next;
        emit MembersChanged(next, quorum());
    }

    function _setParams(uint32 batchSize, uint32 batchTimeoutMs, uint8 priorityOps) private {
        if (batchTimeoutMs < MIN_BATCH_TIMEOUT_MS) revert InvalidBatchTimeout(batchTimeoutMs);
        if (priorityOps & ~PRIORITY_OPS_MASK != 0) revert InvalidPriorityOps(priorityOps);
        _params = Params(batchSize, batchTimeoutMs, priorityOps);
        emit ParamsChanged(batchSize, batchTimeoutMs, priorityOps);
    }
}
