/**
 * Two real anvil chains with the relay deployed between them (relay/deploy.ts): the settlement
 * chain (31337) with the Rollup and the RootPublisher, the partner chain (31338) with ForeignRoots
 * and a 3-of-4 multisig ISM. Plus a real Poseidon state (prover/state.ts) whose roots the tests
 * finalize as batch roots (the binding-only verifier accepts any roots), so account proofs against
 * the relayed roots are real.
 */
import { NonceManager, Wallet, type Signer, getAddress, type JsonRpcProvider, type Log, type TransactionReceipt } from 'ethers';
import { ForcedKind, TxOp } from '../../prover/codec.js';
import { PROFILES } from '../../prover/profiles.js';
import { publicKeyOf, randomSecret, signTx } from '../../prover/signing.js';
import { RollupState } from '../../prover/state.js';
import { devValidatorKey } from '../../sdk/config.js';
import { ForeignRoots__factory, RootPublisher__factory, type ForeignRoots, type RootPublisher } from '../../contracts/types/index.js';
import { CheckpointTree, messageIdMultisigMetadata, signCheckpoint, type CheckpointFields } from '../../relay/checkpoint.js';
import { deployRelay, type RelayDeployment } from '../../relay/deploy.js';
import { mailboxAt, mailboxInterface, merkleTreeHookInterface, sortValidators } from '../../relay/hyperlane.js';
import { hyperlaneMessage, type HyperlaneMessage } from '../../relay/message.js';
import { deploySettlement, startTestChain, type SettlementContracts, type TestChain } from './chain.js';
import { prepareBatch, randomRecord, submit } from './batches.js';

export const SETTLEMENT_ID = 31337;
export const PARTNER_ID = 31338;
export const THRESHOLD = 3;
export const PROFILE = PROFILES.dev;
export const MAX_UINT64 = (1n << 64n) - 1n;

export interface RelayChains {
  settlement: TestChain;
  partner: TestChain;
  c: SettlementContracts;
  relay: RelayDeployment;
  /** The 4 validator wallets, sorted by address (the ISM's order). */
  validators: Wallet[];
  validatorKeys: string[];
  publisher: RootPublisher;
  /** Connected to partner governance (account 0). */
  foreignRoots: ForeignRoots;
  stop(): Promise<void>;
}

export async function startRelayChains(): Promise<RelayChains> {
  const [settlement, partner] = await Promise.all([startTestChain(SETTLEMENT_ID), startTestChain(PARTNER_ID)]);
  const c = await deploySettlement(settlement);
  const validatorKeys = [0, 1, 2, 3].map(devValidatorKey);
  const byAddress = new Map(validatorKeys.map((k) => [new Wallet(k).address, new Wallet(k)]));
  const validators = sortValidators([...byAddress.keys()]).map((a) => byAddress.get(a)!);
  const relay = await deployRelay({
    settlementSigner: new NonceManager(settlement.accounts[0]!),
    partnerSigner: new NonceManager(partner.accounts[0]!),
    settlementChainId: SETTLEMENT_ID,
    partnerChainId: PARTNER_ID,
    rollup: await c.rollup.getAddress(),
    treeDepth: PROFILE.treeDepth,
    validators: validatorKeys,
    threshold: THRESHOLD,
  });
  return {
    settlement,
    partner,
    c,
    relay,
    validators,
    validatorKeys,
    publisher: RootPublisher__factory.connect(relay.settlement.RootPublisher, settlement.accounts[0]!),
    foreignRoots: ForeignRoots__factory.connect(relay.partner.ForeignRoots, partner.accounts[0]!),
    async stop() {
      await Promise.all([settlement.stop(), partner.stop()]);
    },
  };
}

/** A dev-profile state with patient account 1 registered (its key from a fresh secret). */
export function patientState(): { state: RollupState; secret: Uint8Array; account: number } {
  const state = new RollupState({ treeDepth: PROFILE.treeDepth, consentDepth: PROFILE.consentDepth });
  const secret = randomSecret();
  const key = publicKeyOf(secret);
  state.applyForced({ kind: ForcedKind.RegisterAccount, account: 1, counterpart: 0, a: key.x, b: key.y });
  // A second account, so the path has a non-empty sibling somewhere.
  const other = publicKeyOf(randomSecret());
  state.applyForced({ kind: ForcedKind.RegisterAccount, account: 6, counterpart: 0, a: other.x, b: other.y });
  return { state, secret, account: 1 };
}

/** The patient sets (upload) or replaces (update) its record index hash, signed with its key. */
export function setIndexHash(state: RollupState, secret: Uint8Array, account: number, indexHash: bigint): void {
  const op = state.accountFields(account).indexHash === 0n ? TxOp.Upload : TxOp.Update;
  const nonce = state.accountFields(account).nonce;
  state.applyTx(signTx(secret, { op, actor: account, target: account, slot: 0, scope: 0, expiry: 0n, payload: indexHash }, nonce), 1n);
}

/** Finalizes a Rollup batch (one opaque tx record: the Rollup refuses empty batches) whose new state root is `root`. */
export async function finalizeBatch(c: SettlementContracts, root: bigint): Promise<TransactionReceipt> {
  const s = await prepareBatch(c.rollup, { forcedOps: [], txRecords: [randomRecord(c.txRecordBytes)] }, root);
  const receipt = await (await submit(c.rollup, s)).wait();
  if (!receipt || receipt.status !== 1) throw new Error('submitBatch reverted');
  return receipt;
}

export interface Dispatched {
  message: HyperlaneMessage;
  /** Its leaf index in the origin MerkleTreeHook. */
  index: number;
}

/** The Hyperlane messages a transaction dispatched, with their tree indices. */
export function dispatchedIn(receipt: TransactionReceipt): Dispatched[] {
  const indexOf = new Map<string, number>();
  const messages: HyperlaneMessage[] = [];
  for (const log of receipt.logs as readonly Log[]) {
    const m = safeParse(mailboxInterface, log);
    if (m?.name === 'Dispatch') messages.push(hyperlaneMessage(m.args[3] as string));
    const h = safeParse(merkleTreeHookInterface, log);
    if (h?.name === 'InsertedIntoTree') indexOf.set((h.args[0] as string).toLowerCase(), Number(h.args[1]));
  }
  return messages.map((message) => {
    const index = indexOf.get(message.id.toLowerCase());
    if (index === undefined) throw new Error(`message ${message.id} was not inserted into the tree`);
    return { message, index };
  });
}

function safeParse(iface: typeof mailboxInterface, log: Log) {
  try {
    return iface.parseLog(log);
  } catch {
    return null;
  }
}

/** Rebuilds the origin MerkleTreeHook's tree from its InsertedIntoTree events (all of them, or the first `count`). */
export async function checkpointTreeOf(provider: JsonRpcProvider, hook: string, count?: number): Promise<CheckpointTree> {
  const logs = await provider.getLogs({ address: hook, topics: [merkleTreeHookInterface.getEvent('InsertedIntoTree')!.topicHash], fromBlock: 0, toBlock: 'latest' });
  const tree = new CheckpointTree();
  for (const log of logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)) {
    if (count !== undefined && tree.count >= count) break;
    const event = merkleTreeHookInterface.parseLog(log)!;
    if (Number(event.args[1]) !== tree.count) throw new Error(`tree index ${String(event.args[1])} out of order`);
    tree.insert(event.args[0] as string);
  }
  return tree;
}

/** The checkpoint validators sign for a dispatched message: the tree root right after it. */
export async function checkpointFor(r: RelayChains, d: Dispatched): Promise<CheckpointFields> {
  const tree = await checkpointTreeOf(r.settlement.provider, r.relay.settlement.MerkleTreeHook, d.index + 1);
  return { origin: SETTLEMENT_ID, merkleTreeHook: getAddress(r.relay.settlement.MerkleTreeHook), root: tree.root(), index: d.index, messageId: d.message.id };
}

export async function signatures(signers: readonly Signer[], fields: CheckpointFields): Promise<string[]> {
  return Promise.all(signers.map(async (s) => (await signCheckpoint(s, fields)).signature as string));
}

/** Mailbox.process metadata with the signatures of `signers` (default: the first 3 validators, in order). */
export async function metadataFor(r: RelayChains, d: Dispatched, signers: readonly Signer[] = r.validators.slice(0, THRESHOLD)): Promise<string> {
  const fields = await checkpointFor(r, d);
  return messageIdMultisigMetadata(fields, await signatures(signers, fields));
}

/** The partner Mailbox, for `sender` (default partner account 9: any relayer). */
export function partnerMailbox(r: RelayChains, sender = r.partner.accounts[9]!) {
  return mailboxAt(r.relay.partner.Mailbox, sender);
}

/** Publishes pending roots; returns the receipt and what it dispatched. */
export async function publishAll(r: RelayChains, sender = r.settlement.accounts[8]!): Promise<{ receipt: TransactionReceipt; dispatched: Dispatched[] }> {
  const receipt = await (await r.publisher.connect(sender).publish(MAX_UINT64)).wait();
  if (!receipt || receipt.status !== 1) throw new Error('publish reverted');
  return { receipt, dispatched: dispatchedIn(receipt) };
}
