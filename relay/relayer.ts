/**
 * The untrusted relayer. Anyone can run one: it holds no authority, only gas.
 *
 * Each tick it
 *  1. publishes: if the origin's RootPublisher has finalized batches not yet dispatched, it calls
 *     publish() (permissionless; the contract reads the roots from the Rollup itself);
 *  2. scans the origin Mailbox for Dispatch events to the destination's enrolled recipients and
 *     the MerkleTreeHook's InsertedIntoTree events that give each message its tree index;
 *  3. delivers the queue in nonce order: it skips messages the destination Mailbox already
 *     delivered, gathers the validators' signed checkpoints for the message over HTTP, keeps the
 *     ones signed by the destination ISM's current validators over this very message, and calls
 *     Mailbox.process once `threshold` of them agree on a root.
 *
 * Crash safety: the only state is the first origin block that still holds an undelivered message,
 * written to `stateFile` after every delivery. A restart rescans from there and asks the
 * destination Mailbox what it already delivered, so nothing is delivered twice (the Mailbox would
 * refuse it anyway) and nothing is skipped. Delivery is in order and stops at the first message it
 * cannot deliver yet (ForeignRoots accepts roots only in batch order); a message the receiver can
 * never accept (an unenrolled sender, a batch older than it expects) is dropped with a log line.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { JsonRpcProvider, Wallet, getAddress, type ContractTransactionResponse, id as eventTopic, toBeHex, zeroPadValue, type Log } from 'ethers';
import { ForeignRoots__factory, RootPublisher__factory } from '../contracts/types/index.js';
import { LOG_SPAN, byPosition } from './logs.js';
import { checkpointFields, checkpointSigner, messageIdMultisigMetadata, type SignedCheckpoint } from './checkpoint.js';
import { mailboxAt, mailboxInterface, merkleTreeHookInterface, multisigIsmAt } from './hyperlane.js';
import { decodeRootMessage, hyperlaneMessage, type HyperlaneMessage } from './message.js';

export interface RelayerOptions {
  readonly origin: {
    readonly rpcUrl: string;
    readonly domain: number;
    readonly mailbox: string;
    readonly merkleTreeHook: string;
    readonly startBlock: number;
    /** Publish pending roots through this RootPublisher before relaying; unset = relay only. */
    readonly rootPublisher?: string;
  };
  readonly destination: { readonly rpcUrl: string; readonly domain: number; readonly mailbox: string };
  /** Only messages to these destination contracts are relayed (a relayer pays for what it carries). */
  readonly recipients: readonly string[];
  /**
   * Only messages from these origin senders are relayed; default the rootPublisher when set, else
   * any sender. Anyone can dispatch to a recipient, and a message it refuses (UnknownSender) would
   * otherwise hold the in-order queue for good.
   */
  readonly senders?: readonly string[];
  readonly validatorUrls: readonly string[];
  /** Pays gas on both chains. */
  readonly key: string;
  readonly stateFile: string;
  readonly pollMs: number;
  readonly log: (line: string) => void;
  /** Called after each delivery (tests and bench/ measure latency and gas here). */
  readonly onDelivered?: (delivery: Delivery) => void;
  /** Called when roots are published (their count) and when a message is dropped as never deliverable. */
  readonly onPublished?: (count: number) => void;
  readonly onDropped?: () => void;
}

export interface Delivery {
  readonly messageId: string;
  readonly nonce: number;
  /** For a state-root message, the origin batch it carries. */
  readonly batchIndex: number | undefined;
  readonly dispatchBlock: number;
  readonly txHash: string;
  readonly gasUsed: bigint;
  readonly signatures: number;
}

export class RelayerError extends Error {
  override readonly name = 'RelayerError';
}

interface Pending {
  readonly message: HyperlaneMessage;
  readonly index: number;
  readonly block: number;
}

interface RelayerState {
  readonly version: 1;
  /** The first origin block not known to be fully delivered. */
  readonly nextBlock: number;
  /** The origin Mailbox it belongs to: a state left by another deployment is not used. */
  readonly mailbox: string;
}

const DISPATCH = eventTopic('Dispatch(address,uint32,bytes32,bytes)');
const INSERTED = eventTopic('InsertedIntoTree(bytes32,uint32)');
const FETCH_TIMEOUT_MS = 3_000;
const MAX_UINT64 = (1n << 64n) - 1n;

export class Relayer {
  private readonly origin: JsonRpcProvider;
  private readonly destination: JsonRpcProvider;
  private readonly originWallet: Wallet;
  private readonly destinationWallet: Wallet;
  private readonly recipients: ReadonlySet<string>;
  private readonly senders: ReadonlySet<string> | undefined;
  private queue: Pending[] = [];
  /** Origin blocks up to here are scanned into the queue. */
  private scannedTo: number;
  private nextBlock: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private lastWait = '';

  constructor(private readonly opts: RelayerOptions) {
    this.origin = new JsonRpcProvider(opts.origin.rpcUrl, undefined, { staticNetwork: true, pollingInterval: opts.pollMs });
    this.destination = new JsonRpcProvider(opts.destination.rpcUrl, undefined, { staticNetwork: true, pollingInterval: opts.pollMs });
    this.originWallet = new Wallet(opts.key, this.origin);
    this.destinationWallet = new Wallet(opts.key, this.destination);
    this.recipients = new Set(opts.recipients.map((r) => zeroPadValue(getAddress(r), 32).toLowerCase()));
    const senders = opts.senders ?? (opts.origin.rootPublisher ? [opts.origin.rootPublisher] : undefined);
    this.senders = senders && new Set(senders.map((s) => getAddress(s)));
    const saved = readState(opts.stateFile);
    const ours = saved && getAddress(saved.mailbox) === getAddress(opts.origin.mailbox);
    if (saved && !ours) opts.log(`${opts.stateFile} belongs to Mailbox ${saved.mailbox}, not ${opts.origin.mailbox}: scanning from the deployment's start block`);
    this.nextBlock = Math.max(opts.origin.startBlock, ours ? saved.nextBlock : 0);
    this.scannedTo = this.nextBlock - 1;
  }

  get address(): string {
    return this.originWallet.address;
  }

  /** Messages scanned and not yet delivered. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Checks the configuration against both chains (a wrong RPC or address fails here, at once),
   * then runs a tick every pollMs until stop(). A failing tick is logged and retried: chains,
   * validators and other relayers come and go.
   */
  async start(): Promise<void> {
    await this.preflight();
    // Tracked as `running` so a stop() during the first tick waits for it (before destroying the providers).
    this.running = this.tick().catch((err: unknown) => this.opts.log(`tick failed, retrying: ${(err as Error).message}`));
    await this.running;
    this.schedule();
  }

  private async preflight(): Promise<void> {
    const sides = [
      ['origin', this.origin, this.opts.origin.domain, this.opts.origin.mailbox],
      ['destination', this.destination, this.opts.destination.domain, this.opts.destination.mailbox],
    ] as const;
    for (const [side, provider, domain, mailbox] of sides) {
      let chainId: bigint;
      let code: string;
      try {
        [chainId, code] = await Promise.all([provider.getNetwork().then((n) => n.chainId), provider.getCode(mailbox)]);
      } catch (err) {
        throw new RelayerError(`the ${side} chain cannot be reached: ${(err as Error).message}`);
      }
      if (chainId !== BigInt(domain)) throw new RelayerError(`the ${side} RPC serves chain ${chainId}, expected domain ${domain}`);
      if (code === '0x') throw new RelayerError(`no Mailbox at ${mailbox} on the ${side} chain`);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.opts.log(`tick failed, retrying: ${(err as Error).message}`))
        .finally(() => this.schedule());
    }, this.opts.pollMs);
  }

  /** One pass: publish, scan, deliver. */
  async tick(): Promise<void> {
    if (this.opts.origin.rootPublisher) await this.publish(this.opts.origin.rootPublisher);
    await this.scan();
    await this.deliver();
  }

  private async publish(address: string): Promise<void> {
    const publisher = RootPublisher__factory.connect(address, this.originWallet);
    const pending = await publisher.pending();
    if (pending === 0n) return;
    const tx = await publisher.publish(MAX_UINT64);
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new RelayerError(`publish reverted (${tx.hash})`);
    const batches = receipt.logs.flatMap((log) => {
      const event = publisher.interface.parseLog(log);
      return event?.name === 'RootPublished' ? [Number(event.args.batchIndex)] : [];
    });
    if (batches.length === 0) return; // another publisher was first
    this.opts.log(`published roots of batches ${Math.min(...batches)}..${Math.max(...batches)} on domain ${this.opts.origin.domain} (tx ${tx.hash.slice(0, 10)}…)`);
    this.opts.onPublished?.(batches.length);
  }

  private async scan(): Promise<void> {
    const head = await this.origin.getBlockNumber();
    if (this.scannedTo > head) {
      // The chain is shorter than the saved state: another chain history under the same addresses.
      this.opts.log(`the origin chain is at block ${head}, the saved state at ${this.scannedTo}: rescanning from the deployment's start block`);
      this.queue = [];
      this.scannedTo = this.opts.origin.startBlock - 1;
      this.nextBlock = this.opts.origin.startBlock;
    }
    while (this.scannedTo < head && !this.stopped) {
      const fromBlock = this.scannedTo + 1;
      const toBlock = Math.min(head, fromBlock + LOG_SPAN - 1);
      const destinationTopic = toBeHex(this.opts.destination.domain, 32);
      const [dispatches, inserted] = await Promise.all([
        this.origin.getLogs({ address: this.opts.origin.mailbox, topics: [DISPATCH, null, destinationTopic], fromBlock, toBlock }),
        this.origin.getLogs({ address: this.opts.origin.merkleTreeHook, topics: [INSERTED], fromBlock, toBlock }),
      ]);
      const indexOf = new Map<string, number>();
      for (const log of inserted) {
        const event = merkleTreeHookInterface.parseLog(log);
        if (event) indexOf.set((event.args[0] as string).toLowerCase(), Number(event.args[1]));
      }
      for (const log of dispatches.sort(byPosition)) this.enqueue(log, indexOf);
      this.scannedTo = toBlock;
    }
    if (this.queue.length === 0) this.advance(this.scannedTo + 1);
  }

  private enqueue(log: Log, indexOf: ReadonlyMap<string, number>): void {
    const event = mailboxInterface.parseLog(log);
    if (!event) return;
    const recipient = (event.args[2] as string).toLowerCase();
    if (!this.recipients.has(recipient)) return;
    if (this.senders && !this.senders.has(getAddress(event.args[0] as string))) return;
    const message = hyperlaneMessage(event.args[3] as string);
    const index = indexOf.get(message.id.toLowerCase());
    if (index === undefined) {
      this.opts.log(`message ${message.id} (nonce ${message.nonce}) skipped: not in the MerkleTreeHook, so no validator can attest it`);
      return;
    }
    this.queue.push({ message, index, block: log.blockNumber });
  }

  private async deliver(): Promise<void> {
    const mailbox = mailboxAt(this.opts.destination.mailbox, this.destinationWallet);
    while (this.queue.length > 0 && !this.stopped) {
      const next = this.queue[0]!;
      if (!(await mailbox.getFunction('delivered')(next.message.id))) {
        const delivered = await this.deliverOne(mailbox, next);
        if (!delivered) return; // retried next tick; later messages wait behind it
      }
      this.queue.shift();
      this.advance(this.queue[0]?.block ?? this.scannedTo + 1);
    }
  }

  private async deliverOne(mailbox: ReturnType<typeof mailboxAt>, p: Pending): Promise<boolean> {
    const { message } = p;
    const ismAddress = (await mailbox.getFunction('recipientIsm')(getAddress(`0x${message.recipient.slice(-40)}`))) as string;
    const ism = multisigIsmAt(ismAddress, this.destination);
    const [validators, threshold] = (await ism.getFunction('validatorsAndThreshold')(message.bytes)) as [string[], bigint];
    const chosen = await this.gatherSignatures(p, validators.map((v) => getAddress(v)), Number(threshold));
    if (!chosen) return false;
    const metadata = messageIdMultisigMetadata(chosen.fields, chosen.signatures);
    let gasLimit: bigint;
    try {
      gasLimit = await mailbox.getFunction('process').estimateGas(metadata, message.bytes);
    } catch (err) {
      if (await mailbox.getFunction('delivered')(message.id)) return true; // another relayer was first
      const never = neverAccepted(err);
      if (never) {
        // Holding it would stall every later root behind it: drop it, loudly.
        this.opts.log(`message nonce ${message.nonce} dropped: the receiver will never accept it (${never})`);
        this.opts.onDropped?.();
        return true;
      }
      this.waiting(`message nonce ${message.nonce} would revert on delivery (${reason(err)}); holding it`);
      return false;
    }
    let tx: ContractTransactionResponse;
    try {
      // The estimate above, with headroom: no second estimate that a faster relayer could fail.
      tx = (await mailbox.getFunction('process')(metadata, message.bytes, { gasLimit: (gasLimit * 6n) / 5n })) as ContractTransactionResponse;
    } catch (err) {
      if (await mailbox.getFunction('delivered')(message.id)) return true; // another relayer was first
      throw err;
    }
    let receipt: Awaited<ReturnType<typeof tx.wait>>;
    try {
      receipt = await tx.wait();
    } catch (err) {
      if (await mailbox.getFunction('delivered')(message.id)) return true; // mined after another relayer's
      throw err;
    }
    if (!receipt || receipt.status !== 1) throw new RelayerError(`process reverted (${tx.hash})`);
    let batchIndex: number | undefined;
    try {
      batchIndex = decodeRootMessage(message.body).batchIndex;
    } catch {
      batchIndex = undefined;
    }
    this.opts.log(
      `delivered message nonce ${message.nonce}${batchIndex === undefined ? '' : ` (batch ${batchIndex} root)`} to domain ${message.destination} with ${chosen.signatures.length}/${validators.length} signatures, gas ${receipt.gasUsed} (tx ${tx.hash.slice(0, 10)}…)`,
    );
    this.lastWait = '';
    this.opts.onDelivered?.({
      messageId: message.id,
      nonce: message.nonce,
      batchIndex,
      dispatchBlock: p.block,
      txHash: tx.hash,
      gasUsed: receipt.gasUsed,
      signatures: chosen.signatures.length,
    });
    return true;
  }

  /** `threshold` signatures, in validator order, by current validators over one root for this message. */
  private async gatherSignatures(
    p: Pending,
    validators: readonly string[],
    threshold: number,
  ): Promise<{ fields: ReturnType<typeof checkpointFields>; signatures: string[] } | undefined> {
    const answers = await Promise.allSettled(this.opts.validatorUrls.map((url) => fetchCheckpoint(url, p.index)));
    const byRoot = new Map<string, Map<string, SignedCheckpoint>>();
    for (const answer of answers) {
      if (answer.status !== 'fulfilled' || !answer.value) continue;
      const signed = answer.value;
      let fields: ReturnType<typeof checkpointFields>;
      let signer: string;
      try {
        fields = checkpointFields(signed);
        signer = checkpointSigner(signed);
      } catch {
        continue; // malformed: a faulty or hostile validator endpoint
      }
      const matches =
        fields.origin === this.opts.origin.domain &&
        fields.merkleTreeHook === getAddress(this.opts.origin.merkleTreeHook) &&
        fields.index === p.index &&
        fields.messageId.toLowerCase() === p.message.id.toLowerCase();
      if (!matches || !validators.includes(signer)) continue;
      const signers = byRoot.get(fields.root) ?? new Map<string, SignedCheckpoint>();
      signers.set(signer, signed);
      byRoot.set(fields.root, signers);
    }
    for (const signers of byRoot.values()) {
      if (signers.size < threshold) continue;
      const ordered = validators.filter((v) => signers.has(v)).slice(0, threshold);
      const first = signers.get(ordered[0]!)!;
      return { fields: checkpointFields(first), signatures: ordered.map((v) => signers.get(v)!.signature as string) };
    }
    const best = Math.max(0, ...[...byRoot.values()].map((s) => s.size));
    this.waiting(`message nonce ${p.message.nonce} (tree index ${p.index}) has ${best}/${threshold} validator signatures; waiting`);
    return undefined;
  }

  /** Logs a wait once per distinct reason, not every tick. */
  private waiting(line: string): void {
    if (line === this.lastWait) return;
    this.lastWait = line;
    this.opts.log(line);
  }

  private advance(nextBlock: number): void {
    if (nextBlock <= this.nextBlock) return;
    this.nextBlock = nextBlock;
    writeState(this.opts.stateFile, { version: 1, nextBlock, mailbox: this.opts.origin.mailbox });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.origin.destroy();
    this.destination.destroy();
  }
}

async function fetchCheckpoint(baseUrl: string, index: number): Promise<SignedCheckpoint | undefined> {
  const res = await fetch(`${baseUrl.replace(/\/$/, '')}/checkpoint/${index}`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) return undefined;
  return (await res.json()) as SignedCheckpoint;
}

function readState(file: string): RelayerState | undefined {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let state: Partial<RelayerState>;
  try {
    state = JSON.parse(raw) as Partial<RelayerState>;
  } catch {
    throw new RelayerError(`${file} is not valid JSON; delete it to rescan`);
  }
  if (state.version !== 1 || !Number.isSafeInteger(state.nextBlock) || typeof state.mailbox !== 'string') {
    throw new RelayerError(`${file} is not a relayer state file; delete it to rescan`);
  }
  return state as RelayerState;
}

function writeState(file: string, state: RelayerState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file); // atomic: a crash leaves the old or the new state
}


const foreignRootsErrors = ForeignRoots__factory.createInterface();

/**
 * A ForeignRoots refusal no later delivery can change: a sender, origin or rollup it does not
 * enrol, a malformed root, or a batch older than the one it expects (re-enrolled past it).
 * OutOfOrder for a later batch is not final: the earlier one may still arrive.
 */
function neverAccepted(err: unknown): string | undefined {
  const data = (err as { data?: unknown }).data;
  if (typeof data !== 'string' || data.length < 10) return undefined;
  let decoded;
  try {
    decoded = foreignRootsErrors.parseError(data);
  } catch {
    return undefined;
  }
  if (!decoded) return undefined;
  const args = decoded.args.map(String).join(', ');
  if (decoded.name === 'OutOfOrder') return BigInt(decoded.args[1] as bigint) < BigInt(decoded.args[0] as bigint) ? `OutOfOrder(${args})` : undefined;
  return ['UnknownOrigin', 'UnknownSender', 'WrongRollup', 'RootOutOfField', 'ValueNotAccepted'].includes(decoded.name)
    ? `${decoded.name}(${args})`
    : undefined;
}

function reason(err: unknown): string {
  const e = err as { shortMessage?: string; reason?: string; message?: string };
  return e.reason ?? e.shortMessage ?? e.message ?? String(err);
}
