/**
 * The forced-queue watcher against a real Gateway on anvil: delivery in queue order, resumption
 * after a restart without repeats, a gap refused, a consumer's failure stopping the watcher.
 */
import type { ForcedOp } from '../../prover/codec.js';
import { ForcedQueueWatcher, ForcedWatcherError } from '../../prover/forcedWatcher.js';
import { babyJubKey, useSettlementChain } from '../helpers/chain.js';

const { chain, c } = useSettlementChain();

async function register(n: number): Promise<number[]> {
  const blocks: number[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = babyJubKey();
    const r = await (await c.gateway.connect(chain.accounts[5]!).registerPatient(x, y, chain.accounts[5]!.address)).wait();
    blocks.push(r!.blockNumber);
  }
  return blocks;
}

function collector(start = 0) {
  const got: { index: number; op: ForcedOp }[] = [];
  return { got, next: () => start + got.length, deliver: (op: ForcedOp, index: number) => void got.push({ index, op }) };
}

it('delivers every queued operation once, in queue order, and resumes after a restart', async () => {
  await register(3);
  const first = collector();
  const w1 = ForcedQueueWatcher.start({ gateway: c.gateway, fromBlock: 0, ...first, pollMs: 50, onError: (e) => { throw e; } });
  const deadline = Date.now() + 10_000;
  while (first.got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await w1.stop();
  expect(first.got.map((g) => g.index)).toEqual([0, 1, 2]);
  expect(first.got.map((g) => g.op.account)).toEqual([1, 2, 3]);
  expect(first.got.every((g) => g.op.kind === 1)).toBe(true);

  // A restarted consumer that has 0..2 gets only what is new, scanning from the same start block.
  await register(1);
  const second = collector(3);
  const w2 = ForcedQueueWatcher.start({ gateway: c.gateway, fromBlock: 0, ...second, pollMs: 50, onError: (e) => { throw e; } });
  while (second.got.length < 1 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // a few more polls: nothing repeats
  await w2.stop();
  expect(second.got.map((g) => g.index)).toEqual([3]);
});

it('refuses a gap: an operation seen before the one it expects', async () => {
  const blocks = await register(2);
  const gap = collector();
  const errors: Error[] = [];
  // Scanning from after the first registration hides operation 0.
  const w = ForcedQueueWatcher.start({ gateway: c.gateway, fromBlock: blocks[0]! + 1, ...gap, pollMs: 20, onError: (e) => errors.push(e) });
  const deadline = Date.now() + 5_000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await w.stop();
  expect(errors[0]).toBeInstanceOf(ForcedWatcherError);
  expect(errors[0]!.message).toMatch(/forced operation 1 found but 0 never was/);
  expect(gap.got).toEqual([]);
});

it('stops and reports when the consumer refuses an operation', async () => {
  await register(1);
  const errors: Error[] = [];
  let calls = 0;
  const w = ForcedQueueWatcher.start({
    gateway: c.gateway,
    fromBlock: 0,
    next: () => 0,
    deliver: () => {
      calls++;
      throw new Error('the state disagrees');
    },
    pollMs: 20,
    onError: (e) => errors.push(e),
  });
  const deadline = Date.now() + 5_000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200)); // no further polls after the failure
  await w.stop();
  expect(errors.map((e) => e.message)).toEqual(['the state disagrees']);
  expect(calls).toBe(1);
});
