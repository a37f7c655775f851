// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The body of a state-root message: abi.encode(originChainId, rollup, batchIndex,
/// stateRoot, commitment), 160 bytes. relay/message.ts mirrors it.
library RootMessage {
    uint256 internal constant LENGTH = 160;

    struct Root {
        uint256 originChainId;
        address rollup;
        uint64 batchIndex;
        uint256 stateRoot;
        bytes32 commitment;
    }

    error MalformedRootMessage(uint256 length);

    function encode(uint256 originChainId, address rollup, uint64 batchIndex, uint256 stateRoot, bytes32 commitment)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encode(originChainId, rollup, batchIndex, stateRoot, commitment);
    }

    function decode(bytes calldata body) internal pure returns (Root memory m) {
        if (body.length != LENGTH) revert MalformedRootMessage(body.length);
        (m.originChainId, m.rollup, m.batchIndex, m.stateRoot, m.commitment) =
            abi.decode(body, (uint256, address, uint64, uint256, bytes32));
    }
}
