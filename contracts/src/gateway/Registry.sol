// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Governed} from "./Governed.sol";
import {ForcedQueue} from "./ForcedQueue.sol";
import {BabyJubJub} from "../libraries/BabyJubJub.sol";

/// @notice Institutions (changed only by governance) and rollup accounts. Every account, patient
/// or institution, gets its index here and reaches the L2 state through the forced queue, so the
/// sequencer cannot refuse a registration.
abstract contract Registry is Governed, ForcedQueue {
    enum Role {
        None,
        Hospital,
        Laboratory,
        Insurer
    }

    enum AccountKind {
        None,
        Patient,
        Institution
    }

    struct Institution {
        Role role;
        bool active;
        uint32 accountIndex;
        uint256 pubKeyX;
        uint256 pubKeyY;
        string did;
    }

    struct Account {
        AccountKind kind;
        /// Institution: its address. Patient: an optional L1 address allowed to force operations.
        address controller;
    }

    /// Index 0 is never assigned: the circuit uses it for padding slots.
    uint32 public nextAccountIndex = 1;
    /// 2^D: indexes the state tree can hold. A registration past it could never be proven, and a
    /// forced operation that cannot be proven would halt the rollup, so it is refused here.
    uint32 public immutable accountCapacity;
    /// 2^S: consent slots per account (same reason, for forced revocations).
    uint16 public immutable consentSlots;
    mapping(address => Institution) internal _institutions;
    address[] internal _institutionList;
    mapping(bytes32 => uint32) public accountOfKey;
    mapping(uint32 => Account) public accounts;

    event InstitutionRegistered(address indexed institution, Role role, uint32 indexed accountIndex, uint256 pubKeyX, uint256 pubKeyY, string did);
    event InstitutionStatusChanged(address indexed institution, bool active);
    event PatientRegistered(uint32 indexed accountIndex, uint256 pubKeyX, uint256 pubKeyY, address controller);
    event ConsentRevocationForced(uint32 indexed patient, uint32 indexed grantee, uint8 scope, uint8 slot);

    error InvalidPublicKey(uint256 x, uint256 y);
    error PublicKeyTaken(uint32 accountIndex);
    error InstitutionExists(address institution);
    error UnknownInstitution(address institution);
    error InvalidRole();
    error EmptyDid();
    error UnknownAccount(uint32 accountIndex);
    error NotPatientController(uint32 patient, address caller);
    error InvalidScope();
    error InvalidSlot(uint8 slot, uint16 consentSlots);
    error AccountSpaceExhausted(uint32 capacity);
    error InvalidCapacity();

    constructor(uint32 accountCapacity_, uint16 consentSlots_) {
        if (accountCapacity_ < 2 || consentSlots_ == 0 || consentSlots_ > 256) revert InvalidCapacity();
        accountCapacity = accountCapacity_;
        consentSlots = consentSlots_;
    }

    function _newAccount(AccountKind kind, address controller, uint256 x, uint256 y) internal returns (uint32 index) {
        if (!BabyJubJub.isOnCurve(x, y)) revert InvalidPublicKey(x, y);
        bytes32 keyHash = keccak256(abi.encode(x, y));
        uint32 existing = accountOfKey[keyHash];
        if (existing != 0) revert PublicKeyTaken(existing);
        index = nextAccountIndex;
        if (index >= accountCapacity) revert AccountSpaceExhausted(accountCapacity);
        nextAccountIndex = index + 1;
        accountOfKey[keyHash] = index;
        accounts[index] = Account({kind: kind, controller: controller});
        _enqueue(OP_REGISTER_ACCOUNT, index, 0, x, y);
    }

    function registerInstitution(address account, Role role, uint256 pubKeyX, uint256 pubKeyY, string calldata did)
        external
        onlyGovernance
        returns (uint32 index)
    {
        if (account == address(0)) revert ZeroAddress();
        if (role == Role.None) revert InvalidRole();
        if (bytes(did).length == 0) revert EmptyDid();
        if (_institutions[account].role != Role.None) revert InstitutionExists(account);
        index = _newAccount(AccountKind.Institution, account, pubKeyX, pubKeyY);
        _institutions[account] = Institution({role: role, active: true, accountIndex: index, pubKeyX: pubKeyX, pubKeyY: pubKeyY, did: did});
        _institutionList.push(account);
        emit InstitutionRegistered(account, role, index, pubKeyX, pubKeyY, did);
    }

    function setInstitutionActive(address account, bool active) external onlyGovernance {
        Institution storage inst = _institutions[account];
        if (inst.role == Role.None) revert UnknownInstitution(account);
        inst.active = active;
        emit InstitutionStatusChanged(account, active);
    }

    /// @notice Anyone may register a patient key: the account is usable only by the key's holder,
    /// so registering someone else's key gains nothing.
    function registerPatient(uint256 pubKeyX, uint256 pubKeyY, address controller) external returns (uint32 index) {
        index = _newAccount(AccountKind.Patient, controller, pubKeyX, pubKeyY);
        emit PatientRegistered(index, pubKeyX, pubKeyY, controller);
    }

    /// @notice The patient's escape hatch: a revocation the sequencer must include in order. The
    /// patient names the consent slot (its consent tree is indexed by slot, see circuits/SPEC.md);
    /// a slot that holds no consent for `grantee` makes the operation a no-op in the circuit.
    function forceRevokeConsent(uint32 patient, uint32 grantee, uint8 scope, uint8 slot) external {
        Account storage acct = accounts[patient];
        if (acct.kind != AccountKind.Patient) revert UnknownAccount(patient);
        if (acct.controller == address(0) || acct.controller != msg.sender) revert NotPatientController(patient, msg.sender);
        if (accounts[grantee].kind == AccountKind.None) revert UnknownAccount(grantee);
        if (scope == 0) revert InvalidScope();
        if (slot >= consentSlots) revert InvalidSlot(slot, consentSlots);
        _enqueue(OP_REVOKE_CONSENT, patient, grantee, scope, slot);
        emit ConsentRevocationForced(patient, grantee, scope, slot);
    }

    function institution(address account) external view returns (Institution memory) {
        return _institutions[account];
    }

    function institutionCount() external view returns (uint256) {
        return _institutionList.length;
    }

    function institutionAt(uint256 i) external view returns (address) {
        return _institutionList[i];
    }

    function isActiveInstitution(address account) public view returns (bool) {
        return _institutions[account].active;
    }

    function _isActive(address account, Role role) internal view returns (bool) {
        Institution storage inst = _institutions[account];
        return inst.active && inst.role == role;
    }
}
