/**
 * Cross-institution checks: state roots other chains received from this rollup through the relay,
 * account proofs against a batch's root, and the partner chain's on-chain verdict on a claimed
 * record index or identity (ForeignRoots.verifyForeignRecord / verifyForeignIdentity).
 */
import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { isRollupError } from '../../sdk/rollupClient.js';
import type { AccountProof as StateProof } from '../../prover/stateHistory.js';
import { assertCanReadPatient, requireViewer } from '../access.js';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import type { ForeignChain } from '../foreign.js';
import { AccountProof, AccountProofInput, ForeignCheck, ForeignRoot, PublicKeyInput } from '../types.js';
import { decimal, limit, uint32 } from './args.js';

const MAX_DEPTH = 32;

function foreignChain(ctx: Context): ForeignChain {
  const chain = ctx.services.foreign;
  if (!chain) throw new ApiError('UNAVAILABLE', 'this deployment has no partner chain with a ForeignRoots receiver');
  return chain;
}

function stateProof(input: AccountProofInput, batch: number): StateProof {
  if (input.siblings.length < 1 || input.siblings.length > MAX_DEPTH) {
    throw new ApiError('BAD_USER_INPUT', `a proof has 1..${MAX_DEPTH} siblings`, { argument: 'proof.siblings' });
  }
  return {
    account: uint32(input.account, 'proof.account'),
    batch,
    root: 0n, // the contract uses its relayed root, never one the caller brings
    pubX: decimal(input.pubX, 'proof.pubX'),
    pubY: decimal(input.pubY, 'proof.pubY'),
    nonce: decimal(input.nonce, 'proof.nonce'),
    indexHash: decimal(input.indexHash, 'proof.indexHash'),
    consentRoot: decimal(input.consentRoot, 'proof.consentRoot'),
    siblings: input.siblings.map((s, i) => decimal(s, `proof.siblings[${i}]`)),
  };
}

@Resolver()
export class ForeignResolver {
  @Query(() => [ForeignRoot], { description: "This rollup's state roots as the partner chain received them, newest first. Public." })
  async foreignRoots(@Arg('first', () => Int, { defaultValue: 20 }) first: number, @Ctx() ctx: Context): Promise<ForeignRoot[]> {
    const chain = foreignChain(ctx);
    const rows = await ctx.services.store.foreignRoots(chain.chainId, ctx.services.chainId, limit(first, 'first', 20, 200));
    return rows.map((r) => ({
      chainId: r.chainId,
      origin: r.origin,
      batch: Number(r.batchIndex),
      rollup: r.rollup,
      stateRoot: r.stateRoot.toString(),
      commitment: r.commitment,
      block: Number(r.block),
      acceptedAt: Number(r.timestamp),
      txHash: r.txHash,
    }));
  }

  @Query(() => AccountProof, {
    description:
      "An account's leaf and path in the state root after `batch`, to hand to an institution on another chain. The account itself, or an institution the patient consented to.",
  })
  async accountProof(@Arg('account', () => Int) account: number, @Arg('batch', () => Int) batch: number, @Ctx() ctx: Context): Promise<AccountProof> {
    uint32(account, 'account');
    uint32(batch, 'batch');
    if (requireViewer(ctx).account !== account) await assertCanReadPatient(ctx, account);
    let p: StateProof;
    try {
      p = await ctx.services.sequencer.accountProof(account, batch);
    } catch (err) {
      if (isRollupError(err, 'UNKNOWN_PROOF')) throw new ApiError('NOT_FOUND', `no proof of account ${account} after batch ${batch}: unknown account, batch not closed, or older than the node keeps`);
      throw new ApiError('UNAVAILABLE', 'the sequencer could not be asked');
    }
    return {
      account: p.account,
      batch: p.batch,
      root: p.root.toString(),
      pubX: p.pubX.toString(),
      pubY: p.pubY.toString(),
      nonce: p.nonce.toString(),
      indexHash: p.indexHash.toString(),
      consentRoot: p.consentRoot.toString(),
      siblings: p.siblings.map(String),
    };
  }

  @Query(() => ForeignCheck, {
    description: "Asks the partner chain's ForeignRoots whether `account` had record index hash `indexHash` in the state root of `origin`'s batch `batch` it received. Public.",
  })
  async verifyForeignRecord(
    @Arg('origin', () => Int) origin: number,
    @Arg('batch', () => Int) batch: number,
    @Arg('account', () => Int) account: number,
    @Arg('indexHash', () => String) indexHash: string,
    @Arg('proof', () => AccountProofInput) proof: AccountProofInput,
    @Ctx() ctx: Context,
  ): Promise<ForeignCheck> {
    const chain = foreignChain(ctx);
    const p = stateProof(proof, uint32(batch, 'batch'));
    const valid = await chain.verifyRecord(uint32(origin, 'origin'), batch, uint32(account, 'account'), decimal(indexHash, 'indexHash'), p);
    return { valid, chainId: chain.chainId, foreignRoots: chain.address };
  }

  @Query(() => ForeignCheck, {
    description: "Asks the partner chain's ForeignRoots whether `account` held `publicKey` in the state root of `origin`'s batch `batch` it received. Public.",
  })
  async verifyForeignIdentity(
    @Arg('origin', () => Int) origin: number,
    @Arg('batch', () => Int) batch: number,
    @Arg('account', () => Int) account: number,
    @Arg('publicKey', () => PublicKeyInput) publicKey: PublicKeyInput,
    @Arg('proof', () => AccountProofInput) proof: AccountProofInput,
    @Ctx() ctx: Context,
  ): Promise<ForeignCheck> {
    const chain = foreignChain(ctx);
    const p = stateProof(proof, uint32(batch, 'batch'));
    const valid = await chain.verifyIdentity(uint32(origin, 'origin'), batch, uint32(account, 'account'), decimal(publicKey.x, 'publicKey.x'), decimal(publicKey.y, 'publicKey.y'), p);
    return { valid, chainId: chain.chainId, foreignRoots: chain.address };
  }
}
