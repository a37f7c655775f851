/**
 * Feeds the Gateway's forced queue (registrations, forced consent revocations) to the sequencer in
 * queue order. Polls ForcedOperationQueued logs; the sequencer's own count of forced operations
 * (Sequencer.lastForcedQueueIndex, recovered from its log) says where to resume, so a restart
 * neither skips nor repeats an operation. Logs are scanned from the deployment's start block on
 * every start: cheap on a devnet; a long-lived chain would keep a block cursor next to the log.
 */
import type { Gateway } from '../contracts/types/index.js';
import type { ForcedKind, ForcedOp } from './codec.js';

export interface ForcedWatcherOptions {
  readonly gateway: Gateway;
  /** First block to scan (the deployment's start block). */
  readonly fromBlock: number;
  /** The next queue index the consumer expects (lastForcedQueueIndex + 1). */
  readonly next: () => number;
  /** Called once per operation, in queue order; a throw stops the watcher and goes to onError. */
  readonly deliver: (op: ForcedOp, queueIndex: number) => void;
  readonly pollMs?: number;
  /** Blocks a log must be buried under before it is delivered (0 on a devnet). */
  readonly confirmations?: number;
  /** Largest block range per eth_getLogs call. */
  readonly chunkBlocks?: number;
  /** Fatal errors (a delivery that threw, a gap in the queue). Transient RPC errors are retried. */
  readonly onError: (err: Error) => void;
  /** Transient RPC trouble, for the log. */
  readonly onWarning?: (message: string) => void;
}

export class ForcedWatcherError extends Error {
  override readonly name = 'ForcedWatcherError';
}

export class ForcedQueueWatcher {
  private cursor: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private failures = 0;

  private constructor(private readonly opts: ForcedWatcherOptions) {
    this.cursor = opts.fromBlock;
  }

  /** Starts polling; the first poll runs at once. */
  static start(opts: ForcedWatcherOptions): ForcedQueueWatcher {
    const w = new ForcedQueueWatcher(opts);
    w.schedule(0);
    return w;
  }

  /** Scans up to the chain head and delivers what is new; only ever one at a time (the timer's). */
  private async poll(): Promise<number> {
    const { gateway } = this.opts;
    const provider = gateway.runner?.provider;
    if (!provider) throw new ForcedWatcherError('the Gateway contract has no provider');
    const head = (await provider.getBlockNumber()) - (this.opts.confirmations ?? 0);
    let delivered = 0;
    const chunk = this.opts.chunkBlocks ?? 10_000;
    while (this.cursor <= head && !this.stopped) {
      const to = Math.min(head, this.cursor + chunk - 1);
      const logs = await gateway.queryFilter(gateway.filters.ForcedOperationQueued(), this.cursor, to);
      const ops = logs
        .map((log) => ({
          index: Number(log.args.index),
          op: { kind: Number(log.args.kind) as ForcedKind, account: Number(log.args.account), counterpart: Number(log.args.counterpart), a: log.args.a, b: log.args.b },
        }))
        .sort((x, y) => x.index - y.index);
      for (const { index, op } of ops) {
        const next = this.opts.next();
        if (index < next) continue; // delivered before a restart
        if (index > next) throw new ForcedWatcherError(`forced operation ${index} found but ${next} never was (blocks ${this.cursor}..${to}): the RPC node is missing logs`);
        this.opts.deliver(op, index);
        delivered++;
      }
      this.cursor = to + 1;
    }
    return delivered;
  }

  /** Stops polling and waits for a poll in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = undefined));
    }, ms);
  }

  private async tick(): Promise<void> {
    try {
      await this.poll();
      this.failures = 0;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      if (e instanceof ForcedWatcherError || !isTransient(e)) {
        this.stopped = true;
        this.opts.onError(e);
        return;
      }
      this.failures++;
      this.opts.onWarning?.(`forced-queue watcher: ${e.message} (retry ${this.failures})`);
    }
    const base = this.opts.pollMs ?? 1_000;
    this.schedule(this.failures === 0 ? base : Math.min(30_000, base * 2 ** Math.min(this.failures, 5)));
  }
}

/** RPC/network trouble that a later poll may not meet. Errors from deliver() are not transient. */
function isTransient(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'NETWORK_ERROR' || code === 'SERVER_ERROR' || code === 'TIMEOUT' || code === 'UNKNOWN_ERROR' || code === 'ECONNREFUSED' || /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed/i.test(err.message);
}
