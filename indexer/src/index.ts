/**
 * Event handlers: Gateway (registry, forced-operation queue, insurer bonds), Rollup (finalized
 * batches, with their transactions and the consents they leave, decoded from the submitBatch
 * calldata), Provenance (anchored roots) and ForeignRoots (other chains' roots the relay delivered,
 * and the record checks made against them), on every chain of the deployment file.
 */
import { ponder, type Context } from 'ponder:registry';
import {
  batch,
  consent,
  forcedOperation,
  foreignRecordCheck,
  foreignRoot,
  institution,
  insurerSettlement,
  patient,
  provenanceAnchor,
  transaction,
} from 'ponder:schema';
import { decodeFunctionData, hexToBytes, keccak256, sha256, type Hex } from 'viem';
// The codec alone (it pulls merkleTree.ts and poseidon-lite for SNARK_FIELD, nothing else of the prover).
import { ForcedKind, TxOp, decodeBatchData, encodeTxRecord, type BatchShape, type DecodedBatch, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { ROLLUP_FUNCTIONS } from '../events.js';

const ROLES = ['None', 'Hospital', 'Laboratory', 'Insurer'] as const;
const roleName = (role: number): string => ROLES[role] ?? `Role${role}`;

/** Every row names the chain it came from (the primary keys include chainId). */
const onChain = (context: { chain: { id: number; name: string } }) => ({ chainId: context.chain.id, chain: context.chain.name });

ponder.on('Gateway:InstitutionRegistered', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(institution)
    .values({
      ...onChain(context),
      address: a.institution,
      role: roleName(Number(a.role)),
      accountIndex: Number(a.accountIndex),
      pubKeyX: a.pubKeyX.toString(),
      pubKeyY: a.pubKeyY.toString(),
      did: a.did,
      active: true,
      registeredBlock: event.block.number,
    })
    .onConflictDoUpdate({ role: roleName(Number(a.role)), accountIndex: Number(a.accountIndex), did: a.did, active: true });
});

ponder.on('Gateway:InstitutionStatusChanged', async ({ event, context }) => {
  const key = { chainId: context.chain.id, address: event.args.institution };
  if (await context.db.find(institution, key)) {
    await context.db.update(institution, key).set({ active: event.args.active });
  }
});

ponder.on('Gateway:PatientRegistered', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(patient)
    .values({
      ...onChain(context),
      accountIndex: Number(a.accountIndex),
      pubKeyX: a.pubKeyX.toString(),
      pubKeyY: a.pubKeyY.toString(),
      controller: a.controller,
      registeredBlock: event.block.number,
    })
    .onConflictDoNothing();
});

ponder.on('Gateway:ForcedOperationQueued', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(forcedOperation)
    .values({
      ...onChain(context),
      queueIndex: a.index,
      kind: Number(a.kind),
      account: Number(a.account),
      counterpart: Number(a.counterpart),
      a: a.a.toString(),
      b: a.b.toString(),
      queuedBlock: event.block.number,
      consumed: false,
    })
    .onConflictDoNothing();
});

ponder.on('Gateway:ForcedOperationsConsumed', async ({ event, context }) => {
  for (let i = 0n; i < event.args.count; i++) {
    const key = { chainId: context.chain.id, queueIndex: event.args.fromIndex + i };
    if (await context.db.find(forcedOperation, key)) {
      await context.db.update(forcedOperation, key).set({ consumed: true });
    }
  }
});

ponder.on('Gateway:BondCreated', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(insurerSettlement)
    .values({
      ...onChain(context),
      bondId: a.bondId,
      insurer: a.insurer,
      organisation: a.organisation,
      patientAccount: Number(a.patientAccount),
      dataLeaf: a.dataLeaf,
      deposit: a.deposit,
      feePerTx: a.feePerTx,
      createdBlock: event.block.number,
      exited: false,
    })
    .onConflictDoNothing();
});

ponder.on('Gateway:InsurerExit', async ({ event, context }) => {
  const key = { chainId: context.chain.id, bondId: event.args.bondId };
  const r = event.args.result;
  if (await context.db.find(insurerSettlement, key)) {
    await context.db
      .update(insurerSettlement, key)
      .set({ exited: true, settledTransactions: r.settledTransactions, amount: r.amount, rootsMatched: r.rootsMatched });
  }
});

type BatchContext = Context<'Rollup:BatchFinalized'>;

const TX_OPS: Record<TxOp, string> = { 0: 'Padding', 1: 'Upload', 2: 'Update', 3: 'Grant', 4: 'Revoke', 5: 'Access', 6: 'Claim' };

/** K and F of each Rollup (constructor immutables), read once per contract. */
const shapes = new Map<string, Promise<BatchShape>>();

function batchShape(context: BatchContext, address: Hex): Promise<BatchShape> {
  const key = `${context.chain.id}:${address.toLowerCase()}`;
  let shape = shapes.get(key);
  if (!shape) {
    const read = (functionName: 'maxTxs' | 'maxForcedOps') => context.client.readContract({ abi: ROLLUP_FUNCTIONS, address, functionName });
    shape = Promise.all([read('maxTxs'), read('maxForcedOps')]).then(([k, f]) => ({ maxTxs: Number(k), maxForcedOps: Number(f) }));
    // Do not keep a failed read: the next batch tries again.
    shape.catch(() => shapes.delete(key));
    shapes.set(key, shape);
  }
  return shape;
}

/**
 * The batch data of a direct Rollup.submitBatch call, if `input` is one carrying this batch (its
 * sha256 is the event's commitment). A submission through another contract has other calldata:
 * undefined, and the batch stays undecoded.
 */
function batchDataOf(input: Hex, commitment: Hex): Uint8Array | undefined {
  let call;
  try {
    call = decodeFunctionData({ abi: ROLLUP_FUNCTIONS, data: input });
  } catch {
    return undefined;
  }
  if (call.functionName !== 'submitBatch') return undefined;
  const data = call.args[2];
  return sha256(data) === commitment.toLowerCase() ? hexToBytes(data) : undefined;
}

/** The patient a transaction concerns: its sender for the patient's own ops, the target for access and claim. */
const subjectOf = (tx: TxRecord): number => (tx.op === TxOp.Access || tx.op === TxOp.Claim ? tx.target : tx.actor);

/**
 * Forced RevokeConsent (prover/state.ts forcedRevoke): account = patient, counterpart = grantee,
 * a = scope bits to clear, b = slot. Only a slot holding a consent for that grantee changes.
 */
async function applyForcedRevoke(context: BatchContext, op: ForcedOp, batchIndex: bigint, block: bigint): Promise<void> {
  // Slots are uint8 in transaction records: a larger b names no consent.
  if (op.b > 255n) return;
  const key = { chainId: context.chain.id, patient: op.account, slot: Number(op.b) };
  const current = await context.db.find(consent, key);
  if (!current || !current.active || current.grantee !== op.counterpart) return;
  const scope = current.scope & ~Number(op.a);
  if (scope === current.scope) return;
  await context.db
    .update(consent, key)
    .set(scope === 0 ? { scope, active: false, revokedBatch: batchIndex, updatedBlock: block } : { scope, updatedBlock: block });
}

/** Grant sets the actor's slot, Revoke empties it (prover/state.ts applyTx); other ops leave consents alone. */
async function applyConsentTx(context: BatchContext, tx: TxRecord, batchIndex: bigint, block: bigint): Promise<void> {
  const key = { chainId: context.chain.id, patient: tx.actor, slot: tx.slot };
  if (tx.op === TxOp.Grant) {
    const granted = { grantee: tx.target, scope: tx.scope, expiry: tx.expiry, active: true, grantedBatch: batchIndex, revokedBatch: null, updatedBlock: block };
    await context.db
      .insert(consent)
      .values({ ...onChain(context), patient: tx.actor, slot: tx.slot, ...granted })
      .onConflictDoUpdate(granted);
  } else if (tx.op === TxOp.Revoke) {
    // The batch was proven, so the slot held a consent for tx.target, granted in an earlier batch.
    if (await context.db.find(consent, key)) {
      await context.db.update(consent, key).set({ scope: 0, active: false, revokedBatch: batchIndex, updatedBlock: block });
    }
  }
}

ponder.on('Rollup:BatchFinalized', async ({ event, context }) => {
  const a = event.args;
  const batchIndex = BigInt(a.batchIndex);
  const bytes = batchDataOf(event.transaction.input, a.commitment);
  let decoded: DecodedBatch | undefined;
  if (bytes) {
    try {
      decoded = decodeBatchData(bytes, await batchShape(context, event.log.address));
    } catch (err) {
      console.warn(`batch ${batchIndex} on ${context.chain.name}: batch data not decoded (${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    console.warn(`batch ${batchIndex} on ${context.chain.name}: transaction ${event.transaction.hash} is not a direct submitBatch call with this batch's data`);
  }
  await context.db
    .insert(batch)
    .values({
      ...onChain(context),
      batchIndex,
      oldRoot: a.oldRoot.toString(),
      newRoot: a.newRoot.toString(),
      commitment: a.commitment,
      txRoot: a.txRoot,
      txCount: Number(a.txCount),
      forcedCount: Number(a.forcedCount),
      timestamp: BigInt(a.timestamp),
      provenanceRoot: a.provenanceRoot,
      l1Block: event.block.number,
      l1TxHash: event.transaction.hash,
      decoded: decoded !== undefined,
    })
    .onConflictDoNothing();
  if (!decoded) return;

  // Forced operations come before the transactions in a batch (prover/witness.ts).
  for (const op of decoded.forced) {
    if (op.kind === ForcedKind.RevokeConsent) await applyForcedRevoke(context, op, batchIndex, event.block.number);
  }
  for (const [position, tx] of decoded.txs.entries()) {
    await context.db
      .insert(transaction)
      .values({
        ...onChain(context),
        batchIndex,
        position,
        op: TX_OPS[tx.op],
        actor: tx.actor,
        subject: subjectOf(tx),
        target: tx.target,
        slot: tx.slot,
        scope: tx.scope,
        expiry: tx.expiry,
        payload: tx.payload.toString(),
        recordHash: keccak256(encodeTxRecord(tx)),
        l1Block: event.block.number,
        l1TxHash: event.transaction.hash,
        timestamp: BigInt(a.timestamp),
      })
      .onConflictDoNothing();
    await applyConsentTx(context, tx, batchIndex, event.block.number);
  }
});

ponder.on('Provenance:RootAnchored', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(provenanceAnchor)
    .values({
      ...onChain(context),
      root: a.root,
      anchoredBy: a.anchoredBy,
      fromRollup: a.fromRollup,
      batchIndex: BigInt(a.batchIndex),
      block: event.block.number,
      txHash: event.transaction.hash,
    })
    .onConflictDoNothing();
});

ponder.on('ForeignRoots:ForeignRootAccepted', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(foreignRoot)
    .values({
      ...onChain(context),
      origin: a.origin,
      batchIndex: BigInt(a.batchIndex),
      rollup: a.rollup,
      stateRoot: a.stateRoot,
      commitment: a.commitment,
      block: event.block.number,
      timestamp: event.block.timestamp,
      txHash: event.transaction.hash,
    })
    .onConflictDoNothing();
});

ponder.on('ForeignRoots:ForeignRecordVerified', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(foreignRecordCheck)
    .values({
      ...onChain(context),
      origin: a.origin,
      batchIndex: BigInt(a.batchIndex),
      account: a.account,
      indexHash: a.indexHash,
      verifier: a.verifier,
      block: event.block.number,
      txHash: event.transaction.hash,
      logIndex: event.log.logIndex,
    })
    .onConflictDoNothing();
});
