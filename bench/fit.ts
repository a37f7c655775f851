/**
 * The straight line through (batch size, L1 gas) points that `npm run bench -- batchgas` fits, and
 * the batch size where the gas per transaction reaches a target. Pure: tested in test/bench.
 */
export interface Fit {
  /** gas = a + b n (least squares over the profile's measured sizes). */
  a: number;
  b: number;
  points: number;
}

export function fitLine(xs: readonly number[], ys: readonly number[]): Fit {
  const m = xs.length;
  if (m === 0) return { a: Number.NaN, b: Number.NaN, points: 0 };
  const mx = xs.reduce((s, x) => s + x, 0) / m;
  const my = ys.reduce((s, y) => s + y, 0) / m;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const sxy = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0);
  const b = sxx > 0 ? sxy / sxx : Number.NaN;
  return { a: sxx > 0 ? my - b * mx : Number.NaN, b, points: m };
}

/** Smallest n with (a + b n) / n <= target, or undefined when the marginal gas alone is above it. */
export function breakEven(fit: Fit, target: number): number | undefined {
  if (!(fit.b < target) || !Number.isFinite(fit.a)) return undefined;
  return Math.max(1, Math.ceil(fit.a / (target - fit.b)));
}
