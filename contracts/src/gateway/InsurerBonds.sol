// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Registry} from "./Registry.sol";
import {IRollup} from "../interfaces/IGateway.sol";
import {Leaves} from "../libraries/Leaves.sol";
import {ListMerkle} from "../libraries/ListMerkle.sol";

interface IProvenanceView {
    function isAnchored(bytes32 root) external view returns (bool);
}

/// @notice The paper's insurer Entry (Algorithm 1) and Exit (Algorithm 3).
///
/// Entry: (1) verify the patient data reference against an anchored provenance root, (2) create
/// the bond between that data and the insurer (escrowing the insurer's deposit), (3) take the
/// organisation-ready reference the healthcare organisation produced, proven by its EIP-712
/// signature, (4) route it to the insurer (event + bond record).
///
/// Exit: the insurer submits its batch list Blist; the contract builds its Merkle root and
/// compares it with the root of Nlist, the insurer's queue the rollup operator recorded for the
/// bond. Match: every listed transaction counts. Mismatch: each listed transaction also in Nlist
/// counts; each other one counts only if it is found in the L1 record (a Merkle proof against the
/// transaction root of a finalized batch); the rest are ignored. The total is then settled:
/// fee x count from the deposit to the organisation, the remainder back to the insurer.
abstract contract InsurerBonds is Registry, EIP712, ReentrancyGuard {
    enum BondStatus {
        None,
        Active,
        Settled
    }

    struct Bond {
        address insurer;
        address organisation;
        uint32 patientAccount;
        BondStatus status;
        bytes32 dataLeaf;
        bytes32 orgRef;
        uint128 deposit;
        uint128 feePerTx;
    }

    /// The patient data reference and the organisation's terms, signed by the organisation.
    struct EntryRequest {
        uint32 patientAccount;
        bytes32 recordId;
        uint32 version;
        bytes32 contentHash;
        address organisation;
        bytes32 orgRef;
        uint128 feePerTx;
        uint64 deadline;
    }

    /// One transaction of the insurer's list: where it sits in the rollup and its L1 inclusion proof.
    struct TxRef {
        uint64 batchIndex;
        uint32 position;
        bytes32 txHash;
    }

    struct ExitEntry {
        TxRef tx;
        bytes32[] proof;
    }

    struct ExitResult {
        bytes32 blistRoot;
        bytes32 nlistRoot;
        bool rootsMatched;
        uint256 matched;
        uint256 foundOnL1;
        uint256 ignored;
        uint256 settledTransactions;
        uint256 amount;
    }

    bytes32 public constant ROUTING_TYPEHASH = keccak256(
        "OrganisationRouting(address insurer,uint32 patientAccount,bytes32 recordId,uint32 version,bytes32 contentHash,bytes32 orgRef,uint128 feePerTx,uint64 deadline,uint256 nonce)"
    );

    uint256 public bondCount;
    mapping(uint256 => Bond) internal _bonds;
    mapping(uint256 => bytes32[]) internal _nlist;
    mapping(uint256 => mapping(bytes32 => bool)) internal _inNlist;
    mapping(uint256 => TxRef) internal _lastRecorded;
    mapping(address => uint256) public routingNonce;
    mapping(address => uint256) public withdrawable;

    event BondCreated(uint256 indexed bondId, address indexed insurer, address indexed organisation, uint32 patientAccount, bytes32 dataLeaf, uint128 deposit, uint128 feePerTx);
    event DataRouted(uint256 indexed bondId, address indexed insurer, bytes32 orgRef);
    event InsurerTransactionsRecorded(uint256 indexed bondId, uint256 count, uint256 total);
    event InsurerExit(uint256 indexed bondId, ExitResult result);
    event Withdrawn(address indexed account, uint256 amount);

    error NotInsurer(address caller);
    error NotOrganisation(address organisation);
    error NotPatient(uint32 account);
    error RootNotAnchored(bytes32 root);
    error InvalidDataProof();
    error SignatureExpired(uint64 deadline);
    error InvalidOrganisationSignature(address recovered);
    error UnknownBond(uint256 bondId);
    error BondNotActive(uint256 bondId);
    error NotBondInsurer(uint256 bondId, address caller);
    error NotOperator(address caller);
    error UnorderedTransactions(uint256 index);
    error EmptyBatchList();
    error NothingToWithdraw();

    function _provenance() internal view virtual returns (address);
    function _operator() internal view virtual returns (address);

    // ---------------------------------------------------------------- Algorithm 1: Entry

    function routingDigest(address insurer, EntryRequest calldata req, uint256 nonce) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ROUTING_TYPEHASH,
                    insurer,
                    req.patientAccount,
                    req.recordId,
                    req.version,
                    req.contentHash,
                    req.orgRef,
                    req.feePerTx,
                    req.deadline,
                    nonce
                )
            )
        );
    }

    function insurerEntry(EntryRequest calldata req, bytes32 provenanceRoot, bytes32[] calldata dataProof, bytes calldata orgSignature)
        external
        payable
        returns (uint256 bondId)
    {
        if (!_isActive(msg.sender, Role.Insurer)) revert NotInsurer(msg.sender);
        if (!_isActive(req.organisation, Role.Hospital) && !_isActive(req.organisation, Role.Laboratory)) {
            revert NotOrganisation(req.organisation);
        }
        bytes32 dataLeaf = _verifyPatientData(req, provenanceRoot, dataProof);
        _verifyOrganisationSignature(req, orgSignature);
        bondId = _createBond(req, dataLeaf);
        // Step 4: route the organisation-ready reference to the insurer.
        emit DataRouted(bondId, msg.sender, req.orgRef);
    }

    /// Step 1: the patient data reference is a record version under an anchored provenance root.
    function _verifyPatientData(EntryRequest calldata req, bytes32 root, bytes32[] calldata proof) internal view returns (bytes32 dataLeaf) {
        if (accounts[req.patientAccount].kind != AccountKind.Patient) revert NotPatient(req.patientAccount);
        if (!IProvenanceView(_provenance()).isAnchored(root)) revert RootNotAnchored(root);
        dataLeaf = Leaves.recordLeaf(req.patientAccount, req.recordId, req.version, req.contentHash);
        if (!MerkleProof.verifyCalldata(proof, root, dataLeaf)) revert InvalidDataProof();
    }

    /// Step 3: the organisation processed the data and signed the organisation-ready reference.
    function _verifyOrganisationSignature(EntryRequest calldata req, bytes calldata signature) internal {
        if (block.timestamp > req.deadline) revert SignatureExpired(req.deadline);
        uint256 nonce = routingNonce[req.organisation]++;
        address signer = ECDSA.recover(routingDigest(msg.sender, req, nonce), signature);
        if (signer != req.organisation) revert InvalidOrganisationSignature(signer);
    }

    /// Step 2: the bond between the patient data and the insurer, escrowing the deposit.
    function _createBond(EntryRequest calldata req, bytes32 dataLeaf) internal returns (uint256 bondId) {
        bondId = ++bondCount;
        Bond storage b = _bonds[bondId];
        b.insurer = msg.sender;
        b.organisation = req.organisation;
        b.patientAccount = req.patientAccount;
        b.status = BondStatus.Active;
        b.dataLeaf = dataLeaf;
        b.orgRef = req.orgRef;
        b.deposit = SafeCast.toUint128(msg.value);
        b.feePerTx = req.feePerTx;
        emit BondCreated(bondId, msg.sender, req.organisation, req.patientAccount, dataLeaf, b.deposit, req.feePerTx);
    }

    // ------------------------------------------------------- Nlist: the insurer's queue on L2

    /// @notice The rollup operator records, in rollup order, the transactions of the insurer's
    /// individual queue for a bond (the paper's Nlist, read back at Exit).
    function recordInsurerTransactions(uint256 bondId, TxRef[] calldata txs) external {
        if (msg.sender != _operator()) revert NotOperator(msg.sender);
        _activeBond(bondId);
        TxRef memory last = _lastRecorded[bondId];
        bool hasLast = _nlist[bondId].length > 0;
        for (uint256 i = 0; i < txs.length; ++i) {
            TxRef calldata t = txs[i];
            if (hasLast && !_after(t, last)) revert UnorderedTransactions(i);
            bytes32 leaf = Leaves.txLeaf(t.batchIndex, t.position, t.txHash);
            _nlist[bondId].push(leaf);
            _inNlist[bondId][leaf] = true;
            last = t;
            hasLast = true;
        }
        _lastRecorded[bondId] = last;
        emit InsurerTransactionsRecorded(bondId, txs.length, _nlist[bondId].length);
    }

    // ---------------------------------------------------------------- Algorithm 3: Exit

    function insurerExit(uint256 bondId, ExitEntry[] calldata blist) external nonReentrant returns (uint256 settled) {
        Bond storage b = _activeBond(bondId);
        if (msg.sender != b.insurer) revert NotBondInsurer(bondId, msg.sender);
        if (blist.length == 0) revert EmptyBatchList();

        bytes32[] memory leaves = _blistLeaves(blist);
        ExitResult memory r;
        r.blistRoot = ListMerkle.root(leaves);
        bytes32[] storage nlist = _nlist[bondId];
        r.nlistRoot = nlist.length == 0 ? bytes32(0) : ListMerkle.root(nlist);
        if (r.blistRoot == r.nlistRoot) {
            r.rootsMatched = true;
            r.matched = blist.length;
        } else {
            _compareWithL1(bondId, blist, leaves, r);
        }
        settled = r.matched + r.foundOnL1;
        r.settledTransactions = settled;

        uint256 amount = settled * uint256(b.feePerTx);
        if (amount > b.deposit) amount = b.deposit;
        r.amount = amount;
        b.status = BondStatus.Settled;
        withdrawable[b.organisation] += amount;
        withdrawable[b.insurer] += b.deposit - amount;
        emit InsurerExit(bondId, r);
    }

    /// Leaves of Blist, which must be in strict rollup order: no duplicates, and the order Nlist
    /// is recorded in, so equal lists give equal roots.
    function _blistLeaves(ExitEntry[] calldata blist) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](blist.length);
        for (uint256 i = 0; i < blist.length; ++i) {
            TxRef calldata t = blist[i].tx;
            if (i > 0 && !_after(t, blist[i - 1].tx)) revert UnorderedTransactions(i);
            leaves[i] = Leaves.txLeaf(t.batchIndex, t.position, t.txHash);
        }
    }

    /// The mismatch path: what Nlist also has counts; the rest counts only if the L1 record has it.
    function _compareWithL1(uint256 bondId, ExitEntry[] calldata blist, bytes32[] memory leaves, ExitResult memory r) internal view {
        IRollup rollup = IRollup(_rollup());
        mapping(bytes32 => bool) storage inNlist = _inNlist[bondId];
        for (uint256 i = 0; i < blist.length; ++i) {
            if (inNlist[leaves[i]]) {
                ++r.matched;
            } else if (rollup.isTxFinalized(blist[i].tx.batchIndex, leaves[i], blist[i].proof)) {
                ++r.foundOnL1;
            } else {
                ++r.ignored;
            }
        }
    }

    /// @notice Pull payments: a reverting recipient cannot block anyone's exit.
    function withdraw() external nonReentrant {
        uint256 amount = withdrawable[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        withdrawable[msg.sender] = 0;
        Address.sendValue(payable(msg.sender), amount);
        emit Withdrawn(msg.sender, amount);
    }

    function bond(uint256 bondId) external view returns (Bond memory) {
        return _bonds[bondId];
    }

    function nlistOf(uint256 bondId) external view returns (bytes32[] memory) {
        return _nlist[bondId];
    }

    function _activeBond(uint256 bondId) internal view returns (Bond storage found) {
        found = _bonds[bondId];
        if (found.status == BondStatus.None) revert UnknownBond(bondId);
        if (found.status != BondStatus.Active) revert BondNotActive(bondId);
    }

    function _after(TxRef memory a, TxRef memory b) internal pure returns (bool) {
        return a.batchIndex > b.batchIndex || (a.batchIndex == b.batchIndex && a.position > b.position);
    }
}
