/** What the validator and the relayer share when they read origin-chain logs. */
import type { Log } from 'ethers';

/** Blocks per eth_getLogs request. */
export const LOG_SPAN = 2_000;

/** Chain order: block, then position in the block. */
export function byPosition(a: Log, b: Log): number {
  return a.blockNumber - b.blockNumber || a.index - b.index;
}
