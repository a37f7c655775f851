/**
 * Event handlers: Gateway (registry, forced-operation queue, insurer bonds), Rollup (finalized
 * batches) and Provenance (anchored roots), on every chain of the deployment file.
 */
import { ponder } from 'ponder:registry';
import { batch, forcedOperation, institution, insurerSettlement, patient, provenanceAnchor } from 'ponder:schema';

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

ponder.on('Rollup:BatchFinalized', async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(batch)
    .values({
      ...onChain(context),
      batchIndex: BigInt(a.batchIndex),
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
    })
    .onConflictDoNothing();
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
