/**
 * Circuit profiles (circuits/SPEC.md): the batch shape a deployment's circuit, prover and Rollup
 * contract share. `test` is small enough for CI, `dev` is what `npm start` runs, `prod` meets the
 * production target (K >= 64, D >= 20).
 */
export interface CircuitProfile {
  readonly name: ProfileName;
  /** K: L2 transaction slots per batch. */
  readonly maxTxs: number;
  /** F: forced-operation slots per batch. */
  readonly maxForcedOps: number;
  /** D: state tree depth. */
  readonly treeDepth: number;
  /** S: consent tree depth per account. */
  readonly consentDepth: number;
  /**
   * How the circuit is compiled: circom's own --O1, or --O0 followed by our R1CS simplifier
   * (circuits/simplify.ts) for circuits whose --O1 compile exceeds circom2's 4 GB WASM memory.
   */
  readonly compile: 'O1' | 'O0+simplify';
}

export type ProfileName = 'test' | 'dev' | 'prod';

export const PROFILES: Readonly<Record<ProfileName, CircuitProfile>> = {
  test: { name: 'test', maxTxs: 2, maxForcedOps: 1, treeDepth: 4, consentDepth: 2, compile: 'O1' },
  dev: { name: 'dev', maxTxs: 8, maxForcedOps: 2, treeDepth: 10, consentDepth: 3, compile: 'O1' },
  prod: { name: 'prod', maxTxs: 64, maxForcedOps: 4, treeDepth: 20, consentDepth: 4, compile: 'O0+simplify' },
};

/** Bytes of one L2 transaction record in batch data. */
export const TX_RECORD_BYTES = 47;
export const FORCED_OP_BYTES = 73;
export const HEADER_BYTES = 48;

export function batchDataBytes(profile: Pick<CircuitProfile, 'maxTxs' | 'maxForcedOps'>): number {
  return HEADER_BYTES + profile.maxForcedOps * FORCED_OP_BYTES + profile.maxTxs * TX_RECORD_BYTES;
}

export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}
