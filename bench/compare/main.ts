/**
 * `npm run bench` (no suite): the same synthetic healthcare workload against three systems, side
 * by side in one run, on one L1:
 *
 *   1. L1-only: BaselineRegistry on the settlement chain, one L1 transaction per operation.
 *   2. Non-ZK sidechain: BaselineRegistry on the partner chain, plus an anchoring loop that posts
 *      a Merkle root of the sidechain operations since the last anchor to L1 (Provenance.anchor)
 *      every `--anchor-every` seconds.
 *   3. Ours: signed L2 transactions to the sequencer over HTTP (RollupClient.submit), proved in
 *      batches (dev circuit, one prove worker in process) and finalized on L1 by Rollup.submitBatch.
 *
 * Options: --ops 48 --mix upload=2,access=3,update=2,claim=1 --patients <uploads> --file-kb 64
 * --seed 1 --concurrency 8 --l1-block-time 12 --side-block-time 2 --anchor-every 30
 * --batch-timeout-ms 2000 --gas-gwei 20 --eth-usd 3000 --out <dir>
 *
 * See bench/README.md ("compare") for what is measured and how to read it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { JsonRpcProvider, NonceManager, Wallet, keccak256, toBeHex, type TransactionReceipt } from 'ethers';
import { BaselineRegistry__factory, Council__factory, Gateway__factory, Provenance__factory, Rollup__factory } from '../../contracts/types/index.js';
import { Scope, TxOp, type TxRecord } from '../../prover/codec.js';
import { shutdownProver } from '../../prover/groth16.js';
import { RollupNode } from '../../prover/node.js';
import { publicKeyOf, signTx } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../../scripts/devnet.js';
import { startRedis, type RedisServer } from '../../scripts/redis.js';
import { loadConfig } from '../../sdk/config.js';
import { devCouncilWallets, proposeAndExecute, registerInstitutionCall } from '../../sdk/governance.js';
import { RollupClient } from '../../sdk/rollupClient.js';
import { BlockWatch } from './blockWatch.js';
import { SYSTEM_LABELS, SYSTEM_SHORT, checkClaims, resultsCsv, summaryTables, systemResult, toCsv, type OpTiming, type SystemKey, type SystemResult } from './report.js';
import { barChartSvg, svgToPng, type BarChart } from './svg.js';
import { DEFAULT_MIX, INSTITUTIONS, INSURER, actorOf, generateWorkload, parseMix, seededBytes, type Operation } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    ops: { type: 'string', default: '48' },
    mix: { type: 'string', default: DEFAULT_MIX },
    patients: { type: 'string' },
    'file-kb': { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    'l1-block-time': { type: 'string', default: '12' },
    'side-block-time': { type: 'string', default: '2' },
    'anchor-every': { type: 'string', default: '30' },
    'batch-timeout-ms': { type: 'string', default: '2000' },
    'gas-gwei': { type: 'string', default: '20' },
    'eth-usd': { type: 'string', default: '3000' },
    out: { type: 'string' },
  },
});
const num = (name: keyof typeof opts, min = 0): number => {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number >= ${min}, got ${String(opts[name])}`);
  return v;
};
const S = {
  ops: num('ops', 1),
  mix: opts.mix!,
  fileKb: num('file-kb', 0),
  seed: num('seed'),
  concurrency: num('concurrency', 1),
  l1BlockTimeS: num('l1-block-time', 1),
  sideBlockTimeS: num('side-block-time', 1),
  anchorEveryS: num('anchor-every', 1),
  batchTimeoutMs: num('batch-timeout-ms', 100),
  gasGwei: num('gas-gwei'),
  ethUsd: num('eth-usd'),
  profile: 'dev',
};
const prices = { gasGwei: S.gasGwei, ethUsd: S.ethUsd };

const began = Date.now();
const log = (line: string) => console.error(`[compare ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A wallet on one chain with its own nonce counter (explicit nonces: no estimateGas, sends in any order). */
class Sender {
  private nonce = 0;
  constructor(
    readonly wallet: Wallet,
    private readonly chainId: number,
  ) {}
  async init(): Promise<this> {
    this.nonce = await this.wallet.provider!.getTransactionCount(this.wallet.address, 'pending');
    return this;
  }
  /** Takes the next nonce now (synchronously) and sends. */
  send(to: string, data: string, gasLimit = 300_000n): Promise<string> {
    const nonce = this.nonce++;
    return this.wallet
      .sendTransaction({ to, data, nonce, gasLimit, chainId: this.chainId, type: 2, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n })
      .then((tx) => tx.hash);
  }
}

async function receiptOf(provider: JsonRpcProvider, hash: string, what: string): Promise<TransactionReceipt> {
  const r = await until(`the receipt of ${what}`, () => provider.getTransactionReceipt(hash).then((x) => x ?? undefined), 120_000, 100);
  if (r.status !== 1) throw new Error(`${what} reverted (${hash})`);
  return r;
}

/** Runs `exec` over the operations in order with `concurrency` in flight. */
async function pool(ops: readonly Operation[], concurrency: number, exec: (op: Operation) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ops.length) }, async () => {
      while (next < ops.length) await exec(ops[next++]!);
    }),
  );
}

const tmp = mkdtempSync(join(tmpdir(), 'bench-compare-'));
let redis: RedisServer | undefined;
let devnet: Devnet | undefined;
let node: RollupNode | undefined;
const providers: JsonRpcProvider[] = [];
const watches: BlockWatch[] = [];
try {
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  log(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memGiB} GiB, node ${machine.node}`);

  // ---------------------------------------------------------------- workload (deterministic)
  const workload = generateWorkload({ ops: S.ops, mix: parseMix(S.mix), seed: S.seed, fileKb: S.fileKb, ...(opts.patients ? { patients: num('patients', 1) } : {}) });
  const kindCounts = Object.fromEntries(['upload', 'update', 'access', 'claim'].map((k) => [k, workload.ops.filter((o) => o.kind === k).length]));
  log(`workload: ${S.ops} ops (${Object.entries(kindCounts).map(([k, n]) => `${n} ${k}`).join(', ')}), ${workload.patients} patients, 3 institutions, ${S.fileKb} KiB encrypted payloads (AES-256-GCM + SHA-256 in ${secs(workload.encryptMs)}), seed ${S.seed}`);

  // ---------------------------------------------------------------- stack
  // The devnet deploys and the accounts are set up with a block per transaction (at 12 s blocks the
  // deployment alone would take minutes); before the timed run both chains switch to interval
  // mining at --l1-block-time / --side-block-time (evm_setIntervalMining).
  let t = Date.now();
  redis = await startRedis({ port: await freePort(), name: 'bench-redis' });
  const env: Record<string, string> = {
    DATA_DIR: tmp,
    CIRCUIT_PROFILE: S.profile,
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
    SETTLEMENT_BLOCK_TIME: '0',
    PARTNER_BLOCK_TIME: '0',
    REDIS_URL: redis.url,
    SEQUENCER_PORT: String(await freePort()),
    BATCH_TIMEOUT_MS: String(S.batchTimeoutMs),
    PROVE_WORKERS: '1',
    FORCED_POLL_MS: '300',
  };
  const config = loadConfig(env);
  log('starting the devnet (settlement = L1, partner = sidechain; dev circuit, cached under .cache/circuits after the first setup) ...');
  devnet = await startDevnet(config, { build: true, log: (l) => log(l) });
  const deployment = devnet.deployment;
  log(`devnet up in ${secs(Date.now() - t)}`);
  node = await RollupNode.start({ config, deployment, redisUrl: redis.url, log: (l) => (/proven|finalized|closed/.test(l) ? log(`node: ${l}`) : undefined) });
  const client = new RollupClient(node.url, { pollMs: 500, requestTimeoutMs: 60_000 });
  const l1 = new JsonRpcProvider(deployment.settlement.rpcUrl, deployment.settlement.chainId, { staticNetwork: true, pollingInterval: 100 });
  const side = new JsonRpcProvider(deployment.partner.rpcUrl, deployment.partner.chainId, { staticNetwork: true, pollingInterval: 100 });
  providers.push(l1, side);
  const l1Id = deployment.settlement.chainId;
  const sideId = deployment.partner.chainId;
  const C = {
    gateway: deployment.settlement.contracts.Gateway!,
    council: deployment.settlement.contracts.Council!,
    provenance: deployment.settlement.contracts.Provenance!,
    l1Registry: deployment.settlement.contracts.BaselineRegistry!,
    sideRegistry: deployment.partner.contracts.BaselineRegistry!,
  };
  // One nonce counter for the deployer (ethers caches identical RPC reads for 250 ms, so fetching the
  // pending nonce per transaction can hand out a used one).
  const governance = new NonceManager(new Wallet(config.deployerKey, l1));
  const governanceAddress = await governance.getAddress();
  const gateway = Gateway__factory.connect(C.gateway, governance);
  const registry = BaselineRegistry__factory.createInterface();
  const provenance = Provenance__factory.createInterface();

  // ---------------------------------------------------------------- accounts (not timed)
  // Deterministic keys: L2 secrets and the EOAs of the baselines (funded with anvil_setBalance).
  t = Date.now();
  const P = workload.patients;
  const secretOf = (label: string) => seededBytes(`secret/${label}`, S.seed, 32);
  const patientSecrets = Array.from({ length: P }, (_, i) => secretOf(`patient/${i}`));
  const institutionSecrets = INSTITUTIONS.map((x) => secretOf(`institution/${x.name}`));
  const eoa = (label: string) => new Wallet(keccak256(secretOf(`eoa/${label}`)));
  const anchorer = eoa('anchorer').connect(l1);
  const patientEoas = Array.from({ length: P }, (_, i) => eoa(`patient/${i}`));
  const institutionEoas = INSTITUTIONS.map((x) => eoa(`institution/${x.name}`));
  for (const w of [anchorer, ...patientEoas, ...institutionEoas]) {
    await l1.send('anvil_setBalance', [w.address, toBeHex(10n ** 21n)]);
    await side.send('anvil_setBalance', [w.address, toBeHex(10n ** 21n)]);
  }

  // Rollup: institutions through the council, then patients through the Gateway (all of them
  // forced registrations, two per batch in the dev circuit). The hospital's L1 address is the
  // anchorer's, so the sidechain's anchors pass Provenance's institution check.
  const institutionAddresses = INSTITUTIONS.map((_, i) => (i === 0 ? anchorer.address : institutionEoas[i]!.address));
  await proposeAndExecute(
    Council__factory.connect(C.council, governance),
    devCouncilWallets(),
    INSTITUTIONS.map((x, i) => {
      const k = publicKeyOf(institutionSecrets[i]!);
      return registerInstitutionCall(C.gateway, { account: institutionAddresses[i]!, role: x.role, pubKey: [k.x, k.y], did: `did:web:bench-${x.name}.example` });
    }),
  );
  const institutionAccounts = await Promise.all(institutionAddresses.map(async (a) => Number((await gateway.institution(a)).accountIndex)));
  if (!(await gateway.isActiveInstitution(anchorer.address))) throw new Error('the anchorer is not an active institution');
  const regTxs = [];
  for (const s of patientSecrets) {
    const k = publicKeyOf(s);
    regTxs.push(await gateway.registerPatient(k.x, k.y, governanceAddress));
  }
  const regReceipts = (await Promise.all(regTxs.map((x) => x.wait()))) as TransactionReceipt[];
  const patientAccounts = regReceipts.map((r) => Number(gateway.interface.parseLog(r.logs.find((l) => gateway.interface.parseLog(l)?.name === 'PatientRegistered')!)!.args.accountIndex));
  log(`rollup: ${INSTITUTIONS.length} institutions + ${P} patients registered on the Gateway in ${secs(Date.now() - t)}; granting consents as the sequencer takes the registrations ...`);
  const sequencer = node.sequencer;
  await until('the institutions in the sequencer', () => (institutionAccounts.every((a) => sequencer.publicKeyOf(a)) ? true : undefined), 300_000, 100);

  // Rollup consents: each patient grants READ to its reader (slot 0) and CLAIM to the insurer
  // (slot 1), as soon as the sequencer has the patient (the grants fill the batches that carry
  // the remaining registrations, so the setup needs fewer batches to prove).
  const expiry = BigInt(Math.floor(Date.now() / 1000) + 7 * 86_400);
  const l2Nonce = new Map<number, bigint>();
  const setupHashes: string[] = [];
  const granted = new Set<number>();
  await until(
    'the patients in the sequencer',
    async () => {
      for (let p = 0; p < P; p++) {
        const actor = patientAccounts[p]!;
        if (granted.has(p) || !sequencer.publicKeyOf(actor)) continue;
        granted.add(p);
        let n = (await client.account(actor)).nonce;
        for (const [slot, inst, scope] of [
          [0, workload.readerOf[p]!, Scope.Read],
          [1, INSURER, Scope.Claim],
        ] as const) {
          const record: TxRecord = { op: TxOp.Grant, actor, target: institutionAccounts[inst]!, slot, scope, expiry, payload: 0n };
          setupHashes.push((await client.submit(signTx(patientSecrets[p]!, record, n++))).txHash);
        }
        l2Nonce.set(actor, n);
      }
      return granted.size === P ? true : undefined;
    },
    300_000,
    100,
  );
  for (const a of institutionAccounts) l2Nonce.set(a, (await client.account(a)).nonce);

  // Baselines: the same accounts and consents on BaselineRegistry, on L1 and on the sidechain.
  const senders = async (provider: JsonRpcProvider, chainId: number) => ({
    patients: await Promise.all(patientEoas.map((w) => new Sender(w.connect(provider), chainId).init())),
    institutions: await Promise.all(institutionEoas.map((w) => new Sender(w.connect(provider), chainId).init())),
  });
  const l1Senders = await senders(l1, l1Id);
  const sideSenders = await senders(side, sideId);
  const setupRegistry = async (provider: JsonRpcProvider, registryAddress: string, s: Awaited<ReturnType<typeof senders>>) => {
    const reg = [...s.patients, ...s.institutions].map((x, i) => {
      const k = publicKeyOf(i < P ? patientSecrets[i]! : institutionSecrets[i - P]!);
      return x.send(registryAddress, registry.encodeFunctionData('register', [k.x, k.y]));
    });
    for (const h of await Promise.all(reg)) await receiptOf(provider, h, 'BaselineRegistry.register');
    const c = BaselineRegistry__factory.connect(registryAddress, provider);
    const inst = await Promise.all(s.institutions.map(async (x) => Number(await c.accountOf(x.wallet.address))));
    const grants = [];
    for (let p = 0; p < P; p++) {
      grants.push(s.patients[p]!.send(registryAddress, registry.encodeFunctionData('grant', [inst[workload.readerOf[p]!]!, 1, expiry])));
      grants.push(s.patients[p]!.send(registryAddress, registry.encodeFunctionData('grant', [inst[INSURER]!, 2, expiry])));
    }
    for (const h of await Promise.all(grants)) await receiptOf(provider, h, 'BaselineRegistry.grant');
    return inst;
  };
  await Promise.all([setupRegistry(l1, C.l1Registry, l1Senders), setupRegistry(side, C.sideRegistry, sideSenders)]);
  log(`baselines: ${P + INSTITUTIONS.length} accounts and ${2 * P} consents on BaselineRegistry on L1 and on the sidechain`);

  log(`rollup: ${setupHashes.length} consent transactions sent; waiting until the setup batches are proved and finalized on L1 (about 35 s per batch) ...`);
  t = Date.now();
  const progress = setInterval(() => {
    void client
      .pipeline()
      .then((c) => log(`  setup pipeline: proved ${c.prove.completed ?? 0}, proving ${c.prove.active ?? 0}, waiting ${c.prove.waiting ?? 0}; settled ${c.settle.completed ?? 0}`))
      .catch(() => undefined);
  }, 20_000);
  try {
    for (const h of setupHashes) await client.waitFinal(h, 1_200_000);
  } finally {
    clearInterval(progress);
  }
  const rollupContract = Rollup__factory.connect(deployment.settlement.contracts.Rollup!, l1);
  const setupBatches = Number(await rollupContract.batchCount());
  log(`rollup setup finalized on L1 in ${secs(Date.now() - t)} (${setupBatches} batches)`);

  // ---------------------------------------------------------------- block times, watchers
  await l1.send('evm_setIntervalMining', [S.l1BlockTimeS]);
  await side.send('evm_setIntervalMining', [S.sideBlockTimeS]);
  const l1Watch = new BlockWatch('L1', l1);
  const sideWatch = new BlockWatch('sidechain', side);
  watches.push(l1Watch, sideWatch);
  await Promise.all([l1Watch.start(), sideWatch.start()]);
  log(`block times now: L1 ${S.l1BlockTimeS} s, sidechain ${S.sideBlockTimeS} s; waiting for the next L1 block to start on a block boundary ...`);
  await until('an L1 block', () => (l1Watch.blockTimes.length > 0 ? true : undefined), (S.l1BlockTimeS + 5) * 1000, 50);

  // ---------------------------------------------------------------- the timed run
  const t0 = Date.now();
  const rel = (ms: number) => ms - t0;
  type Mutable = { -readonly [K in keyof OpTiming]: OpTiming[K] };
  const timings: Record<SystemKey, Mutable[]> = {
    l1: workload.ops.map((o) => ({ op: o.index, kind: o.kind, sentMs: Number.NaN })),
    sidechain: workload.ops.map((o) => ({ op: o.index, kind: o.kind, sentMs: Number.NaN })),
    rollup: workload.ops.map((o) => ({ op: o.index, kind: o.kind, sentMs: Number.NaN })),
  };
  const pending: Promise<unknown>[] = [];
  const fail = (m: Mutable, err: unknown) => (m.error = err instanceof Error ? err.message.split('\n')[0] : String(err));

  /** BaselineRegistry calldata for an operation (accounts are the registry's own indexes). */
  const registryCall = (o: Operation, registryAccountOf: (p: number) => Promise<number>) => async (): Promise<string> => {
    switch (o.kind) {
      case 'upload':
        return registry.encodeFunctionData('uploadRecord', [o.hash]);
      case 'update':
        return registry.encodeFunctionData('updateRecord', [o.hash]);
      case 'access':
        return registry.encodeFunctionData('logAccess', [await registryAccountOf(o.patient)]);
      case 'claim':
        return registry.encodeFunctionData('claim', [await registryAccountOf(o.patient), o.hash]);
    }
  };
  const accountCache = (provider: JsonRpcProvider, address: string, s: Awaited<ReturnType<typeof senders>>) => {
    const c = BaselineRegistry__factory.connect(address, provider);
    const m = new Map<number, number>();
    return async (p: number) => m.get(p) ?? m.set(p, Number(await c.accountOf(s.patients[p]!.wallet.address))).get(p)!;
  };
  const l1AccountOf = accountCache(l1, C.l1Registry, l1Senders);
  const sideAccountOf = accountCache(side, C.sideRegistry, sideSenders);
  // Resolve the registry indexes before the clock matters.
  for (let p = 0; p < P; p++) await Promise.all([l1AccountOf(p), sideAccountOf(p)]);
  const senderFor = (o: Operation, s: Awaited<ReturnType<typeof senders>>) => {
    const a = actorOf(o);
    return a.kind === 'patient' ? s.patients[a.index]! : s.institutions[a.index]!;
  };

  // 1. L1-only: the slot is held until the L1 receipt (soft = final).
  const runL1 = pool(workload.ops, S.concurrency, async (o) => {
    const m = timings.l1[o.index]!;
    try {
      const sender = senderFor(o, l1Senders);
      const data = await registryCall(o, l1AccountOf)();
      m.sentMs = rel(Date.now());
      const hash = await sender.send(C.l1Registry, data);
      const seen = await l1Watch.included(hash);
      m.softMs = m.finalMs = rel(seen.at);
      pending.push(receiptOf(l1, hash, `L1 ${o.kind}`).then((r) => (m.l1Gas = Number(r.gasUsed))).catch((e: unknown) => fail(m, e)));
    } catch (err) {
      fail(m, err);
    }
  });

  // 2. Sidechain: the slot is held until the sidechain receipt; L1 finality comes from the anchors.
  const sideIncluded: { op: number; hash: string }[] = [];
  let sideDone = false;
  const runSide = pool(workload.ops, S.concurrency, async (o) => {
    const m = timings.sidechain[o.index]!;
    try {
      const sender = senderFor(o, sideSenders);
      const data = await registryCall(o, sideAccountOf)();
      m.sentMs = rel(Date.now());
      const hash = await sender.send(C.sideRegistry, data);
      const seen = await sideWatch.included(hash);
      m.softMs = rel(seen.at);
      const r = await receiptOf(side, hash, `sidechain ${o.kind}`);
      m.sideGas = Number(r.gasUsed);
      sideIncluded.push({ op: o.index, hash });
    } catch (err) {
      fail(m, err);
    }
  }).then(() => (sideDone = true));
  const anchors: { at: number; ops: number; gas: number; root: string; l1Block: number }[] = [];
  const anchorSender = await new Sender(anchorer, l1Id).init();
  const runAnchors = (async () => {
    let covered = 0;
    for (let tick = 1; ; tick++) {
      const due = t0 + tick * S.anchorEveryS * 1000;
      while (Date.now() < due) await sleep(Math.min(200, due - Date.now()));
      const batch = sideIncluded.slice(covered);
      const finished = sideDone;
      if (batch.length > 0) {
        covered += batch.length;
        const tree = StandardMerkleTree.of(
          batch.map((b) => [b.hash]),
          ['bytes32'],
        );
        const hash = await anchorSender.send(C.provenance, provenance.encodeFunctionData('anchor', [tree.root]), 200_000n);
        const seen = await l1Watch.included(hash);
        const r = await receiptOf(l1, hash, 'Provenance.anchor');
        anchors.push({ at: rel(seen.at), ops: batch.length, gas: Number(r.gasUsed), root: tree.root, l1Block: seen.block });
        for (const b of batch) {
          const m = timings.sidechain[b.op]!;
          m.finalMs = rel(seen.at);
          m.l1Gas = Number(r.gasUsed) / batch.length;
        }
        log(`sidechain: anchor ${anchors.length} covers ${batch.length} op(s), L1 block ${seen.block}, gas ${r.gasUsed}`);
      }
      if (finished && covered >= sideIncluded.length) break;
    }
  })();
  runAnchors.catch(() => undefined); // awaited below; this only marks it handled meanwhile

  // 3. Ours: the slot is held until the soft receipt (HTTP); finality per batch from its L1 transaction.
  const rollupAddress = deployment.settlement.contracts.Rollup!.toLowerCase();
  /** The Rollup transaction in an L1 block (when the receipt names only the block). */
  const submitBatchTxIn = async (blockNumber: number): Promise<string> => {
    const block = await l1.getBlock(blockNumber, true);
    const tx = block?.prefetchedTransactions.find((x) => x.to?.toLowerCase() === rollupAddress);
    if (!tx) throw new Error(`no Rollup transaction in L1 block ${blockNumber}`);
    return tx.hash;
  };
  const actorChain = new Map<number, Promise<unknown>>();
  const batchFinal = new Map<number, Promise<{ at: number; gas: number; l1TxHash: string; l1Block: number }>>();
  const batchTxs = new Map<number, number>();
  const runRollup = pool(workload.ops, S.concurrency, async (o) => {
    const m = timings.rollup[o.index]!;
    const a = actorOf(o);
    const actor = a.kind === 'patient' ? patientAccounts[a.index]! : institutionAccounts[a.index]!;
    const secret = a.kind === 'patient' ? patientSecrets[a.index]! : institutionSecrets[a.index]!;
    const n = l2Nonce.get(actor)!;
    l2Nonce.set(actor, n + 1n);
    const payload = BigInt(o.hash) >> 8n; // the top 248 bits of the ciphertext hash
    const target = o.kind === 'upload' || o.kind === 'update' ? actor : patientAccounts[o.patient]!;
    const slot = o.kind === 'access' ? 0 : o.kind === 'claim' ? 1 : 0;
    const op = { upload: TxOp.Upload, update: TxOp.Update, access: TxOp.Access, claim: TxOp.Claim }[o.kind];
    // One actor's transactions reach the sequencer in nonce order.
    const previous = actorChain.get(actor) ?? Promise.resolve();
    const mine = previous.then(async () => {
      try {
        const tx = signTx(secret, { op, actor, target, slot, scope: 0, expiry: 0n, payload }, n);
        m.sentMs = rel(Date.now());
        const receipt = await client.submit(tx);
        m.softMs = rel(Date.now());
        batchTxs.set(receipt.batch, (batchTxs.get(receipt.batch) ?? 0) + 1);
        let final = batchFinal.get(receipt.batch);
        if (!final) {
          final = client.waitFinal(receipt.txHash, 1_800_000).then(async (r) => {
            const l1TxHash = r.l1TxHash ?? (await submitBatchTxIn(r.l1Block!));
            const seen = await l1Watch.included(l1TxHash);
            const l1r = await receiptOf(l1, l1TxHash, `submitBatch of batch ${r.batch}`);
            log(`rollup: batch ${r.batch} finalized in L1 block ${seen.block} (${batchTxs.get(r.batch)} tx, gas ${l1r.gasUsed})`);
            return { at: seen.at, gas: Number(l1r.gasUsed), l1TxHash, l1Block: seen.block };
          });
          batchFinal.set(receipt.batch, final);
        }
        pending.push(
          final
            .then((f) => {
              m.finalMs = rel(f.at);
              m.l1Gas = f.gas / batchTxs.get(receipt.batch)!;
            })
            .catch((e: unknown) => fail(m, e)),
        );
      } catch (err) {
        fail(m, err);
      }
    });
    actorChain.set(actor, mine);
    await mine;
  });

  log(`timed run started: ${S.ops} ops per system, ${S.concurrency} in flight per system, all three at once`);
  const progress2 = setInterval(() => {
    const line = (Object.keys(timings) as SystemKey[]).map((k) => {
      const ts = timings[k];
      const c = (f: (x: Mutable) => boolean) => ts.filter(f).length;
      return `${SYSTEM_SHORT[k]} sent ${c((x) => Number.isFinite(x.sentMs))} soft ${c((x) => x.softMs !== undefined)} final ${c((x) => x.finalMs !== undefined)}${c((x) => !!x.error) ? ` failed ${c((x) => !!x.error)}` : ''}`;
    });
    log(`progress: ${line.join(' | ')}`);
  }, 10_000);
  try {
    await Promise.all([runL1, runSide, runRollup]);
    log(`all operations soft-confirmed after ${secs(Date.now() - t0)}; waiting for L1 finality (anchors, batches) ...`);
    await runAnchors;
    // `pending` grows while batches finalize; settle until it stops growing.
    for (let seenCount = -1; seenCount !== pending.length; ) {
      seenCount = pending.length;
      await Promise.all(pending);
    }
  } finally {
    clearInterval(progress2);
  }
  const runMs = Date.now() - t0;
  log(`timed run done in ${secs(runMs)}`);

  // ---------------------------------------------------------------- results
  const rollupBatches = [...batchFinal.entries()].sort((a, b) => a[0] - b[0]);
  const batchRows = [];
  for (const [batch, f] of rollupBatches) {
    const x = await f.catch(() => undefined);
    if (!x) continue;
    batchRows.push({ batch, txs: batchTxs.get(batch)!, gas: x.gas, l1Block: x.l1Block, l1TxHash: x.l1TxHash, finalMs: rel(x.at) });
  }
  const results: SystemResult[] = [
    systemResult('l1', timings.l1, prices, workload.ops.length, ['soft receipt = L1 receipt = finality']),
    systemResult('sidechain', timings.sidechain, prices, anchors.length, [`${anchors.length} anchors (Provenance.anchor) every ${S.anchorEveryS} s; L1 gas = anchor gas / ops covered`]),
    systemResult('rollup', timings.rollup, prices, batchRows.length, [`${batchRows.length} batches of ${batchRows.map((b) => b.txs).join('+')} txs; L1 gas = submitBatch gas / txs in the batch`]),
  ];
  const baseline = results[0]!;
  const claims = checkClaims(baseline, results[2]!);
  const observed = { l1BlockIntervalS: l1Watch.meanBlockInterval(), sideBlockIntervalS: sideWatch.meanBlockInterval() };
  const totalS = (Date.now() - began) / 1000;
  const settings = { ...S, patients: P, institutions: INSTITUTIONS.length, kindCounts, profile: S.profile, batchSize: deployment.circuit.maxTxs, proveWorkers: 1 };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  const outDir = opts.out ?? join(here, '..', 'results', `compare-${stamp}`);
  mkdirSync(outDir, { recursive: true });

  // Plots (Figs. 8-10 of the paper: latency, cost, throughput).
  const groups = results.map((r) => SYSTEM_SHORT[r.system]);
  const charts: Record<string, BarChart> = {
    latency: {
      title: `Latency per operation, p50 (${S.ops} ops, L1 block ${S.l1BlockTimeS} s)`,
      yLabel: 'seconds',
      groups,
      log: true,
      series: [
        { name: 'soft receipt', color: '#4e79a7', values: results.map((r) => r.soft.p50 / 1000) },
        { name: 'L1 finality', color: '#e15759', values: results.map((r) => r.final.p50 / 1000) },
      ],
    },
    throughput: {
      title: 'Throughput over the run window',
      yLabel: 'operations / s',
      groups,
      series: [
        { name: 'soft-confirmed ops/s', color: '#4e79a7', values: results.map((r) => r.softOpsPerSec) },
        { name: 'L1-final ops/s', color: '#e15759', values: results.map((r) => r.finalOpsPerSec) },
      ],
    },
    gas: {
      title: 'L1 gas per operation (mean)',
      yLabel: 'gas',
      groups,
      series: [{ name: 'L1 gas per op', color: '#59a14f', values: results.map((r) => r.l1GasPerOp) }],
    },
    usd: {
      title: `USD per operation at ${S.gasGwei} gwei, $${S.ethUsd}/ETH`,
      yLabel: 'USD',
      groups,
      format: (v) => `$${v.toFixed(3)}`,
      series: [{ name: 'USD per op (L1 gas)', color: '#f28e2b', values: results.map((r) => r.usdPerOp) }],
    },
  };
  for (const [name, chart] of Object.entries(charts)) {
    const svg = barChartSvg(chart);
    writeFileSync(join(outDir, `${name}.svg`), svg);
    writeFileSync(join(outDir, `${name}.png`), svgToPng(svg));
  }

  const tables = summaryTables(results, baseline, claims, prices);
  const md = [
    `# compare — ${S.ops} operations against L1-only, a non-ZK sidechain and the zk-rollup`,
    '',
    `Measured ${new Date().toISOString()} on ${machine.cores} cores (${machine.cpu}), ${machine.memGiB} GiB, Node ${machine.node}; whole run ${totalS.toFixed(0)} s (timed part ${(runMs / 1000).toFixed(0)} s).`,
    '',
    `Settings: ops ${S.ops} (${Object.entries(kindCounts).map(([k, n]) => `${n} ${k}`).join(', ')}), mix ${S.mix}, ${P} patients + 3 institutions, payload ${S.fileKb} KiB, seed ${S.seed}, concurrency ${S.concurrency} per system; L1 block ${S.l1BlockTimeS} s (observed ${observed.l1BlockIntervalS.toFixed(2)} s), sidechain block ${S.sideBlockTimeS} s (observed ${observed.sideBlockIntervalS.toFixed(2)} s); anchors every ${S.anchorEveryS} s; rollup: ${S.profile} circuit (K ${deployment.circuit.maxTxs}), batch timeout ${S.batchTimeoutMs} ms, 1 prove worker; prices ${S.gasGwei} gwei, $${S.ethUsd}/ETH.`,
    '',
    tables,
    '',
    `Rollup batches: ${batchRows.map((b) => `#${b.batch} ${b.txs} tx / ${b.gas.toLocaleString('en-US')} gas`).join(', ')}.`,
    `Sidechain anchors: ${anchors.map((a) => `${a.ops} ops / ${a.gas.toLocaleString('en-US')} gas`).join(', ')}.`,
    '',
    ...results.map((r) => `- ${SYSTEM_LABELS[r.system]}: ${r.notes.join('; ')}${r.failed ? `; ${r.failed} failed` : ''}`),
    '',
    'Plots: latency.png, throughput.png, gas.png, usd.png (SVG next to them).',
  ].join('\n');
  writeFileSync(join(outDir, 'summary.md'), md + '\n');
  writeFileSync(join(outDir, 'results.csv'), resultsCsv(results, baseline));
  writeFileSync(
    join(outDir, 'ops.csv'),
    toCsv(
      ['system', 'op', 'kind', 'sent_ms', 'soft_ms', 'final_ms', 'l1_gas', 'side_gas', 'error'],
      (Object.keys(timings) as SystemKey[]).flatMap((k) => timings[k].map((x) => [k, x.op, x.kind, x.sentMs, x.softMs, x.finalMs, x.l1Gas === undefined ? '' : Math.round(x.l1Gas), x.sideGas, x.error])),
    ),
  );
  writeFileSync(
    join(outDir, 'results.json'),
    JSON.stringify({ measuredAt: new Date().toISOString(), machine, settings, observed, totalSeconds: totalS, timedSeconds: runMs / 1000, setupBatches, results, claims, anchors, rollupBatches: batchRows, ops: timings }, null, 2),
  );
  console.log(`\n${md}\n`);
  log(`wrote ${outDir} (results.json, results.csv, ops.csv, summary.md, 4 plots as SVG + PNG); whole run ${totalS.toFixed(0)} s`);
} finally {
  for (const w of watches) w.stop();
  for (const p of providers) p.destroy();
  await node?.stop().catch(() => undefined);
  await shutdownProver().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  await devnet?.stop().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
}
