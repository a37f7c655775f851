/**
 * The GraphQL object types. Every type is explicit in its decorator (`() => Int`...): the
 * project runs on esbuild/swc without design-type metadata, and explicit types keep the
 * generated schema.graphql stable. Field values are public chain data or pseudonymous
 * identifiers only; 256-bit values (roots, keys, hashes as field elements) are decimal strings.
 */
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum BatchStage {
  SEQUENCED = 'SEQUENCED',
  PROVING = 'PROVING',
  PROVEN = 'PROVEN',
  SUBMITTED = 'SUBMITTED',
  FINALIZED = 'FINALIZED',
  FAILED = 'FAILED',
  RELAYED = 'RELAYED',
}
registerEnumType(BatchStage, {
  name: 'BatchStage',
  description: "Where a batch is in the pipeline: sequenced (closed, queued), proving, proven, submitted to L1, finalized on L1, or failed for good; then relayed: its state root accepted on the partner chain.",
});

export enum TxStatus {
  SOFT = 'SOFT',
  FINALIZED = 'FINALIZED',
}
registerEnumType(TxStatus, { name: 'TxStatus', description: 'SOFT: accepted and sequenced; FINALIZED: its batch is settled on L1 with a valid proof.' });

@ObjectType({ description: 'A registered patient account: pseudonymous (account index and key), never a name.' })
export class Patient {
  @Field(() => Int) account!: number;
  @Field(() => String, { description: 'BabyJubJub public key x (decimal).' }) publicKeyX!: string;
  @Field(() => String) publicKeyY!: string;
  @Field(() => String, { description: 'L1 address that registered the account.' }) controller!: string;
  @Field(() => Int) registeredBlock!: number;
  @Field(() => String, { nullable: true, description: 'Hash of the current index CID (decimal uint248) in the live L2 state; null before the first upload.' })
  indexHash!: string | null;
  @Field(() => String, { nullable: true, description: 'Nonce the next transaction must carry (live L2 state).' }) nonce!: string | null;
}

@ObjectType({ description: 'A hospital, laboratory or insurer registered on the Gateway.' })
export class Institution {
  @Field(() => Int) account!: number;
  @Field(() => String) address!: string;
  @Field(() => String) role!: string;
  @Field(() => String) did!: string;
  @Field(() => Boolean) active!: boolean;
  @Field(() => Int) registeredBlock!: number;
}

@ObjectType({ description: 'A consent slot of a patient as finalized on L1 (indexed from batch data).' })
export class Consent {
  @Field(() => Int) patient!: number;
  @Field(() => Int) slot!: number;
  @Field(() => Int) grantee!: number;
  @Field(() => Int, { description: 'Scope bits: 1 read, 2 claim.' }) scope!: number;
  @Field(() => Float, { description: 'Unix seconds.' }) expiry!: number;
  @Field(() => Boolean) active!: boolean;
  @Field(() => Int, { nullable: true }) grantedBatch!: number | null;
  @Field(() => Int, { nullable: true }) revokedBatch!: number | null;
  @Field(() => Int) updatedBlock!: number;
}

@ObjectType({ description: 'An L2 transaction as finalized on L1 (decoded from the batch calldata).' })
export class Transaction {
  @Field(() => Int) batch!: number;
  @Field(() => Int) position!: number;
  @Field(() => String, { description: 'Upload, Update, Grant, Revoke, Access or Claim.' }) op!: string;
  @Field(() => Int) actor!: number;
  @Field(() => Int, { description: 'The patient the transaction concerns.' }) subject!: number;
  @Field(() => Int) target!: number;
  @Field(() => Int) slot!: number;
  @Field(() => Int) scope!: number;
  @Field(() => Float) expiry!: number;
  @Field(() => String, { description: 'uint248 payload (index hash, accessed hash or record reference), decimal.' }) payload!: string;
  @Field(() => Int) l1Block!: number;
  @Field(() => String) l1TxHash!: string;
  @Field(() => Float, { description: 'The batch timestamp, unix seconds.' }) timestamp!: number;
}

@ObjectType({ description: 'A batch finalized on the settlement chain.' })
export class Batch {
  @Field(() => Int) index!: number;
  @Field(() => String) oldRoot!: string;
  @Field(() => String) newRoot!: string;
  @Field(() => String) commitment!: string;
  @Field(() => String, { description: 'Root of the L1 transaction tree (Algorithm 3 inclusion proofs).' }) txRoot!: string;
  @Field(() => Int) txCount!: number;
  @Field(() => Int) forcedCount!: number;
  @Field(() => Float, { description: 'Unix seconds.' }) timestamp!: number;
  @Field(() => String) provenanceRoot!: string;
  @Field(() => Int) l1Block!: number;
  @Field(() => String) l1TxHash!: string;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => Boolean) hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType()
export class BatchEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Batch) node!: Batch;
}

@ObjectType({ description: 'Relay-style connection over finalized batches, oldest first.' })
export class BatchConnection {
  @Field(() => [BatchEdge]) edges!: BatchEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType({ description: "A transaction's receipt (Algorithm 2): its L2 batch and position and, once settled, the L1 block." })
export class TxReceipt {
  @Field(() => String) txHash!: string;
  @Field(() => Int) batch!: number;
  @Field(() => Int) position!: number;
  @Field(() => TxStatus) status!: TxStatus;
  @Field(() => Boolean) batchClosed!: boolean;
  @Field(() => Int, { nullable: true }) l1Block!: number | null;
  @Field(() => String, { nullable: true }) l1TxHash!: string | null;
}

@ObjectType({ description: 'The soft receipt the sequencer answers at once.' })
export class SoftReceipt {
  @Field(() => String) txHash!: string;
  @Field(() => Int) batch!: number;
  @Field(() => Int) position!: number;
  @Field(() => String, { description: 'State root right after this transaction (decimal).' }) newRoot!: string;
}

@ObjectType()
export class BatchEvent {
  @Field(() => Int) batch!: number;
  @Field(() => BatchStage) stage!: BatchStage;
  @Field(() => String, { description: 'pipeline (the proving queues) or indexer (the chain event through Ponder).' }) source!: string;
  @Field(() => Float, { description: 'Unix milliseconds when the API saw it.' }) at!: number;
  @Field(() => Int, { nullable: true }) l1Block?: number | undefined;
  @Field(() => String, { nullable: true }) l1TxHash?: string | undefined;
  @Field(() => Float, { nullable: true }) proveMs?: number | undefined;
  @Field(() => Int, { nullable: true }) txCount?: number | undefined;
  @Field(() => String, { nullable: true }) newRoot?: string | undefined;
  @Field(() => String, { nullable: true }) reason?: string | undefined;
  @Field(() => Int, { nullable: true, description: 'The chain of l1Block and l1TxHash when it is not the settlement chain (RELAYED: the partner chain).' })
  chainId?: number | undefined;
}

@ObjectType({ description: 'Sign-in challenge: sign `digest` with the account key (sdk/apiAuth.ts signChallenge).' })
export class Challenge {
  @Field(() => Int) chainId!: number;
  @Field(() => String) rollup!: string;
  @Field(() => Int) account!: number;
  @Field(() => String) nonce!: string;
  @Field(() => Float) expiresAt!: number;
  @Field(() => String, { description: 'The signed text, for display.' }) text!: string;
  @Field(() => String, { description: 'The field element to sign (decimal).' }) digest!: string;
}

@ObjectType()
export class Session {
  @Field(() => String, { description: 'Send as "Authorization: Bearer <token>" or graphql-ws connection parameter "token".' }) token!: string;
  @Field(() => Int) account!: number;
  @Field(() => String) role!: string;
  @Field(() => Float) expiresAt!: number;
}

@ObjectType()
export class QueueCounts {
  @Field(() => Int) waiting!: number;
  @Field(() => Int) active!: number;
  @Field(() => Int) completed!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) delayed!: number;
}

@ObjectType({ description: 'Live figures for dashboards.' })
export class SystemStats {
  @Field(() => Int) finalizedBatches!: number;
  @Field(() => Int, { nullable: true }) openBatch!: number | null;
  @Field(() => Int) openBatchTxs!: number;
  @Field(() => String, { nullable: true, description: 'Current L2 state root (soft).' }) stateRoot!: string | null;
  @Field(() => Float, { description: 'Finalized transactions per second over the last 5 minutes seen by this API.' }) throughput!: number;
  @Field(() => QueueCounts, { nullable: true }) proveQueue!: QueueCounts | null;
  @Field(() => QueueCounts, { nullable: true }) settleQueue!: QueueCounts | null;
  @Field(() => Boolean) indexerReady!: boolean;
  @Field(() => Boolean) sequencerReachable!: boolean;
}

@ObjectType({ description: 'A provenance root anchored on the settlement chain (Provenance contract).' })
export class ProvenanceAnchor {
  @Field(() => String) root!: string;
  @Field(() => String) anchoredBy!: string;
  @Field(() => Boolean) fromRollup!: boolean;
  @Field(() => Int, { nullable: true }) batch!: number | null;
  @Field(() => Int) l1Block!: number;
  @Field(() => String) l1TxHash!: string;
}

@ObjectType({ description: 'Result of checking a record version against an anchored provenance root.' })
export class ProvenanceCheck {
  @Field(() => Boolean, { description: 'The leaf is in the tree with this root (OpenZeppelin sorted-pair Keccak proof).' }) included!: boolean;
  @Field(() => ProvenanceAnchor, { nullable: true, description: 'The anchor of the root, null when the root was never anchored.' }) anchor!: ProvenanceAnchor | null;
  @Field(() => String) leaf!: string;
}

@InputType({ description: 'A record version as the Provenance contract hashes it (StandardMerkleTree leaf types uint32, bytes32, uint32, bytes32).' })
export class ProvenanceLeafInput {
  @Field(() => Int) patient!: number;
  @Field(() => String, { description: 'bytes32 hex.' }) recordId!: string;
  @Field(() => Int) version!: number;
  @Field(() => String, { description: 'bytes32 hex.' }) contentHash!: string;
}

@InputType({ description: 'A signed L2 transaction, as POST /v1/transactions takes it (decimal strings for big values).' })
export class TxRecordInput {
  @Field(() => Int) op!: number;
  @Field(() => Int) actor!: number;
  @Field(() => Int) target!: number;
  @Field(() => Int) slot!: number;
  @Field(() => Int) scope!: number;
  @Field(() => String) expiry!: string;
  @Field(() => String) payload!: string;
}

@InputType()
export class SignatureInput {
  @Field(() => String) r8x!: string;
  @Field(() => String) r8y!: string;
  @Field(() => String) s!: string;
}

@InputType()
export class SignedTxInput {
  @Field(() => TxRecordInput) record!: TxRecordInput;
  @Field(() => String) nonce!: string;
  @Field(() => SignatureInput) signature!: SignatureInput;
}

@ObjectType({ description: "A state root of another chain's rollup, accepted by this deployment's partner chain through the relay (Hyperlane, institution validators' quorum)." })
export class ForeignRoot {
  @Field(() => Int, { description: 'The chain (Hyperlane domain) the root was delivered to.' }) chainId!: number;
  @Field(() => Int, { description: 'The chain the root comes from.' }) origin!: number;
  @Field(() => Int) batch!: number;
  @Field(() => String) rollup!: string;
  @Field(() => String, { description: 'Decimal field element.' }) stateRoot!: string;
  @Field(() => String) commitment!: string;
  @Field(() => Int) block!: number;
  @Field(() => Int, { description: 'Unix seconds of the delivering block.' }) acceptedAt!: number;
  @Field(() => String) txHash!: string;
}

@ObjectType({ description: "An account's leaf and Merkle path in the state root after a batch (circuits/SPEC.md State); public data, as in the batches' calldata." })
export class AccountProof {
  @Field(() => Int) account!: number;
  @Field(() => Int) batch!: number;
  @Field(() => String, { description: 'The state root the path leads to (decimal).' }) root!: string;
  @Field(() => String) pubX!: string;
  @Field(() => String) pubY!: string;
  @Field(() => String) nonce!: string;
  @Field(() => String, { description: "The account's record index hash (decimal)." }) indexHash!: string;
  @Field(() => String) consentRoot!: string;
  @Field(() => [String], { description: 'Siblings from the leaf level up (decimal).' }) siblings!: string[];
}

@InputType({ description: 'An AccountProof as accountProof returned it (decimal strings).' })
export class AccountProofInput {
  @Field(() => Int) account!: number;
  @Field(() => String) pubX!: string;
  @Field(() => String) pubY!: string;
  @Field(() => String) nonce!: string;
  @Field(() => String) indexHash!: string;
  @Field(() => String) consentRoot!: string;
  @Field(() => [String]) siblings!: string[];
}

@ObjectType({ description: "The partner chain's ForeignRoots verdict on a claim about a foreign account." })
export class ForeignCheck {
  @Field(() => Boolean) valid!: boolean;
  @Field(() => Int, { description: 'The chain whose ForeignRoots contract answered.' }) chainId!: number;
  @Field(() => String) foreignRoots!: string;
}

@InputType({ description: 'A BabyJubJub public key (decimal coordinates).' })
export class PublicKeyInput {
  @Field(() => String) x!: string;
  @Field(() => String) y!: string;
}
