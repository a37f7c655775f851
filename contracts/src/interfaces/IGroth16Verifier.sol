// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The verifier interface the Rollup calls. It is exactly the signature snarkjs
/// (`zkey export solidityverifier`) generates for a Groth16 circuit with one public signal,
/// so a generated verifier plugs in without an adapter.
interface IGroth16Verifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[1] calldata pubSignals
    ) external view returns (bool);
}
