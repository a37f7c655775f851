/**
 * Hands each chain's contracts to an institutions' Council (contracts/src/governance/Council.sol):
 * deploys the Council, starts the two-step hand-over of every governed contract (Gateway,
 * RootPublisher or ForeignRoots) and of the Hyperlane contracts it owns (Mailbox, PausableHook,
 * multisig ISM), and, when the member keys are at hand (the devnet's), has the council accept
 * them in one quorum proposal. With external members the acceptance is theirs to sign: the
 * deployer keeps nothing either way, since the transfers are already under way.
 */
import { Contract, type ContractTransactionResponse, type Signer } from 'ethers';
import { Council__factory, Gateway__factory } from './types/index.js';
import { acceptGovernanceCall, proposeAndExecute, type CouncilCall, type TypedDataSigner } from '../sdk/governance.js';
import { mined as minedAs } from './tx.js';

const OWNABLE = ['function transferOwnership(address)', 'function acceptOwnership()'];

export interface CouncilDeployOptions {
  readonly signer: Signer;
  readonly members: readonly string[];
  readonly params: { readonly batchSize: number; readonly batchTimeoutMs: number; readonly priorityOps: number };
  /** Contracts with Governed's transferGovernance/acceptGovernance. */
  readonly governed: readonly string[];
  /** Single-step Ownable contracts (Hyperlane Mailbox, PausableHook): the transfer is final at once. */
  readonly owned: readonly string[];
  /** Ownable2Step contracts (the Hyperlane ISM): the council accepts. */
  readonly owned2Step: readonly string[];
  /** Member wallets able to sign now; omit to leave the acceptance to the members. */
  readonly memberKeys?: readonly TypedDataSigner[];
}

export class CouncilDeployError extends Error {
  override readonly name = 'CouncilDeployError';
}

const mined = (tx: Parameters<typeof minedAs>[0], what: string): Promise<void> => minedAs(tx, what, (m) => new CouncilDeployError(m));

/** Returns the council's address and whether it already governs everything (false: acceptance pending). */
export async function deployCouncil(opts: CouncilDeployOptions): Promise<{ council: string; accepted: boolean }> {
  const { signer } = opts;
  const council = await new Council__factory(signer).deploy([...opts.members], opts.params.batchSize, opts.params.batchTimeoutMs, opts.params.priorityOps);
  await council.waitForDeployment();
  const address = await council.getAddress();
  // Sent back to back (the deployer's signer manages nonces), then awaited together.
  await Promise.all([
    ...opts.governed.map((t) => mined(Gateway__factory.connect(t, signer).transferGovernance(address), `transferGovernance on ${t}`)),
    ...[...opts.owned, ...opts.owned2Step].map((t) =>
      mined(new Contract(t, OWNABLE, signer).getFunction('transferOwnership')(address) as Promise<ContractTransactionResponse>, `transferOwnership on ${t}`),
    ),
  ]);
  if (!opts.memberKeys) return { council: address, accepted: false };
  const calls: CouncilCall[] = [
    ...opts.governed.map((t) => acceptGovernanceCall(t)),
    ...opts.owned2Step.map((t) => ({ target: t, value: 0n, data: new Contract(t, OWNABLE).interface.encodeFunctionData('acceptOwnership') })),
  ];
  await proposeAndExecute(council, opts.memberKeys, calls);
  return { council: address, accepted: true };
}
