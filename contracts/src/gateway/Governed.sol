// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A single governance address: on the devnet the deployer, in production the
/// institutions' quorum contract. Hand-over is two-step so a typo cannot lock governance out.
abstract contract Governed {
    address public governance;
    address public pendingGovernance;

    event GovernanceTransferStarted(address indexed current, address indexed next);
    event GovernanceTransferred(address indexed previous, address indexed next);

    error NotGovernance(address caller);
    error NotPendingGovernance(address caller);
    error ZeroAddress();

    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance(msg.sender);
        _;
    }

    constructor(address governance_) {
        if (governance_ == address(0)) revert ZeroAddress();
        governance = governance_;
        emit GovernanceTransferred(address(0), governance_);
    }

    function transferGovernance(address next) external onlyGovernance {
        if (next == address(0)) revert ZeroAddress();
        pendingGovernance = next;
        emit GovernanceTransferStarted(governance, next);
    }

    function acceptGovernance() external {
        if (msg.sender != pendingGovernance) revert NotPendingGovernance(msg.sender);
        emit GovernanceTransferred(governance, msg.sender);
        governance = msg.sender;
        pendingGovernance = address(0);
    }
}
