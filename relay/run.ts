/**
 * Validators and the relayer for a deployment and a config: what `npm run relay` and the tests run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Config } from '../sdk/config.js';
import type { Deployment } from '../sdk/deployment.js';
import { Relayer, type Delivery } from './relayer.js';
import { InstitutionValidator } from './validator.js';
import { relayerMetrics } from './metrics.js';
import { sendMetrics } from '../sdk/metrics.js';

export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
}

function contract(chain: Deployment['settlement'], name: string): string {
  const address = chain.contracts[name];
  if (!address) throw new RelayConfigError(`the deployment has no ${name} on ${chain.name}: redeploy (npm start -- --reset)`);
  return address;
}

/** Validator `i` (its key is VALIDATOR_KEYS[i]) for messages leaving the settlement chain. */
export function startValidatorFor(config: Config, deployment: Deployment, i: number, log: (line: string) => void, port?: number): Promise<InstitutionValidator> {
  const key = config.relay.validatorKeys[i];
  if (!key) throw new RelayConfigError(`no validator ${i}: VALIDATOR_KEYS has ${config.relay.validatorKeys.length} keys`);
  const { settlement } = deployment;
  return InstitutionValidator.start({
    origin: { rpcUrl: settlement.rpcUrl, domain: settlement.chainId, merkleTreeHook: contract(settlement, 'MerkleTreeHook'), startBlock: settlement.startBlock },
    key,
    confirmations: config.relay.confirmations,
    pollMs: config.relay.pollMs,
    host: config.relay.validatorHost,
    port: port ?? config.relay.validatorPort + i,
    storeDir: join(config.relay.dir, `validator-${i}`),
    log,
    name: `validator-${i}`,
  });
}

export interface RelayerService {
  readonly relayer: Relayer;
  /** GET /health and /metrics. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The relayer from the settlement chain to the partner chain's ForeignRoots (it also publishes
 * roots), with its health and metrics on RELAYER_PORT.
 */
export async function startRelayerFor(
  config: Config,
  deployment: Deployment,
  log: (line: string) => void,
  options: { onDelivered?: (d: Delivery) => void; validatorUrls?: readonly string[] } = {},
): Promise<RelayerService> {
  const { settlement, partner } = deployment;
  const metrics = relayerMetrics();
  const relayer = new Relayer({
    origin: {
      rpcUrl: settlement.rpcUrl,
      domain: settlement.chainId,
      mailbox: contract(settlement, 'Mailbox'),
      merkleTreeHook: contract(settlement, 'MerkleTreeHook'),
      startBlock: settlement.startBlock,
      rootPublisher: contract(settlement, 'RootPublisher'),
    },
    destination: { rpcUrl: partner.rpcUrl, domain: partner.chainId, mailbox: contract(partner, 'Mailbox') },
    recipients: [contract(partner, 'ForeignRoots')],
    validatorUrls: options.validatorUrls ?? config.relay.validatorUrls,
    key: config.relay.relayerKey,
    stateFile: join(config.relay.dir, `relayer-${settlement.chainId}-${partner.chainId}.json`),
    pollMs: config.relay.pollMs,
    log,
    onDelivered: (d) => {
      metrics.delivered(d);
      options.onDelivered?.(d);
    },
    onPublished: (n) => metrics.published(n),
    onDropped: () => metrics.dropped(),
  });
  metrics.watch(relayer);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') return void sendMetrics(metrics.registry, req, res);
    if (path === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ address: relayer.address, pending: relayer.pending }));
    res.writeHead(404).end();
  });
  const { host, port } = { host: config.relay.validatorHost, port: config.relay.relayerPort };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new RelayConfigError(err.code === 'EADDRINUSE' ? `RELAYER_PORT ${port} on ${host} is in use (another relayer?): set RELAYER_PORT` : err.message)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const stopServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await relayer.start();
  } catch (err) {
    await stopServer();
    throw err;
  }
  return {
    relayer,
    url: `http://${host}:${bound.port}`,
    async stop() {
      await relayer.stop();
      server.closeAllConnections();
      await stopServer();
    },
  };
}
