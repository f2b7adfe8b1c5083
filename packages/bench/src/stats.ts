/**
 * Pure statistics helpers of the benchmarks: median, percentiles, spread and a summary.
 * Every function leaves its input untouched and returns `NaN` fields for empty input.
 * @module
 */

/** Median and spread (and a few percentiles) of a set of values. */
export interface Summary {
  /** Number of values. */
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
}

function sorted(values: readonly number[]): number[] {
  for (const v of values) if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`values must be numbers, got ${String(v)}`);
  return [...values].sort((a, b) => a - b);
}

function fromSorted(s: readonly number[], p: number): number {
  if (s.length === 0) return Number.NaN;
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

/**
 * The `p`-th percentile (0–100) with linear interpolation between the closest ranks (the
 * "type 7" definition of R and NumPy's default): p0 is the minimum, p100 the maximum.
 * @throws TypeError for `p` outside 0..100 or a value that is not a number.
 */
export function percentile(values: readonly number[], p: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw new TypeError(`p must be between 0 and 100, got ${String(p)}`);
  return fromSorted(sorted(values), p);
}

/** The median (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Median, spread, p90, p99 and mean in one pass over a sorted copy. */
export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  const mean = s.length === 0 ? Number.NaN : s.reduce((a, b) => a + b, 0) / s.length;
  return {
    n: s.length,
    median: fromSorted(s, 50),
    min: s.length === 0 ? Number.NaN : s[0]!,
    max: s.length === 0 ? Number.NaN : s[s.length - 1]!,
    p90: fromSorted(s, 90),
    p99: fromSorted(s, 99),
    mean,
  };
}

/** `a / b`, or `undefined` when either is missing, not finite, or `b` is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}
