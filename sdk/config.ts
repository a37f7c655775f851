/**
 * The one typed place for configuration. Every value is read from the environment with a
 * documented default; services and scripts call `loadConfig()` and never read process.env
 * themselves.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILES, isProfileName, type CircuitProfile } from '../prover/profiles.js';

export interface ChainConfig {
  /** Short name used in logs, file names and the deployment file. */
  readonly name: string;
  readonly chainId: number;
  readonly host: string;
  readonly port: number;
  /** Seconds between blocks; 0 means automine (a block per transaction). */
  readonly blockTime: number;
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
}

/** anvil's first well-known development key: public knowledge, never for real funds. */
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

function chain(env: Env, prefix: string, name: string, chainId: number, port: number, blockTime: number): ChainConfig {
  return {
    name,
    chainId: int(env, `${prefix}_CHAIN_ID`, chainId, 1),
    host: str(env, `${prefix}_HOST`, '127.0.0.1'),
    port: int(env, `${prefix}_PORT`, port, 1, 65_535),
    blockTime: int(env, `${prefix}_BLOCK_TIME`, blockTime),
  };
}

/**
 * Environment variables (defaults in brackets):
 * - DATA_DIR [./.data]                       devnet chain state, deployment file
 * - DEPLOYMENT_FILE [$DATA_DIR/deployment.json]
 * - SETTLEMENT_CHAIN_ID [31337], SETTLEMENT_HOST [127.0.0.1], SETTLEMENT_PORT [8545], SETTLEMENT_BLOCK_TIME [2]
 * - PARTNER_CHAIN_ID [31338], PARTNER_HOST [127.0.0.1], PARTNER_PORT [8546], PARTNER_BLOCK_TIME [1]
 * - DEPLOYER_KEY [anvil dev key #0]
 * - FORCED_INCLUSION_DEADLINE [50] blocks
 * - CIRCUIT_PROFILE [dev]                    test | dev | prod (circuits/SPEC.md)
 * - CIRCUIT_CACHE_DIR [./.cache/circuits]    compiled circuits and proving keys
 * - CEREMONY_PTAU [unset]                    ceremony .ptau for production keys; unset = dev-only keys
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
  };
}

function profileName(env: Env): keyof typeof PROFILES {
  const name = str(env, 'CIRCUIT_PROFILE', 'dev');
  if (!isProfileName(name)) throw new ConfigError(`CIRCUIT_PROFILE must be one of ${Object.keys(PROFILES).join(', ')}, got "${name}"`);
  return name;
}

export function rpcUrl(chain: ChainConfig): string {
  return `http://${chain.host}:${chain.port}`;
}
