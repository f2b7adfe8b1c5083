/**
 * Hash-key space arithmetic: every record lands on the shard whose range holds
 * MD5(partition key) read as a 128-bit integer, so the open shards' ranges must cover
 * `0 … 2^128 − 1` without a gap. All comparisons are BigInt; decimal strings go in and out.
 * @module
 */
import type { HashKeyRange } from '@kcl-ts/leases';

/** The smallest hash key. */
export const MIN_HASH_KEY = 0n;
/** The largest hash key, 2^128 − 1. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

const DECIMAL = /^\d{1,39}$/;

/**
 * Parses a decimal hash key.
 * @throws TypeError if it is not a decimal integer in `0 … 2^128 − 1`.
 */
export function parseHashKey(value: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw new TypeError(`hash key must be a decimal integer, got ${JSON.stringify(value)}`);
  const key = BigInt(value);
  if (key > MAX_HASH_KEY) throw new TypeError(`hash key must be at most 2^128-1, got ${value}`);
  return key;
}

/** A hash-key range as BigInts (inclusive bounds). */
interface NumericRange {
  readonly start: bigint;
  readonly end: bigint;
}

function toNumeric(range: HashKeyRange): NumericRange {
  const start = parseHashKey(range.startingHashKey);
  const end = parseHashKey(range.endingHashKey);
  if (start > end) throw new TypeError(`hash-key range starts after it ends: ${range.startingHashKey} > ${range.endingHashKey}`);
  return { start, end };
}

function toRange(start: bigint, end: bigint): HashKeyRange {
  return { startingHashKey: start.toString(), endingHashKey: end.toString() };
}

/**
 * The parts of `0 … 2^128 − 1` that no range covers, in ascending order, each as an
 * inclusive range. Ranges may overlap or touch (`a.end + 1 === b.start` leaves no hole);
 * an empty input yields the whole space as one hole.
 * @throws TypeError on a malformed range.
 */
export function findHashKeyHoles(ranges: Iterable<HashKeyRange>): HashKeyRange[] {
  const sorted = [...ranges].map(toNumeric).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const holes: HashKeyRange[] = [];
  let next = MIN_HASH_KEY; // the first key not yet known to be covered
  for (const { start, end } of sorted) {
    if (start > next) holes.push(toRange(next, start - 1n));
    if (end + 1n > next) next = end + 1n;
  }
  if (next <= MAX_HASH_KEY) holes.push(toRange(next, MAX_HASH_KEY));
  return holes;
}

/** The midpoint of a range, rounded down (a `NewStartingHashKey` that splits the range in two near-equal halves). */
export function hashKeyMidpoint(range: HashKeyRange): string {
  const { start, end } = toNumeric(range);
  return ((start + end) / 2n).toString();
}
