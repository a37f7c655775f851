/**
 * The one typed place for configuration. Every value is read from the environment with a
 * documented default; services and scripts call `loadConfig()` and never read process.env
 * themselves.
 */
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { PROFILES, isProfileName, type CircuitProfile } from '../prover/profiles.js';

export interface ChainConfig {
  /** Short name used in logs, file names and the deployment file. */
  readonly name: string;
  readonly chainId: number;
  readonly host: string;
  readonly port: number;
  /** Seconds between blocks; 0 means automine (a block per transaction). */
  readonly blockTime: number;
  /** JSON-RPC URL `npm run deploy` deploys to: *_RPC_URL, default http://host:port (the devnet's chain). */
  readonly rpcUrl: string;
}

export interface Config {
  /** Where devnet state, the deployment file and (later) stores live. */
  readonly dataDir: string;
  /** The deployment file every service reads. */
  readonly deploymentFile: string;
  readonly settlement: ChainConfig;
  readonly partner: ChainConfig;
  /** Private key that deploys contracts and acts as governance on the devnet. */
  readonly deployerKey: string;
  /** Blocks a forced L1->L2 operation may wait before a batch that skips it is rejected. */
  readonly forcedInclusionDeadline: number;
  /** Batch circuit shape (K, F, D, S) the deployment, prover and contracts share. */
  readonly circuit: CircuitProfile;
  /** Where circuits/setup.ts caches compiled circuits and keys (outside git). */
  readonly circuitCacheDir: string;
  /** A prepared phase-2 powers-of-tau from a public ceremony; unset = INSECURE dev-only keys. */
  readonly ceremonyPtau: string | undefined;
  /** The sequencer, its pipeline and the prove workers (prover/node.ts, scripts/prover.ts). */
  readonly rollup: RollupServiceConfig;
  /** Where encrypted records are stored (sdk/storage.ts). */
  readonly ipfs: IpfsConfig;
  /** The Ponder indexer that npm start runs (indexer/). */
  readonly indexer: { readonly host: string; readonly port: number; readonly schema: string; readonly url: string };
  /** The GraphQL API and dashboard (api/). */
  readonly api: ApiConfig;
  /** Institution validators and the relayer that carry state roots to the partner chain (relay/). */
  readonly relay: RelayConfig;
  /** The institutions' council that governs both chains' contracts (contracts/src/governance/Council.sol). */
  readonly governance: GovernanceConfig;
  /** How services write their logs (sdk/log.ts). */
  readonly log: LogConfig;
}

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogConfig {
  /** text: `[service] message` lines for a terminal; json: one pino object per line for a log pipeline. */
  readonly format: LogFormat;
  readonly level: LogLevel;
}

export interface GovernanceConfig {
  /** Council member addresses; undefined = the devnet's four dev members, whose keys the devnet holds. */
  readonly members: readonly string[] | undefined;
}

export interface RelayConfig {
  /** Institution validator keys (one validator process each); they sign checkpoints, never send transactions. */
  readonly validatorKeys: readonly string[];
  /** Signatures a delivery needs: default 2f+1 of the 3f+1 validators. */
  readonly threshold: number;
  readonly validatorHost: string;
  /** Validator i serves its checkpoints on validatorPort + i. */
  readonly validatorPort: number;
  /** Where the relayer fetches signed checkpoints; default the local validators. */
  readonly validatorUrls: readonly string[];
  /** Pays the relayer's gas (publish on the settlement chain, process on the partner chain). */
  readonly relayerKey: string;
  /** Blocks a message must be under before validators sign it. */
  readonly confirmations: number;
  readonly pollMs: number;
  /** Relayer state and validators' signed checkpoints. */
  readonly dir: string;
  /** Validator processes npm start runs (0: none; run them with npm run relay -- validator <i>). */
  readonly localValidators: number;
  /** The relayer's /health and /metrics (0: any free port). */
  readonly relayerPort: number;
}

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  /** HMAC key of session tokens; unset = a random key per process (tokens end with the process). */
  readonly tokenSecret: string | undefined;
  /** Lifetime of a session token, seconds. */
  readonly tokenTtlSeconds: number;
  /** Lifetime of a sign-in challenge, seconds. */
  readonly challengeTtlSeconds: number;
  /** Deepest selection a query may have. */
  readonly maxDepth: number;
  /** Highest estimated cost a query may have (graphql-armor's cost model). */
  readonly maxCost: number;
  /** Requests per minute per caller (session, else client address). */
  readonly rateLimitPerMinute: number;
  /** Only persisted queries (by hash, from schema's safelist) are run; ad-hoc query text is refused. */
  readonly persistedOnly: boolean;
}

export interface IpfsConfig {
  /** A Kubo node's RPC API (http(s)://host:port); unset = an embedded, offline Helia node in `dir`. */
  readonly apiUrl: string | undefined;
  /** The embedded node's blockstore and datastore (unused when apiUrl is set). */
  readonly dir: string;
}

export interface RollupServiceConfig {
  /** An external Redis for BullMQ; unset: npm start runs redis-server itself on redisPort. */
  readonly redisUrl: string | undefined;
  /** Loopback port of the project-run redis-server. */
  readonly redisPort: number;
  /** Signs Rollup.submitBatch: the Gateway's operator. */
  readonly operatorKey: string;
  /** The sequencer's HTTP endpoint. */
  readonly sequencerHost: string;
  readonly sequencerPort: number;
  /** A batch closes this long after its first entry (or when full). */
  readonly batchTimeoutMs: number;
  /** Operations in the emergency-access lane: such a transaction closes its batch at once. */
  readonly priorityOps: readonly TxOpName[];
  /** Prove workers inside the sequencer process (npm start); 0 = only external ones (npm run prover). */
  readonly proveWorkers: number;
  /** Jobs one prove worker proves at once. */
  readonly proveConcurrency: number;
  /** A prove job whose worker stops renewing its lock is retried after this long (BullMQ lockDuration). */
  readonly proveLockMs: number;
  /** How often workers look for stalled jobs (BullMQ stalledInterval). */
  readonly stalledCheckMs: number;
  /** How often the forced-queue watcher polls the Gateway. */
  readonly forcedPollMs: number;
  /** Threads that check transaction signatures for the HTTP endpoint. */
  readonly verifyThreads: number;
  /** The node runs the settlement worker itself; false = a separate `npm run settler` (exactly one). */
  readonly settleWorker: boolean;
  /** `npm run prover`'s /health and /metrics (0: any free port). */
  readonly proverHost: string;
  readonly proverPort: number;
  /** `npm run settler`'s /health and /metrics (0: any free port). */
  readonly settlerHost: string;
  readonly settlerPort: number;
}

export const TX_OP_NAMES = ['upload', 'update', 'grant', 'revoke', 'access', 'claim'] as const;
export type TxOpName = (typeof TX_OP_NAMES)[number];

/** anvil's first well-known development key: public knowledge, never for real funds. */
/** Devnet institution validator keys: anvil's mnemonic on its own path (they sign off chain only). */
export function devValidatorKey(i: number): string {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/1/${i}`).privateKey;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const ANVIL_DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** anvil's default mnemonic, used to derive the devnet's role accounts. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function int(env: Env, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be a decimal integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}

function str(env: Env, key: string, fallback: string): string {
  const raw = env[key];
  return raw === undefined || raw === '' ? fallback : raw;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = str(env, key, String(fallback)).toLowerCase();
  if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(`${key} must be true or false, got "${raw}"`);
  return raw === 'true' || raw === '1';
}

function httpUrl(key: string, url: string): string {
  if (!(/^https?:\/\//.test(url) && URL.canParse(url))) throw new ConfigError(`${key} must be an http:// or https:// URL, got "${url}"`);
  return url.replace(/\/+$/, '');
}

function chain(env: Env, prefix: string, name: string, chainId: number, port: number, blockTime: number): ChainConfig {
  const host = str(env, `${prefix}_HOST`, '127.0.0.1');
  const p = int(env, `${prefix}_PORT`, port, 1, 65_535);
  return {
    name,
    chainId: int(env, `${prefix}_CHAIN_ID`, chainId, 1),
    host,
    port: p,
    blockTime: int(env, `${prefix}_BLOCK_TIME`, blockTime),
    rpcUrl: httpUrl(`${prefix}_RPC_URL`, str(env, `${prefix}_RPC_URL`, `http://${host}:${p}`)),
  };
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** LOG_FORMAT and LOG_LEVEL alone: a service needs its logger before the rest of the config parses. */
export function logConfig(env: Env = process.env): LogConfig {
  const format = str(env, 'LOG_FORMAT', 'text').toLowerCase();
  if (format !== 'text' && format !== 'json') throw new ConfigError(`LOG_FORMAT must be text or json, got "${format}"`);
  const level = str(env, 'LOG_LEVEL', 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  return { format, level: level as LogLevel };
}

/**
 * Environment variables (defaults in brackets):
 * - DATA_DIR [./.data]                       devnet chain state, deployment file
 * - DEPLOYMENT_FILE [$DATA_DIR/deployment.json]
 * - SETTLEMENT_CHAIN_ID [31337], SETTLEMENT_HOST [127.0.0.1], SETTLEMENT_PORT [8545], SETTLEMENT_BLOCK_TIME [2]
 * - PARTNER_CHAIN_ID [31338], PARTNER_HOST [127.0.0.1], PARTNER_PORT [8546], PARTNER_BLOCK_TIME [1]
 * - SETTLEMENT_RPC_URL, PARTNER_RPC_URL [http://HOST:PORT]   chains `npm run deploy` deploys to (external chains)
 * - DEPLOYER_KEY [anvil dev key #0]
 * - FORCED_INCLUSION_DEADLINE [50] blocks
 * - CIRCUIT_PROFILE [dev]                    test | dev | prod (circuits/SPEC.md)
 * - CIRCUIT_CACHE_DIR [./.cache/circuits]    compiled circuits and proving keys
 * - CEREMONY_PTAU [unset]                    ceremony .ptau for production keys; unset = dev-only keys
 * - REDIS_URL [unset]                        external Redis; unset = npm start runs redis-server on REDIS_PORT
 * - REDIS_PORT [6390]
 * - OPERATOR_KEY [DEPLOYER_KEY]              signs Rollup.submitBatch (the Gateway's operator)
 * - SEQUENCER_HOST [127.0.0.1], SEQUENCER_PORT [8550]
 * - BATCH_TIMEOUT_MS [10000]                 a batch closes this long after its first entry, or when full
 * - PRIORITY_OPS [unset]                     comma list of upload,update,grant,revoke,access,claim: closes the batch at once
 * - PROVE_WORKERS [1]                        prove workers inside npm start (0: only npm run prover processes)
 * - SETTLE_WORKER [true]                     false: the node does not settle; run one `npm run settler`
 * - PROVER_HOST [127.0.0.1], PROVER_PORT [8551]     npm run prover's /health and /metrics
 * - SETTLER_HOST [127.0.0.1], SETTLER_PORT [8552]   npm run settler's /health and /metrics
 * - PROVE_CONCURRENCY [1]                    jobs per prove worker
 * - PROVE_LOCK_MS [60000]                    a dead worker's job is retried after this (keep > 2x witness time)
 * - STALLED_CHECK_MS [15000]                 stalled-job check interval
 * - FORCED_POLL_MS [1000]                    forced-queue watcher poll interval
 * - VERIFY_THREADS [cores - 1, at least 1]   signature-check threads of the sequencer
 * - IPFS_API_URL [unset]                     Kubo RPC API for record storage; unset = embedded Helia (no networking)
 * - IPFS_DIR [$DATA_DIR/ipfs]                the embedded node's block and data store
 * - INDEXER_PORT [42069], INDEXER_SCHEMA [medrollup]   Ponder's HTTP port and database schema
 * - INDEXER_HOST [127.0.0.1]               interface Ponder listens on (internal: no access control of its own)
 * - INDEXER_URL [http://127.0.0.1:$INDEXER_PORT]      where the API reads the indexer
 * - API_HOST [127.0.0.1], API_PORT [4000]   GraphQL (HTTP and graphql-ws) and the dashboard
 * - API_TOKEN_SECRET [random per process]   HMAC key of session tokens (set it to keep sessions across restarts)
 * - API_TOKEN_TTL [900] s, API_CHALLENGE_TTL [120] s   session and sign-in challenge lifetimes
 * - API_MAX_DEPTH [10], API_MAX_COST [5000], API_RATE_LIMIT [600] per minute per caller
 * - API_PERSISTED_ONLY [false]              true: only persisted queries (automatic persisted queries by hash)
 * - VALIDATOR_KEYS [4 devnet keys]           comma list of institution validator keys (3f+1 of them)
 * - VALIDATOR_THRESHOLD [2f+1]               signatures a root delivery needs
 * - VALIDATOR_HOST [127.0.0.1], VALIDATOR_PORT [8560]   validator i serves checkpoints on VALIDATOR_PORT + i
 * - VALIDATOR_URLS [the local validators]    comma list of checkpoint URLs the relayer reads
 * - LOCAL_VALIDATORS [number of VALIDATOR_KEYS]   validator processes npm start runs (0: none)
 * - RELAYER_KEY [anvil dev key #9]           pays the relayer's gas on both chains
 * - RELAYER_PORT [8569]                      the relayer's /health and /metrics (0: a free port)
 * - RELAY_CONFIRMATIONS [1], RELAY_POLL_MS [500]
 * - RELAY_DIR [$DATA_DIR/relay]              relayer state and signed checkpoints
 * - LOG_FORMAT [text]                       text (`[service] message`) or json (pino, one object per line)
 * - LOG_LEVEL [info]                         debug | info | warn | error
 * - COUNCIL_MEMBERS [4 devnet members]       comma list of council member addresses (3f+1); the devnet
 *                                            hands governance to the council and, with dev members, accepts it
 */
export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(str(env, 'DATA_DIR', '.data'));
  const settlement = chain(env, 'SETTLEMENT', 'settlement', 31337, 8545, 2);
  const partner = chain(env, 'PARTNER', 'partner', 31338, 8546, 1);
  if (settlement.chainId === partner.chainId) throw new ConfigError('SETTLEMENT_CHAIN_ID and PARTNER_CHAIN_ID must differ');
  if (settlement.port === partner.port && settlement.host === partner.host) throw new ConfigError('SETTLEMENT_PORT and PARTNER_PORT must differ');
  const deployerKey = str(env, 'DEPLOYER_KEY', ANVIL_DEV_KEY);
  if (!/^0x[0-9a-fA-F]{64}$/.test(deployerKey)) throw new ConfigError('DEPLOYER_KEY must be a 0x-prefixed 32-byte hex private key');
  return {
    dataDir,
    deploymentFile: resolve(str(env, 'DEPLOYMENT_FILE', resolve(dataDir, 'deployment.json'))),
    settlement,
    partner,
    deployerKey,
    forcedInclusionDeadline: int(env, 'FORCED_INCLUSION_DEADLINE', 50, 1),
    circuit: PROFILES[profileName(env)],
    circuitCacheDir: resolve(str(env, 'CIRCUIT_CACHE_DIR', resolve(REPO_ROOT, '.cache', 'circuits'))),
    ceremonyPtau: env.CEREMONY_PTAU ? resolve(env.CEREMONY_PTAU) : undefined,
    rollup: rollupService(env, deployerKey),
    ipfs: ipfs(env, dataDir),
    indexer: indexer(env),
    api: api(env),
    relay: relay(env, dataDir),
    governance: governance(env),
    log: logConfig(env),
  };
}

function governance(env: Env): GovernanceConfig {
  if (!env.COUNCIL_MEMBERS) return { members: undefined };
  const members = env.COUNCIL_MEMBERS.split(',').map((m) => m.trim());
  for (const m of members) if (!/^0x[0-9a-fA-F]{40}$/.test(m)) throw new ConfigError(`COUNCIL_MEMBERS: "${m}" is not an address`);
  if (new Set(members.map((m) => m.toLowerCase())).size !== members.length) throw new ConfigError('COUNCIL_MEMBERS lists an address twice');
  return { members };
}

function key(raw: string, what: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) throw new ConfigError(`${what} must be a 0x-prefixed 32-byte hex private key`);
  return raw;
}

/** 2f+1 of 3f+1 (n - f for the largest f with 3f+1 <= n): the validators' and the council's quorum. */
export function byzantineQuorum(n: number): number {
  return n - Math.floor((n - 1) / 3);
}

function relay(env: Env, dataDir: string): RelayConfig {
  const validatorKeys = env.VALIDATOR_KEYS
    ? env.VALIDATOR_KEYS.split(',').map((k, i) => key(k.trim(), `VALIDATOR_KEYS[${i}]`))
    : [0, 1, 2, 3].map(devValidatorKey);
  const n = validatorKeys.length;
  const threshold = int(env, 'VALIDATOR_THRESHOLD', byzantineQuorum(n), 1, n);
  const validatorHost = str(env, 'VALIDATOR_HOST', '127.0.0.1');
  const validatorPort = int(env, 'VALIDATOR_PORT', 8560, 1, 65_535 - n);
  const urls = env.VALIDATOR_URLS
    ? env.VALIDATOR_URLS.split(',').map((u) => u.trim().replace(/\/+$/, ''))
    : validatorKeys.map((_, i) => `http://${validatorHost}:${validatorPort + i}`);
  for (const url of urls) {
    if (!(/^https?:\/\//.test(url) && URL.canParse(url))) throw new ConfigError(`VALIDATOR_URLS: "${url}" is not an http(s) URL`);
  }
  return {
    validatorKeys,
    threshold,
    validatorHost,
    validatorPort,
    validatorUrls: urls,
    relayerKey: key(str(env, 'RELAYER_KEY', HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), "m/44'/60'/0'/0/9").privateKey), 'RELAYER_KEY'),
    confirmations: int(env, 'RELAY_CONFIRMATIONS', 1, 0, 1_000),
    pollMs: int(env, 'RELAY_POLL_MS', 500, 50),
    dir: resolve(str(env, 'RELAY_DIR', resolve(dataDir, 'relay'))),
    localValidators: int(env, 'LOCAL_VALIDATORS', n, 0, n),
    relayerPort: int(env, 'RELAYER_PORT', 8569, 0, 65_535),
  };
}

function indexer(env: Env): Config['indexer'] {
  const port = int(env, 'INDEXER_PORT', 42_069, 1, 65_535);
  const url = httpUrl('INDEXER_URL', str(env, 'INDEXER_URL', `http://127.0.0.1:${port}`));
  return { host: str(env, 'INDEXER_HOST', '127.0.0.1'), port, schema: schemaName(env), url };
}

function api(env: Env): ApiConfig {
  const secret = env.API_TOKEN_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) throw new ConfigError('API_TOKEN_SECRET must be at least 32 characters');
  return {
    host: str(env, 'API_HOST', '127.0.0.1'),
    port: int(env, 'API_PORT', 4000, 0, 65_535),
    tokenSecret: secret,
    tokenTtlSeconds: int(env, 'API_TOKEN_TTL', 900, 10, 86_400),
    challengeTtlSeconds: int(env, 'API_CHALLENGE_TTL', 120, 5, 3_600),
    maxDepth: int(env, 'API_MAX_DEPTH', 10, 2, 100),
    maxCost: int(env, 'API_MAX_COST', 5_000, 10),
    rateLimitPerMinute: int(env, 'API_RATE_LIMIT', 600, 1),
    persistedOnly: bool(env, 'API_PERSISTED_ONLY', false),
  };
}

function schemaName(env: Env): string {
  const schema = str(env, 'INDEXER_SCHEMA', 'medrollup');
  if (!/^[a-z_][a-z0-9_]{0,44}$/.test(schema)) throw new ConfigError(`INDEXER_SCHEMA must be a lower-case SQL identifier, got "${schema}"`);
  // Postgres reserves the prefix for system schemas ("unacceptable schema name") and would refuse it only at indexer start.
  if (schema.startsWith('pg_')) throw new ConfigError(`INDEXER_SCHEMA must not start with pg_ (reserved by Postgres), got "${schema}"`);
  return schema;
}

function ipfs(env: Env, dataDir: string): IpfsConfig {
  const apiUrl = env.IPFS_API_URL || undefined;
  if (apiUrl !== undefined && !(/^https?:\/\//.test(apiUrl) && URL.canParse(apiUrl))) throw new ConfigError(`IPFS_API_URL must be an http:// or https:// URL, got "${apiUrl}"`);
  return { apiUrl, dir: resolve(str(env, 'IPFS_DIR', resolve(dataDir, 'ipfs'))) };
}

function rollupService(env: Env, deployerKey: string): RollupServiceConfig {
  const operatorKey = str(env, 'OPERATOR_KEY', deployerKey);
  if (!/^0x[0-9a-fA-F]{64}$/.test(operatorKey)) throw new ConfigError('OPERATOR_KEY must be a 0x-prefixed 32-byte hex private key');
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${redisUrl}"`);
  const priority = str(env, 'PRIORITY_OPS', '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const op of priority) {
    if (!(TX_OP_NAMES as readonly string[]).includes(op)) throw new ConfigError(`PRIORITY_OPS: unknown operation "${op}" (one of ${TX_OP_NAMES.join(', ')})`);
  }
  const proveLockMs = int(env, 'PROVE_LOCK_MS', 60_000, 1_000);
  return {
    redisUrl,
    redisPort: int(env, 'REDIS_PORT', 6390, 1, 65_535),
    operatorKey,
    sequencerHost: str(env, 'SEQUENCER_HOST', '127.0.0.1'),
    sequencerPort: int(env, 'SEQUENCER_PORT', 8550, 0, 65_535),
    batchTimeoutMs: int(env, 'BATCH_TIMEOUT_MS', 10_000, 10),
    priorityOps: [...new Set(priority)] as TxOpName[],
    proveWorkers: int(env, 'PROVE_WORKERS', 1, 0, 64),
    proveConcurrency: int(env, 'PROVE_CONCURRENCY', 1, 1, 64),
    proveLockMs,
    stalledCheckMs: int(env, 'STALLED_CHECK_MS', 15_000, 100),
    forcedPollMs: int(env, 'FORCED_POLL_MS', 1_000, 10),
    verifyThreads: int(env, 'VERIFY_THREADS', Math.max(1, availableParallelism() - 1), 1, 64),
    settleWorker: bool(env, 'SETTLE_WORKER', true),
    proverHost: str(env, 'PROVER_HOST', '127.0.0.1'),
    proverPort: int(env, 'PROVER_PORT', 8551, 0, 65_535),
    settlerHost: str(env, 'SETTLER_HOST', '127.0.0.1'),
    settlerPort: int(env, 'SETTLER_PORT', 8552, 0, 65_535),
  };
}

function profileName(env: Env): keyof typeof PROFILES {
  const name = str(env, 'CIRCUIT_PROFILE', 'dev');
  if (!isProfileName(name)) throw new ConfigError(`CIRCUIT_PROFILE must be one of ${Object.keys(PROFILES).join(', ')}, got "${name}"`);
  return name;
}

export function rpcUrl(chain: ChainConfig): string {
  return chain.rpcUrl;
}
