/**
 * The sequencer obeys the institutions' council (contracts/src/governance/Council.sol): its
 * batching policy (batch size, timeout, emergency-access ops) is read from Council.params() at
 * start and whenever it changes. Governance stays off the correctness path: a policy only moves
 * batch boundaries, never what a batch proves.
 */
import type { Provider } from 'ethers';
import { Council__factory, type Gateway } from '../contracts/types/index.js';
import type { TxOpName } from '../sdk/config.js';
import { readCouncilParams, type CouncilParams } from '../sdk/governance.js';
import { TxOp } from './codec.js';
import type { Sequencer } from './sequencer.js';
import type { SignedTx } from './signing.js';

export const OP_BY_NAME: Readonly<Record<TxOpName, number>> = {
  upload: TxOp.Upload,
  update: TxOp.Update,
  grant: TxOp.Grant,
  revoke: TxOp.Revoke,
  access: TxOp.Access,
  claim: TxOp.Claim,
};

/** The emergency-access lane: transactions whose op is listed close their batch at once. */
export function priorityPredicate(ops: readonly TxOpName[]): (tx: SignedTx) => boolean {
  const set = new Set(ops.map((n) => OP_BY_NAME[n]));
  return (tx) => set.has(tx.record.op);
}

export interface WatchCouncilOptions {
  /** The Council's address on the settlement chain. */
  readonly council: string;
  readonly provider: Provider;
  readonly sequencer: Sequencer;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export interface CouncilWatch {
  /** The policy applied at start. */
  readonly initial: CouncilParams;
  stop(): Promise<void>;
}

// The timer API caps delays at 2^31-1 ms; the contract admits up to 2^32-1.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function describe(p: CouncilParams, applied: { batchSize: number; batchTimeoutMs: number }, k: number): string {
  const size = p.batchSize === 0 ? `${k} (full)` : p.batchSize !== applied.batchSize ? `${applied.batchSize} (council: ${p.batchSize}, clamped)` : String(p.batchSize);
  const timeout = p.batchTimeoutMs !== applied.batchTimeoutMs ? `${applied.batchTimeoutMs} ms (council: ${p.batchTimeoutMs}, clamped)` : `${p.batchTimeoutMs} ms`;
  return `batch size ${size} of ${k}, timeout ${timeout}, priority ${p.priorityOps.length > 0 ? p.priorityOps.join(',') : 'none'}`;
}

function same(a: CouncilParams, b: CouncilParams): boolean {
  return a.batchSize === b.batchSize && a.batchTimeoutMs === b.batchTimeoutMs && a.priorityOps.join(',') === b.priorityOps.join(',');
}

/**
 * Applies Council.params() to the sequencer now, then polls every pollMs (ParamsChanged between
 * two polls collapse into the latest value, which is all the sequencer needs). A read failure is
 * logged and retried at the next poll; the sequencer keeps its last policy meanwhile.
 */
export async function watchCouncil(opts: WatchCouncilOptions): Promise<CouncilWatch> {
  const { sequencer } = opts;
  const pollMs = opts.pollMs ?? 2000;
  const log = opts.log ?? ((line: string) => console.log(`[governance] ${line}`));
  const council = Council__factory.connect(opts.council, opts.provider);
  const k = sequencer.profile.maxTxs;

  const apply = (p: CouncilParams): void => {
    // The contract does not know K: a larger size means "as full as the circuit allows".
    const batchSize = p.batchSize > k ? k : p.batchSize;
    const batchTimeoutMs = Math.min(p.batchTimeoutMs, MAX_TIMEOUT_MS);
    sequencer.setPolicy({ batchSize, batchTimeoutMs, priority: priorityPredicate(p.priorityOps) });
    log(`council ${opts.council} policy: ${describe(p, { batchSize, batchTimeoutMs }, k)}`);
  };

  const initial = await readCouncilParams(council);
  apply(initial);
  let current = initial;
  const polling = every(pollMs, async (stopped) => {
    try {
      const next = await readCouncilParams(council);
      if (stopped() || same(next, current)) return;
      apply(next);
      current = next;
    } catch (err) {
      if (!stopped()) log(`council ${opts.council}: policy update failed (${(err as Error).message}); keeping the current policy`);
    }
  });
  return { initial, stop: () => polling.stop() };
}

/** Runs `tick` every pollMs (after the previous tick ended) until stop(), which awaits the tick in flight. */
function every(pollMs: number, tick: (stopped: () => boolean) => Promise<void>): { stop(): Promise<void> } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = tick(() => stopped).finally(schedule);
    }, pollMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
    },
  };
}

export interface WatchOperatorOptions {
  readonly gateway: Gateway;
  /** This node's operator address. */
  readonly self: string;
  readonly pollMs?: number;
  readonly log: (line: string) => void;
  /** Called when this node stops or starts being the Gateway's operator. */
  readonly onChange: (isOperator: boolean) => void | Promise<void>;
}

/**
 * Follows Gateway.operator(): when the council rotates the operator away from this node, the node
 * stops settling (its submissions would revert NotOperator) until the role comes back.
 */
export function watchOperator(opts: WatchOperatorOptions): { stop(): Promise<void> } {
  let isOperator = true;
  return every(opts.pollMs ?? 2000, async (stopped) => {
    let current: string;
    try {
      current = await opts.gateway.operator();
    } catch (err) {
      if (!stopped()) opts.log(`operator check failed (${(err as Error).message}); retrying`);
      return;
    }
    const now = current.toLowerCase() === opts.self.toLowerCase();
    if (stopped() || now === isOperator) return;
    isOperator = now;
    opts.log(
      now
        ? `this node (${opts.self}) is the sequencer operator again: settlement resumes`
        : `the council rotated the sequencer operator to ${current}; this node (${opts.self}) pauses settlement (batches stay queued): restart it with the new OPERATOR_KEY or hand the sequencer log over`,
    );
    await opts.onChange(now);
  });
}
