/**
 * The rollup end to end on the devnet, with every service a real process: the devnet (two anvil
 * chains, contracts deployed by the devnet's own code, test-profile verifier), redis-server, the
 * rollup node (`npm run sequencer`: sequencer, HTTP, forced-queue watcher, settlement) and two
 * prove workers (`npm run prover`). Several accounts send mixed operations over HTTP; one prove
 * worker is killed with SIGKILL in the middle of a proof, and the sequencer once while its batch
 * is open. At the end every accepted transaction is finalized on L1 with its block, every rejected
 * one got its precise error, and the Rollup's root equals a recomputation from nothing but L1
 * data (the batches' calldata).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueEvents, Queue } from 'bullmq';
import { JsonRpcProvider, Wallet, getBytes } from 'ethers';
import { Gateway__factory, Rollup__factory, type Gateway, type Rollup } from '../../contracts/types/index.js';
import { Scope, TxOp, decodeBatchData, type TxRecord } from '../../prover/codec.js';
import { pipelinePrefix, PROVE_QUEUE } from '../../prover/pipeline.js';
import { PROFILES } from '../../prover/profiles.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { RollupState } from '../../prover/state.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { loadConfig } from '../../sdk/config.js';
import { runScript, type ScriptProcess } from '../helpers/process.js';
import { devnetEnv, registerInstitution, registerPatient } from '../helpers/stack.js';
import { until as poll } from '../helpers/until.js';

const profile = PROFILES.test;

let dir: string;
let env: Record<string, string>;
let devnet: Devnet;
let redis: RedisServer;
let provider: JsonRpcProvider;
let gateway: Gateway;
let rollup: Rollup;
let sequencer: ScriptProcess;
const provers: ScriptProcess[] = [];
let base: string;
let proveQueue: Queue | undefined;

interface Party {
  readonly name: string;
  readonly secret: Uint8Array;
  account: number;
  nonce: bigint;
}
const party = (name: string): Party => ({ name, secret: randomSecret(), account: 0, nonce: 0n });
const P1 = party('patient 1');
const P2 = party('patient 2');
const H = party('hospital');
const I = party('insurer');

interface Accepted {
  readonly txHash: string;
  readonly batch: number;
  readonly position: number;
  readonly record: TxRecord;
}
const accepted: Accepted[] = [];

function toJson(tx: SignedTx): string {
  return JSON.stringify(tx, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

async function post(body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function sign(from: Party, fields: Partial<TxRecord> & Pick<TxRecord, 'op'>, nonce = from.nonce): SignedTx {
  return signTx(from.secret, { actor: from.account, target: from.account, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields }, nonce);
}

/** Sends a transaction that must be accepted; records its soft receipt. */
async function ok(from: Party, fields: Partial<TxRecord> & Pick<TxRecord, 'op'>): Promise<Accepted> {
  const tx = sign(from, fields);
  const res = await post(toJson(tx));
  if (res.status !== 200) throw new Error(`${from.name} ${JSON.stringify(fields, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}: ${res.status} ${JSON.stringify(res.json)}`);
  from.nonce++;
  const a = { txHash: res.json.txHash as string, batch: res.json.batch as number, position: res.json.position as number, record: tx.record };
  accepted.push(a);
  return a;
}

/** Sends a transaction that must be refused with `code` (HTTP 422); the sender's nonce stays. */
async function refused(code: string, tx: SignedTx): Promise<void> {
  const res = await post(toJson(tx));
  expect({ status: res.status, code: (res.json.error as { code?: string } | undefined)?.code }).toEqual({ status: 422, code });
}

interface Health {
  nextForcedIndex: number;
  pendingForcedOps: number;
  openBatch: { index: number } | null;
}
async function health(): Promise<Health> {
  return (await (await fetch(`${base}/v1/health`)).json()) as Health;
}

function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  return poll(what, check, timeoutMs, { intervalMs: 250, context: () => [sequencer, ...provers].map((p) => p.tail(15)).join('\n') });
}

async function startSequencer(): Promise<void> {
  sequencer = runScript('sequencer', 'scripts/sequencer.ts', env);
  await sequencer.waitFor(/\[sequencer\] running/, 60_000);
}

function startProver(name: string): ScriptProcess {
  const p = runScript(name, 'scripts/prover.ts', env);
  provers.push(p);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rollup-e2e-'));
  redis = await startRedis({ port: await freePort() });
  env = await devnetEnv(dir, {
    REDIS_URL: redis.url,
    SEQUENCER_PORT: String(await freePort()),
    BATCH_TIMEOUT_MS: '1500',
    PROVE_WORKERS: '0',
    PROVER_PORT: '0', // two provers on one host
    // A killed prover's job is taken again within ~8 s.
    PROVE_LOCK_MS: '6000',
    STALLED_CHECK_MS: '2000',
    FORCED_POLL_MS: '300',
  });
  const config = loadConfig(env);
  devnet = await startDevnet(config, { build: false, log: () => undefined });
  base = `http://127.0.0.1:${env.SEQUENCER_PORT!}`;
  provider = new JsonRpcProvider(devnet.deployment.settlement.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  const governance = new Wallet(config.deployerKey, provider);
  gateway = Gateway__factory.connect(devnet.deployment.settlement.contracts.Gateway!, governance);
  rollup = Rollup__factory.connect(devnet.deployment.settlement.contracts.Rollup!, provider);

  // Four accounts through the Gateway's forced queue, before the node runs (the deployer is also
  // the operator: its nonces then belong to the settlement worker alone).
  for (const p of [P1, P2]) p.account = await registerPatient(gateway, publicKeyOf(p.secret), governance.address);
  for (const [p, role, i] of [[H, 1, 3], [I, 3, 4]] as const) p.account = await registerInstitution(gateway, i, role, publicKeyOf(p.secret), `did:web:${p.name.replace(' ', '-')}.example`);
  expect(new Set([P1, P2, H, I].map((p) => p.account)).size).toBe(4);

  await startSequencer();
  startProver('prover-a');
  startProver('prover-b');
  await Promise.all(provers.map((p) => p.waitFor(/waiting for jobs/, 60_000)));
  // Four forced slots (F = 1 per batch): the last one is in the state once its batch opened.
  await until('the four registrations in the sequencer state', async () => {
    const h = await health();
    return (h.nextForcedIndex === 4 && h.pendingForcedOps === 0) || undefined;
  }, 30_000);
}, 180_000);

afterAll(async () => {
  await proveQueue?.close();
  await Promise.allSettled([sequencer?.kill(), ...provers.map((p) => p.kill())]);
  provider?.destroy();
  await devnet?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('finalizes every accepted transaction through a prover crash and a sequencer crash; the L1 root matches a recomputation from L1 data', async () => {
  const now = () => BigInt(Math.floor(Date.now() / 1000));

  // --- Phase A: uploads and grants from several accounts, and the refusals.
  const firstUpload = sign(P1, { op: TxOp.Upload, payload: 0xa1n });
  await ok(P1, { op: TxOp.Upload, payload: 0xa1n });
  await ok(P2, { op: TxOp.Upload, payload: 0xb1n });
  await ok(P1, { op: TxOp.Grant, target: H.account, slot: 0, scope: Scope.Read, expiry: now() + 3600n });
  await ok(P2, { op: TxOp.Grant, target: I.account, slot: 0, scope: Scope.Claim, expiry: now() + 3600n });

  await refused('BAD_NONCE', firstUpload); // a replay
  const good = sign(P2, { op: TxOp.Update, payload: 0xb2n });
  await refused('BAD_SIGNATURE', { ...good, signature: { ...good.signature, s: good.signature.s ^ 1n } });
  await refused('NO_CONSENT', sign(I, { op: TxOp.Claim, target: P1.account, slot: 0, payload: 1n })); // P1's slot 0 is H's
  await refused('WRONG_SCOPE', sign(H, { op: TxOp.Claim, target: P1.account, slot: 0, payload: 1n })); // READ only
  await refused('ALREADY_UPLOADED', sign(P1, { op: TxOp.Upload, payload: 0xa9n }));
  await refused('UNKNOWN_ACTOR', signTx(randomSecret(), { op: TxOp.Upload, actor: 9, target: 9, slot: 0, scope: 0, expiry: 0n, payload: 1n }, 0n));
  const malformed = await post('{"record": {"op": 1}');
  expect([malformed.status, (malformed.json.error as { code: string }).code]).toEqual([400, 'MALFORMED']);

  // --- A prove worker dies in the middle of a proof.
  const prefix = pipelinePrefix(devnet.deployment.settlement.chainId, devnet.deployment.settlement.contracts.Rollup!);
  proveQueue = new Queue(PROVE_QUEUE, { connection: { url: redis.url }, prefix });
  const jobs = proveQueue;
  const events = new QueueEvents(PROVE_QUEUE, { connection: { url: redis.url }, prefix });
  let killed: { jobId: string; name: string } | undefined;
  try {
    await events.waitUntilReady();
    const victim = await new Promise<{ jobId: string; prover: ScriptProcess; name: string }>((resolve) => {
      const onActive = ({ jobId }: { jobId: string }) => {
        void (async () => {
          const job = await jobs.getJob(jobId);
          const by = job?.processedBy ?? '';
          const prover = provers.find((p) => by.endsWith(`-${p.pid}`));
          if (!prover || killed) return;
          events.off('active', onActive);
          resolve({ jobId, prover, name: by });
        })();
      };
      events.on('active', onActive);
    });
    // Seen as active within milliseconds; a test-profile proof takes seconds: this is mid-proof.
    await victim.prover.kill('SIGKILL');
    killed = { jobId: victim.jobId, name: victim.name };
    startProver('prover-c');
  } finally {
    await events.close();
  }

  // --- Phase B: reads and claims under the consents, updates; then the sequencer dies.
  await ok(H, { op: TxOp.Access, target: P1.account, slot: 0, payload: 0xa1n });
  await ok(I, { op: TxOp.Claim, target: P2.account, slot: 0, payload: 0xc1a1n });
  await ok(P1, { op: TxOp.Update, payload: 0xa2n });
  const lastBeforeCrash = await ok(P2, { op: TxOp.Update, payload: 0xb2n });
  const open = await health();
  await sequencer.kill('SIGKILL');
  await startSequencer();
  // Nothing accepted was lost, the open batch included.
  for (const a of accepted) {
    const r = (await (await fetch(`${base}/v1/transactions/${a.txHash}`)).json()) as { batch: number; position: number };
    expect([r.batch, r.position]).toEqual([a.batch, a.position]);
  }
  expect(open.openBatch === null || open.openBatch.index === lastBeforeCrash.batch).toBe(true);
  await refused('BAD_NONCE', sign(P2, { op: TxOp.Update, payload: 0xb3n }, P2.nonce - 1n));

  // --- Phase C: a revocation takes effect at once; more grants and uses.
  await ok(P1, { op: TxOp.Revoke, target: H.account, slot: 0 });
  await refused('NO_CONSENT', sign(H, { op: TxOp.Access, target: P1.account, slot: 0, payload: 0xa2n }));
  await ok(P2, { op: TxOp.Grant, target: H.account, slot: 1, scope: Scope.Read | Scope.Claim, expiry: now() + 3600n });
  await ok(H, { op: TxOp.Access, target: P2.account, slot: 1, payload: 0xb2n });
  await ok(H, { op: TxOp.Claim, target: P2.account, slot: 1, payload: 0xc1a2n });

  // --- Every accepted transaction reaches L1, with the block that finalized its batch.
  const receipts = await until(
    'every accepted transaction finalized',
    async () => {
      const rs = await Promise.all(accepted.map(async (a) => (await (await fetch(`${base}/v1/transactions/${a.txHash}`)).json()) as { status: string; batch: number; l1Block?: number; l1TxHash?: string }));
      return rs.every((r) => r.status === 'finalized') ? rs : undefined;
    },
    300_000,
  );
  for (const r of receipts) {
    expect(r.l1Block).toBe(Number((await rollup.batch(r.batch)).l1Block));
    expect(r.l1TxHash).toMatch(/^0x[0-9a-f]{64}$/);
  }

  // The killed worker's job was proved by another worker after its lock ran out.
  const job = await jobs.getJob(killed!.jobId);
  expect(await job!.getState()).toBe('completed');
  expect(job!.processedBy).not.toBe(killed!.name);

  // Operators see the queues: nothing failed for good, a settled job per batch.
  // (A settle job completes just after its batch shows on L1: wait for the last one.)
  const batchCount = Number(await rollup.batchCount());
  type Status = { prove: Record<string, number>; settle: Record<string, number>; failures: unknown[] };
  const status = await until('the last settle job to complete', async () => {
    const st = (await (await fetch(`${base}/v1/pipeline`)).json()) as Status;
    return st.settle.completed === batchCount ? st : undefined;
  }, 20_000);
  expect(status.failures).toEqual([]);
  expect(status.prove.completed).toBe(batchCount);

  // --- Independent recomputation from L1 alone: each BatchFinalized's calldata, decoded and applied.
  const state = new RollupState(profile);
  const finalized = await rollup.queryFilter(rollup.filters.BatchFinalized(), devnet.deployment.settlement.startBlock);
  const onL1 = new Map<string, TxRecord>();
  let mixedBatches = 0;
  for (const [i, ev] of finalized.entries()) {
    expect(Number(ev.args.batchIndex)).toBe(i);
    const tx = await provider.getTransaction(ev.transactionHash);
    const call = rollup.interface.parseTransaction({ data: tx!.data })!;
    expect(call.name).toBe('submitBatch');
    const data = getBytes(call.args.batchData as string);
    const batch = decodeBatchData(data, profile);
    expect(state.root).toBe(ev.args.oldRoot);
    for (const op of batch.forced) state.applyForced(op);
    batch.txs.forEach((record, position) => {
      state.applyTx({ record, nonce: 0n, signature: { r8x: 0n, r8y: 0n, s: 0n } }, batch.header.timestamp, { unchecked: true });
      onL1.set(`${i}:${position}`, record);
    });
    expect(state.root).toBe(ev.args.newRoot);
    if (new Set(batch.txs.map((t) => t.op)).size > 1 || new Set(batch.txs.map((t) => t.actor)).size > 1) mixedBatches++;
  }
  expect(state.root).toBe(await rollup.stateRoot());
  expect(finalized.length).toBe(Number(await rollup.batchCount()));
  expect(mixedBatches).toBeGreaterThanOrEqual(3);
  // Exactly the accepted transactions, each where its soft receipt said.
  expect(onL1.size).toBe(accepted.length);
  for (const a of accepted) expect(onL1.get(`${a.batch}:${a.position}`)).toEqual(a.record);
}, 480_000);
