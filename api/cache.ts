/**
 * A value shared by every caller for a short while: public figures that every dashboard polls
 * (stats) are computed at most once per `ttlMs`, however many dashboards ask; concurrent callers
 * share the computation in flight. A failed computation is not kept.
 */
export class Shared<T> {
  private value: { at: number; promise: Promise<T> } | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly compute: () => Promise<T>,
  ) {}

  get(): Promise<T> {
    const now = Date.now();
    if (this.value && now - this.value.at < this.ttlMs) return this.value.promise;
    const promise = this.compute();
    const entry = { at: now, promise };
    this.value = entry;
    promise.catch(() => {
      if (this.value === entry) this.value = undefined;
    });
    return promise;
  }
}
