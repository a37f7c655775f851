/**
 * The deployment file: one JSON document every service reads to find chains and contracts.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ChainDeployment {
  readonly name: string;
  readonly chainId: number;
  readonly rpcUrl: string;
  /** Contract name -> address. */
  readonly contracts: Readonly<Record<string, string>>;
  /** First block any of these contracts can emit events in (indexers start here). */
  readonly startBlock: number;
}

/** The batch circuit the Rollup's verifier belongs to. */
export interface CircuitDeployment {
  readonly profile: string;
  readonly maxTxs: number;
  readonly maxForcedOps: number;
  readonly treeDepth: number;
  readonly consentDepth: number;
  /** circuits/setup.ts output holding the proving key that matches the deployed verifier. */
  readonly artifactsDir: string;
  /** True when the proving key came from the dev-only route (anyone could forge proofs). */
  readonly insecure: boolean;
}

export interface Deployment {
  readonly version: 2;
  readonly createdAt: string;
  readonly settlement: ChainDeployment;
  readonly partner: ChainDeployment;
  readonly circuit: CircuitDeployment;
}

export class DeploymentFileError extends Error {
  override readonly name = 'DeploymentFileError';
}

export function writeDeployment(path: string, deployment: Deployment): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(deployment, null, 2)}\n`);
  renameSync(tmp, path); // atomic: readers never see half a file
}

export function readDeployment(path: string): Deployment {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    throw new DeploymentFileError(`no deployment file at ${path}: start the devnet (npm start) or set DEPLOYMENT_FILE`);
  }
  let parsed: Partial<Deployment>;
  try {
    parsed = JSON.parse(raw) as Partial<Deployment>;
  } catch (err) {
    throw new DeploymentFileError(`${path} is not valid JSON (${(err as Error).message}): delete it or restart with npm start -- --reset`);
  }
  if (parsed.version !== 2 || !parsed.settlement || !parsed.partner || !parsed.circuit) {
    throw new DeploymentFileError(`${path} is not a version-2 deployment file`);
  }
  return parsed as Deployment;
}
