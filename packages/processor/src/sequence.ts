import { InvalidCheckpointError } from './errors.js';

/** Sentinel checkpoint values, spelled as the Java KCL stores them in the lease table. */
export type SentinelCheckpoint = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | 'SHARD_END';

/** All sentinel checkpoint values. */
export const SENTINEL_CHECKPOINTS: readonly SentinelCheckpoint[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END'];

/**
 * A position in a shard: a Kinesis sequence number (decimal string of up to 129 digits; compare as BigInt) or a
 * sentinel, plus the sub-sequence number of a KPL-aggregated user record (0 otherwise).
 */
export interface ExtendedSequenceNumber {
  /** Decimal sequence number, or a sentinel such as `TRIM_HORIZON` or `SHARD_END`. */
  readonly sequenceNumber: string;
  /** Sub-sequence number within an aggregated record; 0 for plain records. */
  readonly subSequenceNumber: number;
}

/** True for `TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP` and `SHARD_END`. */
export function isSentinel(value: string): value is SentinelCheckpoint {
  return (SENTINEL_CHECKPOINTS as readonly string[]).includes(value);
}

/** The Kinesis API's pattern for sequence numbers: a decimal string of up to 129 digits (real ones have ~56). */
const SEQUENCE_NUMBER = /^(0|[1-9]\d{0,128})$/;

/** True if `value` is a syntactically valid Kinesis sequence number. */
export function isSequenceNumber(value: string): boolean {
  return SEQUENCE_NUMBER.test(value);
}

/** Throws {@link InvalidCheckpointError} unless `value` is a valid sequence number. */
export function assertSequenceNumber(value: string): void {
  if (!isSequenceNumber(value)) {
    throw new InvalidCheckpointError(`"${value}" is not a valid Kinesis sequence number (a decimal string of up to 129 digits)`);
  }
}

/**
 * Compares two sequence numbers numerically (as BigInt, never lexically).
 * @returns negative, 0 or positive like `Array.prototype.sort` comparators.
 */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Orders two extended sequence numbers. Sentinels order as TRIM_HORIZON/AT_TIMESTAMP/LATEST
 * before every real sequence number, and SHARD_END after every one.
 */
export function compareExtended(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  const rank = (s: string): number => (s === 'SHARD_END' ? 2 : isSentinel(s) ? 0 : 1);
  const ra = rank(a.sequenceNumber);
  const rb = rank(b.sequenceNumber);
  if (ra !== rb) return ra - rb;
  if (ra !== 1) return 0;
  return compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber) || a.subSequenceNumber - b.subSequenceNumber;
}

/** Builds an {@link ExtendedSequenceNumber}. */
export function extended(sequenceNumber: string, subSequenceNumber = 0): ExtendedSequenceNumber {
  return { sequenceNumber, subSequenceNumber };
}
