/**
 * `npm run bench -- relay [--batches 10] [--settlement-block-time 2] [--partner-block-time 1] [--poll-ms 500] [--confirmations 1]`
 *
 * The state-root relay end to end on two fresh anvil chains with the devnet's block times
 * (settlement 31337 a block every 2 s, partner 31338 every 1 s): the settlement contracts
 * (test/helpers/chain.ts deploySettlement, binding-only verifier so batches need no full batch
 * proof), Hyperlane core + RootPublisher + ForeignRoots (relay/deploy.ts, 4 validators, 3 of 4),
 * then 4 InstitutionValidators and one Relayer in this process with the devnet's relay settings
 * (poll 500 ms, 1 confirmation). `--batches` batches are finalized one at a time, each once the
 * previous root was accepted on the partner chain; every batch root is a real Poseidon state root
 * (a registered patient updating its record index hash), so account proofs against it are real.
 *
 * Reported per batch: finalize-to-accepted latency, (a) wall clock from the BatchFinalized receipt
 * (polled every 50 ms) to ForeignRootAccepted observed on the partner chain (acceptedCount polled
 * every 50 ms), (b) chain time from the BatchFinalized block's timestamp to the accepting block's;
 * p50 / p90 / max. Gas: Mailbox.process with the 3-of-4 message-id multisig ISM (the relayer's
 * deliveries) against the same root messages delivered in the same run through a second
 * RootPublisher -> ForeignRoots pair whose ISM is Hyperlane's NoopIsm (empty metadata: the
 * baseline receiver path without signature checks), as a ratio; RootPublisher.publish per call and
 * per batch; verifyForeignRecord (estimateGas) at the dev profile's state tree depth.
 *
 * Writes bench/results/relay-<date>.json and prints markdown tables.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NoopIsm__factory } from '@hyperlane-xyz/core';
import { ContractFactory, NonceManager, type InterfaceAbi, type TransactionReceipt } from 'ethers';
import { ForeignRoots__factory, RootPublisher__factory } from '../contracts/types/index.js';
import { shutdownProver } from '../prover/groth16.js';
import { PROFILES } from '../prover/profiles.js';
import type { RollupState } from '../prover/state.js';
import { deployRelay } from '../relay/deploy.js';
import { summarize } from './compare/report.js';
import { addressToBytes32, mailboxAt, mailboxInterface } from '../relay/hyperlane.js';
import { hyperlaneMessage } from '../relay/message.js';
import { Relayer, type Delivery } from '../relay/relayer.js';
import { InstitutionValidator } from '../relay/validator.js';
import { devValidatorKey } from '../sdk/config.js';
import { deploySettlement, startTestChain, type TestChain } from '../test/helpers/chain.js';
import { finalizeBatch, patientState, setIndexHash } from '../test/helpers/relay.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    batches: { type: 'string', default: '10' },
    'settlement-block-time': { type: 'string', default: '2' },
    'partner-block-time': { type: 'string', default: '1' },
    'poll-ms': { type: 'string', default: '500' },
    confirmations: { type: 'string', default: '1' },
  },
});
const BATCHES = Number(opts.batches);
const SETTLEMENT_BLOCK = Number(opts['settlement-block-time']);
const PARTNER_BLOCK = Number(opts['partner-block-time']);
const POLL_MS = Number(opts['poll-ms']);
const CONFIRMATIONS = Number(opts.confirmations);
const SETTLEMENT_ID = 31337;
const PARTNER_ID = 31338;
const THRESHOLD = 3;
const PROFILE = PROFILES.dev;
const MAX_UINT64 = (1n << 64n) - 1n;

const log = (line: string) => console.error(`[bench] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mined(tx: Promise<{ wait(): Promise<TransactionReceipt | null> }>, what: string): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error(`${what} reverted`);
  return receipt;
}

const chains: TestChain[] = [];
const validators: InstitutionValidator[] = [];
let relayer: Relayer | undefined;
const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
try {
  const t0 = Date.now();
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  log(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memGiB} GiB, node ${machine.node}`);
  const [settlement, partner] = await Promise.all([
    startTestChain(SETTLEMENT_ID, { blockTime: SETTLEMENT_BLOCK, name: 'bench' }),
    startTestChain(PARTNER_ID, { blockTime: PARTNER_BLOCK, name: 'bench' }),
  ]);
  chains.push(settlement, partner);
  log(`chains up: settlement ${SETTLEMENT_ID} (block ${SETTLEMENT_BLOCK} s), partner ${PARTNER_ID} (block ${PARTNER_BLOCK} s); deploying ...`);
  const c = await deploySettlement(settlement);
  const rollupAddress = await c.rollup.getAddress();
  const validatorKeys = [0, 1, 2, 3].map(devValidatorKey);
  const relay = await deployRelay({
    settlementSigner: new NonceManager(settlement.accounts[0]!),
    partnerSigner: new NonceManager(partner.accounts[0]!),
    settlementChainId: SETTLEMENT_ID,
    partnerChainId: PARTNER_ID,
    rollup: rollupAddress,
    treeDepth: PROFILE.treeDepth,
    validators: validatorKeys,
    threshold: THRESHOLD,
    log,
  });
  // The baseline receiver path: a second publisher -> receiver pair whose ISM checks nothing.
  const partnerGov = new NonceManager(partner.accounts[0]!);
  const settlementGov = new NonceManager(settlement.accounts[0]!);
  const noop = NoopIsm__factory as unknown as { abi: InterfaceAbi; bytecode: string };
  const noopIsm = await (await new ContractFactory(noop.abi, noop.bytecode, partnerGov).deploy()).waitForDeployment();
  const [baselineReceiver, baselinePublisher] = await Promise.all([
    new ForeignRoots__factory(partnerGov).deploy(partner.accounts[0]!.address, relay.partner.Mailbox, await noopIsm.getAddress(), relay.partner.PoseidonT3, relay.partner.PoseidonT6).then((x) => x.waitForDeployment()),
    new RootPublisher__factory(settlementGov).deploy(settlement.accounts[0]!.address, relay.settlement.Mailbox, rollupAddress).then((x) => x.waitForDeployment()),
  ]);
  await Promise.all([
    mined(baselinePublisher.addRoute(PARTNER_ID, addressToBytes32(await baselineReceiver.getAddress())), 'baseline addRoute'),
    mined(baselineReceiver.enrollOrigin(SETTLEMENT_ID, addressToBytes32(await baselinePublisher.getAddress()), rollupAddress, PROFILE.treeDepth, 0), 'baseline enrollOrigin'),
  ]);
  const startBlock = await settlement.provider.getBlockNumber();
  log(`deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s; starting 4 validators and the relayer (poll ${POLL_MS} ms, ${CONFIRMATIONS} confirmation(s))`);

  for (let i = 0; i < 4; i++) {
    validators.push(
      await InstitutionValidator.start({
        origin: { rpcUrl: settlement.anvil.url, domain: SETTLEMENT_ID, merkleTreeHook: relay.settlement.MerkleTreeHook, startBlock },
        key: validatorKeys[i]!,
        confirmations: CONFIRMATIONS,
        pollMs: POLL_MS,
        host: '127.0.0.1',
        port: 0,
        storeDir: join(dir, `validator-${i}`),
        log: () => undefined,
      }),
    );
  }
  const deliveries = new Map<number, Delivery>();
  relayer = new Relayer({
    origin: {
      rpcUrl: settlement.anvil.url,
      domain: SETTLEMENT_ID,
      mailbox: relay.settlement.Mailbox,
      merkleTreeHook: relay.settlement.MerkleTreeHook,
      startBlock,
      rootPublisher: relay.settlement.RootPublisher,
    },
    destination: { rpcUrl: partner.anvil.url, domain: PARTNER_ID, mailbox: relay.partner.Mailbox },
    recipients: [relay.partner.ForeignRoots],
    validatorUrls: validators.map((v) => v.url),
    key: settlement.accounts[9]!.privateKey,
    stateFile: join(dir, 'relayer.json'),
    pollMs: POLL_MS,
    log: (line) => {
      if (/tick failed|HALTED/.test(line)) log(`relayer: ${line}`);
    },
    onDelivered: (d) => {
      if (d.batchIndex !== undefined) deliveries.set(d.batchIndex, d);
    },
  });
  await relayer.start();

  // Finalize batches one at a time; each root a real state root.
  const foreignRoots = ForeignRoots__factory.connect(relay.partner.ForeignRoots, partner.provider);
  const { state, secret, account } = patientState();
  let current: RollupState = state;
  const rows: { batch: number; wallMs: number; chainS: number; finalizeBlock: number; acceptBlock: number }[] = [];
  for (let i = 0; i < BATCHES; i++) {
    current = current.clone();
    setIndexHash(current, secret, account, BigInt(1000 + i));
    const receipt = await finalizeBatch(c, current.root);
    const finalizedAt = Date.now();
    for (;;) {
      if ((await foreignRoots.acceptedCount(SETTLEMENT_ID)) > BigInt(i)) break;
      if (Date.now() - finalizedAt > 60_000) throw new Error(`batch ${i} root not accepted within 60 s`);
      await sleep(50);
    }
    const acceptedAt = Date.now();
    const root = await foreignRoots.foreignRoot(SETTLEMENT_ID, i);
    const finalizedBlock = (await settlement.provider.getBlock(receipt.blockNumber))!;
    rows.push({ batch: i, wallMs: acceptedAt - finalizedAt, chainS: Number(root.receivedAt) - finalizedBlock.timestamp, finalizeBlock: receipt.blockNumber, acceptBlock: Number(root.receivedBlock) });
    if (root.stateRoot !== current.root) throw new Error(`batch ${i}: accepted root differs from the state root`);
    log(`batch ${i}: finalized -> accepted ${acceptedAt - finalizedAt} ms (chain time ${rows[i]!.chainS} s)`);
  }
  // The relayer's own receipt poll may come after ours: let it report the last delivery.
  for (let waited = 0; deliveries.size < BATCHES && waited < 10_000; waited += 100) await sleep(100);
  await relayer.stop();
  relayer = undefined;
  if (deliveries.size !== BATCHES) throw new Error(`the relayer reported ${deliveries.size} of ${BATCHES} deliveries`);

  // RootPublisher.publish gas: the relayer's publish transactions.
  const publisher = RootPublisher__factory.connect(relay.settlement.RootPublisher, settlement.provider);
  const published = await settlement.provider.getLogs({ address: relay.settlement.RootPublisher, topics: [publisher.interface.getEvent('RootPublished').topicHash], fromBlock: startBlock });
  const perTx = new Map<string, number>();
  for (const l of published) perTx.set(l.transactionHash, (perTx.get(l.transactionHash) ?? 0) + 1);
  const publishCalls: { batches: number; gas: number }[] = [];
  for (const [hash, batches] of perTx) publishCalls.push({ batches, gas: Number((await settlement.provider.getTransactionReceipt(hash))!.gasUsed) });

  // The baseline: the same root messages through the NoopIsm receiver.
  const baselinePublish = await mined(RootPublisher__factory.connect(await baselinePublisher.getAddress(), settlement.accounts[8]!).publish(MAX_UINT64), 'baseline publish');
  const baselineMessages = baselinePublish.logs.flatMap((l) => {
    const e = l.address.toLowerCase() === relay.settlement.Mailbox.toLowerCase() ? mailboxInterface.parseLog(l) : null;
    return e?.name === 'Dispatch' ? [hyperlaneMessage(e.args[3] as string)] : [];
  });
  const partnerMailbox = mailboxAt(relay.partner.Mailbox, new NonceManager(partner.accounts[8]!));
  const baselineGas: number[] = [];
  const pendingTxs = [];
  for (const m of baselineMessages) pendingTxs.push(await partnerMailbox.getFunction('process')('0x', m.bytes));
  for (const tx of pendingTxs) {
    const receipt = (await tx.wait()) as TransactionReceipt;
    if (receipt.status !== 1) throw new Error('baseline process reverted');
    baselineGas.push(Number(receipt.gasUsed));
  }
  if (Number(await ForeignRoots__factory.connect(await baselineReceiver.getAddress(), partner.provider).acceptedCount(SETTLEMENT_ID)) !== BATCHES) throw new Error('baseline receiver did not accept every root');

  // verifyForeignRecord at the dev depth, against the last relayed root.
  const proof = { account, ...current.accountFields(account), siblings: current.accountPath(account) };
  const last = BATCHES - 1;
  if (!(await foreignRoots.verifyForeignRecord(SETTLEMENT_ID, last, account, proof.indexHash, proof))) throw new Error('verifyForeignRecord is false for a real proof');
  const verifyGas = Number(await foreignRoots.verifyForeignRecord.estimateGas(SETTLEMENT_ID, last, account, proof.indexHash, proof));
  const identityGas = Number(await foreignRoots.verifyForeignIdentity.estimateGas(SETTLEMENT_ID, last, account, proof.pubX, proof.pubY, proof));

  const multisigGas = [...deliveries.values()].map((d) => Number(d.gasUsed));
  const wall = summarize(rows.map((r) => r.wallMs));
  const chainTime = summarize(rows.map((r) => r.chainS));
  const ms = summarize(multisigGas);
  const base = summarize(baselineGas);
  const perBatchPublish = publishCalls.map((p) => p.gas / p.batches);
  const single = publishCalls.filter((p) => p.batches === 1).map((p) => p.gas);
  const result = {
    measuredAt: new Date().toISOString(),
    machine,
    settings: { batches: BATCHES, settlementBlockTimeS: SETTLEMENT_BLOCK, partnerBlockTimeS: PARTNER_BLOCK, pollMs: POLL_MS, confirmations: CONFIRMATIONS, validators: 4, threshold: THRESHOLD, treeDepth: PROFILE.treeDepth },
    latency: { wallMs: wall, chainS: chainTime, perBatch: rows.map((r) => ({ ...r, processGas: Number(deliveries.get(r.batch)!.gasUsed), signatures: deliveries.get(r.batch)!.signatures })) },
    gas: {
      processMultisig: ms,
      processNoopIsm: base,
      multisigOverNoopRatio: ms.mean / base.mean,
      publishCalls,
      publishPerBatch: summarize(perBatchPublish),
      publishOneBatch: single.length ? summarize(single) : null,
      baselinePublishOfAllBatchesInOneCall: { batches: baselineMessages.length, gas: Number(baselinePublish.gasUsed) },
      verifyForeignRecord: verifyGas,
      verifyForeignIdentity: identityGas,
    },
    runSeconds: (Date.now() - t0) / 1000,
  };

  const f = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));
  console.log(`\nmachine: ${machine.cores} cores, ${machine.cpu}, node ${machine.node}; ${BATCHES} batches; blocks ${SETTLEMENT_BLOCK} s / ${PARTNER_BLOCK} s; poll ${POLL_MS} ms; ${CONFIRMATIONS} confirmation(s); 3 of 4 validators`);
  console.log(
    `\n| finalize -> accepted | p50 | p90 | max |\n|---|---|---|---|\n` +
      `| wall clock (receipt seen -> acceptedCount seen), ms | ${f(wall.p50)} | ${f(wall.p90)} | ${f(wall.max)} |\n` +
      `| chain time (BatchFinalized block -> accepting block), s | ${chainTime.p50} | ${chainTime.p90} | ${chainTime.max} |`,
  );
  console.log(
    `\n| gas | mean | p50 | max | note |\n|---|---|---|---|---|\n` +
      `| Mailbox.process, multisig ISM 3 of 4 (ForeignRoots.handle) | ${f(ms.mean)} | ${f(ms.p50)} | ${f(ms.max)} | ${multisigGas.length} deliveries |\n` +
      `| Mailbox.process, NoopIsm baseline (same handle) | ${f(base.mean)} | ${f(base.p50)} | ${f(base.max)} | ratio ${(ms.mean / base.mean).toFixed(2)}x |\n` +
      `| RootPublisher.publish per batch (relayer's calls) | ${f(result.gas.publishPerBatch.mean)} | ${f(result.gas.publishPerBatch.p50)} | ${f(result.gas.publishPerBatch.max)} | ${publishCalls.length} calls, ${publishCalls.map((p) => p.batches).join('+')} batches |\n` +
      `| RootPublisher.publish, ${baselineMessages.length} batches in one call | ${f(Number(baselinePublish.gasUsed))} | | | ${f(Number(baselinePublish.gasUsed) / baselineMessages.length)} per batch |\n` +
      `| ForeignRoots.verifyForeignRecord (estimateGas, depth ${PROFILE.treeDepth}) | ${f(verifyGas)} | | | |\n` +
      `| ForeignRoots.verifyForeignIdentity (estimateGas, depth ${PROFILE.treeDepth}) | ${f(identityGas)} | | | |`,
  );
  mkdirSync(join(here, 'results'), { recursive: true });
  const out = join(here, 'results', `relay-${result.measuredAt.slice(0, 10)}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2));
  log(`wrote ${out} (run ${result.runSeconds.toFixed(1)} s)`);
} finally {
  await relayer?.stop().catch(() => undefined);
  await Promise.all(validators.map((v) => v.stop().catch(() => undefined)));
  await Promise.all(chains.map((ch) => ch.stop().catch(() => undefined)));
  await shutdownProver().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
