/**
 * Metrics of the relay processes: a validator's signing progress and a relayer's deliveries.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { serviceRegistry } from '../sdk/metrics.js';
import type { Delivery, Relayer } from './relayer.js';
import type { InstitutionValidator } from './validator.js';

export function validatorMetrics(validator: InstitutionValidator, service: string): Registry {
  const registry = serviceRegistry(service);
  new Gauge({
    name: 'medrollup_validator_latest_checkpoint',
    help: 'Index of the latest signed and served checkpoint (-1 before the first)',
    registers: [registry],
    collect() {
      this.set(validator.latestIndex);
    },
  });
  new Gauge({
    name: 'medrollup_validator_scanned_block',
    help: 'Last origin block scanned',
    registers: [registry],
    collect() {
      this.set(validator.health().scannedTo);
    },
  });
  new Gauge({
    name: 'medrollup_validator_halted',
    help: '1 once the validator stopped signing after a disagreement with the chain',
    registers: [registry],
    collect() {
      this.set(validator.health().halted ? 1 : 0);
    },
  });
  return registry;
}

export interface RelayerMetrics {
  readonly registry: Registry;
  delivered(d: Delivery): void;
  published(count: number): void;
  dropped(): void;
  watch(relayer: Relayer): void;
}

export function relayerMetrics(): RelayerMetrics {
  const registry = serviceRegistry('relayer');
  const delivered = new Counter({ name: 'medrollup_relayer_delivered_total', help: 'Messages delivered', registers: [registry] });
  const published = new Counter({ name: 'medrollup_relayer_published_total', help: 'Roots published through the RootPublisher', registers: [registry] });
  const dropped = new Counter({ name: 'medrollup_relayer_dropped_total', help: 'Messages dropped as never deliverable', registers: [registry] });
  const gas = new Histogram({
    name: 'medrollup_relayer_process_gas',
    help: 'Gas of Mailbox.process per delivery',
    buckets: [100_000, 150_000, 175_000, 200_000, 250_000, 400_000],
    registers: [registry],
  });
  let relayer: Relayer | undefined;
  new Gauge({
    name: 'medrollup_relayer_pending',
    help: 'Messages scanned and not yet delivered',
    registers: [registry],
    collect() {
      this.set(relayer?.pending ?? 0);
    },
  });
  return {
    registry,
    delivered: (d) => {
      delivered.inc();
      gas.observe(Number(d.gasUsed));
    },
    published: (n) => published.inc(n),
    dropped: () => dropped.inc(),
    watch: (r) => (relayer = r),
  };
}
