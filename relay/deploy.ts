/**
 * The cross-chain part of a deployment: Hyperlane core on both chains, the RootPublisher on the
 * settlement chain and the ForeignRoots receiver (with its Poseidon hashers) on the partner chain,
 * wired to each other: the publisher routes to the receiver, the receiver trusts the publisher
 * for the settlement Rollup and verifies deliveries with the partner chain's multisig ISM.
 */
import { Wallet, type Signer } from 'ethers';
import {
  ForeignRoots__factory,
  PoseidonT3__factory,
  PoseidonT6__factory,
  RootPublisher__factory,
} from '../contracts/types/index.js';
import { addressToBytes32, deployHyperlaneCore, type HyperlaneCore } from './hyperlane.js';
import { mined as minedAs } from '../contracts/tx.js';

export interface RelayDeployment {
  readonly settlement: HyperlaneCore & { readonly RootPublisher: string };
  readonly partner: HyperlaneCore & { readonly PoseidonT3: string; readonly PoseidonT6: string; readonly ForeignRoots: string };
}

export class RelayDeployError extends Error {
  override readonly name = 'RelayDeployError';
}

const mined = (tx: Parameters<typeof minedAs>[0], what: string): Promise<void> => minedAs(tx, what, (m) => new RelayDeployError(m));

async function deployedAt<T extends { waitForDeployment(): Promise<unknown>; getAddress(): Promise<string> }>(contract: Promise<T>): Promise<string> {
  const c = await contract;
  await c.waitForDeployment();
  return c.getAddress();
}

export async function deployRelay(opts: {
  settlementSigner: Signer;
  partnerSigner: Signer;
  settlementChainId: number;
  partnerChainId: number;
  rollup: string;
  treeDepth: number;
  /** Validator keys or addresses; the ISMs on both chains start with this set. */
  validators: readonly string[];
  threshold: number;
  log?: (line: string) => void;
}): Promise<RelayDeployment> {
  const log = opts.log ?? (() => {});
  const validators = opts.validators.map((v) => (v.length === 66 ? new Wallet(v).address : v));
  const [settlementCore, partnerCore] = await Promise.all([
    deployHyperlaneCore({ signer: opts.settlementSigner, domain: opts.settlementChainId, validators, threshold: opts.threshold }),
    deployHyperlaneCore({ signer: opts.partnerSigner, domain: opts.partnerChainId, validators, threshold: opts.threshold }),
  ]);
  const governance = await opts.partnerSigner.getAddress();
  const [poseidonT3, poseidonT6] = await Promise.all([
    deployedAt(new PoseidonT3__factory(opts.partnerSigner).deploy()),
    deployedAt(new PoseidonT6__factory(opts.partnerSigner).deploy()),
  ]);
  const [foreignRootsAddress, publisherAddress] = await Promise.all([
    deployedAt(new ForeignRoots__factory(opts.partnerSigner).deploy(governance, partnerCore.Mailbox, partnerCore.MultisigIsm, poseidonT3, poseidonT6)),
    deployedAt(new RootPublisher__factory(opts.settlementSigner).deploy(await opts.settlementSigner.getAddress(), settlementCore.Mailbox, opts.rollup)),
  ]);
  const foreignRoots = ForeignRoots__factory.connect(foreignRootsAddress, opts.partnerSigner);
  const publisher = RootPublisher__factory.connect(publisherAddress, opts.settlementSigner);
  await Promise.all([
    mined(publisher.addRoute(opts.partnerChainId, addressToBytes32(foreignRootsAddress)), 'RootPublisher.addRoute'),
    mined(foreignRoots.enrollOrigin(opts.settlementChainId, addressToBytes32(publisherAddress), opts.rollup, opts.treeDepth, 0), 'ForeignRoots.enrollOrigin'),
  ]);
  log(`relay: Hyperlane Mailbox ${settlementCore.Mailbox} -> ${partnerCore.Mailbox}, ${validators.length} validators, threshold ${opts.threshold}; ForeignRoots ${foreignRootsAddress}`);
  return {
    settlement: { ...settlementCore, RootPublisher: publisherAddress },
    partner: { ...partnerCore, PoseidonT3: poseidonT3, PoseidonT6: poseidonT6, ForeignRoots: foreignRootsAddress },
  };
}
