/**
 * `npm run api`: the GraphQL API and dashboard (api/) for the deployment in DEPLOYMENT_FILE,
 * reading the indexer at INDEXER_URL, the sequencer at SEQUENCER_HOST:SEQUENCER_PORT and, when
 * REDIS_URL is set, the proving pipeline's events. npm start runs the same server in its process.
 */
import { loadConfig } from '../sdk/config.js';
import { readDeployment } from '../sdk/deployment.js';
import type { ApiServer } from '../api/server.js';
import { startApiFor } from '../api/start.js';
import { lineLog } from '../sdk/log.js';
import { formatError, runUntilSignal, serviceLogger } from './devnet.js';

const USAGE = `Usage: npm run api

Serves GraphQL (HTTP and graphql-ws subscriptions) on API_HOST:API_PORT/graphql and the dashboard
on / until Ctrl-C, for the deployment in $DEPLOYMENT_FILE; reads the indexer at INDEXER_URL and the
sequencer at SEQUENCER_HOST:SEQUENCER_PORT; with REDIS_URL also the proving pipeline's events.
LOG_FORMAT=json for JSON logs.
See README.md. Set DEBUG=1 for stack traces.`;

async function main(argv: string[]): Promise<never> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const logger = serviceLogger('api');
  let config;
  try {
    if (argv.length > 0) throw new Error(`unknown argument ${argv[0]!} (see --help)`);
    config = loadConfig();
  } catch (err) {
    logger.error(`error: ${formatError(err)}`);
    process.exit(1);
  }
  let api: ApiServer | undefined;
  return runUntilSignal(
    'api',
    async () => {
      api = await startApiFor(config, readDeployment(config.deploymentFile), config.rollup.redisUrl, lineLog(logger));
      return { failed: new Promise<string>(() => undefined), stop: () => api!.close() };
    },
    () => {
      logger.info(`GraphQL ${api!.url} (subscriptions ${api!.wsUrl}); dashboard ${api!.url.replace(/\/graphql$/, '/')}`);
      logger.info('running — Ctrl-C to stop');
    },
  );
}

void main(process.argv.slice(2));
