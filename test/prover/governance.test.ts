/**
 * The sequencer obeys the council: Sequencer.setPolicy (batch size, timeout, priority lane at run
 * time) and watchCouncil, which maps Council.params() on a real anvil chain to setPolicy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForcedKind, TxOp, type ForcedOp, type TxRecord } from '../../prover/codec.js';
import { priorityPredicate, watchCouncil } from '../../prover/governance.js';
import { Sequencer, SequencerError, type BatchEvent, type SequencerOptions } from '../../prover/sequencer.js';
import { publicKeyOf, randomSecret, signTx, type SignedTx } from '../../prover/signing.js';
import { Council__factory, type Council } from '../../contracts/types/index.js';
import { collectSignatures, councilDomain, devCouncilWallets, executeProposal, setParamsCall, type CouncilParams } from '../../sdk/governance.js';
import { startTestChain, type TestChain } from '../helpers/chain.js';

const T = 1_700_000_000n;
const PATIENT = 1;
const K = 8; // the dev profile
const secret = randomSecret();

let dir: string;
const live: Sequencer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'governance-test-'));
});
afterEach(() => {
  for (const s of live.splice(0)) s.detach();
  rmSync(dir, { recursive: true, force: true });
});

function registerOp(): ForcedOp {
  const key = publicKeyOf(secret);
  return { kind: ForcedKind.RegisterAccount, account: PATIENT, counterpart: 0, a: key.x, b: key.y };
}

/** A sequencer on the dev profile (K = 8) with PATIENT registered in batch 0 (closed). */
async function openSeq(options: Partial<SequencerOptions> = {}): Promise<{ seq: Sequencer; events: BatchEvent[] }> {
  const seq = await Sequencer.open({ profile: 'dev', walPath: join(dir, `wal-${live.length}.db`), batchTimeoutMs: 600_000, now: () => T, ...options });
  live.push(seq);
  const events: BatchEvent[] = [];
  seq.on('batch', (e) => events.push(e));
  seq.addForced(registerOp(), 0);
  seq.flush();
  return { seq, events };
}

/** The patient's next record-index transaction: upload the first time, update after. */
function tx(seq: Sequencer, payload = 1n): SignedTx {
  const fields = seq.snapshot().accountFields(PATIENT);
  const op = fields.indexHash === 0n ? TxOp.Upload : TxOp.Update;
  const record: TxRecord = { op, actor: PATIENT, target: PATIENT, slot: 0, scope: 0, expiry: 0n, payload };
  return signTx(secret, record, fields.nonce);
}

function submitN(seq: Sequencer, n: number): void {
  for (let i = 0; i < n; i++) seq.submit(tx(seq, BigInt(i + 1)));
}

function sizes(events: readonly BatchEvent[]): number[] {
  return events.slice(1).map((e) => e.txs.length);
}

describe('Sequencer.setPolicy', () => {
  it('defaults to K; a batch closes at the new batchSize; 0 restores K', async () => {
    const { seq, events } = await openSeq();
    expect(seq.batchSize).toBe(K);
    seq.setPolicy({ batchSize: 3 });
    expect(seq.batchSize).toBe(3);
    submitN(seq, 7);
    expect(sizes(events)).toEqual([3, 3]);
    expect(seq.openBatch?.txs).toHaveLength(1);
    seq.setPolicy({ batchSize: 0 });
    expect(seq.batchSize).toBe(K);
    submitN(seq, 7);
    expect(sizes(events)).toEqual([3, 3, K]);
    expect(seq.openBatch).toBeUndefined();
  });

  it('applies to the open batch from the next submit, not at once', async () => {
    const { seq, events } = await openSeq();
    submitN(seq, 3);
    seq.setPolicy({ batchSize: 2 });
    expect(seq.openBatch?.txs).toHaveLength(3);
    expect(sizes(events)).toEqual([]);
    submitN(seq, 1);
    expect(sizes(events)).toEqual([4]);
  });

  it('the constructor takes batchSize too (0 = K)', async () => {
    const { seq, events } = await openSeq({ batchSize: 2 });
    expect(seq.batchSize).toBe(2);
    submitN(seq, 4);
    expect(sizes(events)).toEqual([2, 2]);
    const other = await openSeq({ batchSize: 0 });
    expect(other.seq.batchSize).toBe(K);
  });

  it('a shorter timeout re-arms the open batch from its start', async () => {
    const { seq, events } = await openSeq();
    submitN(seq, 1);
    const started = Date.now();
    const closed = new Promise((resolve) => seq.once('batch', resolve));
    seq.setPolicy({ batchTimeoutMs: 60 });
    expect(seq.batchTimeoutMs).toBe(60);
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sizes(events)).toEqual([1]);
  });

  it('a new priority predicate takes over the emergency lane', async () => {
    const { seq, events } = await openSeq();
    submitN(seq, 2); // upload, update
    expect(sizes(events)).toEqual([]);
    seq.setPolicy({ priority: priorityPredicate(['update']) });
    seq.submit(tx(seq, 6n));
    expect(sizes(events)).toEqual([3]);
    seq.setPolicy({ priority: priorityPredicate([]) });
    seq.submit(tx(seq, 7n));
    expect(sizes(events)).toEqual([3]);
  });

  it('out-of-range values throw INVALID_POLICY and change nothing', async () => {
    const { seq } = await openSeq({ batchSize: 4, batchTimeoutMs: 1000 });
    const bad: Parameters<Sequencer['setPolicy']>[0][] = [
      { batchSize: K + 1 },
      { batchSize: -1 },
      { batchSize: 1.5 },
      { batchSize: Number.NaN },
      { batchTimeoutMs: 0 },
      { batchTimeoutMs: 2 ** 31 },
      { batchTimeoutMs: 10.5 },
      { batchSize: 2, batchTimeoutMs: -5 },
      { priority: 'access' as unknown as () => boolean },
    ];
    for (const policy of bad) {
      expect(() => seq.setPolicy(policy)).toThrow(SequencerError);
      try {
        seq.setPolicy(policy);
      } catch (err) {
        expect((err as SequencerError).code).toBe('INVALID_POLICY');
      }
    }
    expect([seq.batchSize, seq.batchTimeoutMs]).toEqual([4, 1000]);
    await expect(Sequencer.open({ profile: 'dev', walPath: join(dir, 'bad.db'), batchSize: 9 })).rejects.toMatchObject({ code: 'INVALID_POLICY' });
    seq.detach();
    expect(() => seq.setPolicy({ batchSize: 1 })).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});

describe('watchCouncil', () => {
  let chain: TestChain;
  let council: Council;
  let councilAddress: string;
  const members = devCouncilWallets(4);

  beforeAll(async () => {
    chain = await startTestChain();
    const deployed = await new Council__factory(chain.accounts[0]!).deploy(
      members.map((m) => m.address),
      0,
      2000,
      0,
    );
    await deployed.waitForDeployment();
    councilAddress = await deployed.getAddress();
    council = Council__factory.connect(councilAddress, chain.accounts[5]!);
  });
  afterAll(async () => {
    await chain?.stop();
  });

  async function propose(params: CouncilParams): Promise<void> {
    const block = await chain.provider.getBlock('latest');
    const proposal = { nonce: await council.proposalCount(), deadline: BigInt(block!.timestamp) + 600n, calls: [setParamsCall(councilAddress, params)] };
    const sigs = await collectSignatures(members.slice(0, 3), councilDomain(31337n, councilAddress), proposal);
    await (await executeProposal(council, proposal, sigs)).wait();
  }

  async function until(cond: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('applies params() at start and every change a quorum executes, until stopped', async () => {
    const { seq, events } = await openSeq({ batchSize: 5, batchTimeoutMs: 600_000 });
    const lines: string[] = [];
    const watch = await watchCouncil({ council: councilAddress, provider: chain.provider, sequencer: seq, pollMs: 50, log: (l) => lines.push(l) });
    try {
      expect(watch.initial).toEqual({ batchSize: 0, batchTimeoutMs: 2000, priorityOps: [] });
      expect([seq.batchSize, seq.batchTimeoutMs]).toEqual([K, 2000]);
      expect(lines).toEqual([`council ${councilAddress} policy: batch size ${K} (full) of ${K}, timeout 2000 ms, priority none`]);

      await propose({ batchSize: 3, batchTimeoutMs: 250, priorityOps: ['access', 'upload'] });
      await until(() => seq.batchSize === 3);
      expect(seq.batchTimeoutMs).toBe(250);
      expect(lines.at(-1)).toBe(`council ${councilAddress} policy: batch size 3 of ${K}, timeout 250 ms, priority upload,access`);
      submitN(seq, 4); // the upload closes its batch at once (priority), then 3 updates fill one
      expect(sizes(events)).toEqual([1, 3]);

      // Larger than the circuit: as full as it allows.
      await propose({ batchSize: 100, batchTimeoutMs: 1000, priorityOps: [] });
      await until(() => seq.batchTimeoutMs === 1000);
      expect(seq.batchSize).toBe(K);
      expect(lines.at(-1)).toBe(`council ${councilAddress} policy: batch size 8 (council: 100, clamped) of 8, timeout 1000 ms, priority none`);
      expect(lines).toHaveLength(3);
    } finally {
      await watch.stop();
    }
    await propose({ batchSize: 2, batchTimeoutMs: 300, priorityOps: [] });
    await new Promise((r) => setTimeout(r, 200));
    expect([seq.batchSize, seq.batchTimeoutMs]).toEqual([K, 1000]);
    expect(lines).toHaveLength(3);
  });

  it('fails at start when the address holds no council', async () => {
    const { seq } = await openSeq();
    await expect(watchCouncil({ council: chain.accounts[9]!.address, provider: chain.provider, sequencer: seq, log: () => undefined })).rejects.toThrow();
    expect(seq.batchSize).toBe(K);
  });
});
