/**
 * The indexed store. SQL tables are plural; Ponder's GraphQL names fields after the exports:
 * institution/institutions, patient/patients, batch/batchs, forcedOperation(s),
 * provenanceAnchor(s), insurerSettlement(s). Every row carries its chain (id and deployment
 * name); identifiers are the chain's own pseudonymous ones (account indexes, public keys,
 * hashes). Nothing here is, or can be, health data: there is none on chain.
 */
import { onchainTable, primaryKey } from 'ponder';

export const institution = onchainTable(
  'institutions',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    address: t.hex().notNull(),
    role: t.text().notNull(),
    accountIndex: t.integer().notNull(),
    pubKeyX: t.text().notNull(),
    pubKeyY: t.text().notNull(),
    did: t.text().notNull(),
    active: t.boolean().notNull(),
    registeredBlock: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.address] }) }),
);

export const patient = onchainTable(
  'patients',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    accountIndex: t.integer().notNull(),
    pubKeyX: t.text().notNull(),
    pubKeyY: t.text().notNull(),
    controller: t.hex().notNull(),
    registeredBlock: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.accountIndex] }) }),
);

export const batch = onchainTable(
  'batches',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    batchIndex: t.bigint().notNull(),
    oldRoot: t.text().notNull(),
    newRoot: t.text().notNull(),
    commitment: t.hex().notNull(),
    txRoot: t.hex().notNull(),
    txCount: t.integer().notNull(),
    forcedCount: t.integer().notNull(),
    timestamp: t.bigint().notNull(),
    provenanceRoot: t.hex().notNull(),
    l1Block: t.bigint().notNull(),
    l1TxHash: t.hex().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.batchIndex] }) }),
);

export const forcedOperation = onchainTable(
  'forced_operations',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    queueIndex: t.bigint().notNull(),
    kind: t.integer().notNull(),
    account: t.integer().notNull(),
    counterpart: t.integer().notNull(),
    a: t.text().notNull(),
    b: t.text().notNull(),
    queuedBlock: t.bigint().notNull(),
    consumed: t.boolean().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.queueIndex] }) }),
);

export const provenanceAnchor = onchainTable(
  'provenance_anchors',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    root: t.hex().notNull(),
    anchoredBy: t.hex().notNull(),
    fromRollup: t.boolean().notNull(),
    batchIndex: t.bigint().notNull(),
    block: t.bigint().notNull(),
    txHash: t.hex().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.root] }) }),
);

export const insurerSettlement = onchainTable(
  'insurer_settlements',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    bondId: t.bigint().notNull(),
    insurer: t.hex().notNull(),
    organisation: t.hex().notNull(),
    patientAccount: t.integer().notNull(),
    dataLeaf: t.hex().notNull(),
    deposit: t.bigint().notNull(),
    feePerTx: t.bigint().notNull(),
    createdBlock: t.bigint().notNull(),
    exited: t.boolean().notNull(),
    settledTransactions: t.bigint(),
    amount: t.bigint(),
    rootsMatched: t.boolean(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.bondId] }) }),
);
