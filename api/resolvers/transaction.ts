import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { isRollupError, RollupError } from '../../sdk/rollupClient.js';
import type { TxOp } from '../../prover/codec.js';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import { SignedTxInput, SoftReceipt, TxReceipt, TxStatus } from '../types.js';
import { decimal, uint32 } from './args.js';

/** The sequencer's refusal keeps its code (BAD_NONCE, NO_CONSENT, ...); an unreachable one is UNAVAILABLE. */
function fromSequencer(err: unknown): never {
  if (err instanceof RollupError) throw new ApiError(err.code, err.message.replace(/^[A-Z_]+: /, ''), err.status === undefined ? {} : { status: err.status });
  throw err;
}

@Resolver()
export class TransactionResolver {
  @Mutation(() => SoftReceipt, { description: 'Forwards a signed L2 transaction to the sequencer; answers with its soft receipt. The signature is the authority: no session needed.' })
  async submitTransaction(@Arg('tx', () => SignedTxInput) tx: SignedTxInput, @Ctx() ctx: Context): Promise<SoftReceipt> {
    const r = tx.record;
    const signed = {
      record: {
        op: uint32(r.op, 'op') as TxOp,
        actor: uint32(r.actor, 'actor'),
        target: uint32(r.target, 'target'),
        slot: uint32(r.slot, 'slot'),
        scope: uint32(r.scope, 'scope'),
        expiry: decimal(r.expiry, 'expiry'),
        payload: decimal(r.payload, 'payload'),
      },
      nonce: decimal(tx.nonce, 'nonce'),
      signature: { r8x: decimal(tx.signature.r8x, 'r8x'), r8y: decimal(tx.signature.r8y, 'r8y'), s: decimal(tx.signature.s, 's') },
    };
    try {
      const receipt = await ctx.services.sequencer.submit(signed);
      return { txHash: receipt.txHash, batch: receipt.batch, position: receipt.position, newRoot: receipt.newRoot.toString() };
    } catch (err) {
      return fromSequencer(err);
    }
  }

  @Query(() => TxReceipt, { nullable: true, description: 'A transaction receipt by hash (Algorithm 2): null when the sequencer never accepted it.' })
  async receipt(@Arg('txHash', () => String) txHash: string, @Ctx() ctx: Context): Promise<TxReceipt | null> {
    let r;
    try {
      r = await ctx.services.sequencer.receipt(txHash);
    } catch (err) {
      if (isRollupError(err, 'INVALID_ARGUMENT')) throw new ApiError('BAD_USER_INPUT', 'txHash must be 0x and 64 hex digits', { argument: 'txHash' });
      return fromSequencer(err);
    }
    if (!r) return null;
    return {
      txHash: r.txHash,
      batch: r.batch,
      position: r.position,
      status: r.status === 'finalized' ? TxStatus.FINALIZED : TxStatus.SOFT,
      batchClosed: r.batchClosed,
      l1Block: r.l1Block ?? null,
      l1TxHash: r.l1TxHash ?? null,
    };
  }
}
