/**
 * Hyperlane core on one chain, deployed from @hyperlane-xyz/core's published build (its
 * ethers-v5 factories carry the exact ABI and bytecode Hyperlane ships; we deploy and call them
 * with ethers v6):
 *
 *   Mailbox(domain)            dispatch and process messages; domain = chain id here
 *   MerkleTreeHook(mailbox)    default hook: every dispatched message id enters an incremental
 *                              Merkle tree whose checkpoints the validators sign
 *   PausableHook               required hook: an emergency brake for outgoing messages
 *   StorageMessageIdMultisigIsm (via its factory)   verifies deliveries: `threshold` signatures
 *                              of the validator set over (origin, tree, root, index, message id)
 */
import {
  Mailbox__factory,
  MerkleTreeHook__factory,
  PausableHook__factory,
  StorageMessageIdMultisigIsm__factory,
  StorageMessageIdMultisigIsmFactory__factory,
} from '@hyperlane-xyz/core';
import { Contract, ContractFactory, Interface, NonceManager, getAddress, type ContractRunner, type InterfaceAbi, type Signer } from 'ethers';
import { mined as minedAs } from '../contracts/tx.js';

interface PublishedFactory {
  readonly abi: unknown;
  readonly bytecode: string;
}

function artifact(factory: PublishedFactory): { abi: InterfaceAbi; bytecode: string } {
  return { abi: factory.abi as InterfaceAbi, bytecode: factory.bytecode };
}

const MAILBOX = artifact(Mailbox__factory as PublishedFactory);
const MERKLE_TREE_HOOK = artifact(MerkleTreeHook__factory as PublishedFactory);
const PAUSABLE_HOOK = artifact(PausableHook__factory as PublishedFactory);
const ISM = artifact(StorageMessageIdMultisigIsm__factory as PublishedFactory);
const ISM_FACTORY = artifact(StorageMessageIdMultisigIsmFactory__factory as PublishedFactory);

export const mailboxInterface = new Interface(MAILBOX.abi);
export const merkleTreeHookInterface = new Interface(MERKLE_TREE_HOOK.abi);
export const multisigIsmInterface = new Interface(ISM.abi);

export const mailboxAt = (address: string, runner: ContractRunner): Contract => new Contract(address, MAILBOX.abi, runner);
export const merkleTreeHookAt = (address: string, runner: ContractRunner): Contract => new Contract(address, MERKLE_TREE_HOOK.abi, runner);
export const multisigIsmAt = (address: string, runner: ContractRunner): Contract => new Contract(address, ISM.abi, runner);

export interface HyperlaneCore {
  readonly Mailbox: string;
  readonly MerkleTreeHook: string;
  readonly PausableHook: string;
  readonly MultisigIsmFactory: string;
  /** Verifies messages arriving on this chain (the receivers' and the Mailbox's default ISM). */
  readonly MultisigIsm: string;
}

export class HyperlaneDeployError extends Error {
  override readonly name = 'HyperlaneDeployError';
}

/** Hyperlane requires signatures in validator-set order; keeping the set sorted makes that order canonical. */
export function sortValidators(validators: readonly string[]): string[] {
  const sorted = validators.map((v) => getAddress(v)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new HyperlaneDeployError(`validator ${sorted[i]} is listed twice`);
  }
  return sorted;
}

async function deployed(factory: { abi: InterfaceAbi; bytecode: string }, signer: Signer, ...args: unknown[]): Promise<Contract> {
  const contract = (await new ContractFactory(factory.abi, factory.bytecode, signer).deploy(...args)) as Contract;
  await contract.waitForDeployment();
  return contract;
}

const mined = (tx: Parameters<typeof minedAs>[0], what: string): Promise<void> => minedAs(tx, what, (m) => new HyperlaneDeployError(m));

/**
 * Deploys and initialises Hyperlane core on the signer's chain. The signer owns the Mailbox, the
 * pausable hook and the ISM until governance takes them over.
 */
export async function deployHyperlaneCore(opts: {
  signer: Signer;
  domain: number;
  validators: readonly string[];
  threshold: number;
}): Promise<HyperlaneCore> {
  const { domain } = opts;
  // Contracts go out back to back: nonces must come from one manager.
  const signer = opts.signer instanceof NonceManager ? opts.signer : new NonceManager(opts.signer);
  const validators = sortValidators(opts.validators);
  if (opts.threshold < 1 || opts.threshold > validators.length) {
    throw new HyperlaneDeployError(`threshold ${opts.threshold} is outside 1..${validators.length}`);
  }
  const owner = await signer.getAddress();
  const mailbox = await deployed(MAILBOX, signer, domain);
  const mailboxAddress = await mailbox.getAddress();
  const [merkleTreeHook, pausableHook, ismFactory] = await Promise.all([
    deployed(MERKLE_TREE_HOOK, signer, mailboxAddress),
    deployed(PAUSABLE_HOOK, signer),
    deployed(ISM_FACTORY, signer),
  ]);
  // The factory makes a minimal proxy owned by the caller and names it in ModuleDeployed.
  const receipt = await (await ismFactory.getFunction('deploy')(validators, opts.threshold)).wait();
  if (!receipt || receipt.status !== 1) throw new HyperlaneDeployError('ISM deployment reverted');
  const ismAddress = receipt.logs
    .map((log: { topics: string[]; data: string }) => ismFactory.interface.parseLog(log))
    .find((event: { name: string } | null) => event?.name === 'ModuleDeployed')?.args[0] as string | undefined;
  if (!ismAddress) throw new HyperlaneDeployError('ISM factory emitted no ModuleDeployed');
  const core: HyperlaneCore = {
    Mailbox: mailboxAddress,
    MerkleTreeHook: await merkleTreeHook.getAddress(),
    PausableHook: await pausableHook.getAddress(),
    MultisigIsmFactory: await ismFactory.getAddress(),
    MultisigIsm: getAddress(ismAddress),
  };
  await mined(mailbox.getFunction('initialize')(owner, core.MultisigIsm, core.MerkleTreeHook, core.PausableHook), 'Mailbox.initialize');
  return core;
}

/** Hyperlane addresses recipients and senders as bytes32. */
export function addressToBytes32(address: string): string {
  return `0x${getAddress(address).slice(2).toLowerCase().padStart(64, '0')}`;
}
