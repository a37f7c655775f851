// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Checks on BabyJubJub public keys (the curve circomlib's EdDSA-Poseidon signs over).
/// Only the cheap curve-equation check runs on chain; the prime-order subgroup check is left to
/// the circuit, which rejects signatures under keys outside it.
library BabyJubJub {
    /// BN254 scalar field = BabyJubJub base field.
    uint256 internal constant Q = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant A = 168700;
    uint256 internal constant D = 168696;

    /// @return true when (x, y) lies on a*x^2 + y^2 = 1 + d*x^2*y^2 (mod q) and is not the identity.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= Q || y >= Q) return false;
        if (x == 0 && y == 1) return false;
        uint256 x2 = mulmod(x, x, Q);
        uint256 y2 = mulmod(y, y, Q);
        uint256 lhs = addmod(mulmod(A, x2, Q), y2, Q);
        uint256 rhs = addmod(1, mulmod(D, mulmod(x2, y2, Q), Q), Q);
        return lhs == rhs;
    }
}
