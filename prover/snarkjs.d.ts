/**
 * Minimal typings for snarkjs 0.7.6, which ships no declarations. Only the functions this repo
 * calls are declared; signatures follow node_modules/snarkjs/src/*.js. Field elements cross the
 * snarkjs API as decimal strings (snarkjs stringifies its bigints).
 */
declare module 'snarkjs' {
  /** snarkjs calls these when a logger is passed; every method is optional in practice. */
  export interface Logger {
    debug(msg: string): void;
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
  }

  /** A Groth16 proof as snarkjs returns it: affine points in projective form (last coordinate "1"). */
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }

  /** The verification key JSON (`zkey export verificationkey`). Kept open: only snarkjs reads it. */
  export interface VerificationKey {
    protocol: string;
    curve: string;
    nPublic: number;
    [field: string]: unknown;
  }

  /** An ffjavascript curve; only what the build needs (passing it on, and stopping its workers). */
  export interface Curve {
    name: string;
    terminate(): Promise<void>;
  }

  export namespace groth16 {
    function fullProve(
      input: Record<string, string | bigint | number>,
      wasmFile: string,
      zkeyFile: string,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    /** Files may be paths or fastfile in-memory objects `{ type: 'mem', data }`. */
    function prove(
      zkeyFile: string | { type: 'mem'; data: Uint8Array },
      witnessFile: string | { type: 'mem'; data: Uint8Array },
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    function verify(vk: VerificationKey, publicSignals: string[], proof: Groth16Proof, logger?: Logger): Promise<boolean>;
    /** Returns the calldata as text: `[pA],[[pB]],[pC],[pub]` with 0x-prefixed 32-byte hex words. */
    function exportSolidityCallData(proof: Groth16Proof, publicSignals: string[]): Promise<string>;
  }

  export namespace powersOfTau {
    function newAccumulator(curve: Curve, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    function contribute(oldPtau: string, newPtau: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    function beacon(
      oldPtau: string,
      newPtau: string,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    function preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<void>;
  }

  export namespace zKey {
    function newZKey(r1csFile: string, ptauFile: string, zkeyFile: string, logger?: Logger): Promise<unknown>;
    function contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    function verifyFromR1cs(r1csFile: string, ptauFile: string, zkeyFile: string, logger?: Logger): Promise<boolean>;
    function exportVerificationKey(zkeyFile: string, logger?: Logger): Promise<VerificationKey>;
    /** `templates` maps protocol name to the EJS template text (node_modules/snarkjs/templates). */
    function exportSolidityVerifier(zkeyFile: string, templates: Record<string, string>, logger?: Logger): Promise<string>;
  }

  export namespace curves {
    function getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<Curve>;
  }
}
