/**
 * Asserts that a call reverts with a specific custom error, decoded through the contract's ABI
 * (the caller passes the interface that declares the error, which may be another contract's
 * when the revert bubbles up from a nested call).
 */
import { expect } from '@jest/globals';
import type { Interface } from 'ethers';

/** The revert data of a failed call, wherever ethers put it; undefined when there is none. */
export function revertData(err: unknown): string | undefined {
  let e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.data === 'string' && e.data.startsWith('0x')) return e.data;
    if (typeof e.info?.error?.data === 'string') return e.info.error.data;
    e = e.error as typeof e;
  }
  return undefined;
}

export async function expectRevert(call: Promise<unknown>, iface: Interface, errorName: string, args?: readonly unknown[]): Promise<void> {
  let caught: unknown;
  try {
    await call;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeDefined();
  const data = revertData(caught);
  if (!data) throw new Error(`expected ${errorName}, got a failure without revert data: ${String(caught)}`);
  const parsed = iface.parseError(data);
  if (!parsed) throw new Error(`expected ${errorName}, got undecodable revert data ${data}`);
  expect(parsed.name).toBe(errorName);
  if (args) expect(parsed.args.toArray()).toEqual(args);
}
