// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Brings poseidon-solidity's libraries into the build so contracts/build.ts writes their
// artifacts; ForeignRoots calls them as deployed contracts.
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {PoseidonT6} from "poseidon-solidity/PoseidonT6.sol";
