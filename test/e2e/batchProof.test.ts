/**
 * The acceptance path of the batch circuit: real Groth16 proofs of full batches (test profile,
 * dev-only key) verified on anvil by the generated BatchVerifier through Rollup.submitBatch, with
 * the on-chain root equal to the prover library's independent state.
 */
import { hexlify, type ContractTransactionReceipt } from 'ethers';
import { setupCircuit, readVerifierArtifact, type CircuitArtifacts } from '../../circuits/setup.js';
import type { ForcedKind} from '../../prover/codec.js';
import { Scope, TxOp, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { PROFILES } from '../../prover/profiles.js';
import { proveBatch, verifyBatchProof } from '../../prover/prove.js';
import { shutdownProver } from '../../prover/groth16.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { RollupState } from '../../prover/state.js';
import { buildBatchWitness, type BatchWitness } from '../../prover/witness.js';
import { startTestChain, deploySettlement, type TestChain, type SettlementContracts } from '../helpers/chain.js';
import { expectRevert } from '../helpers/revert.js';
import { GasTable } from '../helpers/gas.js';

const profile = PROFILES.test;
let artifacts: CircuitArtifacts;
let chain: TestChain;
let c: SettlementContracts;
const gas = new GasTable('Rollup with the batch circuit (test profile)');
const secrets = { hospital: randomSecret(), insurer: randomSecret(), patient: randomSecret() };

beforeAll(async () => {
  artifacts = await setupCircuit({ profile, log: () => {} });
  chain = await startTestChain();
  c = await deploySettlement(chain, { profile, verifier: readVerifierArtifact(artifacts) });
}, 600_000);
afterAll(async () => {
  gas.print();
  await chain?.stop();
  await shutdownProver();
});

function queued(receipt: ContractTransactionReceipt): ForcedOp[] {
  return receipt.logs.flatMap((log) => {
    const e = c.gateway.interface.parseLog(log);
    if (!e || e.name !== 'ForcedOperationQueued') return [];
    return [{ kind: Number(e.args.kind) as ForcedKind, account: Number(e.args.account), counterpart: Number(e.args.counterpart), a: e.args.a as bigint, b: e.args.b as bigint }];
  });
}

async function now(): Promise<bigint> {
  return BigInt((await chain.provider.getBlock('latest'))!.timestamp);
}

async function proveAndSubmit(w: BatchWitness, label: string) {
  const p = await proveBatch(artifacts, w.input);
  expect(await verifyBatchProof(artifacts, p.proof, p.publicSignals)).toBe(true);
  expect(BigInt(p.publicSignals[0]!)).toBe(w.publicInput);
  const proof = { a: p.solidity.pA, b: p.solidity.pB, c: p.solidity.pC };
  await gas.track(label, c.rollup.submitBatch(w.oldRoot, w.newRoot, hexlify(w.data), proof));
  return { proof, p };
}

it('proves and settles full batches of registrations, uploads and consents; the root matches the prover', async () => {
  const g = c.gateway;
  const key = (s: Uint8Array) => publicKeyOf(s);
  const ops: ForcedOp[] = [];
  ops.push(...queued((await (await g.registerInstitution(chain.accounts[2]!.address, 1, key(secrets.hospital).x, key(secrets.hospital).y, 'did:web:hospital')).wait())!));
  ops.push(...queued((await (await g.registerInstitution(chain.accounts[3]!.address, 3, key(secrets.insurer).x, key(secrets.insurer).y, 'did:web:insurer')).wait())!));
  ops.push(...queued((await (await g.connect(chain.accounts[5]!).registerPatient(key(secrets.patient).x, key(secrets.patient).y, chain.accounts[5]!.address)).wait())!));
  expect(ops.map((o) => o.account)).toEqual([1, 2, 3]);
  const [HOSPITAL, INSURER, PATIENT] = [1, 2, 3];

  let state = new RollupState(profile);
  expect(await c.rollup.stateRoot()).toBe(state.root);
  const sign = (secret: Uint8Array, fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>): SignedTx =>
    signTx(secret, { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields }, state.accountFields(fields.actor).nonce);

  // One forced slot per batch: the institutions arrive in two batches, in queue order.
  for (const op of ops.slice(0, 2)) {
    const w = buildBatchWitness(state, { forced: [op], txs: [], timestamp: await now() }, profile);
    await proveAndSubmit(w, 'submitBatch (1 forced)');
    state = w.state;
  }

  // A full batch: the patient's registration and two signed transactions.
  const t = await now();
  const registered = state.clone();
  registered.applyForced(ops[2]!);
  const upload = signTx(secrets.patient, { op: TxOp.Upload, actor: PATIENT, target: PATIENT, slot: 0, scope: 0, expiry: 0n, payload: 0x1234n }, 0n);
  const grant = signTx(secrets.patient, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: t + 3600n, payload: 0n }, 1n);
  const full = buildBatchWitness(state, { forced: [ops[2]!], txs: [upload, grant], timestamp: t }, profile);
  expect(registered.root).not.toBe(full.newRoot);
  await proveAndSubmit(full, 'submitBatch (full: 1 forced + 2 txs)');
  state = full.state;

  // The hospital reads under the consent; the insurer's claim is granted and filed.
  const t2 = await now();
  const access = sign(secrets.hospital, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0x1234n });
  const grantClaim = sign(secrets.patient, { op: TxOp.Grant, actor: PATIENT, target: INSURER, slot: 1, scope: Scope.Claim, expiry: t2 + 3600n });
  const w4 = buildBatchWitness(state, { forced: [], txs: [access, grantClaim], timestamp: t2 }, profile);
  await proveAndSubmit(w4, 'submitBatch (2 txs)');
  state = w4.state;

  expect(await c.rollup.stateRoot()).toBe(state.root);
  expect(await c.rollup.batchCount()).toBe(4n);
  expect(await c.gateway.forcedHead()).toBe(3n);
  expect(state.accountFields(PATIENT).indexHash).toBe(0x1234n);
  expect(state.consent(PATIENT, 1)).toMatchObject({ grantee: BigInt(INSURER), scope: BigInt(Scope.Claim) });

  // A proof is bound to its batch: other data, another root or a reused proof are refused.
  const claim = sign(secrets.insurer, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 1, payload: 77n });
  const w5 = buildBatchWitness(state, { forced: [], txs: [claim], timestamp: await now() }, profile);
  const p5 = await proveBatch(artifacts, w5.input);
  const proof5 = { a: p5.solidity.pA, b: p5.solidity.pB, c: p5.solidity.pC };
  const tampered = new Uint8Array(w5.data);
  tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
  await expectRevert(c.rollup.submitBatch(w5.oldRoot, w5.newRoot, hexlify(tampered), proof5), c.rollup.interface, 'InvalidProof');
  await expectRevert(c.rollup.submitBatch(w5.oldRoot, w5.newRoot + 1n, hexlify(w5.data), proof5), c.rollup.interface, 'InvalidProof');
  await gas.track('submitBatch (1 tx)', c.rollup.submitBatch(w5.oldRoot, w5.newRoot, hexlify(w5.data), proof5));
  await expectRevert(c.rollup.submitBatch(w5.oldRoot, w5.newRoot, hexlify(w5.data), proof5), c.rollup.interface, 'WrongOldRoot');
  expect(await c.rollup.stateRoot()).toBe(w5.newRoot);
  console.log(`test profile: ${artifacts.constraints} constraints, witness ${p5.witnessMs.toFixed(0)} ms, prove ${p5.proveMs.toFixed(0)} ms`);
}, 600_000);
