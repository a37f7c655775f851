/**
 * Prometheus metrics (prom-client): one registry per service, labelled with the service name,
 * with Node's process metrics. Services expose it as GET /metrics in the text format. Metrics
 * carry counts, sizes and durations only, never health data, account keys or payloads.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { IncomingMessage, ServerResponse } from 'node:http';

export function serviceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Answers a GET /metrics request from `registry`. */
export async function sendMetrics(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET' }).end();
    return;
  }
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body);
}
