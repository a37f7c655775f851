// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Governed} from "./gateway/Governed.sol";
import {ForcedQueue} from "./gateway/ForcedQueue.sol";
import {Registry} from "./gateway/Registry.sol";
import {InsurerBonds} from "./gateway/InsurerBonds.sol";

/// @notice The L1 entry point: institutions, patient registration, the forced-operation queue the
/// rollup consumes in order, and insurer bonds (Entry / Exit). The Rollup and Provenance
/// addresses are wired once after deployment; the sequencer operator is set by governance.
contract Gateway is InsurerBonds {
    address public rollup;
    address public provenance;
    address public operator;

    event Wired(address rollup, address provenance);
    event OperatorChanged(address indexed previous, address indexed next);

    error AlreadyWired();

    constructor(address governance_, address operator_, uint256 forcedInclusionDeadline_, uint32 accountCapacity_, uint16 consentSlots_)
        Governed(governance_)
        ForcedQueue(forcedInclusionDeadline_)
        Registry(accountCapacity_, consentSlots_)
        EIP712("MedRollupGateway", "1")
    {
        if (operator_ == address(0)) revert ZeroAddress();
        operator = operator_;
        emit OperatorChanged(address(0), operator_);
    }

    function wire(address rollup_, address provenance_) external onlyGovernance {
        if (rollup != address(0)) revert AlreadyWired();
        if (rollup_ == address(0) || provenance_ == address(0)) revert ZeroAddress();
        rollup = rollup_;
        provenance = provenance_;
        emit Wired(rollup_, provenance_);
    }

    /// @notice Rotates the sequencer operator (the institutions' governance decision).
    function setOperator(address next) external onlyGovernance {
        if (next == address(0)) revert ZeroAddress();
        emit OperatorChanged(operator, next);
        operator = next;
    }

    function _rollup() internal view override returns (address) {
        return rollup;
    }

    function _provenance() internal view override returns (address) {
        return provenance;
    }

    function _operator() internal view override returns (address) {
        return operator;
    }
}
