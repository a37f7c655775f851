/**
 * `npm run sequencer`: the rollup node (prover/node.ts) for the deployment in DEPLOYMENT_FILE, on
 * the Redis at REDIS_URL: sequencer + HTTP endpoint + forced-queue watcher + settlement worker, and
 * PROVE_WORKERS prove workers in the same process (0 leaves proving to `npm run prover`).
 * `npm start` runs the same node next to the devnet; this script is for running it on its own.
 */
import { RollupNode } from '../prover/node.js';
import { shutdownProver } from '../prover/groth16.js';
import { readDeployment } from '../sdk/deployment.js';
import { lineLog } from '../sdk/log.js';
import { runUntilSignal, serviceConfig, serviceLogger } from './devnet.js';

const USAGE = `Usage: npm run sequencer

Runs the rollup node for the deployment in $DEPLOYMENT_FILE on the Redis at $REDIS_URL (required)
until Ctrl-C: HTTP endpoint on SEQUENCER_HOST:SEQUENCER_PORT, batches of BATCH_TIMEOUT_MS,
PROVE_WORKERS prove workers in this process, the settlement worker unless SETTLE_WORKER=false (then
run exactly one npm run settler). LOG_FORMAT=json for JSON logs. See README.md.
Set DEBUG=1 for stack traces.`;

async function main(argv: string[]): Promise<never> {
  const config = serviceConfig('sequencer', USAGE, argv, 'npm start runs its own Redis; this script needs one given');
  const logger = serviceLogger('sequencer');
  let node: RollupNode | undefined;
  return runUntilSignal(
    'sequencer',
    async () => {
      node = await RollupNode.start({ config, deployment: readDeployment(config.deploymentFile), redisUrl: config.rollup.redisUrl, log: lineLog(logger) });
      return {
        failed: node.failed,
        stop: async () => {
          await node!.stop();
          await shutdownProver();
        },
      };
    },
    () => {
      for (const line of node!.describe()) logger.info(line.trim());
      logger.info('running — Ctrl-C to stop');
    },
  );
}

void main(process.argv.slice(2));
