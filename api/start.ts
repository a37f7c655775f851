/**
 * Starts the API for a deployment and configuration: shared by npm start and npm run api.
 */
import type { Config } from '../sdk/config.js';
import type { Deployment } from '../sdk/deployment.js';
import { pipelinePrefix } from '../prover/pipeline.js';
import { startApiServer, type ApiServer } from './server.js';

export function startApiFor(config: Config, deployment: Deployment, redisUrl: string | undefined, log: (line: string) => void): Promise<ApiServer> {
  const rollup = deployment.settlement.contracts.Rollup;
  if (!rollup) throw new Error('the deployment file names no Rollup on the settlement chain');
  const host = config.rollup.sequencerHost.includes(':') ? `[${config.rollup.sequencerHost}]` : config.rollup.sequencerHost;
  return startApiServer({
    api: config.api,
    indexerUrl: config.indexer.url,
    sequencerUrl: `http://${host}:${config.rollup.sequencerPort}`,
    chainId: deployment.settlement.chainId,
    rollup,
    pipeline: redisUrl ? { redisUrl, prefix: pipelinePrefix(deployment.settlement.chainId, rollup) } : undefined,
    partner: deployment.partner.contracts.ForeignRoots
      ? { chainId: deployment.partner.chainId, rpcUrl: deployment.partner.rpcUrl, foreignRoots: deployment.partner.contracts.ForeignRoots }
      : undefined,
    log,
  });
}
