/**
 * The events the indexer handles, written out so the handlers are typed. The ABIs Ponder uses
 * are the compiled artifacts (contracts/artifacts); `typedAbi` checks that each event here is in
 * the artifact with the same signature, so a contract change fails the indexer's start instead of
 * silently dropping events.
 */
import { parseAbi, toEventSelector, toFunctionSelector, type Abi, type AbiEvent, type AbiFunction } from 'viem';

export const GATEWAY_EVENTS = parseAbi([
  'event InstitutionRegistered(address indexed institution, uint8 role, uint32 indexed accountIndex, uint256 pubKeyX, uint256 pubKeyY, string did)',
  'event InstitutionStatusChanged(address indexed institution, bool active)',
  'event PatientRegistered(uint32 indexed accountIndex, uint256 pubKeyX, uint256 pubKeyY, address controller)',
  'event ForcedOperationQueued(uint256 indexed index, uint8 indexed kind, uint32 account, uint32 counterpart, uint256 a, uint256 b)',
  'event ForcedOperationsConsumed(uint256 fromIndex, uint256 count)',
  'event BondCreated(uint256 indexed bondId, address indexed insurer, address indexed organisation, uint32 patientAccount, bytes32 dataLeaf, uint128 deposit, uint128 feePerTx)',
  'event InsurerExit(uint256 indexed bondId, (bytes32 blistRoot, bytes32 nlistRoot, bool rootsMatched, uint256 matched, uint256 foundOnL1, uint256 ignored, uint256 settledTransactions, uint256 amount) result)',
]);

export const ROLLUP_EVENTS = parseAbi([
  'event BatchFinalized(uint64 indexed batchIndex, uint256 oldRoot, uint256 newRoot, bytes32 commitment, bytes32 txRoot, uint32 txCount, uint32 forcedCount, uint64 timestamp, bytes32 provenanceRoot)',
]);

/** The Rollup calls the BatchFinalized handler decodes (submitBatch calldata) and reads (the batch shape). */
export const ROLLUP_FUNCTIONS = parseAbi([
  'function submitBatch(uint256 oldRoot, uint256 newRoot, bytes batchData, (uint256[2] a, uint256[2][2] b, uint256[2] c) proof)',
  'function maxTxs() view returns (uint256)',
  'function maxForcedOps() view returns (uint256)',
]);

export const PROVENANCE_EVENTS = parseAbi(['event RootAnchored(bytes32 indexed root, address indexed anchoredBy, bool fromRollup, uint64 batchIndex)']);

export const FOREIGN_ROOTS_EVENTS = parseAbi([
  'event ForeignRootAccepted(uint32 indexed origin, uint64 indexed batchIndex, address rollup, uint256 stateRoot, bytes32 commitment)',
  'event ForeignRecordVerified(uint32 indexed origin, uint64 indexed batchIndex, uint32 indexed account, uint256 indexHash, address verifier)',
]);

export class AbiDriftError extends Error {
  override readonly name = 'AbiDriftError';
}

/**
 * Returns the artifact's ABI typed as `items`, after checking every event and function of `items`
 * is in it unchanged (same selector; for events also the same indexed parameters).
 */
export function typedAbi<const T extends readonly (AbiEvent | AbiFunction)[]>(contract: string, artifact: Abi, items: T): T {
  const events = artifact.filter((i): i is AbiEvent => i.type === 'event');
  const selectors = new Set(events.map((e) => toEventSelector(e)));
  const functions = new Set(artifact.filter((i): i is AbiFunction => i.type === 'function').map((f) => toFunctionSelector(f)));
  for (const e of items) {
    if (e.type === 'function') {
      if (!functions.has(toFunctionSelector(e))) {
        throw new AbiDriftError(`${contract} artifact has no function ${e.name} with the signature the indexer expects: update indexer/events.ts`);
      }
      continue;
    }
    if (!selectors.has(toEventSelector(e))) {
      throw new AbiDriftError(`${contract} artifact has no event ${e.name} with the signature the indexer expects: update indexer/events.ts`);
    }
    const inArtifact = events.find((i) => i.name === e.name);
    const indexed = (x: AbiEvent) => x.inputs.map((p) => Boolean(p.indexed)).join();
    if (!inArtifact || indexed(inArtifact) !== indexed(e)) {
      throw new AbiDriftError(`${contract} event ${e.name}: indexed parameters differ from indexer/events.ts`);
    }
  }
  return artifact as unknown as T;
}
