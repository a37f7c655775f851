/**
 * Prometheus metrics (prom-client): one registry per service, labelled with the service name,
 * with Node's process metrics. Services expose it as GET /metrics in the text format. Metrics
 * carry counts, sizes and durations only, never health data, account keys or payloads.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export interface HealthServerOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly registry: Registry;
  /** GET /health: 200 with the object when `ok`, else 503. */
  readonly health: () => Promise<{ ok: boolean } & Record<string, unknown>> | ({ ok: boolean } & Record<string, unknown>);
  /** Names the port's variable in the error when it is taken (e.g. PROVER_PORT). */
  readonly portVariable: string;
}

export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * GET /health and GET /metrics for a service that has no HTTP server of its own (a prove worker,
 * the settlement worker): what container health checks and Prometheus scrape.
 */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') return void sendMetrics(opts.registry, req, res);
    if (path === '/health') {
      void (async () => opts.health())().then(
        (h) => res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(h)),
        (err: unknown) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `${opts.portVariable} ${opts.port} on ${opts.host} is in use: set ${opts.portVariable} (0 = any free port)` : err.message)),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive scrapers would hold close() open
      }),
  };
}
