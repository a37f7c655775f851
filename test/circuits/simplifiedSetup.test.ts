/**
 * The route the prod profile takes (circom --O0, our R1CS simplifier, dev key, in-memory witness
 * reduction), exercised at test size: the proof verifies with snarkjs and the reduced witness is
 * byte-identical to the file-based reduceWitness.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupCircuit, type CircuitArtifacts } from '../../circuits/setup.js';
import { reduceWitness } from '../../circuits/simplify.js';
import { ForcedKind, TxOp } from '../../prover/codec.js';
import { shutdownProver } from '../../prover/groth16.js';
import { PROFILES, type CircuitProfile } from '../../prover/profiles.js';
import { computeWitness, proveBatch, verifyBatchProof } from '../../prover/prove.js';
import { publicKeyOf, randomSecret, signTx } from '../../prover/signing.js';
import { RollupState } from '../../prover/state.js';
import { buildBatchWitness } from '../../prover/witness.js';

const profile: CircuitProfile = { ...PROFILES.test, compile: 'O0+simplify' };
let artifacts: CircuitArtifacts;

beforeAll(async () => {
  artifacts = await setupCircuit({ profile, log: () => {} });
}, 600_000);
afterAll(async () => {
  await shutdownProver();
});

it('proves a batch through the simplified R1CS, with fewer constraints than circom --O1', async () => {
  expect(artifacts.witnessMap).toBeDefined();
  expect(artifacts.constraints).toBeLessThan(243_852);
  const secret = randomSecret();
  const key = publicKeyOf(secret);
  const state = new RollupState(profile);
  state.applyForced({ kind: ForcedKind.RegisterAccount, account: 1, counterpart: 0, a: key.x, b: key.y });
  const upload = signTx(secret, { op: TxOp.Upload, actor: 1, target: 1, slot: 0, scope: 0, expiry: 0n, payload: 42n }, 0n);
  const w = buildBatchWitness(state, { forced: [], txs: [upload], timestamp: 1_700_000_000n }, profile);

  const p = await proveBatch(artifacts, w.input);
  expect(BigInt(p.publicSignals[0]!)).toBe(w.publicInput);
  expect(await verifyBatchProof(artifacts, p.proof, p.publicSignals)).toBe(true);

  // The in-memory selection equals the streaming file-based reduction.
  const dir = mkdtempSync(join(tmpdir(), 'simplified-'));
  try {
    const full = await computeWitness({ ...artifacts, witnessMap: undefined }, w.input);
    writeFileSync(join(dir, 'full.wtns'), full);
    await reduceWitness(join(dir, 'full.wtns'), artifacts.witnessMap!, join(dir, 'reduced.wtns'));
    expect(Buffer.from(await computeWitness(artifacts, w.input)).equals(readFileSync(join(dir, 'reduced.wtns')))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
