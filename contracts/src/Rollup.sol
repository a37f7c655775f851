// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";
import {IGateway, IProvenance} from "./interfaces/IGateway.sol";
import {Leaves} from "./libraries/Leaves.sol";
import {ListMerkle} from "./libraries/ListMerkle.sol";

/// @notice Validity-proof rollup settlement: holds the state root and moves it only on a Groth16
/// proof of the batch. No challenge period.
///
/// Batch data (calldata, packed, big-endian), hashed whole into the commitment:
///   uint32 forcedCount | uint32 txCount | bytes32 provenanceRoot
///   | forcedCount x 73-byte forced operations (Gateway wire format, queue order)
///   | txCount x txRecordBytes-byte L2 transaction records (the prover's codec)
/// commitment  = keccak256(batchData)
/// publicInput = keccak256(oldRoot || newRoot || commitment) with the top three bits cleared,
///               i.e. reduced into the BN254 scalar field by truncation to 253 bits, which a
///               circuit does for free (dropping bits) where a `mod r` would cost constraints.
contract Rollup {
    uint256 public constant SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant INPUT_MASK = (1 << 253) - 1;
    uint256 internal constant HEADER_BYTES = 40;
    uint256 internal constant FORCED_OP_BYTES = 73;

    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    struct BatchInfo {
        uint256 stateRoot;
        bytes32 commitment;
        bytes32 txRoot;
        uint64 l1Block;
        uint32 txCount;
        uint32 forcedCount;
    }

    IGateway public immutable gateway;
    IGroth16Verifier public immutable verifier;
    IProvenance public immutable provenance;
    /// Size of one L2 transaction record in batch data (fixed by the circuit's codec).
    uint256 public immutable txRecordBytes;

    uint256 public stateRoot;
    uint64 public batchCount;
    mapping(uint64 => BatchInfo) internal _batches;

    event BatchFinalized(
        uint64 indexed batchIndex,
        uint256 oldRoot,
        uint256 newRoot,
        bytes32 commitment,
        bytes32 txRoot,
        uint32 txCount,
        uint32 forcedCount,
        bytes32 provenanceRoot
    );

    error NotOperator(address caller);
    error WrongOldRoot(uint256 expected, uint256 provided);
    error RootOutOfField(uint256 root);
    error MalformedBatch(uint256 length);
    error EmptyBatch();
    error InvalidProof();
    error InvalidConfig();

    constructor(IGateway gateway_, IGroth16Verifier verifier_, IProvenance provenance_, uint256 genesisRoot, uint256 txRecordBytes_) {
        if (address(gateway_) == address(0) || address(verifier_) == address(0) || address(provenance_) == address(0)) {
            revert InvalidConfig();
        }
        if (txRecordBytes_ == 0 || genesisRoot >= SNARK_SCALAR_FIELD) revert InvalidConfig();
        gateway = gateway_;
        verifier = verifier_;
        provenance = provenance_;
        txRecordBytes = txRecordBytes_;
        stateRoot = genesisRoot;
    }

    /// @notice The circuit's single public input for a transition.
    function publicInput(uint256 oldRoot, uint256 newRoot, bytes32 commitment) public pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(oldRoot, newRoot, commitment))) & INPUT_MASK;
    }

    /// @notice Finalizes one batch. Only the operator may submit, unless a forced operation is
    /// overdue: then anyone may, so a stalled or censoring operator cannot freeze the queue.
    function submitBatch(uint256 oldRoot, uint256 newRoot, bytes calldata batchData, Proof calldata proof) external {
        if (msg.sender != _operator() && !gateway.forcedQueueOverdue()) revert NotOperator(msg.sender);
        uint256 current = stateRoot;
        if (oldRoot != current) revert WrongOldRoot(current, oldRoot);
        if (newRoot >= SNARK_SCALAR_FIELD) revert RootOutOfField(newRoot);

        if (batchData.length < HEADER_BYTES) revert MalformedBatch(batchData.length);
        uint32 forcedCount = uint32(bytes4(batchData[0:4]));
        uint32 txCount = uint32(bytes4(batchData[4:8]));
        bytes32 provenanceRoot = bytes32(batchData[8:40]);
        uint256 forcedEnd = HEADER_BYTES + uint256(forcedCount) * FORCED_OP_BYTES;
        if (batchData.length != forcedEnd + uint256(txCount) * txRecordBytes) revert MalformedBatch(batchData.length);
        if (forcedCount == 0 && txCount == 0) revert EmptyBatch();

        bytes32 commitment = keccak256(batchData);
        uint256[1] memory input = [publicInput(oldRoot, newRoot, commitment)];
        if (!verifier.verifyProof(proof.a, proof.b, proof.c, input)) revert InvalidProof();

        gateway.consumeForcedOps(batchData[HEADER_BYTES:forcedEnd]);

        uint64 batchIndex = batchCount++;
        bytes32 txRoot = txCount == 0 ? bytes32(0) : _txRoot(batchIndex, batchData[forcedEnd:]);
        stateRoot = newRoot;
        _batches[batchIndex] = BatchInfo({
            stateRoot: newRoot,
            commitment: commitment,
            txRoot: txRoot,
            l1Block: uint64(block.number),
            txCount: txCount,
            forcedCount: forcedCount
        });
        if (provenanceRoot != bytes32(0)) provenance.anchorFromRollup(provenanceRoot, batchIndex);
        emit BatchFinalized(batchIndex, oldRoot, newRoot, commitment, txRoot, txCount, forcedCount, provenanceRoot);
    }

    /// @notice The L1 record of a batch's transactions: SimpleMerkleTree (unsorted leaves) over
    /// Leaves.txLeaf(batch, position, keccak256(record)). Built here from calldata, so it needs no trust.
    function _txRoot(uint64 batchIndex, bytes calldata txs) internal view returns (bytes32) {
        uint256 size = txRecordBytes;
        uint256 n = txs.length / size;
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            leaves[i] = Leaves.txLeaf(batchIndex, uint32(i), keccak256(txs[i * size:(i + 1) * size]));
        }
        return ListMerkle.root(leaves);
    }

    function batch(uint64 batchIndex) external view returns (BatchInfo memory) {
        return _batches[batchIndex];
    }

    /// @notice Was this transaction leaf part of a finalized batch? (Algorithm 3's L1 lookup.)
    function isTxFinalized(uint64 batchIndex, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        if (batchIndex >= batchCount) return false;
        bytes32 root = _batches[batchIndex].txRoot;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function _operator() internal view returns (address) {
        return IOperatorView(address(gateway)).operator();
    }
}

interface IOperatorView {
    function operator() external view returns (address);
}
