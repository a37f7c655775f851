/**
 * The off-chain relay on two anvil chains: institution validators (relay/validator.ts) serving
 * signed checkpoints and the untrusted relayer (relay/relayer.ts) carrying finalized roots to
 * ForeignRoots, including a relayer restart from its state file, two relayers at once and a
 * validator set below threshold. The tests share one chain pair and run in order (validators
 * keep their tree in memory, so the chains are never reverted).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress, type HDNodeWallet } from 'ethers';
import { shutdownProver } from '../../prover/groth16.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { checkpointSigner, messageIdMultisigMetadata, type SignedCheckpoint } from '../../relay/checkpoint.js';
import { addressToBytes32, mailboxAt, mailboxInterface, multisigIsmAt } from '../../relay/hyperlane.js';
import { encodeRootMessage } from '../../relay/message.js';
import { Relayer, type Delivery } from '../../relay/relayer.js';
import { InstitutionValidator } from '../../relay/validator.js';
import { randomRoot } from '../helpers/batches.js';
import { PARTNER_ID, SETTLEMENT_ID, THRESHOLD, checkpointTreeOf, finalizeBatch, publishAll, startRelayChains, type RelayChains } from '../helpers/relay.js';
import { until as poll } from '../helpers/until.js';

let r: RelayChains;
let dir: string;
const validators: (InstitutionValidator | undefined)[] = [];
let ports: number[] = [];
const relayers: Relayer[] = [];
const logs: string[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return poll(what, probe, timeoutMs, { errorsMeanNotYet: false, context: () => `relay log:\n${logs.slice(-20).join('\n')}` });
}

function startValidator(i: number): Promise<InstitutionValidator> {
  return InstitutionValidator.start({
    origin: { rpcUrl: r.settlement.anvil.url, domain: SETTLEMENT_ID, merkleTreeHook: r.relay.settlement.MerkleTreeHook, startBlock: 0 },
    key: r.validatorKeys[i]!,
    confirmations: 0,
    pollMs: 100,
    host: '127.0.0.1',
    port: ports[i]!,
    storeDir: join(dir, `validator-${i}`),
    log: (line) => logs.push(`[validator ${i}] ${line}`),
  });
}

function newRelayer(name: string, wallet: HDNodeWallet, stateFile: string, onDelivered?: (d: Delivery, relayer: Relayer) => void): Relayer {
  const relayer: Relayer = new Relayer({
    origin: {
      rpcUrl: r.settlement.anvil.url,
      domain: SETTLEMENT_ID,
      mailbox: r.relay.settlement.Mailbox,
      merkleTreeHook: r.relay.settlement.MerkleTreeHook,
      startBlock: 0,
      rootPublisher: r.relay.settlement.RootPublisher,
    },
    destination: { rpcUrl: r.partner.anvil.url, domain: PARTNER_ID, mailbox: r.relay.partner.Mailbox },
    recipients: [r.relay.partner.ForeignRoots],
    validatorUrls: ports.map((p) => `http://127.0.0.1:${p}`),
    key: wallet.privateKey,
    stateFile: join(dir, stateFile),
    pollMs: 100,
    log: (line) => logs.push(`[${name}] ${line}`),
    ...(onDelivered ? { onDelivered: (d: Delivery) => onDelivered(d, relayer) } : {}),
  });
  relayers.push(relayer);
  return relayer;
}

/** ForeignRootAccepted per batch index and ProcessId per message id, over the whole partner chain. */
async function deliveries(): Promise<{ accepted: Map<number, number>; processed: Map<string, number> }> {
  const frLogs = await r.partner.provider.getLogs({ address: r.relay.partner.ForeignRoots, topics: [r.foreignRoots.interface.getEvent('ForeignRootAccepted').topicHash], fromBlock: 0 });
  const accepted = new Map<number, number>();
  for (const log of frLogs) {
    const batch = Number(r.foreignRoots.interface.parseLog(log)!.args.batchIndex);
    accepted.set(batch, (accepted.get(batch) ?? 0) + 1);
  }
  const pLogs = await r.partner.provider.getLogs({ address: r.relay.partner.Mailbox, topics: [mailboxInterface.getEvent('ProcessId')!.topicHash], fromBlock: 0 });
  const processed = new Map<string, number>();
  for (const log of pLogs) processed.set(log.topics[1]!, (processed.get(log.topics[1]!) ?? 0) + 1);
  return { accepted, processed };
}

async function expectEachOnce(batches: number): Promise<void> {
  const { accepted, processed } = await deliveries();
  expect([...accepted.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: batches }, (_, i) => i));
  expect([...accepted.values()].every((n) => n === 1)).toBe(true);
  expect(processed.size).toBe(batches);
  expect([...processed.values()].every((n) => n === 1)).toBe(true);
  expect(await r.foreignRoots.acceptedCount(SETTLEMENT_ID)).toBe(BigInt(batches));
  for (let i = 0; i < batches; i++) expect((await r.foreignRoots.foreignRoot(SETTLEMENT_ID, i)).stateRoot).toBe((await r.c.rollup.batch(i)).stateRoot);
}

const accepted = async () => Number(await r.foreignRoots.acceptedCount(SETTLEMENT_ID));

beforeAll(async () => {
  r = await startRelayChains();
  dir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
  for (let i = 0; i < 4; i++) validators[i] = await startValidator(i);
}, 90_000);

afterAll(async () => {
  if (process.env.RELAY_TEST_LOG) console.log(logs.join('\n'));
  await Promise.all(relayers.map((x) => x.stop().catch(() => undefined)));
  await Promise.all(validators.map((v) => v?.stop().catch(() => undefined)));
  await r?.stop();
  await shutdownProver();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('InstitutionValidator', () => {
  it('serves signed checkpoints that the destination ISM accepts', async () => {
    for (const v of validators) {
      const latest = (await (await fetch(`${v!.url}/checkpoint/latest`)).json()) as { index: number };
      expect(latest).toEqual({ index: -1 });
      expect((await fetch(`${v!.url}/checkpoint/0`)).status).toBe(404);
    }
    await finalizeBatch(r.c, randomRoot());
    const [d] = (await publishAll(r, r.settlement.accounts[7]!)).dispatched;
    expect(d!.index).toBe(0);
    const tree = await checkpointTreeOf(r.settlement.provider, r.relay.settlement.MerkleTreeHook);
    const signed: SignedCheckpoint[] = [];
    for (const v of validators) {
      await until(`validator ${v!.address} to sign checkpoint 0`, async () => ((await (await fetch(`${v!.url}/checkpoint/latest`)).json()) as { index: number }).index >= 0);
      const res = await fetch(`${v!.url}/checkpoint/0`);
      expect(res.status).toBe(200);
      const checkpoint = (await res.json()) as SignedCheckpoint;
      expect(checkpointSigner(checkpoint)).toBe(v!.address);
      expect(checkpoint.value.message_id).toBe(d!.message.id);
      expect(checkpoint.value.checkpoint).toEqual({ root: tree.root(), index: 0, mailbox_domain: SETTLEMENT_ID, merkle_tree_hook_address: getAddress(r.relay.settlement.MerkleTreeHook) });
      signed.push(checkpoint);
      const health = (await (await fetch(`${v!.url}/health`)).json()) as { address: string; latestIndex: number; halted: string | null };
      expect(health).toMatchObject({ address: v!.address, latestIndex: 0, halted: null });
    }
    // Any 3 of them, in the ISM's validator order, pass the destination ISM.
    const order = r.validators.map((w) => w.address);
    const chosen = signed.sort((a, b) => order.indexOf(checkpointSigner(a)) - order.indexOf(checkpointSigner(b))).slice(1, 1 + THRESHOLD);
    const c = chosen[0]!.value;
    const metadata = messageIdMultisigMetadata(
      { origin: SETTLEMENT_ID, merkleTreeHook: c.checkpoint.merkle_tree_hook_address, root: c.checkpoint.root, index: c.checkpoint.index, messageId: c.message_id },
      chosen.map((s) => s.signature as string),
    );
    expect(await multisigIsmAt(r.relay.partner.MultisigIsm, r.partner.provider).getFunction('verify')(metadata, d!.message.bytes)).toBe(true);
    expect((await fetch(`${validators[0]!.url}/checkpoint/1`)).status).toBe(404);
  });
});

describe('Relayer', () => {
  it('delivers published roots; a new relayer with the same state file resumes after a stop, delivering each exactly once', async () => {
    // Batch 0 is published (previous test) but not delivered; batch 1 is finalized, not published.
    await finalizeBatch(r.c, randomRoot());
    const deliveredByA: Delivery[] = [];
    let stopping: Promise<void> | undefined;
    const a = newRelayer('relayer A', r.settlement.accounts[9]!, 'relayer-ab.json', (d, self) => {
      deliveredByA.push(d);
      stopping ??= self.stop(); // stop right after the first delivery, mid-tick
    });
    await a.start();
    await until('relayer A to deliver once and stop', async () => (stopping ? (await stopping, true) : false));
    expect(deliveredByA.map((d) => d.batchIndex)).toEqual([0]);
    expect(deliveredByA[0]!.signatures).toBe(THRESHOLD);
    expect(await accepted()).toBe(1);
    // More batches while no relayer runs.
    await finalizeBatch(r.c, randomRoot());
    await finalizeBatch(r.c, randomRoot());
    const deliveredByB: Delivery[] = [];
    const b = newRelayer('relayer B', r.settlement.accounts[9]!, 'relayer-ab.json', (d) => deliveredByB.push(d));
    await b.start();
    await until('relayer B to deliver batches 1..3', async () => (await accepted()) === 4);
    await b.stop();
    expect(deliveredByB.map((d) => d.batchIndex)).toEqual([1, 2, 3]);
    await expectEachOnce(4);
    expect(logs.some((l) => l.startsWith('[relayer B] published roots of batches'))).toBe(true);
  });

  it('two relayers at once deliver each root exactly once', async () => {
    const c = newRelayer('relayer C', r.settlement.accounts[9]!, 'relayer-c.json');
    const d = newRelayer('relayer D', r.settlement.accounts[8]!, 'relayer-d.json');
    await Promise.all([c.start(), d.start()]);
    for (let i = 0; i < 3; i++) {
      await finalizeBatch(r.c, randomRoot());
      await sleep(150);
    }
    await until('relayers C and D to deliver batches 4..6', async () => (await accepted()) === 7);
    await sleep(500); // let both run a few more ticks: nothing more may arrive
    await Promise.all([c.stop(), d.stop()]);
    await expectEachOnce(7);
  });

  it('waits with 2 of 4 validators up, and delivers once a third comes back', async () => {
    await validators[2]!.stop();
    await validators[3]!.stop();
    validators[2] = validators[3] = undefined;
    const e = newRelayer('relayer E', r.settlement.accounts[9]!, 'relayer-e.json');
    await e.start();
    await finalizeBatch(r.c, randomRoot());
    await until('relayer E to report it is waiting', async () => logs.some((l) => /^\[relayer E\] message nonce \d+ \(tree index \d+\) has 2\/3 validator signatures; waiting$/.test(l)));
    await sleep(1_000);
    expect(await accepted()).toBe(7);
    validators[2] = await startValidator(2); // a restart: rebuilds its tree from the chain
    await until('relayer E to deliver batch 7', async () => (await accepted()) === 8);
    await e.stop();
    await expectEachOnce(8);
    expect(logs.filter((l) => l.startsWith('[relayer E] delivered')).length).toBe(1);
  });

  it('is not held up by a message another sender dispatched to ForeignRoots (which can never be delivered)', async () => {
    const impostor = r.settlement.accounts[4]!;
    const body = encodeRootMessage({ originChainId: SETTLEMENT_ID, rollup: await r.c.rollup.getAddress(), batchIndex: 8, stateRoot: 1n, commitment: `0x${'00'.repeat(32)}` });
    const mailbox = mailboxAt(r.relay.settlement.Mailbox, impostor);
    await (await mailbox.getFunction('dispatch(uint32,bytes32,bytes)')(PARTNER_ID, addressToBytes32(r.relay.partner.ForeignRoots), body)).wait();
    const before = await accepted();
    const f = newRelayer('relayer F', r.settlement.accounts[9]!, 'relayer-f.json');
    await f.start();
    await finalizeBatch(r.c, randomRoot());
    await until('relayer F to deliver the next batch past the impostor message', async () => (await accepted()) === before + 1);
    await f.stop();
    await expectEachOnce(before + 1);
  });

  it('drops a root the receiver will never accept (re-enrolled past it) instead of stalling on it', async () => {
    const skipped = await accepted();
    // Two batches finalize while no relayer runs; governance then re-enrols the origin from the second.
    await finalizeBatch(r.c, randomRoot());
    await finalizeBatch(r.c, randomRoot());
    await (await r.foreignRoots.enrollOrigin(SETTLEMENT_ID, addressToBytes32(r.relay.settlement.RootPublisher), await r.c.rollup.getAddress(), 10, skipped + 1)).wait();
    const g = newRelayer('relayer G', r.settlement.accounts[9]!, 'relayer-g.json');
    await g.start();
    await until('relayer G to deliver the batch after the skipped one', async () => (await accepted()) === skipped + 2);
    await g.stop();
    expect(logs.some((l) => l.startsWith('[relayer G] ') && l.includes(`dropped: the receiver will never accept it (OutOfOrder(${skipped + 1}, ${skipped}))`))).toBe(true);
    await expect(r.foreignRoots.foreignRoot(SETTLEMENT_ID, skipped)).rejects.toThrow();
    expect((await r.foreignRoots.foreignRoot(SETTLEMENT_ID, skipped + 1)).stateRoot).toBe((await r.c.rollup.batch(skipped + 1)).stateRoot);
  });

  it('rescans when its saved state is ahead of the chain (another chain history), and ignores another Mailbox\'s state', async () => {
    writeFileSync(join(dir, 'relayer-ahead.json'), JSON.stringify({ version: 1, nextBlock: 10_000_000, mailbox: r.relay.settlement.Mailbox }));
    writeFileSync(join(dir, 'relayer-other.json'), JSON.stringify({ version: 1, nextBlock: 10_000_000, mailbox: r.relay.partner.Mailbox }));
    const before = await accepted();
    const h = newRelayer('relayer H', r.settlement.accounts[9]!, 'relayer-ahead.json');
    await h.start();
    await finalizeBatch(r.c, randomRoot());
    await until('relayer H to deliver after its rescan', async () => (await accepted()) === before + 1);
    await h.stop();
    expect(logs.some((l) => l.startsWith('[relayer H] the origin chain is at block'))).toBe(true);
    const i = newRelayer('relayer I', r.settlement.accounts[9]!, 'relayer-other.json');
    expect(logs.some((l) => l.startsWith('[relayer I] ') && l.includes('belongs to Mailbox'))).toBe(true);
    await i.stop();
    writeFileSync(join(dir, 'relayer-bad.json'), '{not json');
    expect(() => newRelayer('relayer J', r.settlement.accounts[9]!, 'relayer-bad.json')).toThrow(/is not valid JSON; delete it to rescan/);
  });

  it('refuses to start against the wrong chain or a missing Mailbox', async () => {
    const base = {
      origin: { rpcUrl: r.settlement.anvil.url, domain: SETTLEMENT_ID, mailbox: r.relay.settlement.Mailbox, merkleTreeHook: r.relay.settlement.MerkleTreeHook, startBlock: 0 },
      recipients: [r.relay.partner.ForeignRoots],
      validatorUrls: [],
      key: r.settlement.accounts[9]!.privateKey,
      stateFile: join(dir, 'relayer-preflight.json'),
      pollMs: 100,
      log: () => undefined,
    };
    const wrongChain = new Relayer({ ...base, destination: { rpcUrl: r.settlement.anvil.url, domain: PARTNER_ID, mailbox: r.relay.partner.Mailbox } });
    await expect(wrongChain.start()).rejects.toThrow(`the destination RPC serves chain ${SETTLEMENT_ID}, expected domain ${PARTNER_ID}`);
    await wrongChain.stop();
    const noMailbox = new Relayer({ ...base, destination: { rpcUrl: r.partner.anvil.url, domain: PARTNER_ID, mailbox: r.relay.settlement.RootPublisher } });
    await expect(noMailbox.start()).rejects.toThrow(/no Mailbox at 0x[0-9a-fA-F]{40} on the destination chain/);
    await noMailbox.stop();
  });

  it('scans for any destination domain (10 has an odd-length hex form)', async () => {
    const relayer = new Relayer({
      origin: { rpcUrl: r.settlement.anvil.url, domain: SETTLEMENT_ID, mailbox: r.relay.settlement.Mailbox, merkleTreeHook: r.relay.settlement.MerkleTreeHook, startBlock: 0 },
      destination: { rpcUrl: r.partner.anvil.url, domain: 10, mailbox: r.relay.partner.Mailbox },
      recipients: [r.relay.partner.ForeignRoots],
      validatorUrls: [],
      key: r.settlement.accounts[9]!.privateKey,
      stateFile: join(dir, 'relayer-domain-10.json'),
      pollMs: 100,
      log: (line) => logs.push(`[relayer domain 10] ${line}`),
    });
    relayers.push(relayer);
    await relayer.tick(); // nothing goes to domain 10: an empty pass, not an error
    await relayer.stop();
  });
});
