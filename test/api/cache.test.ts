/** api/cache.ts: one computation per TTL for all callers, shared while in flight, failures not kept. */
import { Shared } from '../../api/cache.js';

test('callers within the TTL share one computation; after it a new one runs; a failure is retried', async () => {
  let runs = 0;
  let fail = false;
  const shared = new Shared(50, async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 5));
    if (fail) throw new Error('down');
    return runs;
  });
  expect(await Promise.all([shared.get(), shared.get(), shared.get()])).toEqual([1, 1, 1]);
  expect(await shared.get()).toBe(1);
  await new Promise((r) => setTimeout(r, 60));
  fail = true;
  await expect(shared.get()).rejects.toThrow('down');
  fail = false;
  expect(await shared.get()).toBe(3);
  expect(runs).toBe(3);
});
