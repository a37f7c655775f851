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
/// Batch data (calldata, packed, big-endian, fixed size for the circuit; see circuits/SPEC.md):
///   uint32 forcedCount | uint32 txCount | uint64 timestamp | bytes32 provenanceRoot
///   | maxForcedOps x 73-byte forced operations (Gateway wire format, queue order, zero padded)
///   | maxTxs x txRecordBytes-byte L2 transaction records (zero padded)
/// commitment  = sha256(batchData)
/// publicInput = sha256(oldRoot || newRoot || commitment) with the top three bits cleared,
///               i.e. reduced into the BN254 scalar field by truncation to 253 bits, which a
///               circuit does for free (dropping bits) where a `mod r` would cost constraints.
/// SHA-256 rather than Keccak-256 because the circuit must recompute it: about 460 R1CS
/// constraints per byte against about 1,100 (the EVM precompile keeps it cheap here too).
contract Rollup {
    uint256 public constant SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant INPUT_MASK = (1 << 253) - 1;
    uint256 internal constant HEADER_BYTES = 48;
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
        uint64 timestamp;
        uint32 txCount;
        uint32 forcedCount;
    }

    IGateway public immutable gateway;
    IGroth16Verifier public immutable verifier;
    IProvenance public immutable provenance;
    /// Size of one L2 transaction record in batch data (fixed by the circuit's codec).
    uint256 public immutable txRecordBytes;
    /// Transaction and forced-operation slots per batch (the circuit's K and F).
    uint256 public immutable maxTxs;
    uint256 public immutable maxForcedOps;

    uint256 public stateRoot;
    uint64 public batchCount;
    uint64 public lastTimestamp;
    mapping(uint64 => BatchInfo) internal _batches;

    event BatchFinalized(
        uint64 indexed batchIndex,
        uint256 oldRoot,
        uint256 newRoot,
        bytes32 commitment,
        bytes32 txRoot,
        uint32 txCount,
        uint32 forcedCount,
        uint64 timestamp,
        bytes32 provenanceRoot
    );

    error NotOperator(address caller);
    error WrongOldRoot(uint256 expected, uint256 provided);
    error RootOutOfField(uint256 root);
    error MalformedBatch(uint256 length);
    error TooManyOperations(uint256 forcedCount, uint256 txCount);
    error BadTimestamp(uint64 timestamp, uint64 notBefore, uint64 notAfter);
    error EmptyBatch();
    error InvalidProof();
    error InvalidConfig();

    constructor(
        IGateway gateway_,
        IGroth16Verifier verifier_,
        IProvenance provenance_,
        uint256 genesisRoot,
        uint256 txRecordBytes_,
        uint256 maxTxs_,
        uint256 maxForcedOps_
    ) {
        if (address(gateway_) == address(0) || address(verifier_) == address(0) || address(provenance_) == address(0)) {
            revert InvalidConfig();
        }
        if (txRecordBytes_ == 0 || maxTxs_ == 0 || genesisRoot >= SNARK_SCALAR_FIELD) revert InvalidConfig();
        gateway = gateway_;
        verifier = verifier_;
        provenance = provenance_;
        txRecordBytes = txRecordBytes_;
        maxTxs = maxTxs_;
        maxForcedOps = maxForcedOps_;
        stateRoot = genesisRoot;
    }

    /// @notice Exact size of every batch's data.
    function batchDataBytes() public view returns (uint256) {
        return HEADER_BYTES + maxForcedOps * FORCED_OP_BYTES + maxTxs * txRecordBytes;
    }

    /// @notice The circuit's single public input for a transition.
    function publicInput(uint256 oldRoot, uint256 newRoot, bytes32 commitment) public pure returns (uint256) {
        return uint256(sha256(abi.encodePacked(oldRoot, newRoot, commitment))) & INPUT_MASK;
    }

    /// @notice Finalizes one batch. Only the operator may submit, unless a forced operation is
    /// overdue: then anyone may, so a stalled or censoring operator cannot freeze the queue.
    function submitBatch(uint256 oldRoot, uint256 newRoot, bytes calldata batchData, Proof calldata proof) external {
        if (msg.sender != _operator() && !gateway.forcedQueueOverdue()) revert NotOperator(msg.sender);
        uint256 current = stateRoot;
        if (oldRoot != current) revert WrongOldRoot(current, oldRoot);
        if (newRoot >= SNARK_SCALAR_FIELD) revert RootOutOfField(newRoot);

        Header memory h = _header(batchData);

        bytes32 commitment = sha256(batchData);
        uint256[1] memory input = [publicInput(oldRoot, newRoot, commitment)];
        if (!verifier.verifyProof(proof.a, proof.b, proof.c, input)) revert InvalidProof();

        gateway.consumeForcedOps(batchData[HEADER_BYTES:HEADER_BYTES + uint256(h.forcedCount) * FORCED_OP_BYTES], maxForcedOps, h.timestamp);
        _finalize(oldRoot, newRoot, commitment, h, batchData);
    }

    struct Header {
        uint32 forcedCount;
        uint32 txCount;
        uint64 timestamp;
        bytes32 provenanceRoot;
    }

    function _header(bytes calldata batchData) internal view returns (Header memory h) {
        if (batchData.length != batchDataBytes()) revert MalformedBatch(batchData.length);
        h.forcedCount = uint32(bytes4(batchData[0:4]));
        h.txCount = uint32(bytes4(batchData[4:8]));
        h.timestamp = uint64(bytes8(batchData[8:16]));
        h.provenanceRoot = bytes32(batchData[16:48]);
        if (h.forcedCount > maxForcedOps || h.txCount > maxTxs) revert TooManyOperations(h.forcedCount, h.txCount);
        if (h.forcedCount == 0 && h.txCount == 0) revert EmptyBatch();
        // Consent expiry is judged against this time, so it may not run ahead of L1 or backwards.
        if (h.timestamp < lastTimestamp || h.timestamp > block.timestamp) {
            revert BadTimestamp(h.timestamp, lastTimestamp, uint64(block.timestamp));
        }
    }

    function _finalize(uint256 oldRoot, uint256 newRoot, bytes32 commitment, Header memory h, bytes calldata batchData) internal {
        uint256 txStart = HEADER_BYTES + maxForcedOps * FORCED_OP_BYTES;
        uint64 batchIndex = batchCount++;
        bytes32 txRoot = h.txCount == 0 ? bytes32(0) : _txRoot(batchIndex, batchData[txStart:txStart + uint256(h.txCount) * txRecordBytes]);
        stateRoot = newRoot;
        lastTimestamp = h.timestamp;
        _batches[batchIndex] = BatchInfo({
            stateRoot: newRoot,
            commitment: commitment,
            txRoot: txRoot,
            l1Block: uint64(block.number),
            timestamp: h.timestamp,
            txCount: h.txCount,
            forcedCount: h.forcedCount
        });
        if (h.provenanceRoot != bytes32(0)) provenance.anchorFromRollup(h.provenanceRoot, batchIndex);
        emit BatchFinalized(batchIndex, oldRoot, newRoot, commitment, txRoot, h.txCount, h.forcedCount, h.timestamp, h.provenanceRoot);
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
