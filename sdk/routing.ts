/**
 * The EIP-712 message an organisation (hospital) signs to route an insurer's bond to a patient's
 * record (Algorithm 3's entry; ROUTING_TYPEHASH in contracts/src/gateway/InsurerBonds.sol). Clients and tests
 * sign it with ethers' signTypedData against the Gateway's domain.
 */
export const ORGANISATION_ROUTING_TYPES = {
  OrganisationRouting: [
    { name: 'insurer', type: 'address' },
    { name: 'patientAccount', type: 'uint32' },
    { name: 'recordId', type: 'bytes32' },
    { name: 'version', type: 'uint32' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'orgRef', type: 'bytes32' },
    { name: 'feePerTx', type: 'uint128' },
    { name: 'deadline', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
  ],
};
