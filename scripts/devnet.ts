/**
 * `npm run devnet`: the local multi-chain devnet. Builds the contracts, starts the settlement and the
 * partner chain (anvil, state persisted under $DATA_DIR/chains), deploys the contracts or resumes an
 * earlier deployment that is still on the chains, writes the deployment file and runs until Ctrl-C.
 *
 * `startDevnet()` boots the same devnet in-process for tests and for `npm start`.
 */
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildContracts } from '../contracts/build.js';
import { deployAll, isDeploymentLive } from '../contracts/deploy.js';
import { loadConfig, type ChainConfig, type Config } from '../sdk/config.js';
import { readDeployment, writeDeployment, type ChainDeployment, type Deployment } from '../sdk/deployment.js';
import { createLogger, type ServiceLogger } from '../sdk/log.js';
import { assertPortFree, startAnvil, type AnvilChain } from './devnet/anvil.js';

/** What this code deploys and the services need; an older deployment file without them is redeployed. */
const REQUIRED_CONTRACTS = {
  settlement: ['Gateway', 'Provenance', 'Rollup', 'BaselineRegistry', 'Mailbox', 'MerkleTreeHook', 'MultisigIsm', 'RootPublisher', 'Council'],
  partner: ['Gateway', 'Provenance', 'BaselineRegistry', 'Mailbox', 'MultisigIsm', 'ForeignRoots', 'Council'],
} as const;

export interface DevnetChains {
  readonly settlement: AnvilChain;
  readonly partner: AnvilChain;
}

export interface Devnet {
  readonly deployment: Deployment;
  readonly chains: DevnetChains;
  /** True when an earlier deployment was found live on the resumed chains and reused. */
  readonly resumed: boolean;
  /** Resolves with a reason if a chain process exits without stop() having been called. */
  readonly failed: Promise<string>;
  /** Stops both chains (each dumps its state first). Idempotent. */
  stop(): Promise<void>;
}

export interface DevnetOptions {
  /** Wipe chain state files and the deployment file before starting. */
  reset?: boolean;
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
  /** Compile contracts first (default true; skipped work when artifacts are current). */
  build?: boolean;
  /** Abort startup (e.g. on Ctrl-C); whatever was started is stopped again. */
  signal?: AbortSignal;
}

export class DevnetError extends Error {
  override readonly name = 'DevnetError';
}

/** Where a chain's anvil state lives. */
export function chainStatePath(config: Config, chain: ChainConfig): string {
  return join(config.dataDir, 'chains', `${chain.name}.json`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/**
 * Removes the devnet's chain state and deployment file, and what belonged to that deployment: the
 * sequencer's logs, the project-run Redis data, the indexer's store and the relay's state (nothing
 * else under dataDir).
 */
export function resetDevnetState(config: Config): string[] {
  const targets = [join(config.dataDir, 'chains'), config.deploymentFile, `${config.deploymentFile}.tmp`, join(config.dataDir, 'sequencer'), join(config.dataDir, 'redis'), join(config.dataDir, 'indexer'), config.relay.dir];
  const removed = targets.filter((t) => existsSync(t));
  for (const t of removed) rmSync(t, { recursive: true, force: true });
  return removed;
}

/**
 * Checks whether the deployment file can be reused on the running chains. Returns the deployment
 * (with RPC URLs brought up to date) or the reason it cannot be used.
 */
export async function reusableDeployment(
  config: Config,
  chains: Record<'settlement' | 'partner', { readonly chainId: number; readonly url: string }>,
): Promise<{ deployment: Deployment } | { reason: string }> {
  if (!existsSync(config.deploymentFile)) return { reason: 'no deployment file yet' };
  let previous: Deployment;
  try {
    previous = readDeployment(config.deploymentFile);
  } catch (err) {
    return { reason: `cannot read ${display(config.deploymentFile)} (${err instanceof Error ? err.message : String(err)})` };
  }
  const roles = ['settlement', 'partner'] as const;
  for (const role of roles) {
    if (previous[role].chainId !== chains[role].chainId) {
      return { reason: `the deployment file is for ${role} chain id ${previous[role].chainId}, the ${role} chain now runs ${chains[role].chainId}` };
    }
  }
  if (previous.circuit.profile !== config.circuit.name) {
    return { reason: `the deployed verifier is for circuit profile "${previous.circuit.profile}", CIRCUIT_PROFILE is now "${config.circuit.name}"` };
  }
  for (const role of roles) {
    const missing = REQUIRED_CONTRACTS[role].filter((name) => !previous[role].contracts[name]);
    if (missing.length > 0) return { reason: `the deployment predates ${missing.join(', ')} on the ${role} chain` };
  }
  if (!existsSync(previous.circuit.artifactsDir)) {
    return { reason: `the proving key of the deployed verifier is gone (${previous.circuit.artifactsDir})` };
  }
  const current: Deployment = {
    ...previous,
    settlement: { ...previous.settlement, rpcUrl: chains.settlement.url },
    partner: { ...previous.partner, rpcUrl: chains.partner.url },
  };
  let live: boolean;
  try {
    live = await isDeploymentLive(current);
  } catch (err) {
    return { reason: `could not check the deployed contracts (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!live) return { reason: `the contracts in ${display(config.deploymentFile)} have no code on the chains (chain state lost or reset)` };
  if (current.settlement.rpcUrl !== previous.settlement.rpcUrl || current.partner.rpcUrl !== previous.partner.rpcUrl) {
    writeDeployment(config.deploymentFile, current);
  }
  return { deployment: current };
}

export async function startDevnet(config: Config, options: DevnetOptions = {}): Promise<Devnet> {
  const log = options.log ?? ((line: string) => console.log(line));
  const say = (msg: string) => log(`[devnet] ${msg}`);
  const began = Date.now();
  const started: AnvilChain[] = [];
  const checkAbort = () => {
    if (options.signal?.aborted) throw new DevnetError('startup interrupted');
  };

  try {
    // Fail fast on a busy port before compiling or touching state.
    for (const chain of [config.settlement, config.partner]) await assertPortFree(chain.port, chain.host, chain.name);

    if (options.reset) {
      const removed = resetDevnetState(config);
      say(removed.length ? `reset: removed ${removed.map(display).join(', ')}` : 'reset: nothing to remove');
    }

    if (options.build !== false) {
      const t = Date.now();
      await buildContracts();
      say(`contracts ready (${seconds(t)})`);
    }
    checkAbort();

    const t = Date.now();
    const boot = async (chain: ChainConfig) => {
      const statePath = chainStatePath(config, chain);
      const resuming = existsSync(statePath);
      const anvil = await startAnvil({
        name: chain.name,
        chainId: chain.chainId,
        host: chain.host,
        port: chain.port,
        blockTime: chain.blockTime,
        statePath,
      });
      started.push(anvil);
      return { anvil, note: `${chain.name} chain ${chain.chainId} up on ${anvil.url} (${resuming ? `resumed from ${display(statePath)}` : 'fresh state'})` };
    };
    const [settlement, partner] = await Promise.allSettled([boot(config.settlement), boot(config.partner)]);
    if (settlement.status === 'rejected') throw settlement.reason;
    if (partner.status === 'rejected') throw partner.reason;
    const chains: DevnetChains = { settlement: settlement.value.anvil, partner: partner.value.anvil };
    say(settlement.value.note);
    say(partner.value.note);
    say(`chains up (${seconds(t)})`);
    checkAbort();

    const reuse = await reusableDeployment(config, chains);
    let deployment: Deployment;
    let resumed: boolean;
    if ('deployment' in reuse) {
      deployment = reuse.deployment;
      resumed = true;
      say(`resuming: contracts from ${display(config.deploymentFile)} are live on both chains`);
    } else {
      if (existsSync(config.deploymentFile)) say(`redeploying: ${reuse.reason}`);
      const td = Date.now();
      say('deploying contracts ...');
      deployment = await deployAll({
        config,
        settlementRpc: chains.settlement.url,
        partnerRpc: chains.partner.url,
        log: (msg: string) => log(`[deploy] ${msg}`),
      });
      writeDeployment(config.deploymentFile, deployment);
      resumed = false;
      say(`deployed in ${seconds(td)}, wrote ${display(config.deploymentFile)}`);
    }
    checkAbort();

    const failed = new Promise<string>((resolveFailed) => {
      for (const chain of started) {
        void chain.exited.then((exit) => {
          if (!exit.expected) resolveFailed(`${chain.name} chain (pid ${chain.pid}) exited unexpectedly (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})`);
        });
      }
    });
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= Promise.all(started.map((c) => c.stop())).then(() => undefined));
    say(`ready in ${seconds(began)}`);
    return { deployment, chains, resumed, failed, stop };
  } catch (err) {
    await Promise.allSettled(started.map((c) => c.stop()));
    throw err;
  }
}

/** Human summary of a running devnet: chains, RPC URLs, block times, deployment file, addresses. */
export function describeDevnet(config: Config, devnet: Devnet): string[] {
  const blockTime = (c: ChainConfig) => (c.blockTime > 0 ? `block time ${c.blockTime} s` : 'automine');
  const lines: string[] = [''];
  const width = Math.max(config.settlement.name.length, config.partner.name.length);
  for (const chain of [config.settlement, config.partner]) {
    const anvil = chain === config.settlement ? devnet.chains.settlement : devnet.chains.partner;
    lines.push(`  ${chain.name.padEnd(width)}  chain id ${chain.chainId}  ${anvil.url}  ${blockTime(chain)}`);
  }
  lines.push(`  deployment file  ${config.deploymentFile} (${devnet.resumed ? 'resumed' : 'new'})`);
  const circuit = devnet.deployment.circuit;
  lines.push(
    `  batch circuit    ${circuit.profile}: ${circuit.maxTxs} txs + ${circuit.maxForcedOps} forced ops per batch, ` +
      `state depth ${circuit.treeDepth}, ${2 ** circuit.consentDepth} consent slots; ` +
      (circuit.insecure ? 'INSECURE dev-only proving key' : 'proving key from a ceremony'),
  );
  const deployed: ChainDeployment[] = [devnet.deployment.settlement, devnet.deployment.partner];
  const nameWidth = Math.max(0, ...deployed.flatMap((d) => Object.keys(d.contracts).map((n) => n.length)));
  for (const d of deployed) {
    lines.push(`  ${d.name} contracts (from block ${d.startBlock}):`);
    const entries = Object.entries(d.contracts);
    if (entries.length === 0) lines.push('    (none)');
    for (const [name, address] of entries) lines.push(`    ${name.padEnd(nameWidth)}  ${address}`);
  }
  lines.push('');
  return lines;
}

/** One-line error text; the stack only with DEBUG=1. */
export function formatError(err: unknown): string {
  if (process.env.DEBUG === '1' && err instanceof Error && err.stack) return err.stack;
  return err instanceof Error ? err.message : String(err);
}

export interface CliFlags {
  reset: boolean;
  help: boolean;
}

export function parseFlags(argv: string[]): CliFlags {
  const { values } = parseArgs({
    args: argv,
    options: { reset: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
    allowPositionals: false,
  });
  return { reset: values.reset ?? false, help: values.help ?? false };
}

/**
 * The logger of a service script (sdk/log.ts: LOG_FORMAT text or json, LOG_LEVEL). A bad
 * LOG_FORMAT or LOG_LEVEL is a start-up error like any other configuration error.
 */
export function serviceLogger(prefix: string): ServiceLogger {
  try {
    return createLogger(prefix);
  } catch (err) {
    console.error(`[${prefix}] error: ${formatError(err)}`);
    process.exit(1);
  }
}

/**
 * Start-up of a service script that takes no arguments and needs REDIS_URL (npm run sequencer,
 * npm run prover): --help prints `usage` and exits 0; anything else wrong prints one line and exits 1.
 */
export function serviceConfig(prefix: string, usage: string, argv: string[], redisHint: string): Config & { rollup: { redisUrl: string } } {
  try {
    if (argv.includes('-h') || argv.includes('--help')) {
      console.log(usage);
      process.exit(0);
    }
    if (argv.length > 0) throw new Error(`unknown argument ${argv[0]!} (see --help)`);
    const config = loadConfig();
    if (!config.rollup.redisUrl) throw new Error(`REDIS_URL is not set: ${redisHint}`);
    return config as Config & { rollup: { redisUrl: string } };
  } catch (err) {
    serviceLogger(prefix).error(`error: ${formatError(err)}`);
    process.exit(1);
  }
}

export interface RunningService {
  stop(): Promise<void>;
  /** Resolves with a reason when the service fails while running. */
  readonly failed: Promise<string>;
}

/**
 * Runs a long-lived job: starts it, keeps the process alive until SIGINT/SIGTERM/SIGHUP, then stops it
 * and exits 0. A startup failure or a failure while running prints one line (stack with DEBUG=1) and
 * exits 1. A second Ctrl-C while stopping exits at once (children still get SIGINT on exit).
 */
export async function runUntilSignal(prefix: string, start: (signal: AbortSignal) => Promise<RunningService>, onReady: () => void): Promise<never> {
  const logger = serviceLogger(prefix);
  const abort = new AbortController();
  let service: RunningService | undefined;
  let shuttingDown = false;
  const exit = async (code: number, reason?: string) => {
    if (reason) logger.error(reason);
    if (service) {
      logger.info('stopping ...');
      const t = Date.now();
      await service.stop();
      logger.info(`stopped (${seconds(t)})`);
    }
    process.exit(code);
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C arrives twice: from the terminal and relayed by tsx. Only a later one forces exit.
    if (firstSignalAt && Date.now() - firstSignalAt < 1_000) return;
    if (shuttingDown) {
      logger.error(`${signal} again: exiting now`);
      process.exit(130);
    }
    shuttingDown = true;
    firstSignalAt = Date.now();
    logger.info(`${signal} received${service ? '' : ': stopping after the current startup step'}`);
    abort.abort();
    if (service) void exit(0);
    // else: startup is in progress and will notice the abort, stop what it started and exit below
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);

  try {
    service = await start(abort.signal);
  } catch (err) {
    if (shuttingDown) {
      logger.info('startup interrupted; everything started was stopped');
      process.exit(0);
    }
    logger.error(`error: ${formatError(err)}`);
    process.exit(1);
  }
  if (shuttingDown) return exit(0) as Promise<never>;
  onReady();
  const reason = await service.failed;
  if (!shuttingDown) {
    shuttingDown = true;
    await exit(1, `${reason}: stopping`);
  }
  return new Promise<never>(() => undefined); // exit() is under way
}

const USAGE = `Usage: npm run devnet [-- --reset]

Starts the local devnet: builds the contracts, runs the settlement and the partner chain (anvil),
deploys the contracts (or resumes a deployment still live on the chains), writes the deployment file
and runs until Ctrl-C. Chain state persists in $DATA_DIR/chains across restarts.

Options:
  --reset     wipe the chain state and the deployment file first, then start fresh
  -h, --help  show this help

Configuration comes from the environment (see README.md): DATA_DIR, DEPLOYMENT_FILE,
SETTLEMENT_{CHAIN_ID,HOST,PORT,BLOCK_TIME}, PARTNER_{CHAIN_ID,HOST,PORT,BLOCK_TIME}, DEPLOYER_KEY.
Set DEBUG=1 for stack traces.`;

/** The CLI of `npm run devnet`; `usage` lets `npm start` reuse it with its own help text. */
export async function devnetMain(argv: string[], usage = USAGE, prefix = 'devnet'): Promise<never> {
  let flags: CliFlags;
  let config: Config;
  try {
    flags = parseFlags(argv);
    if (flags.help) {
      console.log(usage);
      process.exit(0);
    }
    config = loadConfig();
  } catch (err) {
    console.error(`[${prefix}] error: ${formatError(err)}`);
    process.exit(1);
  }
  let devnet: Devnet | undefined;
  return runUntilSignal(
    prefix,
    async (signal) => (devnet = await startDevnet(config, { reset: flags.reset, signal })),
    () => {
      for (const line of describeDevnet(config, devnet!)) console.log(line);
      console.log(`${prefix} running — Ctrl-C to stop`);
    },
  );
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) void devnetMain(process.argv.slice(2));
