/**
 * The API's metrics: operations by name and outcome, their duration, open graphql-ws sockets.
 * Operation names are the clients' (persisted ones are the dashboard's); an anonymous operation
 * counts as "anonymous". No variables, results or identities are recorded.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { serviceRegistry } from '../sdk/metrics.js';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly plugin: ApolloServerPlugin;
  readonly sockets: Gauge;
}

/** Caps the label set: a client cannot mint unbounded series by naming operations. */
const MAX_NAME = 64;
const label = (name: string | null | undefined): string => (name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name.slice(0, MAX_NAME) : 'anonymous');

export function apiMetrics(): ApiMetrics {
  const registry = serviceRegistry('api');
  const operations = new Counter({
    name: 'medrollup_api_operations_total',
    help: 'GraphQL operations over HTTP by name, type and first error code ("" when none)',
    labelNames: ['operation', 'type', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'medrollup_api_operation_seconds',
    help: 'GraphQL operation time over HTTP',
    labelNames: ['type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const sockets = new Gauge({ name: 'medrollup_api_ws_sockets', help: 'Open graphql-ws sockets', registers: [registry] });
  const plugin: ApolloServerPlugin = {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, operationName, errors, response }) {
          const type = operation?.operation ?? 'invalid';
          const body = response.body;
          const first = errors?.[0] ?? (body.kind === 'single' ? body.singleResult.errors?.[0] : undefined);
          const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : first ? 'ERROR' : '';
          operations.inc({ operation: label(operationName), type, code });
          duration.observe({ type }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
  return { registry, plugin, sockets };
}
