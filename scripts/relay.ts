/**
 * `npm run relay -- validator <i>` runs institution validator i; `npm run relay -- relayer` runs a
 * relayer (it also publishes finalized roots). Both serve the deployment in DEPLOYMENT_FILE until
 * Ctrl-C. npm start runs LOCAL_VALIDATORS validators and one relayer this way.
 */
import { loadConfig } from '../sdk/config.js';
import { readDeployment } from '../sdk/deployment.js';
import { startRelayerFor, startValidatorFor } from '../relay/run.js';
import { lineLog } from '../sdk/log.js';
import { formatError, runUntilSignal, serviceLogger } from './devnet.js';

const USAGE = `Usage: npm run relay -- validator <index> | relayer

validator <i>  signs checkpoints of the settlement chain's Hyperlane MerkleTreeHook with
               VALIDATOR_KEYS[i] and serves them on VALIDATOR_HOST:VALIDATOR_PORT+i
relayer        publishes finalized state roots (RootPublisher) and delivers them to the partner
               chain's ForeignRoots with VALIDATOR_THRESHOLD signatures from VALIDATOR_URLS;
               pays gas with RELAYER_KEY. Anyone may run one: it is trusted with nothing.

See README.md (Cross-chain relay). Set DEBUG=1 for stack traces.`;

async function main(argv: string[]): Promise<never> {
  if (argv.includes('-h') || argv.includes('--help') || argv.length === 0) {
    console.log(USAGE);
    process.exit(argv.length === 0 ? 1 : 0);
  }
  let config;
  let role: { kind: 'validator'; index: number } | { kind: 'relayer' };
  try {
    config = loadConfig();
    if (argv[0] === 'relayer' && argv.length === 1) role = { kind: 'relayer' };
    else if (argv[0] === 'validator' && argv.length === 2 && /^\d+$/.test(argv[1]!)) role = { kind: 'validator', index: Number(argv[1]) };
    else throw new Error(`unexpected arguments: ${argv.join(' ')} (see --help)`);
  } catch (err) {
    serviceLogger('relay').error(`error: ${formatError(err)}`);
    process.exit(1);
  }
  const name = role.kind === 'validator' ? `validator-${role.index}` : 'relayer';
  const log = lineLog(serviceLogger(name));
  let describe = '';
  return runUntilSignal(
    name,
    async () => {
      const deployment = readDeployment(config.deploymentFile);
      if (role.kind === 'validator') {
        const v = await startValidatorFor(config, deployment, role.index, log);
        describe = `validator ${v.address} serving checkpoints on ${v.url}`;
        return { failed: new Promise<string>(() => undefined), stop: () => v.stop() };
      }
      const r = await startRelayerFor(config, deployment, log);
      describe = `relayer ${r.relayer.address}: settlement ${deployment.settlement.chainId} -> partner ${deployment.partner.chainId}; health and metrics on ${r.url}`;
      return { failed: new Promise<string>(() => undefined), stop: () => r.stop() };
    },
    () => log(`${describe}; running — Ctrl-C to stop`),
  );
}

void main(process.argv.slice(2));
