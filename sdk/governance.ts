/**
 * The institutions' council (contracts/src/governance/Council.sol): members sign EIP-712
 * proposals off chain, anyone submits them once a quorum (n - floor((n-1)/3), i.e. 2f+1 of 3f+1)
 * has signed. A proposal is a list of calls the council makes as the `governance` of our
 * contracts (operator rotation, institutions, Hyperlane validators) or on itself (members, the
 * sequencer's batching policy).
 *
 *   const domain = councilDomain(chainId, councilAddress);
 *   const proposal = { nonce: await council.proposalCount(), deadline, calls: [rotateOperatorCall(gateway, next)] };
 *   const sigs = await collectSignatures(memberWallets, domain, proposal);
 *   await (await executeProposal(council, proposal, sigs)).wait();
 */
import {
  HDNodeWallet,
  Interface,
  Mnemonic,
  TypedDataEncoder,
  getAddress,
  verifyTypedData,
  type BigNumberish,
  type ContractTransactionResponse,
  type ContractTransactionReceipt,
  type Provider,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { Council__factory, Gateway__factory, type Council } from '../contracts/types/index.js';
import { ANVIL_MNEMONIC, TX_OP_NAMES, type TxOpName } from './config.js';
import { SdkError } from './errors.js';

export type GovernanceErrorCode = 'BELOW_QUORUM' | 'NOT_SORTED' | 'NOT_MEMBER' | 'BAD_SIGNATURE' | 'BAD_NONCE' | 'EXPIRED' | 'INVALID_ARGUMENT';

/** A proposal refused by a local check, before anything is sent. */
export class GovernanceError extends SdkError<GovernanceErrorCode> {
  override readonly name = 'GovernanceError';
}

export interface CouncilCall {
  readonly target: string;
  readonly value: bigint;
  readonly data: string;
}

export interface Proposal {
  /** Must equal the council's proposalCount() when executed. */
  readonly nonce: bigint;
  /** Unix seconds; the proposal is refused in blocks after it. */
  readonly deadline: bigint;
  readonly calls: readonly CouncilCall[];
}

export interface ProposalSignature {
  readonly signer: string;
  readonly signature: string;
}

/** The council's batching policy, as the sequencer applies it. */
export interface CouncilParams {
  /** Transactions per batch; 0 = the circuit's full capacity. */
  readonly batchSize: number;
  readonly batchTimeoutMs: number;
  readonly priorityOps: readonly TxOpName[];
}

export const COUNCIL_DOMAIN_NAME = 'MedRollupCouncil';
export const COUNCIL_DOMAIN_VERSION = '1';
/** Mirrors Council.MIN_BATCH_TIMEOUT_MS. */
export const MIN_BATCH_TIMEOUT_MS = 100;
/** Devnet member keys: account branch 2 of the anvil mnemonic (branch 0 holds the funded accounts). */
export const DEV_COUNCIL_PATH = "m/44'/60'/0'/2";

export const PROPOSAL_TYPES: Record<string, TypedDataField[]> = {
  Proposal: [
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
    { name: 'calls', type: 'Call[]' },
  ],
  Call: [
    { name: 'target', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'data', type: 'bytes' },
  ],
};

const councilIface = Council__factory.createInterface();
const gatewayIface = Gateway__factory.createInterface();
// Hyperlane's StorageMessageIdMultisigIsm (Ownable: the council must own it).
const ismIface = new Interface(['function setValidatorsAndThreshold(address[] _validators, uint8 _threshold)']);

/** Members sign for one chain and one council: chainId and verifyingContract pin both. */
export function councilDomain(chainId: BigNumberish, councilAddress: string): TypedDataDomain {
  return { name: COUNCIL_DOMAIN_NAME, version: COUNCIL_DOMAIN_VERSION, chainId, verifyingContract: getAddress(councilAddress) };
}

function typedValue(proposal: Proposal): Record<string, unknown> {
  return {
    nonce: proposal.nonce,
    deadline: proposal.deadline,
    calls: proposal.calls.map((c) => ({ target: c.target, value: c.value, data: c.data })),
  };
}

/** The EIP-712 digest (what Council.proposalDigest computes on chain). */
export function proposalDigest(domain: TypedDataDomain, proposal: Proposal): string {
  return TypedDataEncoder.hash(domain, PROPOSAL_TYPES, typedValue(proposal));
}

/** The member that signed `signature` over `proposal` in `domain`. */
export function recoverProposalSigner(domain: TypedDataDomain, proposal: Proposal, signature: string): string {
  return verifyTypedData(domain, PROPOSAL_TYPES, typedValue(proposal), signature);
}

/** Anything that signs EIP-712 data and knows its address: an ethers Signer or Wallet. */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

export async function signProposal(signer: TypedDataSigner, domain: TypedDataDomain, proposal: Proposal): Promise<ProposalSignature> {
  const [address, signature] = await Promise.all([signer.getAddress(), signer.signTypedData(domain, PROPOSAL_TYPES, typedValue(proposal))]);
  return { signer: getAddress(address), signature };
}

function byAddress(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Every wallet signs; the result is sorted by signer address, as Council.execute requires. */
export async function collectSignatures(wallets: readonly TypedDataSigner[], domain: TypedDataDomain, proposal: Proposal): Promise<ProposalSignature[]> {
  const sigs = await Promise.all(wallets.map((w) => signProposal(w, domain, proposal)));
  return sigs.sort((a, b) => byAddress(a.signer, b.signer));
}

/**
 * Submits a proposal after the checks the contract would make (quorum, order, membership, nonce,
 * deadline against the latest block), so a doomed proposal costs no gas. Throws GovernanceError.
 */
export async function executeProposal(
  council: Council,
  proposal: Proposal,
  signatures: readonly ProposalSignature[],
  /** Ether the submitter sends along; calls with value are otherwise paid from the council's balance. */
  overrides: { value?: bigint } = {},
): Promise<ContractTransactionResponse> {
  const provider = council.runner?.provider;
  if (!provider) throw new GovernanceError('INVALID_ARGUMENT', 'the council contract must be connected to a signer with a provider');
  const address = await council.getAddress();
  const [need, count, members, network, block] = await Promise.all([
    council.quorum(),
    council.proposalCount(),
    council.members(),
    provider.getNetwork(),
    provider.getBlock('latest'),
  ]);
  if (BigInt(signatures.length) < need) throw new GovernanceError('BELOW_QUORUM', `${signatures.length} signature(s), the council needs ${need}`);
  if (proposal.nonce !== count) throw new GovernanceError('BAD_NONCE', `proposal nonce ${proposal.nonce}, the council expects ${count}`);
  if (block && BigInt(block.timestamp) > proposal.deadline) throw new GovernanceError('EXPIRED', `deadline ${proposal.deadline} passed (latest block at ${block.timestamp})`);
  const memberSet = new Set(members.map((m) => m.toLowerCase()));
  const domain = councilDomain(network.chainId, address);
  let last: string | undefined;
  signatures.forEach((s, i) => {
    let recovered: string;
    try {
      recovered = recoverProposalSigner(domain, proposal, s.signature);
    } catch (err) {
      throw new GovernanceError('BAD_SIGNATURE', `signature ${i} is malformed`, { cause: err });
    }
    if (recovered.toLowerCase() !== s.signer.toLowerCase()) {
      throw new GovernanceError('BAD_SIGNATURE', `signature ${i} is by ${recovered}, not ${s.signer} (another proposal, chain or council?)`);
    }
    if (!memberSet.has(recovered.toLowerCase())) throw new GovernanceError('NOT_MEMBER', `signer ${recovered} is not a council member`);
    if (last !== undefined && byAddress(last, recovered) >= 0) throw new GovernanceError('NOT_SORTED', `signature ${i}: signers must be distinct and ascending`);
    last = recovered;
  });
  const calls = proposal.calls.map((c) => ({ target: c.target, value: c.value, data: c.data }));
  return council.execute(
    calls,
    proposal.nonce,
    proposal.deadline,
    signatures.map((s) => s.signature),
    { value: overrides.value ?? 0n },
  );
}

/**
 * The whole round in one call, for members who sign together (the devnet, tests, a ceremony):
 * the next nonce, a deadline `ttlSeconds` after the latest block, every wallet's signature, then
 * the execution transaction (sent, not awaited). Throws GovernanceError before sending a doomed one.
 */
export async function proposeAndSend(
  council: Council,
  members: readonly TypedDataSigner[],
  calls: readonly CouncilCall[],
  ttlSeconds = 3_600,
): Promise<ContractTransactionResponse> {
  const provider = council.runner?.provider;
  if (!provider) throw new GovernanceError('INVALID_ARGUMENT', 'the council contract must be connected to a signer with a provider');
  const [nonce, block, network] = await Promise.all([council.proposalCount(), provider.getBlock('latest'), provider.getNetwork()]);
  const proposal: Proposal = { nonce, deadline: BigInt((block?.timestamp ?? Math.floor(Date.now() / 1000)) + ttlSeconds), calls };
  const signatures = await collectSignatures(members, councilDomain(network.chainId, await council.getAddress()), proposal);
  return executeProposal(council, proposal, signatures);
}

/** proposeAndSend, then the mined receipt. */
export async function proposeAndExecute(
  council: Council,
  members: readonly TypedDataSigner[],
  calls: readonly CouncilCall[],
  ttlSeconds = 3_600,
): Promise<ContractTransactionReceipt> {
  const tx = await proposeAndSend(council, members, calls, ttlSeconds);
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new GovernanceError('INVALID_ARGUMENT', `proposal transaction ${tx.hash} reverted`);
  return receipt;
}

// --- call builders -----------------------------------------------------------------------------

function call(target: string, data: string, value = 0n): CouncilCall {
  return { target: getAddress(target), value, data };
}

/** Bit i is TX_OP_NAMES[i] (upload = bit 0 ... claim = bit 5), as Council.params().priorityOps. */
export function priorityMask(ops: readonly TxOpName[]): number {
  let mask = 0;
  for (const op of ops) {
    const bit = TX_OP_NAMES.indexOf(op);
    if (bit < 0) throw new GovernanceError('INVALID_ARGUMENT', `unknown operation "${String(op)}" (one of ${TX_OP_NAMES.join(', ')})`);
    mask |= 1 << bit;
  }
  return mask;
}

export function priorityOpsFromMask(mask: number): TxOpName[] {
  if (!Number.isInteger(mask) || mask < 0 || mask >= 1 << TX_OP_NAMES.length) {
    throw new GovernanceError('INVALID_ARGUMENT', `priority mask ${mask} is not a ${TX_OP_NAMES.length}-bit mask`);
  }
  return TX_OP_NAMES.filter((_, bit) => (mask & (1 << bit)) !== 0);
}

export function setParamsCall(councilAddress: string, params: CouncilParams): CouncilCall {
  const { batchSize, batchTimeoutMs } = params;
  if (!Number.isInteger(batchSize) || batchSize < 0 || batchSize > 0xffffffff) throw new GovernanceError('INVALID_ARGUMENT', `batchSize ${batchSize} is not a uint32`);
  if (!Number.isInteger(batchTimeoutMs) || batchTimeoutMs < MIN_BATCH_TIMEOUT_MS || batchTimeoutMs > 0xffffffff) {
    throw new GovernanceError('INVALID_ARGUMENT', `batchTimeoutMs ${batchTimeoutMs} must be an integer in ${MIN_BATCH_TIMEOUT_MS}..2^32-1`);
  }
  return call(councilAddress, councilIface.encodeFunctionData('setParams', [batchSize, batchTimeoutMs, priorityMask(params.priorityOps)]));
}

export function setMembersCall(councilAddress: string, members: readonly string[]): CouncilCall {
  if (members.length === 0) throw new GovernanceError('INVALID_ARGUMENT', 'a council needs at least one member');
  const normalized = members.map((m) => getAddress(m));
  if (new Set(normalized).size !== normalized.length) throw new GovernanceError('INVALID_ARGUMENT', 'duplicate council member');
  return call(councilAddress, councilIface.encodeFunctionData('setMembers', [normalized]));
}

/** Gateway.setOperator: the sequencer operator allowed to submit batches. */
export function rotateOperatorCall(gatewayAddress: string, next: string): CouncilCall {
  return call(gatewayAddress, gatewayIface.encodeFunctionData('setOperator', [getAddress(next)]));
}

export interface InstitutionRegistration {
  readonly account: string;
  /** Gateway Role: 1 hospital, 2 laboratory, 3 insurer. */
  readonly role: number;
  readonly pubKey: readonly [bigint, bigint];
  readonly did: string;
}

export function registerInstitutionCall(gatewayAddress: string, inst: InstitutionRegistration): CouncilCall {
  return call(gatewayAddress, gatewayIface.encodeFunctionData('registerInstitution', [getAddress(inst.account), inst.role, inst.pubKey[0], inst.pubKey[1], inst.did]));
}

export function setInstitutionActiveCall(gatewayAddress: string, account: string, active: boolean): CouncilCall {
  return call(gatewayAddress, gatewayIface.encodeFunctionData('setInstitutionActive', [getAddress(account), active]));
}

/** Second step of a Governed hand-over (the current governance called transferGovernance(council)). */
export function acceptGovernanceCall(target: string): CouncilCall {
  return call(target, gatewayIface.encodeFunctionData('acceptGovernance'));
}

/**
 * Hyperlane StorageMessageIdMultisigIsm.setValidatorsAndThreshold. Validators are sorted
 * ascending: Hyperlane checks signatures in validator order.
 */
export function setValidatorsCall(ismAddress: string, validators: readonly string[], threshold: number): CouncilCall {
  const sorted = validators.map((v) => getAddress(v)).sort(byAddress);
  if (new Set(sorted).size !== sorted.length) throw new GovernanceError('INVALID_ARGUMENT', 'duplicate validator');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > sorted.length || threshold > 255) {
    throw new GovernanceError('INVALID_ARGUMENT', `threshold ${threshold} must be in 1..${sorted.length}`);
  }
  return call(ismAddress, ismIface.encodeFunctionData('setValidatorsAndThreshold', [sorted, threshold]));
}

/** The council's policy as the node applies it. */
export async function readCouncilParams(council: Council): Promise<CouncilParams> {
  const [batchSize, batchTimeoutMs, priorityOps] = await council.params();
  return { batchSize: Number(batchSize), batchTimeoutMs: Number(batchTimeoutMs), priorityOps: priorityOpsFromMask(Number(priorityOps)) };
}

/** Devnet member keys (never for real funds): members only sign off chain, anyone submits. */
export function devCouncilWallets(n = 4, provider?: Provider): HDNodeWallet[] {
  if (!Number.isInteger(n) || n < 1) throw new GovernanceError('INVALID_ARGUMENT', `member count ${n} must be a positive integer`);
  const mnemonic = Mnemonic.fromPhrase(ANVIL_MNEMONIC);
  return Array.from({ length: n }, (_, i) => {
    const w = HDNodeWallet.fromMnemonic(mnemonic, `${DEV_COUNCIL_PATH}/${i}`);
    return provider ? w.connect(provider) : w;
  });
}
