import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context, Services } from '../context.js';
import { ApiError } from '../errors.js';
import type { QueueCounts} from '../types.js';
import { ProvenanceAnchor, ProvenanceCheck, ProvenanceLeafInput, SystemStats } from '../types.js';
import { bytes32, uint32 } from './args.js';
import { anchorOf } from './mappers.js';

/** contracts/src/Provenance.sol: StandardMerkleTree leaves (patient, record id, version, content hash). */
const LEAF_TYPES = ['uint32', 'bytes32', 'uint32', 'bytes32'];
const THROUGHPUT_WINDOW_MS = 5 * 60_000;

const queueCounts = (c: Readonly<Record<string, number>>): QueueCounts => ({
  waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
  active: c.active ?? 0,
  completed: c.completed ?? 0,
  failed: c.failed ?? 0,
  delayed: c.delayed ?? 0,
});

/** What `stats` answers; computed through Services.stats (api/cache.ts) so that polling dashboards share it. */
export async function computeStats(services: Pick<Services, 'store' | 'sequencer' | 'feeds'>): Promise<SystemStats> {
  const { store, sequencer, feeds } = services;
  const [finalized, health, pipeline, indexerReady] = await Promise.all([
    store.batchCount().catch(() => undefined),
    sequencer.health().catch(() => undefined),
    sequencer.pipeline().catch(() => undefined),
    store.ready(),
  ]);
  const since = Date.now() - THROUGHPUT_WINDOW_MS;
  const recent = feeds.recentFinalized.filter((b) => b.at >= since);
  const txs = recent.reduce((sum, b) => sum + b.txCount, 0);
  const spanMs = recent.length > 0 ? Math.max(1_000, Date.now() - Math.min(...recent.map((b) => b.at))) : THROUGHPUT_WINDOW_MS;
  return {
    finalizedBatches: finalized ?? 0,
    openBatch: health?.openBatch?.index ?? null,
    openBatchTxs: health?.openBatch?.txs ?? 0,
    stateRoot: health ? health.root.toString() : null,
    throughput: txs / (spanMs / 1000),
    proveQueue: pipeline ? queueCounts(pipeline.prove) : null,
    settleQueue: pipeline ? queueCounts(pipeline.settle) : null,
    indexerReady,
    sequencerReachable: health !== undefined,
  };
}

@Resolver()
export class SystemResolver {
  @Query(() => SystemStats, { description: 'Live figures for dashboards: open batch, queues, throughput. Public; the same figures for every caller within a second.' })
  stats(@Ctx() ctx: Context): Promise<SystemStats> {
    return ctx.services.stats.get();
  }

  @Query(() => ProvenanceAnchor, { nullable: true, description: 'The anchor of a provenance root, null when never anchored. Public.' })
  async provenanceAnchor(@Arg('root', () => String) root: string, @Ctx() ctx: Context): Promise<ProvenanceAnchor | null> {
    const row = await ctx.services.store.provenanceAnchor(bytes32(root, 'root'));
    return row ? anchorOf(row) : null;
  }

  @Query(() => ProvenanceCheck, {
    description: 'Checks a record version (leaf) against a provenance root with a Merkle proof, and says where the root was anchored. Public: the caller brings the leaf.',
  })
  async verifyProvenance(
    @Arg('root', () => String) root: string,
    @Arg('leaf', () => ProvenanceLeafInput) leaf: ProvenanceLeafInput,
    @Arg('proof', () => [String]) proof: string[],
    @Ctx() ctx: Context,
  ): Promise<ProvenanceCheck> {
    const r = bytes32(root, 'root');
    if (proof.length > 64) throw new ApiError('BAD_USER_INPUT', 'a proof has at most 64 nodes', { argument: 'proof' });
    const values = [uint32(leaf.patient, 'leaf.patient'), bytes32(leaf.recordId, 'leaf.recordId'), uint32(leaf.version, 'leaf.version'), bytes32(leaf.contentHash, 'leaf.contentHash')];
    const nodes = proof.map((p, i) => bytes32(p, `proof[${i}]`));
    const included = StandardMerkleTree.verify(r, LEAF_TYPES, values, nodes);
    const row = await ctx.services.store.provenanceAnchor(r);
    return { included, anchor: row ? anchorOf(row) : null, leaf: StandardMerkleTree.of([values], LEAF_TYPES).leafHash(values) };
  }
}
