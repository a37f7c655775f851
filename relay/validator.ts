/**
 * An institution validator: watches the origin chain's MerkleTreeHook, rebuilds its tree from the
 * InsertedIntoTree events once they are `confirmations` blocks deep, signs a checkpoint (root and
 * index after each message, with the message id) and serves the signed checkpoints over HTTP, as
 * Hyperlane's checkpoint syncers do:
 *
 *   GET /checkpoint/latest        {"index": n}   (-1 before the first message)
 *   GET /checkpoint/<index>       the signed checkpoint (S3CheckpointWithId JSON), 404 if unsigned
 *   GET /health                   validator address, latest index, last scanned block
 *   GET /metrics                  Prometheus metrics
 *
 * It signs a root only after checking it against the hook's own latestCheckpoint() at the same
 * block, and stops signing for good if the two ever differ (a missed log or a bad RPC), since a
 * validator that signs a wrong root is the one failure the ISM cannot absorb beyond f.
 * Signed checkpoints are also written to `storeDir` (checkpoint_<index>_with_id.json, as
 * Hyperlane's local syncer names them); after a restart the tree is rebuilt from the chain and
 * the deterministic (RFC 6979) signatures come out the same.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet, getAddress, id as eventTopic, type Log } from 'ethers';
import { LOG_SPAN, byPosition } from './logs.js';
import { CheckpointTree, signCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { merkleTreeHookAt, merkleTreeHookInterface } from './hyperlane.js';
import { validatorMetrics } from './metrics.js';
import { sendMetrics } from '../sdk/metrics.js';
import type { Registry } from 'prom-client';

export interface ValidatorOptions {
  readonly origin: { readonly rpcUrl: string; readonly domain: number; readonly merkleTreeHook: string; readonly startBlock: number };
  readonly key: string;
  /** Blocks a message must be under before it is signed (reorg safety). */
  readonly confirmations: number;
  readonly pollMs: number;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly storeDir: string;
  readonly log: (line: string) => void;
  /** The `service` label of its metrics (default "validator"). */
  readonly name?: string;
}

export class ValidatorError extends Error {
  override readonly name = 'ValidatorError';
}

const INSERTED = eventTopic('InsertedIntoTree(bytes32,uint32)');

export class InstitutionValidator {
  readonly address: string;
  readonly metrics: Registry;
  private readonly tree = new CheckpointTree();
  /** Signed checkpoints; only the first `verified` passed the cross-check and are served. */
  private readonly signed: SignedCheckpoint[] = [];
  private verified = 0;
  private nextBlock: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private halted: string | undefined;
  private running: Promise<void> = Promise.resolve();

  private constructor(
    private readonly opts: ValidatorOptions,
    private readonly provider: JsonRpcProvider,
    private readonly wallet: Wallet,
    private readonly server: Server,
    readonly url: string,
  ) {
    this.address = wallet.address;
    this.nextBlock = opts.origin.startBlock;
    this.metrics = validatorMetrics(this, opts.name ?? 'validator');
  }

  static async start(opts: ValidatorOptions): Promise<InstitutionValidator> {
    const provider = new JsonRpcProvider(opts.origin.rpcUrl, undefined, { staticNetwork: true, pollingInterval: opts.pollMs });
    const wallet = new Wallet(opts.key);
    mkdirSync(opts.storeDir, { recursive: true });
    // The server is created first (a port to listen on), the validator that answers it next.
    const self: { validator?: InstitutionValidator } = {};
    const server = createServer((req, res) => {
      const validator = self.validator;
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'GET' || !validator) return reply(405, { error: 'GET only' });
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/health') return reply(200, validator.health());
      if (path === '/metrics') return void sendMetrics(validator.metrics, req, res);
      if (path === '/checkpoint/latest') return reply(200, { index: validator.latestIndex });
      const m = /^\/checkpoint\/(\d{1,10})$/.exec(path);
      if (!m) return reply(404, { error: 'not found' });
      const signed = Number(m[1]) < validator.verified ? validator.signed[Number(m[1])] : undefined;
      return signed ? reply(200, signed) : reply(404, { error: `checkpoint ${m[1]} is not signed yet` });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ValidatorError(err.code === 'EADDRINUSE' ? `port ${opts.port} on ${opts.host} is in use` : err.message)),
      );
      server.listen(opts.port, opts.host, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const validator = new InstitutionValidator(opts, provider, wallet, server, `http://${opts.host}:${port}`);
    self.validator = validator;
    try {
      await validator.scan();
    } catch (err) {
      await validator.stop();
      throw err;
    }
    validator.schedule();
    return validator;
  }

  /** Index of the last signed checkpoint, -1 before the first. */
  get latestIndex(): number {
    return this.verified - 1;
  }

  health(): { address: string; latestIndex: number; scannedTo: number; halted: string | null } {
    return { address: this.address, latestIndex: this.latestIndex, scannedTo: this.nextBlock - 1, halted: this.halted ?? null };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.scan()
        .catch((err: unknown) => this.opts.log(`scan failed, retrying: ${(err as Error).message}`))
        .finally(() => this.schedule());
    }, this.opts.pollMs);
  }

  private async scan(): Promise<void> {
    if (this.halted) return;
    const safe = (await this.provider.getBlockNumber()) - this.opts.confirmations;
    while (this.nextBlock <= safe && !this.stopped) {
      const to = Math.min(safe, this.nextBlock + LOG_SPAN - 1);
      const logs = await this.provider.getLogs({ address: this.opts.origin.merkleTreeHook, topics: [INSERTED], fromBlock: this.nextBlock, toBlock: to });
      const before = this.signed.length;
      for (const log of logs.sort(byPosition)) await this.insert(log);
      if (this.signed.length > before) await this.crossCheck(to);
      this.nextBlock = to + 1;
      if (this.halted) return;
    }
  }

  private async insert(log: Log): Promise<void> {
    if (this.halted) return;
    const event = merkleTreeHookInterface.parseLog(log);
    if (!event) throw new ValidatorError(`unparseable InsertedIntoTree log in ${log.transactionHash}`);
    const messageId = event.args[0] as string;
    const index = Number(event.args[1]);
    if (index !== this.tree.count) {
      this.halt(`tree index ${index} arrived when ${this.tree.count} was expected (missed logs?)`);
      return;
    }
    this.tree.insert(messageId);
    const signed = await signCheckpoint(this.wallet, {
      origin: this.opts.origin.domain,
      merkleTreeHook: getAddress(this.opts.origin.merkleTreeHook),
      root: this.tree.root(),
      index,
      messageId,
    });
    this.signed.push(signed);
  }

  /** The hook's own checkpoint at `block` must be the one this validator computed. */
  private async crossCheck(block: number): Promise<void> {
    const hook = merkleTreeHookAt(this.opts.origin.merkleTreeHook, this.provider);
    const [root, index] = (await hook.getFunction('latestCheckpoint').staticCall({ blockTag: block })) as [string, bigint];
    const ours = this.signed[this.signed.length - 1]!.value.checkpoint;
    if (root !== ours.root || Number(index) !== ours.index) {
      this.signed.length = this.verified;
      this.halt(`the hook's checkpoint at block ${block} is (${root}, ${index}), this validator computed (${ours.root}, ${ours.index})`);
      return;
    }
    for (let i = this.verified; i < this.signed.length; i++) this.persist(this.signed[i]!);
    this.verified = this.signed.length;
    this.opts.log(`signed checkpoint ${ours.index} (root ${ours.root.slice(0, 10)}…) at block ${block}`);
  }

  private persist(signed: SignedCheckpoint): void {
    const file = join(this.opts.storeDir, `checkpoint_${signed.value.checkpoint.index}_with_id.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(signed));
    renameSync(`${file}.tmp`, file);
  }

  private halt(reason: string): void {
    this.halted = reason;
    this.opts.log(`HALTED, signing nothing more: ${reason}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.provider.destroy();
  }
}

