/** Indexer rows to GraphQL objects (bigints to numbers where they are small by construction). */
import type { BatchRow, ConsentRow, InstitutionRow, PatientRow, ProvenanceAnchorRow, TransactionRow } from '../indexerStore.js';
import type { Batch, Consent, Institution, Patient, ProvenanceAnchor, Transaction } from '../types.js';

export const batchOf = (r: BatchRow): Batch => ({
  index: Number(r.batchIndex),
  oldRoot: r.oldRoot,
  newRoot: r.newRoot,
  commitment: r.commitment,
  txRoot: r.txRoot,
  txCount: r.txCount,
  forcedCount: r.forcedCount,
  timestamp: Number(r.timestamp),
  provenanceRoot: r.provenanceRoot,
  l1Block: Number(r.l1Block),
  l1TxHash: r.l1TxHash,
});

export const patientOf = (r: PatientRow, live?: { nonce: bigint; indexHash: bigint }): Patient => ({
  account: r.accountIndex,
  publicKeyX: r.pubKeyX,
  publicKeyY: r.pubKeyY,
  controller: r.controller,
  registeredBlock: Number(r.registeredBlock),
  indexHash: live && live.indexHash !== 0n ? live.indexHash.toString() : null,
  nonce: live ? live.nonce.toString() : null,
});

export const institutionOf = (r: InstitutionRow): Institution => ({
  account: r.accountIndex,
  address: r.address,
  role: r.role,
  did: r.did,
  active: r.active,
  registeredBlock: Number(r.registeredBlock),
});

export const consentOf = (r: ConsentRow): Consent => ({
  patient: r.patient,
  slot: r.slot,
  grantee: r.grantee,
  scope: r.scope,
  expiry: Number(r.expiry),
  active: r.active,
  grantedBatch: r.grantedBatch === null ? null : Number(r.grantedBatch),
  revokedBatch: r.revokedBatch === null ? null : Number(r.revokedBatch),
  updatedBlock: Number(r.updatedBlock),
});

export const transactionOf = (r: TransactionRow): Transaction => ({
  batch: Number(r.batchIndex),
  position: r.position,
  op: r.op,
  actor: r.actor,
  subject: r.subject,
  target: r.target,
  slot: r.slot,
  scope: r.scope,
  expiry: Number(r.expiry),
  payload: r.payload,
  l1Block: Number(r.l1Block),
  l1TxHash: r.l1TxHash,
  timestamp: Number(r.timestamp),
});

export const anchorOf = (r: ProvenanceAnchorRow): ProvenanceAnchor => ({
  root: r.root,
  anchoredBy: r.anchoredBy,
  fromRollup: r.fromRollup,
  batch: r.fromRollup ? Number(r.batchIndex) : null,
  l1Block: Number(r.block),
  l1TxHash: r.txHash,
});
