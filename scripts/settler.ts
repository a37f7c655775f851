/**
 * `npm run settler`: the settlement worker as its own process, for a sequencer run with
 * SETTLE_WORKER=false. Submits proven batches of the deployment in DEPLOYMENT_FILE to the Rollup
 * with OPERATOR_KEY, in order. Run exactly one. /health and /metrics on SETTLER_HOST:SETTLER_PORT.
 */
import { readDeployment } from '../sdk/deployment.js';
import { lineLog } from '../sdk/log.js';
import { startSettler, type Settler } from '../prover/settler.js';
import { runUntilSignal, serviceConfig, serviceLogger } from './devnet.js';

const USAGE = `Usage: npm run settler

Runs the settlement worker for the deployment in $DEPLOYMENT_FILE on the Redis at $REDIS_URL
(required) until Ctrl-C: submits each proven batch to the Rollup with OPERATOR_KEY (the Gateway's
operator), in batch order. Run exactly one, next to a sequencer started with SETTLE_WORKER=false.
GET /health and /metrics on SETTLER_HOST:SETTLER_PORT (default 127.0.0.1:8552; 0 = any free port);
LOG_FORMAT=json for JSON logs. See README.md. Set DEBUG=1 for stack traces.`;

async function main(argv: string[]): Promise<never> {
  const config = serviceConfig('settler', USAGE, argv, 'the settler needs the Redis the sequencer uses');
  const logger = serviceLogger('settler');
  let settler: Settler | undefined;
  return runUntilSignal(
    'settler',
    async () => {
      settler = await startSettler({ config, deployment: readDeployment(config.deploymentFile), redisUrl: config.rollup.redisUrl, log: lineLog(logger) });
      return { failed: settler.failed, stop: () => settler!.stop() };
    },
    () => logger.info(`operator ${settler!.operator}; health and metrics on ${settler!.url}; running — Ctrl-C to stop`),
  );
}

void main(process.argv.slice(2));
