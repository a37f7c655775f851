/**
 * Deploys every contract on both devnet chains, in a fixed order from a fixed deployer, so a
 * fresh chain always gets the same addresses. Expects compiled artifacts (contracts/build.ts).
 */
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet, type ContractTransactionResponse } from 'ethers';
import { byzantineQuorum, type Config } from '../sdk/config.js';
import type { ChainDeployment, CircuitDeployment, Deployment } from '../sdk/deployment.js';
import { readVerifierArtifact, setupCircuit, type CircuitArtifacts } from '../circuits/setup.js';
import { emptyTreeRoot } from '../prover/emptyTree.js';
import { TX_RECORD_BYTES } from '../prover/profiles.js';
import { deployRelay } from '../relay/deploy.js';
import type { HyperlaneCore } from '../relay/hyperlane.js';
import { MIN_BATCH_TIMEOUT_MS, devCouncilWallets, priorityMask } from '../sdk/governance.js';
import { deployCouncil } from './deployCouncil.js';
import {
  BaselineRegistry__factory,
  Gateway__factory,
  Provenance__factory,
  Rollup__factory,
} from './types/index.js';

export interface DeployOptions {
  config: Config;
  settlementRpc: string;
  partnerRpc: string;
  /** The sequencer operator allowed to submit batches; defaults to the deployer. */
  operator?: string;
  genesisRoot?: bigint;
  log?: (msg: string) => void;
}

export class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
}

interface Connection {
  provider: JsonRpcProvider;
  signer: NonceManager;
  address: string;
}

async function connect(rpcUrl: string, key: string, expectedChainId: number): Promise<Connection> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 250 });
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
  } catch (err) {
    provider.destroy();
    throw new DeploymentError(`cannot reach chain at ${rpcUrl}: ${(err as Error).message}`);
  }
  if (chainId !== BigInt(expectedChainId)) {
    provider.destroy();
    throw new DeploymentError(`chain at ${rpcUrl} has id ${chainId}, expected ${expectedChainId}`);
  }
  const wallet = new Wallet(key, provider);
  return { provider, signer: new NonceManager(wallet), address: wallet.address };
}

async function confirmed<T extends { deploymentTransaction(): ContractTransactionResponse | null; getAddress(): Promise<string> }>(
  contract: T,
): Promise<{ address: string; block: number }> {
  const receipt = await contract.deploymentTransaction()?.wait();
  if (!receipt || receipt.status !== 1) throw new DeploymentError('contract deployment failed');
  return { address: await contract.getAddress(), block: receipt.blockNumber };
}

/** Deadline and the capacities the circuit profile can prove (2^D accounts, 2^S consent slots). */
export function gatewayArgs(config: Pick<Config, 'forcedInclusionDeadline' | 'circuit'>): [number, number, number] {
  return [config.forcedInclusionDeadline, 2 ** config.circuit.treeDepth, 2 ** config.circuit.consentDepth];
}

async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new DeploymentError(`transaction ${receipt?.hash ?? ''} reverted`);
}

/** The settlement chain: Gateway, Provenance, the batch circuit's verifier, Rollup, and the L1-only baseline. */
async function deploySettlement(opts: DeployOptions, conn: Connection, circuit: CircuitArtifacts): Promise<ChainDeployment> {
  const { config, log = () => {} } = opts;
  const { signer, address: deployer } = conn;
  const operator = opts.operator ?? deployer;
  log(`settlement ${config.settlement.chainId}: deploying from ${deployer}`);

  // Sent back to back with consecutive nonces, then awaited: one block time, not six.
  const gateway = await new Gateway__factory(signer).deploy(deployer, operator, ...gatewayArgs(config));
  const provenance = await new Provenance__factory(signer).deploy(await gateway.getAddress());
  const { abi, bytecode } = readVerifierArtifact(circuit);
  const verifier = await new ContractFactory(abi, bytecode, signer).deploy();
  const rollup = await new Rollup__factory(signer).deploy(
    await gateway.getAddress(),
    await verifier.getAddress(),
    await provenance.getAddress(),
    opts.genesisRoot ?? emptyTreeRoot(config.circuit.treeDepth),
    TX_RECORD_BYTES,
    config.circuit.maxTxs,
    config.circuit.maxForcedOps,
  );
  const baseline = await new BaselineRegistry__factory(signer).deploy();
  const deployed = await Promise.all([gateway, provenance, verifier, rollup, baseline].map((c) => confirmed(c)));
  await Promise.all([
    mined(gateway.wire(await rollup.getAddress(), await provenance.getAddress())),
    mined(provenance.setRollup(await rollup.getAddress())),
  ]);
  const [g, p, v, r, b] = deployed as [typeof deployed[0], typeof deployed[0], typeof deployed[0], typeof deployed[0], typeof deployed[0]];
  log(`settlement ${config.settlement.chainId}: Gateway ${g.address}, Rollup ${r.address}`);
  return {
    name: config.settlement.name,
    chainId: config.settlement.chainId,
    rpcUrl: opts.settlementRpc,
    contracts: { Gateway: g.address, Provenance: p.address, BatchVerifier: v.address, Rollup: r.address, BaselineRegistry: b.address },
    startBlock: Math.min(...deployed.map((d) => d.block)),
  };
}

/** The partner institution chain: its own institution registry and provenance anchors, and the
 * baseline registry the non-ZK sidechain benchmark runs on. */
async function deployPartner(opts: DeployOptions, conn: Connection): Promise<ChainDeployment> {
  const { config, log = () => {} } = opts;
  const { signer, address: deployer } = conn;
  log(`partner ${config.partner.chainId}: deploying from ${deployer}`);
  const gateway = await new Gateway__factory(signer).deploy(deployer, opts.operator ?? deployer, ...gatewayArgs(config));
  const provenance = await new Provenance__factory(signer).deploy(await gateway.getAddress());
  const baseline = await new BaselineRegistry__factory(signer).deploy();
  const deployed = await Promise.all([gateway, provenance, baseline].map((c) => confirmed(c)));
  const [g, p, b] = deployed as [typeof deployed[0], typeof deployed[0], typeof deployed[0]];
  log(`partner ${config.partner.chainId}: Gateway ${g.address}`);
  return {
    name: config.partner.name,
    chainId: config.partner.chainId,
    rpcUrl: opts.partnerRpc,
    contracts: { Gateway: g.address, Provenance: p.address, BaselineRegistry: b.address },
    startBlock: Math.min(...deployed.map((d) => d.block)),
  };
}

export async function deployAll(opts: DeployOptions): Promise<Deployment> {
  const { config } = opts;
  const connections: Connection[] = [];
  try {
    const l1 = await connect(opts.settlementRpc, config.deployerKey, config.settlement.chainId);
    connections.push(l1);
    const partnerChain = await connect(opts.partnerRpc, config.deployerKey, config.partner.chainId);
    connections.push(partnerChain);
    // Before any transaction: a circuit that does not build must not leave half a deployment.
    const artifacts = await setupCircuit({
      profile: config.circuit,
      cacheDir: config.circuitCacheDir,
      ...(config.ceremonyPtau ? { ceremonyPtau: config.ceremonyPtau } : {}),
      log: (line) => (opts.log ?? (() => {}))(`circuit ${line}`),
    });
    const [settlementCore, partnerCore] = await Promise.all([deploySettlement(opts, l1, artifacts), deployPartner(opts, partnerChain)]);
    const relay = await deployRelay({
      settlementSigner: l1.signer,
      partnerSigner: partnerChain.signer,
      settlementChainId: config.settlement.chainId,
      partnerChainId: config.partner.chainId,
      rollup: settlementCore.contracts.Rollup!,
      treeDepth: config.circuit.treeDepth,
      validators: config.relay.validatorKeys,
      threshold: config.relay.threshold,
      ...(opts.log ? { log: opts.log } : {}),
    });
    // Governance goes to the institutions' council on each chain; the deployer keeps nothing.
    const memberKeys = config.governance.members ? undefined : devCouncilWallets();
    const members = config.governance.members ?? memberKeys!.map((w) => w.address);
    const params = { batchSize: 0, batchTimeoutMs: Math.max(MIN_BATCH_TIMEOUT_MS, config.rollup.batchTimeoutMs), priorityOps: priorityMask(config.rollup.priorityOps) };
    const councilOn = (signer: NonceManager, governed: string[], core: HyperlaneCore) =>
      deployCouncil({
        signer,
        members,
        params,
        governed,
        owned: [core.Mailbox, core.PausableHook],
        owned2Step: [core.MultisigIsm],
        ...(memberKeys ? { memberKeys } : {}),
      });
    const [settlementCouncil, partnerCouncil] = await Promise.all([
      councilOn(l1.signer, [settlementCore.contracts.Gateway!, relay.settlement.RootPublisher], relay.settlement),
      councilOn(partnerChain.signer, [partnerCore.contracts.Gateway!, relay.partner.ForeignRoots], relay.partner),
    ]);
    opts.log?.(
      `governance: councils of ${members.length} members (quorum ${byzantineQuorum(members.length)}) at ${settlementCouncil.council} and ${partnerCouncil.council}` +
        (settlementCouncil.accepted ? '' : '; hand-over pending: the members must execute acceptGovernance/acceptOwnership proposals'),
    );
    const settlement: ChainDeployment = {
      ...settlementCore,
      contracts: { ...settlementCore.contracts, ...relay.settlement, Council: settlementCouncil.council },
    };
    const partner: ChainDeployment = { ...partnerCore, contracts: { ...partnerCore.contracts, ...relay.partner, Council: partnerCouncil.council } };
    const circuit: CircuitDeployment = {
      profile: config.circuit.name,
      maxTxs: config.circuit.maxTxs,
      maxForcedOps: config.circuit.maxForcedOps,
      treeDepth: config.circuit.treeDepth,
      consentDepth: config.circuit.consentDepth,
      artifactsDir: artifacts.dir,
      insecure: artifacts.insecure,
    };
    return { version: 2, createdAt: new Date().toISOString(), settlement, partner, circuit };
  } finally {
    for (const c of connections) c.provider.destroy();
  }
}

/** True when every address in the deployment has code on its chain (a resumed devnet kept its state). */
export async function isDeploymentLive(deployment: Deployment): Promise<boolean> {
  for (const chain of [deployment.settlement, deployment.partner]) {
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true });
    try {
      if ((await provider.getNetwork()).chainId !== BigInt(chain.chainId)) return false;
      for (const address of Object.values(chain.contracts)) {
        if ((await provider.getCode(address)) === '0x') return false;
      }
    } catch {
      return false;
    } finally {
      provider.destroy();
    }
  }
  return true;
}
