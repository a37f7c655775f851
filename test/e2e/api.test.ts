/**
 * The GraphQL API through the real stack (issue acceptance): the devnet (anvil chains, contracts,
 * test-profile verifier), redis-server, the rollup node as a process (`scripts/sequencer.ts`, one
 * prove worker), the Ponder indexer as a process, and the API server (Apollo + graphql-ws) reading
 * them. Parties sign in with their L2 keys; transactions go in through the submitTransaction
 * mutation; subscriptions follow batches to FINALIZED as the indexer sees them; access control,
 * limits and persisted operations are checked on the way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startApiFor } from '../../api/start.js';
import { persistedOperations, type ApiServer } from '../../api/server.js';
import { Gateway__factory, Rollup__factory, type Gateway } from '../../contracts/types/index.js';
import { Scope, TxOp, type TxRecord } from '../../prover/codec.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { startIndexer, type IndexerProcess } from '../../scripts/indexer.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { signChallenge } from '../../sdk/apiAuth.js';
import { signInToApi } from '../../sdk/apiClient.js';
import { loadConfig, type Config } from '../../sdk/config.js';
import { RollupClient } from '../../sdk/rollupClient.js';
import { launchChromium, screenshotDashboard } from '../helpers/browser.js';
import { runScript, type ScriptProcess } from '../helpers/process.js';
import { devnetEnv, devWallet, registerInstitution, registerPatient, setInstitutionActive, setOperator } from '../helpers/stack.js';
import { until as poll } from '../helpers/until.js';

interface Party {
  readonly name: string;
  readonly secret: Uint8Array;
  account: number;
  nonce: bigint;
  token: string;
}
const party = (name: string): Party => ({ name, secret: randomSecret(), account: 0, nonce: 0n, token: '' });
const P = party('patient');
const H = party('hospital');
const H2 = party('other hospital');

let dir: string;
let config: Config;
let devnet: Devnet;
let redis: RedisServer;
let provider: JsonRpcProvider;
let sequencer: ScriptProcess;
let indexer: IndexerProcess;
let api: ApiServer;
const extraApis: ApiServer[] = [];
const clients: Client[] = [];
const logs: string[] = [];

interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, token?: string, url = api.url): Promise<GqlResult<T> & { status: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as GqlResult<T>) };
}

/** The data of a query that must succeed. */
async function ok<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const r = await gql<T>(query, variables, token);
  if (r.errors?.length || !r.data) throw new Error(`query failed (${r.status}): ${JSON.stringify(r.errors)}`);
  return r.data;
}

const codeOf = (r: GqlResult<unknown>): string | undefined => r.errors?.[0]?.extensions?.code;

function wsClient(token?: string, url = api.wsUrl): Client {
  const c = createClient({ url, webSocketImpl: WebSocket, connectionParams: token ? { token } : {}, retryAttempts: 0 });
  clients.push(c);
  return c;
}

/** Collects a subscription's events into an array until the client is disposed. */
function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}): { events: (T & { receivedAt: number })[]; errors: unknown[] } {
  const out = { events: [] as (T & { receivedAt: number })[], errors: [] as unknown[] };
  client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) out.errors.push(...v.errors);
        else if (v.data) out.events.push({ ...(Object.values(v.data)[0] as T), receivedAt: Date.now() });
      },
      error: (e) => out.errors.push(e),
      complete: () => undefined,
    },
  );
  return out;
}

function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return poll(what, check, timeoutMs, { errorsMeanNotYet: false, context: () => `${sequencer.tail(15)}\n${logs.slice(-15).join('\n')}` });
}

/** Through the SDK's client (sdk/apiClient.ts), as a service would. */
async function signIn(p: Party): Promise<string> {
  const session = await signInToApi(api.url, p.account, p.secret);
  expect(session.account).toBe(p.account);
  return session.token;
}

function sign(from: Party, fields: Partial<TxRecord> & Pick<TxRecord, 'op'>): SignedTx {
  return signTx(from.secret, { actor: from.account, target: from.account, slot: 0, scope: 0, expiry: 0n, payload: 0n, ...fields }, from.nonce);
}

const SUBMIT = 'mutation($tx: SignedTxInput!) { submitTransaction(tx: $tx) { txHash batch position newRoot } }';
const txInput = (tx: SignedTx) => JSON.parse(JSON.stringify(tx, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;

async function submit(from: Party, fields: Partial<TxRecord> & Pick<TxRecord, 'op'>): Promise<{ txHash: string; batch: number }> {
  const { submitTransaction } = await ok<{ submitTransaction: { txHash: string; batch: number } }>(SUBMIT, { tx: txInput(sign(from, fields)) });
  from.nonce++;
  return submitTransaction;
}

const now = () => BigInt(Math.floor(Date.now() / 1000));
/** The settlement Gateway, signed by governance (the deployer key). */
const gatewayOf = (): Gateway => Gateway__factory.connect(devnet.deployment.settlement.contracts.Gateway!, new Wallet(config.deployerKey, provider));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'api-e2e-'));
  redis = await startRedis({ port: await freePort() });
  const env = await devnetEnv(dir, {
    REDIS_URL: redis.url,
    SEQUENCER_PORT: String(await freePort()),
    INDEXER_PORT: String(await freePort()),
    API_PORT: '0',
    BATCH_TIMEOUT_MS: '800',
    PROVE_WORKERS: '1',
    FORCED_POLL_MS: '300',
    // Its own operator key: governance (the deployer) sends transactions while the node settles.
    OPERATOR_KEY: devWallet(1).privateKey,
  });
  config = loadConfig(env);
  devnet = await startDevnet(config, { build: false, log: () => undefined });
  provider = new JsonRpcProvider(devnet.deployment.settlement.rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  const governance = new Wallet(config.deployerKey, provider);
  const gateway = gatewayOf();
  P.account = await registerPatient(gateway, publicKeyOf(P.secret), governance.address);
  for (const [p, i] of [[H, 3], [H2, 5]] as const) p.account = await registerInstitution(gateway, i, 1, publicKeyOf(p.secret), `did:web:${i}.example`);
  await setOperator(gateway, devWallet(1).address);

  sequencer = runScript('sequencer', 'scripts/sequencer.ts', env);
  await sequencer.waitFor(/\[sequencer\] running/, 90_000);
  const rollup = new RollupClient(`http://127.0.0.1:${env.SEQUENCER_PORT!}`);
  await until('the registrations in the sequencer', async () => {
    const h = await rollup.health().catch(() => undefined);
    return h && h.nextForcedIndex === 3 && h.pendingForcedOps === 0 ? true : undefined;
  }, 30_000);
  indexer = await startIndexer(config, (l) => logs.push(l));
  api = await startApiFor(config, devnet.deployment, redis.url, (l) => logs.push(l));
  // The registrations reach the indexer's tables (sign-in reads keys from there).
  await until('the accounts in the indexer', async () => ((await ok<{ institutions: unknown[] }>('{ institutions { account } }')).institutions.length === 2 ? true : undefined), 20_000);
}, 240_000);

afterAll(async () => {
  for (const c of clients) await c.dispose();
  for (const a of extraApis) await a.close();
  await api?.close();
  await indexer?.stop();
  await sequencer?.kill();
  provider?.destroy();
  await devnet?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('sign-in: a registered key gets a session; a wrong key, a reused challenge and a forged token do not', async () => {
  const anon = await gql('query($a: Int!) { patient(account: $a) { account } }', { a: 0 });
  expect(codeOf(anon)).toBe('UNAUTHENTICATED');

  const { challenge } = await ok<{ challenge: { chainId: number; rollup: string; account: number; nonce: string; expiresAt: number } }>(
    'mutation($a: Int!) { challenge(account: $a) { chainId rollup account nonce expiresAt } }',
    { a: P.account },
  );
  const forged = signChallenge(H.secret, challenge); // someone else's key
  const vars = (s: ReturnType<typeof signChallenge>) => ({ a: P.account, n: challenge.nonce, s: { r8x: s.r8x.toString(), r8y: s.r8y.toString(), s: s.s.toString() } });
  const SIGN_IN = 'mutation($a: Int!, $n: String!, $s: SignatureInput!) { signIn(account: $a, nonce: $n, signature: $s) { token } }';
  expect(codeOf(await gql(SIGN_IN, vars(forged)))).toBe('UNAUTHENTICATED');
  // The challenge was consumed by the failed try: the right signature for it is refused too.
  expect(codeOf(await gql(SIGN_IN, vars(signChallenge(P.secret, challenge))))).toBe('UNAUTHENTICATED');

  P.token = await signIn(P);
  H.token = await signIn(H);
  H2.token = await signIn(H2);
  expect((await ok<{ me: { account: number; role: string } }>('{ me { account role } }', {}, P.token)).me).toEqual({ account: P.account, role: 'Patient' });
  expect((await ok<{ me: { role: string } }>('{ me { role } }', {}, H.token)).me.role).toBe('Hospital');

  const tampered = P.token.slice(0, -2) + (P.token.endsWith('A') ? 'BB' : 'AA');
  const bad = await gql('{ me { account } }', {}, tampered);
  expect({ status: bad.status, code: codeOf(bad) }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
});

test('mutation, subscriptions and queries through chains -> Ponder -> API; consent decides what institutions see', async () => {
  const batchEvents = collect<{ batch: number; stage: string; source: string; txCount: number | null; l1Block: number | null }>(
    wsClient(),
    'subscription { batchEvents { batch stage source txCount l1Block } }',
  );
  const consentEvents = collect<{ patient: number; grantee: number; active: boolean }>(wsClient(P.token), 'subscription($p: Int!) { consentChanged(patient: $p) { patient grantee active } }', { p: P.account });
  const accessEvents = collect<{ actor: number; subject: number; op: string }>(wsClient(P.token), 'subscription($p: Int!) { accessLogged(patient: $p) { actor subject op batch } }', { p: P.account });
  // A patient cannot follow another patient's feed; an institution follows only its own accesses.
  const foreign = collect(wsClient(P.token), 'subscription($p: Int!) { accessLogged(patient: $p) { actor } }', { p: P.account + 1 });
  const otherHospital = collect<{ actor: number }>(wsClient(H2.token), 'subscription($p: Int!) { accessLogged(patient: $p) { actor } }', { p: P.account });
  await new Promise((r) => setTimeout(r, 500)); // subscriptions registered

  // Before any consent, the hospital sees nothing of the patient.
  expect(codeOf(await gql('query($a: Int!) { patient(account: $a) { account } }', { a: P.account }, H.token))).toBe('FORBIDDEN');

  await submit(P, { op: TxOp.Upload, payload: 0xa1n });
  const grant = await submit(P, { op: TxOp.Grant, target: H.account, slot: 0, scope: Scope.Read, expiry: now() + 3600n });

  // A refused transaction keeps the sequencer's code.
  const replay = await gql(SUBMIT, { tx: txInput(signTx(P.secret, { op: TxOp.Upload, actor: P.account, target: P.account, slot: 0, scope: 0, expiry: 0n, payload: 0xa2n }, 0n)) });
  expect(codeOf(replay)).toBe('BAD_NONCE');

  // Live consent: the hospital sees the patient at once (soft state), the other hospital does not.
  const seen = await ok<{ patient: { account: number; indexHash: string; nonce: string } }>('query($a: Int!) { patient(account: $a) { account indexHash nonce } }', { a: P.account }, H.token);
  expect(seen.patient).toEqual({ account: P.account, indexHash: String(0xa1), nonce: '2' });
  expect(codeOf(await gql('query($a: Int!) { patient(account: $a) { account } }', { a: P.account }, H2.token))).toBe('FORBIDDEN');
  expect(codeOf(await gql('query($a: Int!) { patient(account: $a) { account } }', { a: P.account + 1 }, P.token))).toBe('FORBIDDEN');

  // The grant's batch: FINALIZED from the indexer, within seconds of the chain event.
  const rollupContract = Rollup__factory.connect(devnet.deployment.settlement.contracts.Rollup!, provider);
  const chainSeen = new Map<number, number>();
  const onFinalized = (index: bigint) => chainSeen.set(Number(index), Date.now());
  await rollupContract.on(rollupContract.filters.BatchFinalized, onFinalized);
  // Registrations take one batch each (F = 1 in the test profile), each proved in turn: allow for a busy machine.
  const finalized = await until('the FINALIZED event (indexer) of the grant batch', () => batchEvents.events.find((e) => e.batch === grant.batch && e.stage === 'FINALIZED' && e.source === 'indexer'), 240_000);
  expect(finalized.txCount).toBeGreaterThanOrEqual(1);
  expect(finalized.l1Block).toBeGreaterThan(0);
  const stages = batchEvents.events.filter((e) => e.batch === grant.batch).map((e) => e.stage);
  expect(stages).toEqual(expect.arrayContaining(['PROVING', 'PROVEN', 'SUBMITTED', 'FINALIZED']));
  // Lag from the chain event to the subscriber (measured against an ethers listener polling at 100 ms).
  const chainAt = await until('the chain event in the listener', () => chainSeen.get(grant.batch), 10_000);
  expect(finalized.receivedAt - chainAt).toBeLessThan(5_000);
  await rollupContract.off(rollupContract.filters.BatchFinalized, onFinalized);

  // The consent is indexed: both sides see it, the other hospital is refused.
  const consent = await until('the indexed consent', () => consentEvents.events.find((e) => e.grantee === H.account && e.active), 20_000);
  expect(consent.patient).toBe(P.account);
  const mine = await ok<{ consents: { patient: number; grantee: number; scope: number; active: boolean; grantedBatch: number }[] }>(
    'query($p: Int!) { consents(patient: $p) { patient grantee scope active grantedBatch } }',
    { p: P.account },
    P.token,
  );
  expect(mine.consents).toEqual([{ patient: P.account, grantee: H.account, scope: Scope.Read, active: true, grantedBatch: grant.batch }]);
  const theirs = await ok<{ consents: { patient: number }[] }>('query($g: Int!) { consents(grantee: $g) { patient } }', { g: H.account }, H.token);
  expect(theirs.consents.map((c) => c.patient)).toEqual([P.account]);
  expect(codeOf(await gql('query($g: Int!) { consents(grantee: $g) { patient } }', { g: H.account }, H2.token))).toBe('FORBIDDEN');
  // Asking by patient, an institution gets only the consents naming it: none for the other hospital.
  expect((await ok<{ consents: unknown[] }>('query($p: Int!) { consents(patient: $p) { patient } }', { p: P.account }, H2.token)).consents).toEqual([]);
  expect((await ok<{ patients: { account: number }[] }>('{ patients { account } }', {}, H.token)).patients.map((p) => p.account)).toEqual([P.account]);
  expect((await ok<{ patients: unknown[] }>('{ patients { account } }', {}, H2.token)).patients).toEqual([]);

  // The hospital accesses the record; the patient's accessLogged subscription hears it once finalized.
  await submit(H, { op: TxOp.Access, target: P.account, slot: 0, payload: 0xa1n });
  const access = await until('the accessLogged event', () => accessEvents.events.find((e) => e.actor === H.account), 120_000);
  expect(access).toMatchObject({ actor: H.account, subject: P.account, op: 'Access' });
  const trail = await ok<{ transactions: { op: string; actor: number }[] }>('query($p: Int!) { transactions(patient: $p) { op actor } }', { p: P.account }, P.token);
  expect(trail.transactions.map((t) => t.op)).toEqual(['Access', 'Grant', 'Upload']);
  const own = await ok<{ transactions: { op: string; actor: number }[] }>('query($p: Int!) { transactions(patient: $p) { op actor } }', { p: P.account }, H.token);
  expect(own.transactions).toEqual([{ op: 'Access', actor: H.account }]);
  expect(JSON.stringify(foreign.errors)).toMatch(/FORBIDDEN|patients follow only their own/);
  expect(otherHospital.events).toEqual([]);

  // Revoke: the hospital loses sight at once (live state), before the revoke is even finalized.
  await submit(P, { op: TxOp.Revoke, target: H.account, slot: 0 });
  expect(codeOf(await gql('query($a: Int!) { patient(account: $a) { account } }', { a: P.account }, H.token))).toBe('FORBIDDEN');
  await until('the revoked consent event', () => consentEvents.events.find((e) => e.grantee === H.account && !e.active), 120_000);

  // Batches: Relay pagination over what the indexer holds, public.
  const all = await ok<{ batches: { totalCount: number; edges: { cursor: string; node: { index: number } }[] } }>('{ batches(first: 100) { totalCount edges { cursor node { index } } } }');
  expect(all.batches.totalCount).toBeGreaterThanOrEqual(3);
  expect(all.batches.edges.map((e) => e.node.index)).toEqual([...Array(all.batches.totalCount).keys()]);
  const page1 = await ok<{ batches: { edges: { cursor: string; node: { index: number } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>('{ batches(first: 1) { edges { cursor node { index } } pageInfo { hasNextPage endCursor } } }');
  expect(page1.batches.edges.map((e) => e.node.index)).toEqual([0]);
  expect(page1.batches.pageInfo.hasNextPage).toBe(true);
  const page2 = await ok<{ batches: { edges: { node: { index: number } }[] } }>('query($c: String!) { batches(first: 2, after: $c) { edges { node { index } } } }', { c: page1.batches.pageInfo.endCursor });
  expect(page2.batches.edges.map((e) => e.node.index)).toEqual([1, 2]);
  const latest = await ok<{ batches: { edges: { node: { index: number } }[] } }>('{ batches(last: 1) { edges { node { index } } } }');
  expect(latest.batches.edges.map((e) => e.node.index)).toEqual([all.batches.totalCount - 1]);
  expect(codeOf(await gql('{ batches(first: 1, after: "bm9wZQ") { totalCount } }'))).toBe('BAD_USER_INPUT');

  // Governance deactivates the other hospital: its live session sees no patient data, and it cannot sign in again.
  await setInstitutionActive(gatewayOf(), devWallet(5).address, false);
  await until('the deactivation in the indexer', async () => {
    const r = await gql('query($a: Int!) { patient(account: $a) { account } }', { a: P.account }, H2.token);
    return r.errors?.[0]?.message.includes('not active') ? true : undefined;
  }, 20_000);
  const { challenge: c2 } = await ok<{ challenge: { chainId: number; rollup: string; account: number; nonce: string; expiresAt: number } }>(
    'mutation($a: Int!) { challenge(account: $a) { chainId rollup account nonce expiresAt } }',
    { a: H2.account },
  );
  const s2 = signChallenge(H2.secret, c2);
  const again = await gql('mutation($a: Int!, $n: String!, $s: SignatureInput!) { signIn(account: $a, nonce: $n, signature: $s) { token } }', {
    a: H2.account,
    n: c2.nonce,
    s: { r8x: s2.r8x.toString(), r8y: s2.r8y.toString(), s: s2.s.toString() },
  });
  expect(codeOf(again)).toBe('FORBIDDEN');

  // The receipt of the grant: finalized with its L1 block.
  const { receipt } = await ok<{ receipt: { status: string; batch: number; l1Block: number } }>('query($h: String!) { receipt(txHash: $h) { status batch l1Block } }', { h: grant.txHash });
  expect(receipt).toMatchObject({ status: 'FINALIZED', batch: grant.batch });
  expect(batchEvents.errors).toEqual([]);
}, 600_000);

test('depth and cost limits, rate limits and persisted-only mode refuse with codes', async () => {
  // Our schema has no cycles (its deepest path is 4), so a tight limit is what shows the rule working.
  const strict = await startApiFor({ ...config, api: { ...config.api, maxDepth: 3, maxCost: 20 } }, devnet.deployment, undefined, () => undefined);
  extraApis.push(strict);
  const tooDeep = await gql('{ batches { edges { node { index } } } }', {}, undefined, strict.url);
  expect({ status: tooDeep.status, code: codeOf(tooDeep), message: tooDeep.errors?.[0]?.message }).toEqual({ status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringMatching(/depth/i) });
  const costly = await gql('{ stats { proveQueue { waiting active } settleQueue { waiting active } } institutions { account did role address } }', {}, undefined, strict.url);
  expect(costly.errors?.[0]?.message).toMatch(/cost/i);
  expect((await gql('{ stats { finalizedBatches } }', {}, undefined, strict.url)).errors).toBeUndefined();
  const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: stats { throughput }`).join(' ');
  expect((await gql(`{ ${aliases} }`)).errors?.[0]?.message).toMatch(/alias/i);
  // Subscriptions go through the same rules.
  const manyAliases = collect(wsClient(), `subscription { batchEvents { ${Array.from({ length: 30 }, (_, i) => `b${i}: batch`).join(' ')} } }`);
  await until('the refused aliased subscription', () => (manyAliases.errors.length > 0 ? true : undefined), 5_000);
  expect(JSON.stringify(manyAliases.errors)).toMatch(/alias/i);

  // A subscription ends with its session: the socket closes (4401) when the token expires.
  const short = await startApiFor({ ...config, api: { ...config.api, tokenTtlSeconds: 2 } }, devnet.deployment, undefined, () => undefined);
  extraApis.push(short);
  const shortToken = (await signInToApi(short.url, P.account, P.secret)).token;
  const closed = new Promise<number>((resolve) => {
    const c = createClient({ url: short.wsUrl, webSocketImpl: WebSocket, connectionParams: { token: shortToken }, lazy: false, retryAttempts: 0, on: { closed: (e) => resolve((e as { code: number }).code) } });
    clients.push(c);
    c.subscribe({ query: 'subscription($p: Int!) { consentChanged(patient: $p) { slot } }', variables: { p: P.account } }, { next: () => undefined, error: () => undefined, complete: () => undefined });
  });
  expect(await closed).toBe(4401);

  const base = { ...config, api: { ...config.api, rateLimitPerMinute: 3 } };
  const limited = await startApiFor(base, devnet.deployment, undefined, () => undefined);
  extraApis.push(limited);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await gql('{ stats { finalizedBatches } }', {}, undefined, limited.url)).status);
  expect(statuses).toEqual([200, 200, 200, 429, 429]);
  const refused = await gql('{ stats { finalizedBatches } }', {}, undefined, limited.url);
  expect(codeOf(refused)).toBe('RATE_LIMITED');

  const persisted = await startApiFor({ ...config, api: { ...config.api, persistedOnly: true } }, devnet.deployment, undefined, () => undefined);
  extraApis.push(persisted);
  expect(codeOf(await gql('{ stats { finalizedBatches } }', {}, undefined, persisted.url))).toBe('PERSISTED_QUERY_ONLY');
  const op = persistedOperations().find((o) => o.name === 'DashboardStats')!;
  const res = await fetch(persisted.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ operationName: 'DashboardStats', extensions: { persistedQuery: { version: 1, sha256Hash: op.hash } } }),
  });
  const body = (await res.json()) as GqlResult<{ stats: { finalizedBatches: number } }>;
  expect(body.errors).toBeUndefined();
  expect(body.data!.stats.finalizedBatches).toBeGreaterThanOrEqual(3);
}, 60_000);

test('the dashboard shows a live batch (headless Chromium over graphql-ws)', async () => {
  const browser = await launchChromium({ log: (l) => logs.push(l) });
  try {
    const { batch } = await submit(P, { op: TxOp.Update, payload: 0xa3n });
    const out = join(tmpdir(), 'medrollup-dashboard.png');
    const shot = await screenshotDashboard(browser, api.url.replace(/\/graphql$/, '/dashboard/'), out, {
      waitForSelector: `body[data-live="connected"] tr[data-batch="${batch}"][data-stage="FINALIZED"]`,
      timeoutMs: 180_000,
    });
    console.log(`dashboard screenshot: ${out} (${shot.png.length} bytes)`);
    expect(shot.png.subarray(1, 4).toString()).toBe('PNG');
    expect(shot.consoleErrors).toEqual([]);
  } finally {
    await browser.close();
  }
}, 600_000);
