/**
 * The rollup state after each recent batch, so an account can be proved against the root a batch
 * finalized (and the relay carried to other chains), not only against the live state. States are
 * copy-on-write clones, so keeping a window of them costs the accounts that changed, not 2^D.
 *
 * An account proof is public data: the leaf's fields are in the batches' calldata already.
 */
import type { ClosedBatch } from './sequencer.js';
import { RollupState, type AccountFields, type StateParams } from './state.js';

export interface AccountProof extends AccountFields {
  readonly account: number;
  readonly batch: number;
  /** The state root after `batch`, which the proof leads to. */
  readonly root: bigint;
  /** D siblings, leaf level first. */
  readonly siblings: readonly bigint[];
}

export class StateHistoryError extends Error {
  override readonly name = 'StateHistoryError';
}

export class StateHistory {
  private readonly after = new Map<number, RollupState>();

  constructor(
    private readonly params: StateParams,
    /** How many batches back proofs can be served. */
    private readonly capacity = 256,
  ) {}

  /** Rebuilds the window from genesis through `batches` (a node's recovered log, in order). */
  replay(batches: readonly ClosedBatch[]): void {
    let state = new RollupState(this.params);
    for (const b of batches) state = this.apply(b, state);
  }

  /** Records the state after a batch that just closed, from the state before it. */
  record(batch: ClosedBatch, before: RollupState): void {
    this.apply(batch, before);
  }

  private apply(batch: ClosedBatch, before: RollupState): RollupState {
    const state = before.clone();
    for (const op of batch.forced) state.applyForced(op);
    for (const tx of batch.txs) state.applyTx(tx, batch.timestamp);
    if (state.root !== batch.newRoot) {
      throw new StateHistoryError(`replaying batch ${batch.index} gave root ${state.root}, the batch says ${batch.newRoot}`);
    }
    this.after.set(batch.index, state);
    for (const index of this.after.keys()) {
      if (this.after.size <= this.capacity) break;
      this.after.delete(index); // Map keeps insertion order: the oldest goes first
    }
    return state;
  }

  /** Oldest and newest batch a proof can be served for, or undefined before the first. */
  get range(): { first: number; last: number } | undefined {
    const keys = [...this.after.keys()];
    return keys.length === 0 ? undefined : { first: keys[0]!, last: keys[keys.length - 1]! };
  }

  /** The registered account's leaf and path in the root after `batch`; undefined when either is unknown. */
  proof(account: number, batch: number): AccountProof | undefined {
    const state = this.after.get(batch);
    if (!state || !Number.isSafeInteger(account) || account < 0 || account >= state.capacity || !state.isRegistered(account)) return undefined;
    return { account, batch, root: state.root, ...state.accountFields(account), siblings: state.accountPath(account) };
  }
}
