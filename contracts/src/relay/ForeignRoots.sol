// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMessageRecipient} from "@hyperlane-xyz/core/contracts/interfaces/IMessageRecipient.sol";
import {
    IInterchainSecurityModule,
    ISpecifiesInterchainSecurityModule
} from "@hyperlane-xyz/core/contracts/interfaces/IInterchainSecurityModule.sol";
import {Governed} from "../gateway/Governed.sol";
import {RootMessage} from "./RootMessage.sol";

/// Poseidon over BN254 as deployed poseidon-solidity libraries (PoseidonT3: 2 inputs, T6: 5),
/// called directly: their pure functions need no DELEGATECALL.
interface IPoseidon2 {
    function hash(uint256[2] memory inputs) external pure returns (uint256);
}

interface IPoseidon5 {
    function hash(uint256[5] memory inputs) external pure returns (uint256);
}

/// @notice Rollup state roots from other chains, as the Hyperlane Mailbox delivers them. A root is
/// accepted only through this contract's security module (a multisig ISM of institution
/// validators: 2f+1 of 3f+1), only from the enrolled RootPublisher of its origin, and only in
/// batch order. Against an accepted root anyone can check that a patient account, with its key
/// and its record index hash, is in the foreign rollup's state (a Poseidon Merkle proof).
contract ForeignRoots is IMessageRecipient, ISpecifiesInterchainSecurityModule, Governed {
    uint256 internal constant SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    struct Origin {
        bytes32 publisher;
        address rollup;
        uint8 treeDepth;
        /// The next batch index this receiver accepts from the origin.
        uint64 nextBatch;
    }

    struct ForeignRoot {
        uint256 stateRoot;
        bytes32 commitment;
        uint64 receivedAt;
        uint64 receivedBlock;
    }

    /// A patient account leaf of the foreign state tree and its path (circuits/SPEC.md "State").
    struct AccountProof {
        uint32 account;
        uint256 pubX;
        uint256 pubY;
        uint256 nonce;
        uint256 indexHash;
        uint256 consentRoot;
        /// Siblings from the leaf level up; exactly the origin's tree depth.
        uint256[] siblings;
    }

    address public immutable mailbox;
    IPoseidon2 public immutable poseidon2;
    IPoseidon5 public immutable poseidon5;
    IInterchainSecurityModule public interchainSecurityModule;
    mapping(uint32 => Origin) public origins;
    mapping(uint32 => mapping(uint64 => ForeignRoot)) internal _roots;

    event OriginEnrolled(uint32 indexed origin, bytes32 publisher, address rollup, uint8 treeDepth, uint64 firstBatch);
    event SecurityModuleSet(address module);
    event ForeignRootAccepted(uint32 indexed origin, uint64 indexed batchIndex, address rollup, uint256 stateRoot, bytes32 commitment);
    event ForeignRecordVerified(uint32 indexed origin, uint64 indexed batchIndex, uint32 indexed account, uint256 indexHash, address verifier);

    error NotMailbox(address caller);
    error UnknownOrigin(uint32 origin);
    error UnknownSender(uint32 origin, bytes32 sender);
    error WrongRollup(uint256 originChainId, address rollup);
    error OutOfOrder(uint64 expected, uint64 received);
    error RootOutOfField(uint256 root);
    error ValueNotAccepted();
    error UnknownRoot(uint32 origin, uint64 batchIndex);
    error BadProofLength(uint256 expected, uint256 received);
    error BadTreeDepth(uint8 depth);
    error NotInForeignRoot(uint32 origin, uint64 batchIndex, uint32 account);

    constructor(address governance_, address mailbox_, IInterchainSecurityModule ism_, IPoseidon2 poseidon2_, IPoseidon5 poseidon5_)
        Governed(governance_)
    {
        if (mailbox_ == address(0) || address(ism_) == address(0) || address(poseidon2_) == address(0) || address(poseidon5_) == address(0)) {
            revert ZeroAddress();
        }
        mailbox = mailbox_;
        poseidon2 = poseidon2_;
        poseidon5 = poseidon5_;
        interchainSecurityModule = ism_;
        emit SecurityModuleSet(address(ism_));
    }

    /// @notice Trust the RootPublisher `publisher` on Hyperlane domain `origin` for `rollup`,
    /// starting at batch `firstBatch` (0 for a new rollup). Re-enrolling replaces the entry.
    function enrollOrigin(uint32 origin, bytes32 publisher, address rollup, uint8 treeDepth, uint64 firstBatch)
        external
        onlyGovernance
    {
        if (publisher == bytes32(0) || rollup == address(0)) revert ZeroAddress();
        if (treeDepth == 0 || treeDepth > 32) revert BadTreeDepth(treeDepth);
        origins[origin] = Origin(publisher, rollup, treeDepth, firstBatch);
        emit OriginEnrolled(origin, publisher, rollup, treeDepth, firstBatch);
    }

    function setInterchainSecurityModule(IInterchainSecurityModule module) external onlyGovernance {
        if (address(module) == address(0)) revert ZeroAddress();
        interchainSecurityModule = module;
        emit SecurityModuleSet(address(module));
    }

    /// @notice Called by the Mailbox once the ISM verified the message.
    function handle(uint32 origin, bytes32 sender, bytes calldata body) external payable override {
        if (msg.sender != mailbox) revert NotMailbox(msg.sender);
        if (msg.value != 0) revert ValueNotAccepted();
        Origin storage o = origins[origin];
        if (o.publisher == bytes32(0)) revert UnknownOrigin(origin);
        if (sender != o.publisher) revert UnknownSender(origin, sender);
        RootMessage.Root memory m = RootMessage.decode(body);
        // Hyperlane domains are chain ids here, so a publisher cannot speak for another chain.
        if (m.originChainId != origin || m.rollup != o.rollup) revert WrongRollup(m.originChainId, m.rollup);
        if (m.batchIndex != o.nextBatch) revert OutOfOrder(o.nextBatch, m.batchIndex);
        if (m.stateRoot >= SNARK_SCALAR_FIELD) revert RootOutOfField(m.stateRoot);
        o.nextBatch = m.batchIndex + 1;
        _roots[origin][m.batchIndex] = ForeignRoot(m.stateRoot, m.commitment, uint64(block.timestamp), uint64(block.number));
        emit ForeignRootAccepted(origin, m.batchIndex, m.rollup, m.stateRoot, m.commitment);
    }

    function foreignRoot(uint32 origin, uint64 batchIndex) public view returns (ForeignRoot memory root) {
        root = _roots[origin][batchIndex];
        if (root.receivedAt == 0) revert UnknownRoot(origin, batchIndex);
    }

    /// @notice Batches accepted from `origin` (the next index expected).
    function acceptedCount(uint32 origin) external view returns (uint64) {
        return origins[origin].nextBatch;
    }

    /// @notice Is this registered account leaf in the origin's state root after `batchIndex`?
    /// Reverts UnknownRoot when that root has not arrived; false for any mismatch.
    function accountInForeignRoot(uint32 origin, uint64 batchIndex, AccountProof calldata proof) public view returns (bool) {
        uint256 root = foreignRoot(origin, batchIndex).stateRoot;
        uint256 depth = origins[origin].treeDepth;
        // A shorter path would let an inner node pose as a leaf.
        if (proof.siblings.length != depth) revert BadProofLength(depth, proof.siblings.length);
        if (proof.pubX == 0 && proof.pubY == 0) return false; // an empty leaf is nobody
        if (uint256(proof.account) >> depth != 0) return false;
        uint256[5] memory leaf = [proof.pubX, proof.pubY, proof.nonce, proof.indexHash, proof.consentRoot];
        for (uint256 i = 0; i < 5; ++i) if (leaf[i] >= SNARK_SCALAR_FIELD) return false; // no aliases mod r
        uint256 node = poseidon5.hash(leaf);
        uint256 index = proof.account;
        for (uint256 i = 0; i < depth; ++i) {
            uint256 sibling = proof.siblings[i];
            if (sibling >= SNARK_SCALAR_FIELD) return false;
            node = (index & 1) == 0 ? poseidon2.hash([node, sibling]) : poseidon2.hash([sibling, node]);
            index >>= 1;
        }
        return node == root;
    }

    /// @notice Cross-institution identity: account `account` of the foreign rollup holds the
    /// BabyJubJub key (pubX, pubY) in the state after `batchIndex`.
    function verifyForeignIdentity(uint32 origin, uint64 batchIndex, uint32 account, uint256 pubX, uint256 pubY, AccountProof calldata proof)
        external
        view
        returns (bool)
    {
        return proof.account == account && proof.pubX == pubX && proof.pubY == pubY && accountInForeignRoot(origin, batchIndex, proof);
    }

    /// @notice Cross-institution record check: account `account`'s record index hash (the hash
    /// of its encrypted index document, sdk/patientIndex.ts) is `indexHash` after `batchIndex`.
    function verifyForeignRecord(uint32 origin, uint64 batchIndex, uint32 account, uint256 indexHash, AccountProof calldata proof)
        public
        view
        returns (bool)
    {
        return proof.account == account && proof.indexHash == indexHash && accountInForeignRoot(origin, batchIndex, proof);
    }

    /// @notice verifyForeignRecord as a transaction: reverts unless it holds, and leaves an
    /// auditable event naming who relied on it.
    function attestForeignRecord(uint32 origin, uint64 batchIndex, uint32 account, uint256 indexHash, AccountProof calldata proof) external {
        if (!verifyForeignRecord(origin, batchIndex, account, indexHash, proof)) revert NotInForeignRoot(origin, batchIndex, account);
        emit ForeignRecordVerified(origin, batchIndex, account, indexHash, msg.sender);
    }
}
