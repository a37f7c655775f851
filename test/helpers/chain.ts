/**
 * A real anvil chain per test file, with the settlement contracts deployed by the same code the
 * devnet uses, plus snapshot/revert so tests do not leak state into each other.
 */
import { ContractFactory, HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, type InterfaceAbi, type Signer } from 'ethers';
import { randomBytes } from 'node:crypto';
import { publicKeyOf } from '../../prover/signing.js';
import { startAnvil, freePort, type AnvilChain } from '../../scripts/devnet/anvil.js';
import { ANVIL_MNEMONIC } from '../../sdk/config.js';
import {
  BaselineRegistry__factory,
  BindingOnlyVerifier__factory,
  Gateway__factory,
  Provenance__factory,
  Rollup__factory,
  type BaselineRegistry,
  type Gateway,
  type Provenance,
  type Rollup,
} from '../../contracts/types/index.js';
import { emptyTreeRoot } from '../../prover/emptyTree.js';
import { gatewayArgs } from '../../contracts/deploy.js';
import { PROFILES, TX_RECORD_BYTES, type CircuitProfile } from '../../prover/profiles.js';
import type { GasTable } from './gas.js';

export interface TestChain {
  anvil: AnvilChain;
  provider: JsonRpcProvider;
  /** anvil's ten funded dev accounts (index 0 deploys and governs). */
  accounts: HDNodeWallet[];
  stop(): Promise<void>;
  snapshot(): Promise<string>;
  revert(id: string): Promise<void>;
  mine(blocks: number): Promise<void>;
}

/** `blockTime` (seconds) mines on a clock like the devnet; default: a block per transaction. */
export async function startTestChain(chainId = 31337, opts: { blockTime?: number; name?: string } = {}): Promise<TestChain> {
  const anvil = await startAnvil({ chainId, port: await freePort(), name: `${opts.name ?? 'test'}-${chainId}`, ...(opts.blockTime ? { blockTime: opts.blockTime } : {}) });
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
  const mnemonic = Mnemonic.fromPhrase(ANVIL_MNEMONIC);
  const accounts = Array.from({ length: 10 }, (_, i) => HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).connect(provider));
  return {
    anvil,
    provider,
    accounts,
    async stop() {
      provider.destroy();
      await anvil.stop();
    },
    snapshot: () => provider.send('evm_snapshot', []) as Promise<string>,
    async revert(id: string) {
      const ok = (await provider.send('evm_revert', [id])) as boolean;
      if (!ok) throw new Error(`evm_revert ${id} failed`);
    },
    async mine(blocks: number) {
      await provider.send('anvil_mine', [`0x${blocks.toString(16)}`]);
    },
  };
}

export interface SettlementContracts {
  gateway: Gateway;
  provenance: Provenance;
  rollup: Rollup;
  baseline: BaselineRegistry;
  governance: HDNodeWallet;
  operator: HDNodeWallet;
  genesisRoot: bigint;
  txRecordBytes: number;
}

export interface DeployOptions {
  forcedInclusionDeadline?: number;
  /** Batch shape; default dev (room for contract tests). */
  profile?: CircuitProfile;
  /** A generated BatchVerifier (circuits/setup.ts); default the binding-only verifier, which
   * checks a real Groth16 proof of the public input alone and so lets contract tests submit
   * batches without proving a whole batch circuit. */
  verifier?: { abi: InterfaceAbi; bytecode: string };
}

/** Deploys and wires the settlement contracts: account 0 governs, account 1 operates. */
export async function deploySettlement(chain: TestChain, options: number | DeployOptions = {}): Promise<SettlementContracts> {
  const opts = typeof options === 'number' ? { forcedInclusionDeadline: options } : options;
  const forcedInclusionDeadline = opts.forcedInclusionDeadline ?? 20;
  const [governance, operator] = chain.accounts as [HDNodeWallet, HDNodeWallet];
  const signer: Signer = new NonceManager(governance);
  const profile = opts.profile ?? PROFILES.dev;
  const gateway = await new Gateway__factory(signer).deploy(
    governance.address,
    operator.address,
    ...gatewayArgs({ forcedInclusionDeadline, circuit: profile }),
  );
  const provenance = await new Provenance__factory(signer).deploy(await gateway.getAddress());
  const verifier = opts.verifier
    ? await new ContractFactory(opts.verifier.abi, opts.verifier.bytecode, signer).deploy()
    : await new BindingOnlyVerifier__factory(signer).deploy();
  const genesisRoot = emptyTreeRoot(profile.treeDepth);
  const rollup = await new Rollup__factory(signer).deploy(
    await gateway.getAddress(),
    await verifier.getAddress(),
    await provenance.getAddress(),
    genesisRoot,
    TX_RECORD_BYTES,
    profile.maxTxs,
    profile.maxForcedOps,
  );
  const baseline = await new BaselineRegistry__factory(signer).deploy();
  await Promise.all([gateway, provenance, verifier, rollup, baseline].map((c) => c.waitForDeployment()));
  await (await gateway.wire(await rollup.getAddress(), await provenance.getAddress())).wait();
  await (await provenance.setRollup(await rollup.getAddress())).wait();
  // Reconnect to plain wallets: tests choose the sender per call.
  return {
    gateway: Gateway__factory.connect(await gateway.getAddress(), governance),
    provenance: Provenance__factory.connect(await provenance.getAddress(), governance),
    rollup: Rollup__factory.connect(await rollup.getAddress(), operator),
    baseline: BaselineRegistry__factory.connect(await baseline.getAddress(), governance),
    governance,
    operator,
    genesisRoot,
    txRecordBytes: TX_RECORD_BYTES,
  };
}

/**
 * A view of a value that is only set later (in a jest hook): property reads go to the current
 * value, so `const { chain, c } = useSettlementChain()` can be destructured at module level.
 */
function lateBound<T extends object>(name: string, current: () => T | undefined): T {
  const target = (): T => {
    const value = current();
    if (value === undefined) throw new Error(`${name} is not ready: use it inside a test or hook`);
    return value;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(target(), key) as unknown,
    has: (_, key) => Reflect.has(target(), key),
  });
}

export interface SettlementChainOptions {
  /** Printed after all tests. */
  gas?: GasTable;
  /** Passed to deploySettlement. */
  deploy?: DeployOptions | number;
  /** Extra teardown, run after the chain has stopped. */
  after?: () => Promise<void>;
}

/**
 * Registers the lifecycle of a contract test file: start a chain and deploy the settlement
 * contracts before all tests, snapshot before each test and revert after it, then print the gas
 * table and stop the chain after all. A file's own beforeAll runs after this one (jest runs
 * hooks in registration order) and before the first snapshot, so its setup is kept across tests.
 */
export function useSettlementChain(opts: SettlementChainOptions = {}): { readonly chain: TestChain; readonly c: SettlementContracts } {
  let chain: TestChain | undefined;
  let contracts: SettlementContracts | undefined;
  let snap: string | undefined;
  beforeAll(async () => {
    chain = await startTestChain();
    contracts = await deploySettlement(chain, opts.deploy);
  });
  beforeEach(async () => {
    snap = await chain!.snapshot();
  });
  afterEach(async () => {
    if (snap !== undefined) await chain!.revert(snap);
    snap = undefined;
  });
  afterAll(async () => {
    opts.gas?.print();
    await chain?.stop();
    await opts.after?.();
  });
  return { chain: lateBound('chain', () => chain), c: lateBound('settlement contracts', () => contracts) };
}

/** A fresh BabyJubJub public key (x, y) on the curve, as the Gateway requires. */
export function babyJubKey(): [bigint, bigint] {
  const { x, y } = publicKeyOf(randomBytes(32));
  return [x, y];
}
