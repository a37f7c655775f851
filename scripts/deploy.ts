/**
 * `npm run deploy`: deploys the contracts to chains that something else runs (SETTLEMENT_RPC_URL,
 * PARTNER_RPC_URL: a testnet, a company chain, the docker compose devnet) and writes the
 * deployment file every service reads. A deployment that is still live on those chains is kept,
 * so the command can run at every start of a compose stack; --force deploys anew.
 */
import { JsonRpcProvider } from 'ethers';
import { parseArgs } from 'node:util';
import { buildContracts } from '../contracts/build.js';
import { deployAll } from '../contracts/deploy.js';
import { loadConfig, type ChainConfig, type Config } from '../sdk/config.js';
import { writeDeployment, type Deployment } from '../sdk/deployment.js';
import { lineLog, type ServiceLogger } from '../sdk/log.js';
import { formatError, reusableDeployment, serviceLogger } from './devnet.js';

const USAGE = `Usage: npm run deploy [-- --force]

Deploys the contracts to the settlement chain at SETTLEMENT_RPC_URL and the partner chain at
PARTNER_RPC_URL (chain ids SETTLEMENT_CHAIN_ID, PARTNER_CHAIN_ID) with DEPLOYER_KEY, sets up the
CIRCUIT_PROFILE circuit's keys in CIRCUIT_CACHE_DIR, and writes $DEPLOYMENT_FILE. A deployment in
that file that is still live on both chains is kept.

Options:
  --force            deploy anew even if the deployment file's contracts are live
  --wait <seconds>   how long to wait for the chains to answer (default 120)
  -h, --help         show this help

Governance goes to the council (COUNCIL_MEMBERS; unset = the devnet's dev members), the relay's
ISM to VALIDATOR_KEYS' addresses. LOG_FORMAT=json for JSON logs. Set DEBUG=1 for stack traces.`;

/** Waits until a chain answers eth_chainId (it may still be starting), and checks it is the configured chain. */
async function waitForChain(chain: ChainConfig, waitMs: number, logger: ServiceLogger): Promise<void> {
  const deadline = Date.now() + waitMs;
  let said = false;
  let id: number;
  for (;;) {
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true });
    try {
      id = Number((await provider.getNetwork()).chainId);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the ${chain.name} chain at ${chain.rpcUrl} did not answer in ${waitMs / 1000} s: ${(err as Error).message}`);
      if (!said) logger.info(`waiting for the ${chain.name} chain at ${chain.rpcUrl} ...`);
      said = true;
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      provider.destroy();
    }
  }
  if (id !== chain.chainId) throw new Error(`the ${chain.name} chain at ${chain.rpcUrl} has chain id ${id}, ${chain.name.toUpperCase()}_CHAIN_ID says ${chain.chainId}`);
}

export async function deploy(config: Config, opts: { force: boolean; waitMs: number; logger: ServiceLogger }): Promise<{ deployment: Deployment; reused: boolean }> {
  const { logger } = opts;
  await buildContracts({ quiet: true });
  await Promise.all([waitForChain(config.settlement, opts.waitMs, logger), waitForChain(config.partner, opts.waitMs, logger)]);
  if (!opts.force) {
    const reuse = await reusableDeployment(config, {
      settlement: { chainId: config.settlement.chainId, url: config.settlement.rpcUrl },
      partner: { chainId: config.partner.chainId, url: config.partner.rpcUrl },
    });
    if ('deployment' in reuse) return { deployment: reuse.deployment, reused: true };
    logger.info(`deploying: ${reuse.reason}`);
  }
  const t = Date.now();
  const log = lineLog(logger);
  const deployment = await deployAll({ config, settlementRpc: config.settlement.rpcUrl, partnerRpc: config.partner.rpcUrl, log });
  writeDeployment(config.deploymentFile, deployment);
  logger.info(`deployed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { deployment, reused: false };
}

async function main(argv: string[]): Promise<void> {
  const logger = serviceLogger('deploy');
  let force: boolean;
  let waitMs: number;
  let config: Config;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { force: { type: 'boolean', default: false }, wait: { type: 'string', default: '120' }, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    if (!/^\d+$/.test(values.wait)) throw new Error(`--wait takes whole seconds, got "${values.wait}"`);
    force = values.force;
    waitMs = Number(values.wait) * 1000;
    config = loadConfig();
  } catch (err) {
    logger.error(`error: ${formatError(err)}`);
    process.exit(1);
  }
  try {
    const { deployment, reused } = await deploy(config, { force, waitMs, logger });
    logger.info(`${reused ? 'kept the live deployment in' : 'wrote'} ${config.deploymentFile}`);
    for (const chain of [deployment.settlement, deployment.partner]) {
      logger.info(`${chain.name} chain ${chain.chainId} at ${chain.rpcUrl}, from block ${chain.startBlock}: ${Object.entries(chain.contracts).map(([n, a]) => `${n} ${a}`).join(', ')}`);
    }
    process.exit(0);
  } catch (err) {
    logger.error(`error: ${formatError(err)}`);
    process.exit(1);
  }
}

void main(process.argv.slice(2));
