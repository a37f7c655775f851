/**
 * `npm start`: the main job on embedded defaults: the devnet (two chains, contracts deployed), a
 * Redis (redis-server run here unless REDIS_URL is set) and the rollup node (sequencer, HTTP
 * endpoint, forced-queue watcher, PROVE_WORKERS prove workers, settlement), the indexer (Ponder) and
 * the GraphQL API with its dashboard, and the relay's validators and relayer. Each service starts
 * after what it needs and stops before it.
 */
import { join } from 'node:path';
import type { ApiServer } from '../api/server.js';
import { startApiFor } from '../api/start.js';
import { shutdownProver } from '../prover/groth16.js';
import { RollupNode } from '../prover/node.js';
import { loadConfig, type Config } from '../sdk/config.js';
import { describeDevnet, formatError, parseFlags, runUntilSignal, startDevnet, type CliFlags, type Devnet } from './devnet.js';
import { startIndexer, type IndexerProcess } from './indexer.js';
import { pingRedis, startRedis, type RedisServer } from './redis.js';
import { startRelayServices, type RelayServices } from './relayServices.js';

const USAGE = `Usage: npm start [-- --reset]

Runs the whole system locally on embedded defaults until Ctrl-C: the devnet (settlement and partner
chains with the contracts deployed; see npm run devnet -- --help), Redis (redis-server on
REDIS_PORT, installed from Debian when missing, unless REDIS_URL is set) and the rollup node
(sequencer HTTP endpoint on SEQUENCER_PORT, prove workers, settlement), the indexer (Ponder on
INDEXER_PORT), the API (GraphQL, subscriptions and the dashboard on API_PORT), and the relay
(LOCAL_VALIDATORS institution validators on VALIDATOR_PORT+i and a relayer carrying finalized
state roots to the partner chain). State persists in
$DATA_DIR (default ./.data).

Options:
  --reset     wipe the devnet state (chains, deployment file, sequencer log, Redis data) first
  -h, --help  show this help

Set DEBUG=1 for stack traces. Configuration: see the table in README.md.`;

async function main(): Promise<never> {
  let flags: CliFlags;
  let config: Config;
  try {
    flags = parseFlags(process.argv.slice(2));
    if (flags.help) {
      console.log(USAGE);
      process.exit(0);
    }
    config = loadConfig();
  } catch (err) {
    console.error(`[start] error: ${formatError(err)}`);
    process.exit(1);
  }

  let devnet: Devnet | undefined;
  let redis: RedisServer | undefined;
  let redisUrl = '';
  let node: RollupNode | undefined;
  let indexer: IndexerProcess | undefined;
  let api: ApiServer | undefined;
  let relay: RelayServices | undefined;
  const stopAll = async () => {
    await relay?.stop();
    await api?.close();
    await indexer?.stop();
    await node?.stop();
    await shutdownProver();
    await redis?.stop();
    await devnet?.stop();
  };
  return runUntilSignal(
    'start',
    async (signal) => {
      try {
        devnet = await startDevnet(config, { reset: flags.reset, signal });
        if (config.rollup.redisUrl) {
          redisUrl = config.rollup.redisUrl;
          await pingRedis(redisUrl);
          console.log(`[start] using Redis at ${redisUrl}`);
        } else {
          redis = await startRedis({ port: config.rollup.redisPort, dataDir: join(config.dataDir, 'redis'), log: (l) => console.log(`[redis] ${l}`) });
          redisUrl = redis.url;
          console.log(`[start] redis-server up on ${redisUrl}`);
        }
        if (signal.aborted) throw new Error('startup interrupted');
        node = await RollupNode.start({ config, deployment: devnet.deployment, redisUrl, log: (l) => console.log(`[node] ${l}`) });
        if (signal.aborted) throw new Error('startup interrupted');
        console.log('[start] starting the indexer (Ponder) ...');
        indexer = await startIndexer(config, (l) => console.log(l));
        if (signal.aborted) throw new Error('startup interrupted');
        api = await startApiFor(config, devnet.deployment, redisUrl, (l) => console.log(`[api] ${l}`));
        if (signal.aborted) throw new Error('startup interrupted');
        console.log(`[start] starting ${config.relay.localValidators} institution validator(s) and the relayer ...`);
        relay = await startRelayServices(config, (l) => console.log(l));
      } catch (err) {
        await stopAll();
        throw err;
      }
      const redisDied = redis
        ? redis.exited.then((e) => (e.expected ? new Promise<string>(() => undefined) : `redis-server exited unexpectedly (${e.signal ? `signal ${e.signal}` : `code ${String(e.code)}`})`))
        : new Promise<string>(() => undefined);
      const indexerDied = indexer.proc.exited.then((e) => (e.expected ? new Promise<string>(() => undefined) : `the indexer (ponder) exited unexpectedly (${e.signal ? `signal ${e.signal}` : `code ${String(e.code)}`})`));
      return { failed: Promise.race([devnet.failed, redisDied, node.failed, indexerDied, relay.failed]), stop: stopAll };
    },
    () => {
      for (const line of describeDevnet(config, devnet!)) console.log(line);
      console.log(`  redis            ${redisUrl}${redis ? ' (run here)' : ''}`);
      for (const line of node!.describe()) console.log(line);
      console.log(`  indexer          ${indexer!.url}/graphql  (Ponder; store ${config.dataDir}/indexer)`);
      console.log(`  api              ${api!.url}  (subscriptions ${api!.wsUrl})`);
      console.log(`  dashboard        ${api!.url.replace(/\/graphql$/, '/')}`);
      const { settlement, partner } = devnet!.deployment;
      console.log(`  relay            ${settlement.name} ${settlement.chainId} -> ${partner.name} ${partner.chainId} ForeignRoots ${partner.contracts.ForeignRoots ?? '?'}`);
      console.log(`                   ${relay!.validators.length} validator(s) ${relay!.validators.map((v) => v.url).join(' ')}, threshold ${config.relay.threshold}`);
      console.log(`                   relayer /health and /metrics on port ${config.relay.relayerPort}`);
      console.log('');
      console.log('running — Ctrl-C to stop');
    },
  );
}

void main();
