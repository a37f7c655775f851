/**
 * Validators and the relayer for a deployment and a config: what `npm run relay` and the tests run.
 */
import { join } from 'node:path';
import type { Config } from '../sdk/config.js';
import type { Deployment } from '../sdk/deployment.js';
import { Relayer, type Delivery } from './relayer.js';
import { InstitutionValidator } from './validator.js';
import { relayerMetrics } from './metrics.js';
import { startHealthServer } from '../sdk/metrics.js';

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
  const server = await startHealthServer({
    host: config.relay.validatorHost,
    port: config.relay.relayerPort,
    registry: metrics.registry,
    portVariable: 'RELAYER_PORT',
    health: () => ({ ok: true, address: relayer.address, pending: relayer.pending }),
  });
  try {
    await relayer.start();
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    relayer,
    url: server.url,
    async stop() {
      await relayer.stop();
      await server.close();
    },
  };
}
