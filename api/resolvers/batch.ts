import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import { Batch, BatchConnection } from '../types.js';
import { limit, uint32 } from './args.js';
import { batchOf } from './mappers.js';

const CURSOR_PREFIX = 'batch:';

export const batchCursor = (index: number): string => Buffer.from(`${CURSOR_PREFIX}${index}`).toString('base64url');

function parseCursor(cursor: string, name: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^batch:(0|[1-9][0-9]{0,15})$/.exec(text);
  if (!m) throw new ApiError('BAD_USER_INPUT', `${name} is not a batch cursor`, { argument: name });
  return BigInt(m[1]!);
}

@Resolver()
export class BatchResolver {
  // Nullable: when the indexer is down, the error names it and sibling fields (stats) still answer.
  @Query(() => BatchConnection, { nullable: true, description: 'Finalized batches, oldest first; first/after pages forward, last/before pages back from the newest. Null (with an UNAVAILABLE error) while the indexer is unreachable.' })
  async batches(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('last', () => Int, { nullable: true }) last?: number,
    @Arg('before', () => String, { nullable: true }) before?: string,
  ): Promise<BatchConnection | null> {
    if ((first !== undefined || after !== undefined) && (last !== undefined || before !== undefined)) {
      throw new ApiError('BAD_USER_INPUT', 'page with first/after or with last/before, not both');
    }
    const page = await ctx.services.store.batchPage({
      first: first === undefined ? undefined : limit(first, 'first', 20, 100),
      after: after === undefined ? undefined : parseCursor(after, 'after'),
      last: last === undefined ? undefined : limit(last, 'last', 20, 100),
      before: before === undefined ? undefined : parseCursor(before, 'before'),
    });
    const edges = page.rows.map((r) => ({ cursor: batchCursor(Number(r.batchIndex)), node: batchOf(r) }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNext, hasPreviousPage: page.hasPrevious, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: page.totalCount,
    };
  }

  @Query(() => Batch, { nullable: true, description: 'One finalized batch by its index (the L2 block number).' })
  async batch(@Arg('index', () => Int) index: number, @Ctx() ctx: Context): Promise<Batch | null> {
    const row = await ctx.services.store.batch(BigInt(uint32(index, 'index')));
    return row ? batchOf(row) : null;
  }
}
