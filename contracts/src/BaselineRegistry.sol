// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The L1-only baseline the benchmarks compare against: the rollup's operations (register,
/// upload, update, grant, revoke, access, claim) each done directly on chain as one transaction,
/// authorised by the sender's address instead of an EdDSA signature and a proof. Like an L2
/// transaction, every operation bumps its signer's nonce, so the storage work compares fairly.
contract BaselineRegistry {
    uint8 public constant SCOPE_READ = 1;
    uint8 public constant SCOPE_CLAIM = 2;

    struct Consent {
        uint8 scope;
        uint64 expiresAt;
    }

    uint32 public accountCount;
    mapping(address => uint32) public accountOf;
    mapping(uint32 => address) public ownerOf;
    mapping(uint32 => bytes32) public indexCidHash;
    mapping(uint32 => uint32) public indexVersion;
    mapping(uint32 => mapping(uint32 => Consent)) public consents;
    mapping(uint32 => uint64) public nonceOf;

    event AccountRegistered(uint32 indexed account, address indexed owner, uint256 pubKeyX, uint256 pubKeyY);
    event RecordUploaded(uint32 indexed patient, bytes32 indexCidHash, uint32 version);
    event ConsentGranted(uint32 indexed patient, uint32 indexed grantee, uint8 scope, uint64 expiresAt);
    event ConsentRevoked(uint32 indexed patient, uint32 indexed grantee);
    event AccessLogged(uint32 indexed patient, uint32 indexed accessor, bytes32 indexCidHash);
    event ClaimFiled(uint32 indexed patient, uint32 indexed insurer, bytes32 recordRef);

    error AlreadyRegistered(address owner);
    error NotRegistered(address caller);
    error UnknownAccount(uint32 account);
    error NoRecord(uint32 patient);
    error RecordExists(uint32 patient);
    error InvalidConsent();
    error NoConsent(uint32 patient, uint32 grantee, uint8 scope);
    error NothingToRevoke(uint32 patient, uint32 grantee);

    function register(uint256 pubKeyX, uint256 pubKeyY) external returns (uint32 account) {
        if (accountOf[msg.sender] != 0) revert AlreadyRegistered(msg.sender);
        account = ++accountCount;
        accountOf[msg.sender] = account;
        ownerOf[account] = msg.sender;
        emit AccountRegistered(account, msg.sender, pubKeyX, pubKeyY);
    }

    function uploadRecord(bytes32 cidHash) external {
        uint32 patient = _self();
        if (indexVersion[patient] != 0) revert RecordExists(patient); // later versions are updates
        _setIndex(patient, cidHash);
    }

    function updateRecord(bytes32 cidHash) external {
        uint32 patient = _self();
        if (indexVersion[patient] == 0) revert NoRecord(patient);
        _setIndex(patient, cidHash);
    }

    function grant(uint32 grantee, uint8 scope, uint64 expiresAt) external {
        uint32 patient = _self();
        if (ownerOf[grantee] == address(0)) revert UnknownAccount(grantee);
        if (scope == 0 || scope & ~(SCOPE_READ | SCOPE_CLAIM) != 0 || expiresAt <= block.timestamp) revert InvalidConsent();
        consents[patient][grantee] = Consent({scope: scope, expiresAt: expiresAt});
        ++nonceOf[patient];
        emit ConsentGranted(patient, grantee, scope, expiresAt);
    }

    function revoke(uint32 grantee) external {
        uint32 patient = _self();
        if (consents[patient][grantee].scope == 0) revert NothingToRevoke(patient, grantee);
        delete consents[patient][grantee];
        ++nonceOf[patient];
        emit ConsentRevoked(patient, grantee);
    }

    function logAccess(uint32 patient) external {
        uint32 accessor = _self();
        _requireConsent(patient, accessor, SCOPE_READ);
        emit AccessLogged(patient, accessor, indexCidHash[patient]);
    }

    function claim(uint32 patient, bytes32 recordRef) external {
        uint32 insurer = _self();
        _requireConsent(patient, insurer, SCOPE_CLAIM);
        emit ClaimFiled(patient, insurer, recordRef);
    }

    function _setIndex(uint32 patient, bytes32 cidHash) internal {
        indexCidHash[patient] = cidHash;
        uint32 version = ++indexVersion[patient];
        ++nonceOf[patient];
        emit RecordUploaded(patient, cidHash, version);
    }

    function _requireConsent(uint32 patient, uint32 grantee, uint8 scope) internal {
        Consent memory c = consents[patient][grantee];
        if (c.scope & scope == 0 || c.expiresAt < block.timestamp) revert NoConsent(patient, grantee, scope);
        ++nonceOf[grantee];
    }

    function _self() internal view returns (uint32 account) {
        account = accountOf[msg.sender];
        if (account == 0) revert NotRegistered(msg.sender);
    }
}
