/**
 * Ordering of checkpoint positions for the invariant checker, written independently of the
 * library (the checker must not trust the code it checks): sequence numbers compare as
 * BigInt, the starting sentinels sort before every record, `SHARD_END` after every record.
 * @module
 */

const BEFORE_ALL = -1n;
const AFTER_ALL = 10n ** 400n; // beyond any sequence number (real ones have up to 129 digits)

/** The numeric rank of a sequence number or sentinel. */
export function rankOf(seq: string): bigint {
  if (seq === 'SHARD_END') return AFTER_ALL;
  if (seq === 'TRIM_HORIZON' || seq === 'LATEST' || seq === 'AT_TIMESTAMP') return BEFORE_ALL;
  if (!/^\d+$/.test(seq)) throw new TypeError(`not a sequence number or sentinel: ${JSON.stringify(seq)}`);
  return BigInt(seq);
}

/** A position, as the journal writes it: sequence number (or a sentinel: `TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`, `SHARD_END`) and sub-sequence number. */
export interface Position {
  readonly seq: string;
  readonly sub: number;
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function comparePositions(a: Position, b: Position): number {
  const ra = rankOf(a.seq);
  const rb = rankOf(b.seq);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return (a.sub ?? 0) - (b.sub ?? 0);
}

/** The later of two positions (`undefined` counts as nothing). */
export function maxPosition<P extends Position>(a: P | undefined, b: P): P {
  return a === undefined || comparePositions(b, a) > 0 ? b : a;
}

/** `seq` or `seq/sub` when the sub-sequence number is set. */
export function showPosition(p: Position): string {
  return p.sub ? `${p.seq}/${p.sub}` : p.seq;
}
