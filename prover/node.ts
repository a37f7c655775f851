/**
 * The rollup node: one process that sequences, hands closed batches to the proving pipeline and
 * settles them, for one deployment.
 *
 *   Gateway forced queue --(ForcedQueueWatcher)--\
 *   HTTP POST /v1/transactions ------------------> Sequencer (WAL) --'batch'--> Pipeline (BullMQ)
 *   in-process submit() (the GraphQL API) -------/                             prove workers (here and/or npm run prover)
 *                                                                              settlement worker (here, exactly one)
 *
 * Start-up checks the log against L1 before anything runs: a log with fewer batches than the
 * Rollup, or a different root at the last settled batch, is refused (NodeError LOG_MISMATCH)
 * rather than building on a diverged state. Closed batches that L1 does not have yet are enqueued
 * again (a no-op for those already in Redis). The write-ahead log and the BullMQ key prefix are
 * both named after the chain and the Rollup address, so a redeployed devnet never meets a
 * previous deployment's log or jobs.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { readCircuitArtifacts } from '../circuits/setup.js';
import { Gateway__factory, Rollup__factory, type Gateway, type Rollup } from '../contracts/types/index.js';
import type { Config } from '../sdk/config.js';
import type { Deployment } from '../sdk/deployment.js';
import { ForcedQueueWatcher } from './forcedWatcher.js';
import { priorityPredicate, watchCouncil, watchOperator, type CouncilWatch } from './governance.js';
import { createSequencerHttpServer, logServerErrors } from './http.js';
import { nodeMetrics } from './metrics.js';
import { StateHistory } from './stateHistory.js';
import { Pipeline, pipelinePrefix, type PipelineEvent } from './pipeline.js';
import { PROFILES, isProfileName, type CircuitProfile } from './profiles.js';
import { Sequencer, type BatchEvent, type SoftReceipt } from './sequencer.js';
import type { SignedTx } from './signing.js';
import { VerifyPool } from './verifyPool.js';

export type NodeErrorCode = 'BAD_DEPLOYMENT' | 'NOT_OPERATOR' | 'LOG_MISMATCH';

export class NodeError extends Error {
  override readonly name = 'NodeError';
  constructor(
    readonly code: NodeErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Undoes a failed start-up, newest step first; their own errors are dropped so the first error stays the one thrown. */
export async function unwindAfterFailure(cleanup: readonly (() => Promise<unknown> | unknown)[]): Promise<void> {
  for (const c of [...cleanup].reverse()) {
    try {
      await c();
    } catch {
      // already failing: keep the first error
    }
  }
}

/** Refuses to settle with a key that is not the Gateway's operator (Rollup.submitBatch would revert). */
export async function checkOperator(gateway: Pick<Gateway, 'operator'>, self: string): Promise<void> {
  const expected = await gateway.operator();
  if (expected.toLowerCase() !== self.toLowerCase()) {
    throw new NodeError('NOT_OPERATOR', `OPERATOR_KEY is ${self}, but the Gateway's operator is ${expected}: only it may submit batches`);
  }
}

/** The final receipt of a transaction (the paper's Algorithm 2): its L2 batch and, once settled, the L1 block. */
export interface TxReceipt {
  readonly txHash: string;
  /** L2 block (= the Rollup's batch index). */
  readonly batch: number;
  readonly position: number;
  /** soft: accepted and sequenced, not yet on L1; finalized: its batch is settled with a valid proof. */
  readonly status: 'soft' | 'finalized';
  /** False while the transaction's batch is still open. */
  readonly batchClosed: boolean;
  /** Settlement-chain block and transaction that finalized the batch. */
  readonly l1Block?: number;
  readonly l1TxHash?: string;
}

export interface RollupNodeOptions {
  readonly config: Config;
  readonly deployment: Deployment;
  /** Redis for the pipeline (npm start runs one; scripts/sequencer.ts takes REDIS_URL). */
  readonly redisUrl: string;
  /** Overrides config.rollup.sequencerPort (0: any free port). */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

/** The write-ahead log of a deployment's sequencer. */
export function walPathOf(config: Config, deployment: Deployment): string {
  return join(config.dataDir, 'sequencer', `${deployment.settlement.chainId}-${deployment.settlement.contracts.Rollup?.toLowerCase() ?? 'none'}.db`);
}

export function profileOf(deployment: Deployment): CircuitProfile {
  const name = deployment.circuit.profile;
  if (!isProfileName(name)) throw new NodeError('BAD_DEPLOYMENT', `the deployment's circuit profile "${name}" is unknown`);
  const p = PROFILES[name];
  const c = deployment.circuit;
  if (p.maxTxs !== c.maxTxs || p.maxForcedOps !== c.maxForcedOps || p.treeDepth !== c.treeDepth || p.consentDepth !== c.consentDepth) {
    throw new NodeError('BAD_DEPLOYMENT', `the deployment's circuit (${JSON.stringify(c)}) does not match profile ${name} of this build`);
  }
  return p;
}

export function contractAddress(deployment: Deployment, name: string): string {
  const a = deployment.settlement.contracts[name];
  if (!a) throw new NodeError('BAD_DEPLOYMENT', `the deployment file has no ${name} on the settlement chain`);
  return a;
}

/** Checks the signature on the pool against the actor's registered key, then submits (see RollupNode.submitAsync). */
export async function submitVerified(sequencer: Sequencer, pool: VerifyPool, tx: SignedTx): Promise<SoftReceipt> {
  const key = sequencer.publicKeyOf(tx.record.actor);
  if (key && (await pool.verify(key, tx))) return sequencer.submit(tx, { verifiedKey: key });
  return sequencer.submit(tx);
}

export class RollupNode {
  /** Resolves with a reason when a part fails for good (the process should stop). */
  readonly failed: Promise<string>;
  private fail!: (reason: string) => void;
  private readonly finality = new Map<number, { l1Block: number; l1TxHash?: string }>();
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly sequencer: Sequencer,
    readonly pipeline: Pipeline,
    private readonly watcher: { stop(): Promise<void> },
    private readonly server: Server,
    private readonly rollup: Rollup,
    private readonly provider: JsonRpcProvider,
    private readonly pool: VerifyPool,
    readonly url: string,
    readonly walPath: string,
    readonly settledAtStart: number,
    private readonly watcherFailed: Promise<string>,
    /** Governance pollers (council policy, operator role), stopped with the node. */
    private readonly watches: readonly { stop(): Promise<void> }[] = [],
  ) {
    this.failed = new Promise<string>((resolve) => (this.fail = resolve));
    void watcherFailed.then((r) => this.fail(r));
    sequencer.on('error', (err) => this.fail(`sequencer: ${err.message}`));
  }

  static async start(opts: RollupNodeOptions): Promise<RollupNode> {
    const { config, deployment } = opts;
    const log = opts.log ?? ((line: string) => console.log(`[node] ${line}`));
    const profile = profileOf(deployment);
    const chainId = deployment.settlement.chainId;
    const rollupAddress = contractAddress(deployment, 'Rollup');
    const provider = new JsonRpcProvider(deployment.settlement.rpcUrl, chainId, { staticNetwork: true, pollingInterval: 250 });
    const cleanup: (() => Promise<unknown> | unknown)[] = [() => provider.destroy()];
    try {
      const operator = new Wallet(config.rollup.operatorKey, provider);
      const rollup = Rollup__factory.connect(rollupAddress, operator);
      const gateway: Gateway = Gateway__factory.connect(contractAddress(deployment, 'Gateway'), provider);
      const settles = config.rollup.settleWorker;
      if (settles) await checkOperator(gateway, operator.address);
      const [settled, l1Root] = await Promise.all([rollup.batchCount().then(Number), rollup.stateRoot()]);

      const walPath = walPathOf(config, deployment);
      mkdirSync(join(config.dataDir, 'sequencer'), { recursive: true });
      const sequencer = await Sequencer.open({
        profile,
        walPath,
        batchTimeoutMs: config.rollup.batchTimeoutMs,
        priority: priorityPredicate(config.rollup.priorityOps),
        retainStatesFrom: settled,
        log,
      });
      cleanup.push(() => sequencer.detach());
      const closedCount = sequencer.recovered.length;
      if (closedCount < settled) {
        throw new NodeError('LOG_MISMATCH', `L1 has ${settled} batches but the log ${walPath} has ${closedCount}: the log was lost or belongs to another deployment`);
      }
      if (settled > 0 && sequencer.recovered[settled - 1]!.newRoot !== l1Root) {
        throw new NodeError('LOG_MISMATCH', `batch ${settled - 1} ends at root ${sequencer.recovered[settled - 1]!.newRoot} in ${walPath}, L1 holds ${l1Root}`);
      }
      log(`sequencer log ${walPath}: ${closedCount} closed batches (${settled} settled on L1)${sequencer.openBatch ? `, batch ${sequencer.openBatch.index} open` : ''}`);

      // With a council deployed, its policy overrides BATCH_TIMEOUT_MS / PRIORITY_OPS.
      const councilAddress = deployment.settlement.contracts.Council;
      let councilWatch: CouncilWatch | undefined;
      if (councilAddress) {
        councilWatch = await watchCouncil({ council: councilAddress, provider, sequencer, log });
        cleanup.push(() => councilWatch?.stop());
      }

      const proveWorkers = config.rollup.proveWorkers;
      const artifacts = proveWorkers > 0 ? readCircuitArtifacts(deployment.circuit.artifactsDir) : undefined;
      const pipeline = await Pipeline.start({
        connection: { url: opts.redisUrl },
        prefix: pipelinePrefix(chainId, rollupAddress),
        profile,
        proveWorkers,
        proveConcurrency: config.rollup.proveConcurrency,
        ...(artifacts ? { artifacts } : {}),
        ...(settles ? { settlement: { rollup, operator } } : {}),
        proveLocks: { lockDurationMs: config.rollup.proveLockMs, stalledIntervalMs: config.rollup.stalledCheckMs },
      });
      cleanup.push(() => pipeline.close(true));
      pipeline.on('error', (err) => log(`pipeline: ${err.message}`));
      // Progress lines: what closed, what was proved, what reached L1 (never any payload).
      sequencer.on('batch', (b) => log(`batch ${b.index} closed: ${b.forced.length} forced op(s), ${b.txs.length} transaction(s)`));
      const metrics = nodeMetrics(sequencer);
      sequencer.on('batch', (b) => metrics.batchClosed(b.txs.length, b.forced.length));
      pipeline.events.on((e) => metrics.pipeline(e));
      // States after recent batches, for account proofs against the roots other chains receive.
      const history = new StateHistory(profile);
      history.replay(sequencer.recovered);
      sequencer.on('batch', (b) => history.record(b, b.before));
      pipeline.events.on((e) => {
        if (e.stage === 'proven') log(`batch ${e.batch} proven (witness ${((e.witnessMs ?? 0) / 1000).toFixed(1)} s, proof ${((e.proveMs ?? 0) / 1000).toFixed(1)} s)`);
        else if (e.stage === 'finalized') log(`batch ${e.batch} finalized in L1 block ${String(e.l1Block)}${e.alreadySettled ? ' (already settled)' : ''}`);
        else if (e.stage === 'failed') log(`batch ${e.batch} ${e.queue} job failed: ${e.reason ?? 'unknown reason'}`);
      });
      pipeline.attach(sequencer);
      // Obey an operator rotation by the council: settle only while this key is the operator.
      let operatorWatch: { stop(): Promise<void> } | undefined;
      if (settles) {
        operatorWatch = watchOperator({
          gateway,
          self: operator.address,
          log,
          onChange: async (isOperator) => {
            metrics.settlementPaused(!isOperator);
            const worker = pipeline.settleWorker?.worker;
            if (!worker) return;
            if (isOperator) worker.resume();
            else await worker.pause(true);
          },
        });
        cleanup.push(() => operatorWatch!.stop());
      }
      for (const b of sequencer.recovered) {
        if (b.index < settled) continue;
        await pipeline.enqueueBatch({ ...b, before: b.before! });
      }
      const reconciled = await pipeline.reconcile();
      if (closedCount > settled) log(`re-enqueued batches ${settled}..${closedCount - 1} (not on L1 yet; known jobs are kept)${reconciled ? `, ${reconciled} proven` : ''}`);

      let watcherFail!: (reason: string) => void;
      const watcherFailed = new Promise<string>((resolve) => (watcherFail = resolve));
      const watcher = ForcedQueueWatcher.start({
        gateway,
        fromBlock: deployment.settlement.startBlock,
        next: () => sequencer.lastForcedQueueIndex + 1,
        deliver: (op, index) => sequencer.addForced(op, index),
        pollMs: config.rollup.forcedPollMs,
        onError: (err) => watcherFail(`forced-queue watcher: ${err.message}`),
        onWarning: (msg) => log(msg),
      });
      cleanup.push(() => watcher.stop());

      // The server answers receipts through the node, which needs the listening server first.
      const self: { node?: RollupNode } = {};
      const pool = await VerifyPool.start({ threads: config.rollup.verifyThreads });
      cleanup.push(() => pool.close());
      const server = createSequencerHttpServer(sequencer, {
        receipt: (hash) => self.node!.receipt(hash),
        submit: (tx) => self.node!.submitAsync(tx),
        pipeline: () => pipeline.status(),
        accountProof: (account, batch) => history.proof(account, batch),
        metrics: metrics.registry,
        log: (entry) => {
          metrics.http(entry);
          logServerErrors(entry);
        },
      });
      const port = opts.port ?? config.rollup.sequencerPort;
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(err.code === 'EADDRINUSE' ? new Error(`SEQUENCER_PORT ${port} on ${config.rollup.sequencerHost} is in use: stop the other process or set SEQUENCER_PORT`) : err),
        );
        server.listen(port, config.rollup.sequencerHost, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const url = `http://${config.rollup.sequencerHost}:${address.port}`;
      self.node = new RollupNode(sequencer, pipeline, watcher, server, rollup, provider, pool, url, walPath, settled, watcherFailed, [
        ...(councilWatch ? [councilWatch] : []),
        ...(operatorWatch ? [operatorWatch] : []),
      ]);
      return self.node;
    } catch (err) {
      await unwindAfterFailure(cleanup);
      throw err;
    }
  }

  /** The in-process interface (the GraphQL API calls this): validates, logs, applies, answers. */
  submit(tx: SignedTx): SoftReceipt {
    return this.sequencer.submit(tx);
  }

  /**
   * submit(), with the signature checked on the verification pool's threads first, so this
   * thread only orders, applies and logs (what POST /v1/transactions uses). A signature that does
   * not verify goes through submit() unchanged and gets its BAD_SIGNATURE from the state.
   */
  async submitAsync(tx: SignedTx): Promise<SoftReceipt> {
    return submitVerified(this.sequencer, this.pool, tx);
  }

  /** The soft or final receipt of an accepted transaction; undefined for an unknown hash. */
  async receipt(txHash: string): Promise<TxReceipt | undefined> {
    const loc = this.sequencer.locate(txHash);
    if (!loc) return undefined;
    const open = this.sequencer.openBatch;
    const batchClosed = !(open && open.index === loc.batch);
    const final = batchClosed ? await this.finalityOf(loc.batch) : undefined;
    return {
      txHash: txHash.toLowerCase(),
      batch: loc.batch,
      position: loc.position,
      status: final ? 'finalized' : 'soft',
      batchClosed,
      ...(final ? { l1Block: final.l1Block, ...(final.l1TxHash ? { l1TxHash: final.l1TxHash } : {}) } : {}),
    };
  }

  /** Human summary lines for start-up output. */
  describe(): string[] {
    return [
      `  sequencer        ${this.url}  (POST /v1/transactions, GET /v1/transactions/<hash>, /v1/pipeline, /v1/health, /metrics)`,
      `  sequencer log    ${this.walPath}`,
      `  prove workers    ${this.pipeline.proveWorkers.length} in this process${this.pipeline.proveWorkers.length === 0 ? ' (run npm run prover)' : ''}; ${this.pipeline.settleWorker ? 'settlement worker here' : 'no settlement worker here (run one npm run settler)'}`,
    ];
  }

  /** Subscribes to pipeline stages (proving, proven, submitted, finalized, failed) of every process. */
  onPipeline(listener: (e: PipelineEvent) => void): () => void {
    return this.pipeline.events.on(listener);
  }

  /** Subscribes to batches as the sequencer closes them. */
  onBatch(listener: (b: BatchEvent) => void): () => void {
    this.sequencer.on('batch', listener);
    return () => this.sequencer.off('batch', listener);
  }

  /**
   * Stops taking transactions and stops every part. The open batch stays open in the log (the
   * next start continues it); jobs in flight stay in Redis for the next start or another worker.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
      await this.watcher.stop();
      for (const w of this.watches) await w.stop();
      this.sequencer.detach();
      await this.pool.close();
      await this.pipeline.close(true);
      this.provider.destroy();
    })();
    return this.stopping;
  }

  private async finalityOf(batch: number): Promise<{ l1Block: number; l1TxHash?: string } | undefined> {
    const known = this.finality.get(batch);
    if (known) return known;
    if (batch >= Number(await this.rollup.batchCount())) return undefined;
    const info = await this.rollup.batch(batch);
    const l1Block = Number(info.l1Block);
    const logs = await this.rollup.queryFilter(this.rollup.filters.BatchFinalized(batch), l1Block, l1Block);
    const result = { l1Block, ...(logs[0] ? { l1TxHash: logs[0].transactionHash } : {}) };
    this.finality.set(batch, result);
    return result;
  }
}
