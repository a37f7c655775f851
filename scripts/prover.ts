/**
 * `npm run prover`: a prove-worker process. Takes prove jobs of the deployment in DEPLOYMENT_FILE
 * from the Redis at REDIS_URL, proves them with the deployment's proving key and enqueues their
 * settle jobs. Run as many as the machine (or several machines) can hold: each proof takes a few
 * GB (see README, "Batch circuit"). A killed prover loses nothing: its job is taken again after
 * PROVE_LOCK_MS. /health and /metrics on PROVER_HOST:PROVER_PORT.
 */
import { hostname } from 'node:os';
import { readCircuitArtifacts } from '../circuits/setup.js';
import { shutdownProver } from '../prover/groth16.js';
import { profileOf } from '../prover/node.js';
import { createProveWorker, pipelinePrefix } from '../prover/pipeline.js';
import { proverMetrics } from '../prover/workerMetrics.js';
import { readDeployment } from '../sdk/deployment.js';
import { startHealthServer } from '../sdk/metrics.js';
import { runUntilSignal, serviceConfig, serviceLogger } from './devnet.js';

const USAGE = `Usage: npm run prover

Runs a prove worker for the deployment in $DEPLOYMENT_FILE on the Redis at $REDIS_URL (required)
until Ctrl-C. PROVE_CONCURRENCY jobs at once (default 1), PROVE_LOCK_MS, STALLED_CHECK_MS; GET
/health and /metrics on PROVER_HOST:PROVER_PORT (default 127.0.0.1:8551; 0 = any free port);
LOG_FORMAT=json for JSON logs. See README.md. Set DEBUG=1 for stack traces.`;

async function main(argv: string[]): Promise<never> {
  const config = serviceConfig('prover', USAGE, argv, 'a prover needs the Redis the sequencer uses (npm start prints it)');
  const logger = serviceLogger('prover');
  const redisUrl = config.rollup.redisUrl;
  let stop: (() => Promise<void>) | undefined;
  let healthUrl = '';
  const name = `prover-${hostname()}-${process.pid}`;
  return runUntilSignal(
    'prover',
    async () => {
      const deployment = readDeployment(config.deploymentFile);
      const profile = profileOf(deployment);
      const artifacts = readCircuitArtifacts(deployment.circuit.artifactsDir);
      let fail!: (reason: string) => void;
      const failed = new Promise<string>((resolve) => (fail = resolve));
      const handle = createProveWorker({
        connection: { url: redisUrl },
        prefix: pipelinePrefix(deployment.settlement.chainId, deployment.settlement.contracts.Rollup ?? ''),
        artifacts,
        concurrency: config.rollup.proveConcurrency,
        name,
        lockDurationMs: config.rollup.proveLockMs,
        stalledIntervalMs: config.rollup.stalledCheckMs,
        onError: (err) => logger.error(err.message),
      });
      const w = handle.worker;
      w.on('active', (job) => logger.info(`proving batch ${job.data.index} (attempt ${job.attemptsMade + 1})`));
      w.on('completed', (job, r) => logger.info(`batch ${job.data.index} proved: witness ${(r.witnessMs / 1000).toFixed(1)} s, proof ${(r.proveMs / 1000).toFixed(1)} s`));
      w.on('failed', (job, err) => logger.error(`batch ${job?.data.index ?? '?'} failed: ${err.message}`));
      w.on('closed', () => fail('the worker closed'));
      await w.waitUntilReady();
      const health = await startHealthServer({
        host: config.rollup.proverHost,
        port: config.rollup.proverPort,
        registry: proverMetrics(w),
        portVariable: 'PROVER_PORT',
        health: () => ({ ok: w.isRunning(), name, profile: profile.name }),
      }).catch(async (err: unknown) => {
        await handle.close(true);
        throw err;
      });
      healthUrl = health.url;
      logger.info(`${name}: ${profile.name} circuit (${artifacts.dir}), ${config.rollup.proveConcurrency} job(s) at once, on ${redisUrl}`);
      stop = async () => {
        w.removeAllListeners('closed');
        await health.close();
        await handle.close(true);
        await shutdownProver();
      };
      return { failed, stop: () => stop!() };
    },
    () => logger.info(`health and metrics on ${healthUrl}; waiting for jobs — Ctrl-C to stop`),
  );
}

void main(process.argv.slice(2));
