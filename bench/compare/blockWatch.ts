/**
 * Watches a chain's new blocks (eth_blockNumber every `pollMs`, then each new block with its
 * transaction hashes) and records when the bench first saw each transaction in a block. All three
 * systems' inclusion and finality times come from these watchers, so they are measured the same way.
 */
import type { JsonRpcProvider } from 'ethers';

export interface Seen {
  /** Milliseconds since the epoch when the block was seen. */
  readonly at: number;
  readonly block: number;
  readonly blockTimestamp: number;
}

export class BlockWatch {
  private readonly seen = new Map<string, Seen>();
  private readonly waiters = new Map<string, ((s: Seen) => void)[]>();
  private next: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy = false;
  /** Block timestamps in order, to report the observed block interval. */
  readonly blockTimes: number[] = [];
  lastError: string | undefined;

  constructor(
    readonly name: string,
    private readonly provider: JsonRpcProvider,
    private readonly pollMs = 100,
  ) {}

  async start(): Promise<void> {
    this.next = (await this.provider.getBlockNumber()) + 1;
    this.timer = setInterval(() => void this.tick(), this.pollMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      const head = await this.provider.getBlockNumber();
      while (this.next !== undefined && this.next <= head) {
        const block = await this.provider.getBlock(this.next, false);
        if (!block) break;
        const s: Seen = { at: Date.now(), block: block.number, blockTimestamp: block.timestamp };
        this.blockTimes.push(block.timestamp);
        for (const h of block.transactions) {
          const key = h.toLowerCase();
          this.seen.set(key, s);
          for (const w of this.waiters.get(key) ?? []) w(s);
          this.waiters.delete(key);
        }
        this.next++;
      }
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }

  /** When the transaction's block was seen (resolves at once if it was already). */
  included(txHash: string): Promise<Seen> {
    const key = txHash.toLowerCase();
    const s = this.seen.get(key);
    if (s) return Promise.resolve(s);
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
  }

  /** Mean seconds between the blocks seen so far (by block timestamp). */
  meanBlockInterval(): number {
    const t = this.blockTimes;
    return t.length > 1 ? (t[t.length - 1]! - t[0]!) / (t.length - 1) : Number.NaN;
  }
}
