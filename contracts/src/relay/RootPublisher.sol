// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMailbox} from "@hyperlane-xyz/core/contracts/interfaces/IMailbox.sol";
import {Governed} from "../gateway/Governed.sol";
import {Rollup} from "../Rollup.sol";
import {RootMessage} from "./RootMessage.sol";

/// @notice Dispatches every finalized batch's state root through the Hyperlane Mailbox, in batch
/// order, to each enrolled foreign-root receiver. Anyone may call publish(): the message content
/// is read from the Rollup here, so a caller chooses only when, never what.
contract RootPublisher is Governed {
    /// Caps one call's work so a long backlog cannot exceed the block gas limit; call again.
    uint64 public constant MAX_PER_CALL = 32;

    struct Route {
        uint32 domain;
        bytes32 recipient;
    }

    IMailbox public immutable mailbox;
    Rollup public immutable rollup;
    /// Batches published so far: the next publish() starts at this batch index.
    uint64 public published;
    Route[] internal _routes;

    event RouteAdded(uint32 indexed domain, bytes32 recipient);
    event RouteRemoved(uint32 indexed domain, bytes32 recipient);
    event RootPublished(uint64 indexed batchIndex, uint32 indexed destination, bytes32 messageId, uint256 stateRoot, bytes32 commitment);

    error NoRoutes();
    error DuplicateRoute(uint32 domain);
    error UnknownRoute(uint32 domain);

    constructor(address governance_, IMailbox mailbox_, Rollup rollup_) Governed(governance_) {
        if (address(mailbox_) == address(0) || address(rollup_) == address(0)) revert ZeroAddress();
        mailbox = mailbox_;
        rollup = rollup_;
    }

    function routes() external view returns (Route[] memory) {
        return _routes;
    }

    /// @notice Adds a receiver. Only batches published after this reach it, so enrol a route
    /// before the first batch (the receiver insists on batch order from its enrolment on).
    function addRoute(uint32 domain, bytes32 recipient) external onlyGovernance {
        if (recipient == bytes32(0)) revert ZeroAddress();
        for (uint256 i = 0; i < _routes.length; ++i) if (_routes[i].domain == domain) revert DuplicateRoute(domain);
        _routes.push(Route(domain, recipient));
        emit RouteAdded(domain, recipient);
    }

    function removeRoute(uint32 domain) external onlyGovernance {
        uint256 n = _routes.length;
        for (uint256 i = 0; i < n; ++i) {
            if (_routes[i].domain != domain) continue;
            emit RouteRemoved(domain, _routes[i].recipient);
            _routes[i] = _routes[n - 1];
            _routes.pop();
            return;
        }
        revert UnknownRoute(domain);
    }

    /// @notice Batches finalized but not yet published.
    function pending() external view returns (uint64) {
        return rollup.batchCount() - published;
    }

    /// @notice Publishes finalized batches from `published` up to (excluding) `upTo`, at most
    /// MAX_PER_CALL of them. Returns how many it published; 0 when there is nothing to do, so
    /// concurrent publishers waste gas but never revert or publish twice.
    function publish(uint64 upTo) external returns (uint64 count) {
        uint256 routeCount = _routes.length;
        if (routeCount == 0) revert NoRoutes();
        uint64 start = published;
        uint64 end = rollup.batchCount();
        if (upTo < end) end = upTo;
        if (end > start + MAX_PER_CALL) end = start + MAX_PER_CALL;
        if (end <= start) return 0;
        published = end;
        for (uint64 i = start; i < end; ++i) {
            Rollup.BatchInfo memory info = rollup.batch(i);
            bytes memory body = RootMessage.encode(block.chainid, address(rollup), i, info.stateRoot, info.commitment);
            for (uint256 r = 0; r < routeCount; ++r) {
                Route memory route = _routes[r];
                bytes32 id = mailbox.dispatch(route.domain, route.recipient, body);
                emit RootPublished(i, route.domain, id, info.stateRoot, info.commitment);
            }
        }
        return end - start;
    }
}
