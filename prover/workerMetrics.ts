/**
 * Metrics of the worker processes (`npm run prover`, `npm run settler`): jobs by outcome, proving
 * and witness time, settlement results, whether the worker runs. Counts and durations only.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Worker } from 'bullmq';
import { serviceRegistry } from '../sdk/metrics.js';
import { provingHistograms } from './metrics.js';
import type { ProveJobData, ProveJobResult, SettleJobData, SettleJobResult } from './pipeline.js';

function jobCounters(registry: Registry, worker: Worker, kind: 'prove' | 'settle'): void {
  const jobs = new Counter({ name: `medrollup_${kind}_jobs_total`, help: `${kind} jobs this process finished, by outcome`, labelNames: ['outcome'] as const, registers: [registry] });
  new Gauge({
    name: `medrollup_${kind}_worker_running`,
    help: `1 while the ${kind} worker takes jobs (0: paused or closed)`,
    registers: [registry],
    collect() {
      this.set(worker.isRunning() && !worker.isPaused() ? 1 : 0);
    },
  });
  worker.on('completed', () => jobs.inc({ outcome: 'completed' }));
  worker.on('failed', () => jobs.inc({ outcome: 'failed' }));
}

export function proverMetrics(worker: Worker<ProveJobData, ProveJobResult>): Registry {
  const registry = serviceRegistry('prover');
  jobCounters(registry, worker, 'prove');
  const proving = provingHistograms(registry);
  worker.on('completed', (_job, r) => proving.observe(r.witnessMs, r.proveMs));
  return registry;
}

export function settlerMetrics(worker: Worker<SettleJobData, SettleJobResult>): Registry {
  const registry = serviceRegistry('settler');
  jobCounters(registry, worker, 'settle');
  const settled = new Gauge({ name: 'medrollup_settled_batch', help: 'Index of the last batch this settler saw on L1', registers: [registry] });
  const already = new Counter({ name: 'medrollup_settle_already_settled_total', help: 'Settle jobs that found their batch already on L1', registers: [registry] });
  worker.on('completed', (_job, r) => {
    settled.set(r.index);
    if (r.alreadySettled) already.inc();
  });
  return registry;
}
