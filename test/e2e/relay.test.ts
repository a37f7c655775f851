/**
 * The cross-chain relay end to end on the devnet, every service a real process: the devnet (two
 * anvil chains; Hyperlane core, RootPublisher and ForeignRoots deployed by the devnet's own code),
 * redis-server, the rollup node with a prove worker, four institution validators and the
 * untrusted relayer. A patient's upload is finalized on the settlement chain; its state root
 * arrives on the partner chain within seconds; a hospital there verifies the patient's record
 * index against it. The relayer is then killed right after publishing, restarted, and joined by a
 * second relayer: every root arrives exactly once, in order. The GraphQL API serves the relayed
 * roots, the patient's proof and the partner chain's verdict.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ForeignRoots__factory, Gateway__factory, Rollup__factory, type ForeignRoots, type Rollup } from '../../contracts/types/index.js';
import { TxOp } from '../../prover/codec.js';
import { publicKeyOf, randomSecret, signTx } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { startApiFor } from '../../api/start.js';
import type { ApiServer } from '../../api/server.js';
import { startIndexer, type IndexerProcess } from '../../scripts/indexer.js';
import { graphqlRequest, signInToApi } from '../../sdk/apiClient.js';
import { loadConfig, type Config } from '../../sdk/config.js';
import { RollupClient, type AccountProof } from '../../sdk/rollupClient.js';
import { runScript, type ScriptProcess } from '../helpers/process.js';
import { devWallet, devnetEnv, registerPatient, setOperator } from '../helpers/stack.js';
import { until as poll } from '../helpers/until.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let dir: string;
let env: Record<string, string>;
let config: Config;
let devnet: Devnet;
let redis: RedisServer;
let settlement: JsonRpcProvider;
let partner: JsonRpcProvider;
let rollup: Rollup;
let foreignRoots: ForeignRoots;
let client: RollupClient;
let sequencer: ScriptProcess;
const validators: ScriptProcess[] = [];
const relayers: ScriptProcess[] = [];
let origin: number;
let indexer: IndexerProcess | undefined;
let api: ApiServer | undefined;

const patient = { secret: randomSecret(), account: 0, nonce: 0n };

function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  return poll(what, check, timeoutMs, { context: () => [sequencer, ...validators, ...relayers].map((p) => p.tail(12)).join('\n') });
}

function startRelayer(name: string, extra: Record<string, string> = {}): ScriptProcess {
  const r = runScript(name, 'scripts/relay.ts', { ...env, ...extra }, ['relayer']);
  relayers.push(r);
  return r;
}

/** Sends an Upload/Update setting the patient's index hash (soft receipt only). */
async function sendIndexHash(op: TxOp, indexHash: bigint): Promise<{ batch: number; txHash: string }> {
  const tx = signTx(patient.secret, { op, actor: patient.account, target: patient.account, slot: 0, scope: 0, expiry: 0n, payload: indexHash }, patient.nonce);
  const receipt = await client.submit(tx);
  patient.nonce++;
  return receipt;
}

/** Sends it and waits until its batch is finalized on the settlement chain; returns the batch. */
async function setIndexHash(op: TxOp, indexHash: bigint): Promise<number> {
  const receipt = await sendIndexHash(op, indexHash);
  await client.waitFinal(receipt.txHash, 90_000);
  return receipt.batch;
}

const proofArg = (p: AccountProof) => ({
  account: p.account,
  pubX: p.pubX,
  pubY: p.pubY,
  nonce: p.nonce,
  indexHash: p.indexHash,
  consentRoot: p.consentRoot,
  siblings: [...p.siblings],
});

async function acceptedEvents(): Promise<number[]> {
  const logs = await foreignRoots.queryFilter(foreignRoots.filters.ForeignRootAccepted(origin), 0, 'latest');
  return logs.map((l) => Number(l.args.batchIndex));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-e2e-'));
  redis = await startRedis({ port: await freePort() });
  const validatorPorts = await Promise.all([0, 1, 2, 3].map(() => freePort()));
  env = await devnetEnv(dir, {
    REDIS_URL: redis.url,
    SEQUENCER_PORT: String(await freePort()),
    BATCH_TIMEOUT_MS: '500',
    PROVE_WORKERS: '1',
    FORCED_POLL_MS: '300',
    OPERATOR_KEY: devWallet(1).privateKey,
    INDEXER_PORT: String(await freePort()),
    API_PORT: '0',
    RELAY_POLL_MS: '250',
    RELAYER_PORT: '0',
    VALIDATOR_URLS: validatorPorts.map((p) => `http://127.0.0.1:${p}`).join(','),
  });
  config = loadConfig(env);
  devnet = await startDevnet(config, { build: false, log: () => undefined });
  const { deployment } = devnet;
  origin = deployment.settlement.chainId;
  settlement = new JsonRpcProvider(deployment.settlement.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  partner = new JsonRpcProvider(deployment.partner.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  rollup = Rollup__factory.connect(deployment.settlement.contracts.Rollup!, settlement);
  foreignRoots = ForeignRoots__factory.connect(deployment.partner.contracts.ForeignRoots!, partner);
  const governance = new Wallet(config.deployerKey, settlement);
  const gateway = Gateway__factory.connect(deployment.settlement.contracts.Gateway!, governance);
  patient.account = await registerPatient(gateway, publicKeyOf(patient.secret), governance.address);
  await setOperator(gateway, devWallet(1).address);

  sequencer = runScript('sequencer', 'scripts/sequencer.ts', env);
  // Validator i serves on VALIDATOR_PORT + i: give each its own base so the ports are the free ones.
  for (const [i, port] of validatorPorts.entries()) {
    validators.push(runScript(`validator-${i}`, 'scripts/relay.ts', { ...env, VALIDATOR_PORT: String(port - i) }, ['validator', String(i)]));
  }
  startRelayer('relayer-a');
  await Promise.all([
    sequencer.waitFor(/\[sequencer\] running/, 90_000),
    ...validators.map((v) => v.waitFor(/running/, 60_000)),
    relayers[0]!.waitFor(/running/, 60_000),
  ]);
  client = new RollupClient(`http://127.0.0.1:${env.SEQUENCER_PORT!}`);
}, 240_000);

afterAll(async () => {
  await api?.close();
  await indexer?.stop();
  await Promise.allSettled([sequencer?.kill(), ...validators.map((v) => v.kill()), ...relayers.map((r) => r.kill())]);
  settlement?.destroy();
  partner?.destroy();
  await devnet?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('a finalized root reaches the partner chain within seconds and a hospital there verifies the record index', async () => {
  const indexHash = 0x1d2e3f4a5b6c7d8e9fn;
  const batch = await setIndexHash(TxOp.Upload, indexHash);
  const finalizedAt = Date.now();
  const root = (await rollup.batch(batch)).stateRoot;

  await until('the root on the partner chain', async () => (await foreignRoots.acceptedCount(origin)) > BigInt(batch), 30_000);
  const latencyMs = Date.now() - finalizedAt;
  console.log(`batch ${batch}: finalized -> accepted on the partner chain in ${(latencyMs / 1000).toFixed(1)} s`);
  expect(latencyMs).toBeLessThan(20_000);
  expect((await foreignRoots.foreignRoot(origin, batch)).stateRoot).toBe(root);

  // The hospital gets the patient's proof for that batch from the settlement side (public data)
  // and checks it on its own chain against the relayed root.
  const proof = await client.accountProof(patient.account, batch);
  expect(proof.root).toBe(root);
  expect(proof.indexHash).toBe(indexHash);
  const hospital = new Wallet(devWallet(3).privateKey, partner);
  const asHospital = foreignRoots.connect(hospital);
  expect(await asHospital.verifyForeignRecord(origin, batch, patient.account, indexHash, proofArg(proof))).toBe(true);
  expect(await asHospital.verifyForeignRecord(origin, batch, patient.account, indexHash + 1n, proofArg(proof))).toBe(false);
  const key = publicKeyOf(patient.secret);
  expect(await asHospital.verifyForeignIdentity(origin, batch, patient.account, key.x, key.y, proofArg(proof))).toBe(true);
  expect(await asHospital.verifyForeignIdentity(origin, batch, patient.account, key.x, key.y + 1n, proofArg(proof))).toBe(false);
  const tampered = { ...proofArg(proof), siblings: proof.siblings.map((s, i) => (i === 0 ? s + 1n : s)) };
  expect(await asHospital.verifyForeignRecord(origin, batch, patient.account, indexHash, tampered)).toBe(false);

  // On chain and on the record: the attestation names the hospital.
  const receipt = await (await asHospital.attestForeignRecord(origin, batch, patient.account, indexHash, proofArg(proof))).wait();
  const event = receipt!.logs.map((l) => foreignRoots.interface.parseLog(l)).find((e) => e?.name === 'ForeignRecordVerified');
  expect(event?.args.verifier).toBe(hospital.address);
  await expect(asHospital.attestForeignRecord(origin, batch, patient.account, indexHash + 1n, proofArg(proof))).rejects.toThrow(/NotInForeignRoot|reverted/);
}, 180_000);

test('a relayer killed right after publishing, restarted and joined by a second one: every root exactly once, in order', async () => {
  const first = relayers[0]!;
  // Kill it the moment it has published the next root, before it can deliver it (delivery waits
  // for the validators, who wait a confirmation block).
  const expected = Number(await rollup.batchCount());
  const published = first.waitFor(new RegExp(`published roots of batches \\d+\\.\\.${expected} `), 120_000);
  const sent = await sendIndexHash(TxOp.Update, 0xabcdefn);
  expect(sent.batch).toBe(expected);
  await published;
  await first.kill('SIGKILL');
  expect(await foreignRoots.acceptedCount(origin)).toBe(BigInt(expected));
  await client.waitFinal(sent.txHash, 60_000);
  const batch = sent.batch;

  // A second relayer with its own key joins; the first comes back from its state file.
  startRelayer('relayer-b', { RELAYER_KEY: devWallet(7).privateKey, RELAY_DIR: join(dir, 'relayer-b') });
  startRelayer('relayer-a2');
  await until('the root after the crash', async () => (await foreignRoots.acceptedCount(origin)) > BigInt(batch), 45_000);
  const next = await setIndexHash(TxOp.Update, 0xfedcban);
  await until('the next root with two relayers', async () => (await foreignRoots.acceptedCount(origin)) > BigInt(next), 45_000);

  const accepted = await acceptedEvents();
  const batches = Number(await rollup.batchCount());
  expect(accepted).toEqual([...Array(batches).keys()]);
  for (const i of accepted) expect((await foreignRoots.foreignRoot(origin, i)).stateRoot).toBe((await rollup.batch(i)).stateRoot);
}, 240_000);

test('the GraphQL API: relayed roots from the indexer, the patient\'s proof, the partner chain\'s verdict', async () => {
  indexer = await startIndexer(config, () => undefined, { env: { INDEXER_POLLING_MS: '200' } });
  api = await startApiFor(config, devnet.deployment, redis.url, () => undefined);
  const batches = Number(await rollup.batchCount());
  type Root = { origin: number; batch: number; stateRoot: string; chainId: number };
  const roots = await until('the relayed roots in the indexer', async () => {
    const r = (await graphqlRequest<{ foreignRoots: Root[] }>(api!.url, '{ foreignRoots(first: 50) { origin batch stateRoot chainId } }')).foreignRoots;
    return r.length === batches ? r : undefined;
  }, 60_000);
  expect(roots.map((r) => r.batch)).toEqual([...Array(batches).keys()].reverse());
  expect(roots.every((r) => r.origin === origin && r.chainId === devnet.deployment.partner.chainId)).toBe(true);

  const last = batches - 1;
  const PROOF = 'query($a: Int!, $b: Int!) { accountProof(account: $a, batch: $b) { account pubX pubY nonce indexHash consentRoot siblings root } }';
  const anonymous = await graphqlRequest(api.url, PROOF, { a: patient.account, b: last }).then(() => 'ok', (e: { code?: string }) => e.code);
  expect(anonymous).toBe('UNAUTHENTICATED');
  const session = await signInToApi(api.url, patient.account, patient.secret);
  const { accountProof } = await graphqlRequest<{ accountProof: Record<string, unknown> & { root: string; indexHash: string } }>(api.url, PROOF, { a: patient.account, b: last }, session.token);
  expect(accountProof.root).toBe(roots[0]!.stateRoot);
  const { root: _root, ...proof } = accountProof;
  const VERIFY = 'query($o: Int!, $b: Int!, $a: Int!, $h: String!, $p: AccountProofInput!) { verifyForeignRecord(origin: $o, batch: $b, account: $a, indexHash: $h, proof: $p) { valid chainId } }';
  const verdict = (h: string, b = last) => graphqlRequest<{ verifyForeignRecord: { valid: boolean; chainId: number } }>(api!.url, VERIFY, { o: origin, b, a: patient.account, h, p: proof });
  expect((await verdict(accountProof.indexHash)).verifyForeignRecord).toEqual({ valid: true, chainId: devnet.deployment.partner.chainId });
  expect((await verdict((BigInt(accountProof.indexHash) + 1n).toString())).verifyForeignRecord.valid).toBe(false);
  await expect(verdict(accountProof.indexHash, batches + 5)).rejects.toThrow(/has reached chain/);
  const key = publicKeyOf(patient.secret);
  const IDENTITY = 'query($o: Int!, $b: Int!, $a: Int!, $k: PublicKeyInput!, $p: AccountProofInput!) { verifyForeignIdentity(origin: $o, batch: $b, account: $a, publicKey: $k, proof: $p) { valid } }';
  const identity = await graphqlRequest<{ verifyForeignIdentity: { valid: boolean } }>(api.url, IDENTITY, { o: origin, b: last, a: patient.account, k: { x: key.x.toString(), y: key.y.toString() }, p: proof });
  expect(identity.verifyForeignIdentity.valid).toBe(true);

  // Live: the next batch's root reaching the partner chain arrives as a RELAYED batch event.
  const ws = createClient({ url: api.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    const relayed: { batch: number; chainId: number; l1Block: number }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.subscribe<{ batchEvents: { batch: number; chainId: number; l1Block: number } }>(
        { query: 'subscription { batchEvents(stages: [RELAYED]) { batch stage chainId l1Block } }' },
        { next: (m) => relayed.push(m.data!.batchEvents), error: reject, complete: resolve },
      );
    });
    void done.catch(() => undefined);
    await sleep(1_000); // the subscription is registered before the batch closes
    const next = await setIndexHash(TxOp.Update, 0x5151n);
    await until('the RELAYED event', async () => relayed.some((e) => e.batch === next), 30_000);
    expect(relayed.find((e) => e.batch === next)!.chainId).toBe(devnet.deployment.partner.chainId);
  } finally {
    await ws.dispose();
  }
}, 180_000);

test('the sequencer, the API, the validators and the relayer serve Prometheus metrics, with no health data', async () => {
  const text = async (url: string) => {
    const res = await fetch(url);
    expect([url, res.status, res.headers.get('content-type')?.startsWith('text/plain')]).toEqual([url, 200, true]);
    return res.text();
  };
  const metric = (body: string, name: string) => {
    const line = body.split('\n').find((l) => l.startsWith(name));
    if (!line) throw new Error(`no ${name} in\n${body.slice(0, 400)}`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const batches = Number(await rollup.batchCount());
  const sequencerMetrics = await text(`http://127.0.0.1:${env.SEQUENCER_PORT!}/metrics`);
  expect(metric(sequencerMetrics, 'medrollup_batches_closed_total')).toBeGreaterThanOrEqual(batches);
  expect(sequencerMetrics).toMatch(/medrollup_pipeline_events_total\{stage="finalized",service="sequencer"\} \d+/);
  expect(sequencerMetrics).toMatch(/medrollup_http_requests_total\{route="\/v1\/transactions",status="200",code="",service="sequencer"\} \d+/);
  const apiMetricsText = await text(api!.url.replace(/\/graphql$/, '/metrics'));
  expect(apiMetricsText).toMatch(/medrollup_api_operations_total\{operation="anonymous",type="query",code="",service="api"\} \d+/);
  const validatorUrls = env.VALIDATOR_URLS!.split(',');
  for (const [i, url] of validatorUrls.entries()) {
    const body = await text(`${url}/metrics`);
    expect([i, metric(body, `medrollup_validator_latest_checkpoint{service="validator-${i}"}`)]).toEqual([i, batches - 1]);
    expect(metric(body, `medrollup_validator_halted{service="validator-${i}"}`)).toBe(0);
  }
  const line = await relayers.at(-1)!.waitFor(/health and metrics on http:\/\/[\d.:]+/, 5_000);
  const relayerUrl = /health and metrics on (http:\/\/[\d.:]+)/.exec(line)![1]!;
  const relayerMetricsText = await text(`${relayerUrl}/metrics`);
  expect(relayerMetricsText).toMatch(/medrollup_relayer_delivered_total\{service="relayer"\} \d+/);
  // Counts, sizes and times only: no keys, index hashes or roots.
  const key = publicKeyOf(patient.secret);
  for (const body of [sequencerMetrics, apiMetricsText, relayerMetricsText]) {
    for (const secret of [key.x.toString(), (await rollup.batch(batches - 1)).stateRoot.toString()]) expect(body.includes(secret)).toBe(false);
  }
}, 60_000);
