/**
 * Builds Ponder's chains, contracts and database settings from the deployment file, so the
 * configuration has no chain written into it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Abi } from 'viem';
import { readDeployment, type ChainDeployment } from '../sdk/deployment.js';
import { FOREIGN_ROOTS_EVENTS, GATEWAY_EVENTS, PROVENANCE_EVENTS, ROLLUP_EVENTS, ROLLUP_FUNCTIONS, typedAbi } from './events.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The contracts the indexer follows, by their name in the deployment file and artifact. */
export const INDEXED_CONTRACTS = ['Gateway', 'Rollup', 'Provenance', 'ForeignRoots'] as const;
export type IndexedContract = (typeof INDEXED_CONTRACTS)[number];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function dataDir(env: Env): string {
  return resolve(ROOT, env.DATA_DIR ?? '.data');
}

export function deploymentChains(env: Env): ChainDeployment[] {
  const file = env.DEPLOYMENT_FILE ? resolve(ROOT, env.DEPLOYMENT_FILE) : join(dataDir(env), 'deployment.json');
  const deployment = readDeployment(file);
  // Every ChainDeployment in the file: settlement, partner and any added later.
  return Object.values(deployment).filter(
    (v): v is ChainDeployment => typeof v === 'object' && v !== null && 'chainId' in v && 'rpcUrl' in v && 'contracts' in v,
  );
}

export function abiOf(name: string): Abi {
  const path = join(ROOT, 'contracts', 'artifacts', `${name}.json`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { abi: Abi }).abi;
}

export function chainsOf(env: Env): Record<string, { id: number; rpc: string; pollingInterval: number; disableCache: boolean }> {
  const polling = Number(env.INDEXER_POLLING_MS ?? 500);
  return Object.fromEntries(
    deploymentChains(env).map((c) => [c.name, { id: c.chainId, rpc: c.rpcUrl, pollingInterval: polling, disableCache: true }]),
  );
}

type ChainAddresses = Record<string, { address: `0x${string}`; startBlock: number }>;

/** Where `name` is deployed: each chain of the deployment file that has it. */
export function addressesOf(env: Env, name: IndexedContract): ChainAddresses {
  const chain: ChainAddresses = {};
  for (const c of deploymentChains(env)) {
    const address = c.contracts[name];
    if (address) chain[c.name] = { address: address as `0x${string}`, startBlock: c.startBlock };
  }
  return chain;
}

export function contractsOf(env: Env) {
  return {
    Gateway: { abi: typedAbi('Gateway', abiOf('Gateway'), GATEWAY_EVENTS), chain: addressesOf(env, 'Gateway') },
    Rollup: { abi: typedAbi('Rollup', abiOf('Rollup'), [...ROLLUP_EVENTS, ...ROLLUP_FUNCTIONS]), chain: addressesOf(env, 'Rollup') },
    Provenance: { abi: typedAbi('Provenance', abiOf('Provenance'), PROVENANCE_EVENTS), chain: addressesOf(env, 'Provenance') },
    ForeignRoots: { abi: typedAbi('ForeignRoots', abiOf('ForeignRoots'), FOREIGN_ROOTS_EVENTS), chain: addressesOf(env, 'ForeignRoots') },
  };
}

export function databaseOf(env: Env): { kind: 'postgres'; connectionString: string } | { kind: 'pglite'; directory: string } {
  if (env.DATABASE_URL) return { kind: 'postgres', connectionString: env.DATABASE_URL };
  return { kind: 'pglite', directory: join(dataDir(env), 'indexer') };
}
