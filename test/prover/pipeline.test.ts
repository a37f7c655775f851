/**
 * The BullMQ proving/settlement pipeline end to end: a real Redis, a real anvil chain with the test
 * profile's generated verifier, real Groth16 proofs by two prove workers in parallel, and the
 * single settlement worker submitting the batches in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContractTransactionReceipt } from 'ethers';
import { setupCircuit, readVerifierArtifact, type CircuitArtifacts } from '../../circuits/setup.js';
import { Scope, TxOp, type ForcedKind, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { shutdownProver } from '../../prover/groth16.js';
import {
  Pipeline,
  SettlementMismatchError,
  enqueueSettle,
  proveJob,
  proveJobData,
  settleBatch,
  type PipelineEvent,
  type SettleJobResult,
} from '../../prover/pipeline.js';
import { PROFILES } from '../../prover/profiles.js';
import { Sequencer, type BatchEvent } from '../../prover/sequencer.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { deploySettlement, startTestChain, type SettlementContracts, type TestChain } from '../helpers/chain.js';

const profile = PROFILES.test;
const [PATIENT, HOSPITAL, INSURER] = [1, 2, 3];
const secrets = { patient: randomSecret(), hospital: randomSecret(), insurer: randomSecret() };

let artifacts: CircuitArtifacts;
let chain: TestChain;
let c: SettlementContracts;
let redis: RedisServer;
let dir: string;
let seq: Sequencer;
let pipeline: Pipeline;
const ops: ForcedOp[] = [];
const batches: BatchEvent[] = [];
const events: PipelineEvent[] = [];
const errors: Error[] = [];

function queued(receipt: ContractTransactionReceipt | null): ForcedOp[] {
  return (receipt?.logs ?? []).flatMap((log) => {
    const e = c.gateway.interface.parseLog(log);
    if (!e || e.name !== 'ForcedOperationQueued') return [];
    return [{ kind: Number(e.args.kind) as ForcedKind, account: Number(e.args.account), counterpart: Number(e.args.counterpart), a: e.args.a as bigint, b: e.args.b as bigint }];
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; pipeline errors: ${errors.map((e) => e.message).join('; ')}; failed jobs: ${events.filter((e) => e.stage === 'failed').map((e) => `${e.jobId}: ${e.reason}`).join('; ')}`);
    await sleep(200);
  }
}

/** Signs with the sequencer's live nonce of the actor. */
function sign(secret: Uint8Array, fields: Partial<TxRecord> & Pick<TxRecord, 'op' | 'actor'>): SignedTx {
  const nonce = seq.snapshot().accountFields(fields.actor).nonce;
  return signTx(secret, { target: fields.actor, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields }, nonce);
}

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

beforeAll(async () => {
  artifacts = await setupCircuit({ profile, log: () => {} });
  [chain, redis] = await Promise.all([startTestChain(), freePort().then((port) => startRedis({ port }))]);
  c = await deploySettlement(chain, { profile, verifier: readVerifierArtifact(artifacts) });

  const key = (s: Uint8Array) => publicKeyOf(s);
  const g = c.gateway;
  const patient = chain.accounts[5]!;
  ops.push(...queued(await (await g.connect(patient).registerPatient(key(secrets.patient).x, key(secrets.patient).y, patient.address)).wait()));
  ops.push(...queued(await (await g.registerInstitution(chain.accounts[2]!.address, 1, key(secrets.hospital).x, key(secrets.hospital).y, 'did:web:hospital')).wait()));
  ops.push(...queued(await (await g.registerInstitution(chain.accounts[3]!.address, 3, key(secrets.insurer).x, key(secrets.insurer).y, 'did:web:insurer')).wait()));
  expect(ops.map((o) => o.account)).toEqual([PATIENT, HOSPITAL, INSURER]);

  dir = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
  // Two seconds behind the clock: a batch's time may not run ahead of L1's block.timestamp.
  seq = await Sequencer.open({ profile, walPath: join(dir, 'wal.db'), batchTimeoutMs: 600_000, now: () => nowSeconds() - 2n });
  seq.on('batch', (b) => batches.push(b));

  pipeline = await Pipeline.start({
    connection: { url: redis.url },
    profile,
    artifacts,
    proveWorkers: 2,
    settlement: { rollup: c.rollup, operator: c.operator, notYetDelayMs: 300 },
    proveRetry: { attempts: 2, backoffMs: 1_000 },
    settleRetry: { attempts: 5, backoffMs: 500 },
  });
  pipeline.on('error', (err) => errors.push(err));
  pipeline.events.on((e) => events.push(e));
}, 600_000);

afterAll(async () => {
  await pipeline?.close();
  seq?.close();
  await redis?.stop();
  await chain?.stop();
  await shutdownProver();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function settled(index: number): Promise<SettleJobResult> {
  const job = await pipeline.settleQueue.getJob(`settle-${index}`);
  expect(job).toBeDefined();
  expect(await job!.getState()).toBe('completed');
  return job!.returnvalue;
}

it('proves three batches in parallel on two workers and settles them in order', async () => {
  const detach = pipeline.attach(seq);
  const t = nowSeconds();
  seq.addForced(ops[0]!, 0);
  seq.submit(sign(secrets.patient, { op: TxOp.Upload, actor: PATIENT, payload: 0x1234n }));
  seq.flush();
  seq.addForced(ops[1]!, 1);
  seq.submit(sign(secrets.patient, { op: TxOp.Grant, actor: PATIENT, target: HOSPITAL, slot: 0, scope: Scope.Read, expiry: t + 3600n }));
  seq.flush();
  seq.addForced(ops[2]!, 2);
  seq.submit(sign(secrets.hospital, { op: TxOp.Access, actor: HOSPITAL, target: PATIENT, slot: 0, payload: 0x1234n }));
  seq.flush();
  expect(batches.map((b) => [b.index, b.forced.length, b.txs.length])).toEqual([
    [0, 1, 1],
    [1, 1, 1],
    [2, 1, 1],
  ]);
  await pipeline.flushed();
  detach();

  // The same batch again, while it is being proved: the existing job, nothing new.
  const again = await pipeline.enqueueBatch(batches[0]!);
  expect(again.id).toBe('batch-0');

  await until('three settled batches', async () => (await pipeline.settleQueue.getCompletedCount()) === 3);
  expect(errors).toEqual([]);

  expect(await c.rollup.stateRoot()).toBe(seq.root);
  expect(await c.rollup.batchCount()).toBe(3n);
  const results = [await settled(0), await settled(1), await settled(2)];
  for (const [i, r] of results.entries()) {
    expect(r).toMatchObject({ index: i, newRoot: batches[i]!.newRoot.toString(), alreadySettled: false });
    expect(r.l1Block).toBeGreaterThan(0);
    expect(r.l1Block).toBe(Number((await c.rollup.batch(i)).l1Block));
  }
  expect(results[0]!.l1Block).toBeLessThan(results[1]!.l1Block);
  expect(results[1]!.l1Block).toBeLessThan(results[2]!.l1Block);

  // Two workers proved, and at least two proofs overlapped in time.
  const proveJobs = await Promise.all([0, 1, 2].map((i) => pipeline.proveQueue.getJob(`batch-${i}`)));
  const spans = proveJobs.map((j) => [j!.processedOn!, j!.finishedOn!] as const);
  const overlapping = spans.some(([s1, e1], i) => spans.some(([s2, e2], j) => i !== j && s1 < e2 && s2 < e1));
  expect(overlapping).toBe(true);
  expect(new Set(proveJobs.map((j) => j!.processedBy)).size).toBe(2);
  for (const j of proveJobs) expect(j!.returnvalue.publicSignals[0]).toBe(j!.data.input.inputHash);

  // Enqueueing a finished batch again changes nothing either.
  await pipeline.enqueueBatch(batches[1]!);
  expect(await pipeline.proveQueue.getJobCounts('completed', 'waiting', 'active', 'delayed', 'failed')).toEqual({ completed: 3, waiting: 0, active: 0, delayed: 0, failed: 0 });

  // Every batch went through the stages, finalized with its L1 block.
  await until('the finalized events', () => events.filter((e) => e.stage === 'finalized').length === 3, 5_000);
  for (const i of [0, 1, 2]) {
    const stages = events.filter((e) => e.batch === i).map((e) => e.stage);
    expect(stages).toEqual(expect.arrayContaining(['proving', 'proven', 'submitted', 'finalized']));
    expect(stages.indexOf('proven')).toBeLessThan(stages.indexOf('finalized'));
    expect(events.find((e) => e.batch === i && e.stage === 'finalized')?.l1Block).toBe(results[i]!.l1Block);
  }
  expect(events.some((e) => e.stage === 'failed')).toBe(false);
}, 120_000);

it('treats a settled batch as settled, and fails loudly when L1 holds another root', async () => {
  const job = await pipeline.settleQueue.getJob('settle-1');
  const r = await settleBatch(c.rollup, job!.data);
  expect(r).toEqual({ index: 1, newRoot: job!.data.newRoot, l1Block: (await settled(1)).l1Block, alreadySettled: true });
  await expect(settleBatch(c.rollup, { ...job!.data, newRoot: '12345' })).rejects.toThrow(SettlementMismatchError);
  // Nothing was sent.
  expect(await c.rollup.batchCount()).toBe(3n);
});

it('holds a settle job for batch 4 until batch 3 is settled', async () => {
  const t = nowSeconds();
  seq.submit(sign(secrets.patient, { op: TxOp.Grant, actor: PATIENT, target: INSURER, slot: 1, scope: Scope.Claim, expiry: t + 3600n }));
  seq.flush();
  seq.submit(sign(secrets.insurer, { op: TxOp.Claim, actor: INSURER, target: PATIENT, slot: 1, payload: 77n }));
  seq.flush();
  expect(batches.map((b) => b.index)).toEqual([0, 1, 2, 3, 4]);
  // Not attached: prove here, enqueue the settle jobs by hand, the later one first.
  const [d3, d4] = [proveJobData(batches[3]!, profile), proveJobData(batches[4]!, profile)];
  const [p3, p4] = await Promise.all([proveJob(artifacts, d3), proveJob(artifacts, d4)]);

  const j4 = await enqueueSettle(pipeline.settleQueue, d4, p4);
  await until('settle-4 to wait', async () => (await j4.getState()) === 'delayed' && (await pipeline.settleQueue.getJob('settle-4'))!.attemptsMade === 0, 10_000);
  await sleep(1_000);
  expect(await j4.getState()).not.toBe('completed');
  expect(await c.rollup.batchCount()).toBe(3n);

  await enqueueSettle(pipeline.settleQueue, d3, p3);
  await until('settle-4 to complete', async () => (await j4.getState()) === 'completed', 30_000);
  const [r3, r4] = [await settled(3), await settled(4)];
  expect(r3.l1Block).toBeLessThan(r4.l1Block);
  expect(r4.alreadySettled).toBe(false);
  expect(await c.rollup.batchCount()).toBe(5n);
  expect(await c.rollup.stateRoot()).toBe(seq.root);
  // One attempt: the waits used none.
  expect((await pipeline.settleQueue.getJob('settle-4'))!.attemptsMade).toBe(1);
  expect(errors).toEqual([]);
}, 90_000);
