/**
 * The rollup node's metrics: what an operator alerts on (refusals by code, batches stuck between
 * stages, proving time, forced operations waiting, settlement paused).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { serviceRegistry } from '../sdk/metrics.js';
import type { HttpLogEntry } from './http.js';
import type { PipelineEvent } from './pipeline.js';
import type { Sequencer } from './sequencer.js';

export interface NodeMetrics {
  readonly registry: Registry;
  /** Feeds the sequencer HTTP server's request log. */
  http(entry: HttpLogEntry): void;
  pipeline(event: PipelineEvent): void;
  batchClosed(txs: number, forced: number): void;
  settlementPaused(paused: boolean): void;
}

/** Witness and proving time per batch: the same series whether the node or a prover process proves. */
export function provingHistograms(registry: Registry): { observe(witnessMs: number, proveMs: number): void } {
  const witness = new Histogram({ name: 'medrollup_witness_seconds', help: 'Witness generation time per batch', buckets: [0.5, 1, 2, 5, 10, 30, 60, 120], registers: [registry] });
  const prove = new Histogram({ name: 'medrollup_prove_seconds', help: 'Groth16 proving time per batch', buckets: [1, 5, 10, 20, 40, 60, 120, 300, 600], registers: [registry] });
  return {
    observe(witnessMs, proveMs) {
      witness.observe(witnessMs / 1000);
      prove.observe(proveMs / 1000);
    },
  };
}

export function nodeMetrics(sequencer: Sequencer): NodeMetrics {
  const registry = serviceRegistry('sequencer');
  const requests = new Counter({
    name: 'medrollup_http_requests_total',
    help: 'Sequencer HTTP requests by route, status and error code',
    labelNames: ['route', 'status', 'code'] as const,
    registers: [registry],
  });
  const closed = new Counter({ name: 'medrollup_batches_closed_total', help: 'Batches the sequencer closed', registers: [registry] });
  const closedTxs = new Counter({ name: 'medrollup_batch_transactions_total', help: 'Transactions in closed batches', registers: [registry] });
  const closedForced = new Counter({ name: 'medrollup_batch_forced_operations_total', help: 'Forced operations in closed batches', registers: [registry] });
  const stages = new Counter({ name: 'medrollup_pipeline_events_total', help: 'Pipeline stage events by stage', labelNames: ['stage'] as const, registers: [registry] });
  const proving = provingHistograms(registry);
  const paused = new Gauge({ name: 'medrollup_settlement_paused', help: '1 while this node is not the Gateway operator', registers: [registry] });
  new Gauge({
    name: 'medrollup_open_batch_transactions',
    help: 'Transactions in the open batch',
    registers: [registry],
    collect() {
      this.set(sequencer.openBatch?.txs.length ?? 0);
    },
  });
  new Gauge({
    name: 'medrollup_forced_operations_pending',
    help: 'Forced operations seen on L1 and not yet in a batch',
    registers: [registry],
    collect() {
      this.set(sequencer.pendingForcedCount);
    },
  });
  new Gauge({
    name: 'medrollup_batch_index',
    help: 'Index of the batch the sequencer fills next',
    registers: [registry],
    collect() {
      this.set(sequencer.batchIndex);
    },
  });
  return {
    registry,
    http: (e) => requests.inc({ route: e.path, status: String(e.status), code: e.code ?? '' }),
    pipeline: (e) => {
      stages.inc({ stage: e.stage });
      if (e.stage === 'proven') {
        if (e.witnessMs !== undefined && e.proveMs !== undefined) proving.observe(e.witnessMs, e.proveMs);
      }
    },
    batchClosed: (txs, forced) => {
      closed.inc();
      closedTxs.inc(txs);
      closedForced.inc(forced);
    },
    settlementPaused: (p) => paused.set(p ? 1 : 0),
  };
}
