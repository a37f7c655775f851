/**
 * `npm run prover`: a prove-worker process. Takes prove jobs of the deployment in DEPLOYMENT_FILE
 * from the Redis at REDIS_URL, proves them with the deployment's proving key and enqueues their
 * settle jobs. Run as many as the machine (or several machines) can hold: each proof takes a few
 * GB (see README, "Batch circuit"). A killed prover loses nothing: its job is taken again after
 * PROVE_LOCK_MS.
 */
import { hostname } from 'node:os';
import { readCircuitArtifacts } from '../circuits/setup.js';
import { shutdownProver } from '../prover/groth16.js';
import { profileOf } from '../prover/node.js';
import { createProveWorker, pipelinePrefix } from '../prover/pipeline.js';
import { readDeployment } from '../sdk/deployment.js';
import { runUntilSignal, serviceConfig } from './devnet.js';

const USAGE = `Usage: npm run prover

Runs a prove worker for the deployment in $DEPLOYMENT_FILE on the Redis at $REDIS_URL (required)
until Ctrl-C. PROVE_CONCURRENCY jobs at once (default 1), PROVE_LOCK_MS, STALLED_CHECK_MS: see
README.md. Set DEBUG=1 for stack traces.`;

async function main(argv: string[]): Promise<never> {
  const config = serviceConfig('prover', USAGE, argv, 'a prover needs the Redis the sequencer uses (npm start prints it)');
  const redisUrl = config.rollup.redisUrl;
  let stop: (() => Promise<void>) | undefined;
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
        onError: (err) => console.error(`[prover] ${err.message}`),
      });
      const w = handle.worker;
      w.on('active', (job) => console.log(`[prover] proving batch ${job.data.index} (attempt ${job.attemptsMade + 1})`));
      w.on('completed', (job, r) => console.log(`[prover] batch ${job.data.index} proved: witness ${(r.witnessMs / 1000).toFixed(1)} s, proof ${(r.proveMs / 1000).toFixed(1)} s`));
      w.on('failed', (job, err) => console.error(`[prover] batch ${job?.data.index ?? '?'} failed: ${err.message}`));
      w.on('closed', () => fail('the worker closed'));
      await w.waitUntilReady();
      console.log(`[prover] ${name}: ${profile.name} circuit (${artifacts.dir}), ${config.rollup.proveConcurrency} job(s) at once, on ${redisUrl}`);
      stop = async () => {
        w.removeAllListeners('closed');
        await handle.close(true);
        await shutdownProver();
      };
      return { failed, stop: () => stop!() };
    },
    () => console.log('[prover] waiting for jobs — Ctrl-C to stop'),
  );
}

void main(process.argv.slice(2));
