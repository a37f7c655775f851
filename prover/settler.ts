/**
 * The settlement worker on its own (`npm run settler`), for a node run with SETTLE_WORKER=false:
 * takes settle jobs from Redis in batch order and submits each proven batch to the Rollup with
 * OPERATOR_KEY. Run exactly one per deployment (its nonces are its own). Like the node's built-in
 * worker, it pauses while the council has rotated the operator role away from its key.
 */
import { JsonRpcProvider, Wallet } from 'ethers';
import type { Config } from '../sdk/config.js';
import type { Deployment } from '../sdk/deployment.js';
import { startHealthServer, type HealthServer } from '../sdk/metrics.js';
import { Gateway__factory, Rollup__factory } from '../contracts/types/index.js';
import { watchOperator } from './governance.js';
import { checkOperator, contractAddress, unwindAfterFailure } from './node.js';
import { createSettleWorker, pipelinePrefix, type SettleWorkerHandle } from './pipeline.js';
import { settlerMetrics } from './workerMetrics.js';

export interface SettlerOptions {
  readonly config: Config;
  readonly deployment: Deployment;
  readonly redisUrl: string;
  readonly log: (line: string) => void;
  /** Overrides config.rollup.settlerPort (0: any free port). */
  readonly port?: number;
}

export interface Settler {
  readonly operator: string;
  /** /health and /metrics. */
  readonly url: string;
  readonly worker: SettleWorkerHandle;
  /** Resolves with a reason when the worker closes on its own. */
  readonly failed: Promise<string>;
  stop(): Promise<void>;
}

export async function startSettler(opts: SettlerOptions): Promise<Settler> {
  const { config, deployment, log } = opts;
  const { chainId, rpcUrl } = deployment.settlement;
  const rollupAddress = contractAddress(deployment, 'Rollup');
  const provider = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, pollingInterval: 250 });
  const cleanup: (() => Promise<unknown> | unknown)[] = [() => provider.destroy()];
  try {
    const operator = new Wallet(config.rollup.operatorKey, provider);
    const gateway = Gateway__factory.connect(contractAddress(deployment, 'Gateway'), provider);
    await checkOperator(gateway, operator.address);
    const worker = createSettleWorker({
      connection: { url: opts.redisUrl },
      prefix: pipelinePrefix(chainId, rollupAddress),
      rollup: Rollup__factory.connect(rollupAddress, operator),
      operator,
      name: 'settle',
      onError: (err) => log(`settle worker: ${err.message}`),
    });
    cleanup.push(() => worker.close(true));
    const w = worker.worker;
    w.on('active', (job) => log(`settling batch ${job.data.index} (attempt ${job.attemptsMade + 1})`));
    w.on('completed', (_job, r) => log(`batch ${r.index} finalized in L1 block ${r.l1Block}${r.alreadySettled ? ' (already settled)' : ''}`));
    w.on('failed', (job, err) => log(`batch ${job?.data.index ?? '?'} settle attempt failed: ${err.message}`));
    let fail!: (reason: string) => void;
    const failed = new Promise<string>((resolve) => (fail = resolve));
    w.on('closed', () => fail('the settle worker closed'));
    await w.waitUntilReady();

    let isOperator = true;
    const operatorWatch = watchOperator({
      gateway,
      self: operator.address,
      log,
      onChange: async (now) => {
        isOperator = now;
        if (now) w.resume();
        else await w.pause(true);
      },
    });
    cleanup.push(() => operatorWatch.stop());

    const registry = settlerMetrics(w);
    const health: HealthServer = await startHealthServer({
      host: config.rollup.settlerHost,
      port: opts.port ?? config.rollup.settlerPort,
      registry,
      portVariable: 'SETTLER_PORT',
      // Paused for an operator rotation is a known state, not a failure: health stays 200 and says so.
      health: () => ({ ok: w.isRunning(), operator: operator.address, isOperator, paused: w.isPaused() }),
    });
    cleanup.push(() => health.close());

    let stopping: Promise<void> | undefined;
    return {
      operator: operator.address,
      url: health.url,
      worker,
      failed,
      stop: () =>
        (stopping ??= (async () => {
          w.removeAllListeners('closed');
          for (const c of cleanup.reverse()) await c();
        })()),
    };
  } catch (err) {
    await unwindAfterFailure(cleanup);
    throw err;
  }
}
