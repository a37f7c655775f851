/**
 * The indexed store. SQL tables are plural; Ponder's GraphQL names fields after the exports:
 * institution/institutions, patient/patients, batch/batchs, forcedOperation(s),
 * provenanceAnchor(s), insurerSettlement(s), transaction(s), consent(s). Every row carries its chain (id and deployment
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
    /** False when the batch data could not be read from the L1 transaction (see src/index.ts): its
     * transactions are then missing from `transactions` and `consents`. */
    decoded: t.boolean().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.batchIndex] }) }),
);

/**
 * The L2 transactions of finalized batches, decoded from the submitBatch calldata. `subject` is
 * the patient the transaction concerns: the actor for Upload, Update, Grant and Revoke, the target
 * for Access and Claim. `recordHash` = keccak256 of the 47-byte record: the leaf hash the Rollup's
 * txRoot commits to (Algorithm 3 proofs).
 */
export const transaction = onchainTable(
  'transactions',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    batchIndex: t.bigint().notNull(),
    position: t.integer().notNull(),
    op: t.text().notNull(),
    actor: t.integer().notNull(),
    subject: t.integer().notNull(),
    target: t.integer().notNull(),
    slot: t.integer().notNull(),
    scope: t.integer().notNull(),
    expiry: t.bigint().notNull(),
    payload: t.text().notNull(),
    recordHash: t.hex().notNull(),
    l1Block: t.bigint().notNull(),
    l1TxHash: t.hex().notNull(),
    timestamp: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.batchIndex, table.position] }) }),
);

/**
 * The consent in each (patient, slot) as finalized batches left it (prover/state.ts): a Grant sets
 * the slot, a Revoke empties it, a forced RevokeConsent clears scope bits (emptying it when none
 * are left). `active` means the slot is not empty; whether `expiry` has passed is the reader's
 * check. An emptied slot keeps the grantee and expiry it last held, with scope 0.
 */
export const consent = onchainTable(
  'consents',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    patient: t.integer().notNull(),
    slot: t.integer().notNull(),
    grantee: t.integer().notNull(),
    scope: t.integer().notNull(),
    expiry: t.bigint().notNull(),
    active: t.boolean().notNull(),
    grantedBatch: t.bigint().notNull(),
    revokedBatch: t.bigint(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.patient, table.slot] }) }),
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

/** State roots of other chains' rollups, as the relay delivered them to this chain's ForeignRoots. */
export const foreignRoot = onchainTable(
  'foreign_roots',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    origin: t.integer().notNull(),
    batchIndex: t.bigint().notNull(),
    rollup: t.hex().notNull(),
    stateRoot: t.bigint().notNull(),
    commitment: t.hex().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    txHash: t.hex().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.origin, table.batchIndex] }) }),
);

/** attestForeignRecord calls: who relied on which foreign record index (an audit trail). */
export const foreignRecordCheck = onchainTable(
  'foreign_record_checks',
  (t) => ({
    chainId: t.integer().notNull(),
    chain: t.text().notNull(),
    origin: t.integer().notNull(),
    batchIndex: t.bigint().notNull(),
    account: t.integer().notNull(),
    indexHash: t.bigint().notNull(),
    verifier: t.hex().notNull(),
    block: t.bigint().notNull(),
    txHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.txHash, table.logIndex] }) }),
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
