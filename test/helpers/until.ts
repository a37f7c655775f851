/**
 * Polling for the tests that wait on other processes and chains: `until(what, check, timeoutMs)`
 * resolves with the first value `check` returns that is neither undefined nor false.
 */
export interface UntilOptions {
  /** Poll interval; default 100 ms. */
  readonly intervalMs?: number;
  /** Appended to the failure message: the logs that explain it. */
  readonly context?: () => string;
  /** A reason to stop waiting at once (e.g. the process being waited on died). */
  readonly abort?: () => string | undefined;
  /** true (default): an error from `check` means "not yet" (a service restarting); false: it fails the wait. */
  readonly errorsMeanNotYet?: boolean;
}

export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, opts: UntilOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const context = () => (opts.context ? `\n${opts.context()}` : '');
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted) throw new Error(`${aborted} while waiting for ${what}${context()}`);
    let value: T | undefined | false;
    try {
      value = await check();
    } catch (err) {
      if (opts.errorsMeanNotYet === false) throw err;
      value = undefined;
    }
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context()}`);
    await new Promise<void>((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
