/**
 * Hash keys: the 128-bit position of a record in the stream's key space, and the check that a
 * hash key falls inside a shard's range.
 * @module
 */
import type { HashKeyRange } from '@kcl-ts/leases';
import { md5Into } from './md5.js';

const MAX_HASH_KEY = (1n << 128n) - 1n;
const DECIMAL = /^\d{1,39}$/;
const encoder = new TextEncoder();

/** A {@link HashKeyRange} prepared for fast membership tests. */
export interface CompiledHashKeyRange {
  /** Inclusive lower bound. */
  readonly start: bigint;
  /** Inclusive upper bound. */
  readonly end: bigint;
  /** `start` as 16 big-endian bytes. */
  readonly startBytes: Uint8Array;
  /** `end` as 16 big-endian bytes. */
  readonly endBytes: Uint8Array;
}

const compiled = new WeakMap<HashKeyRange, CompiledHashKeyRange>();

/**
 * Parses a decimal 128-bit hash key. Returns `undefined` if `value` is not a decimal string
 * within 0..2^128−1.
 */
export function parseHashKey(value: string): bigint | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const n = BigInt(value);
  return n <= MAX_HASH_KEY ? n : undefined;
}

/**
 * Prepares `range` for {@link isDigestInRange} / {@link isHashKeyInRange}; the result is cached
 * per range object. Throws a `TypeError` if a bound is not a decimal 128-bit integer or the
 * range is empty.
 */
export function compileHashKeyRange(range: HashKeyRange): CompiledHashKeyRange {
  const cached = compiled.get(range);
  if (cached !== undefined) return cached;
  const start = parseHashKey(range.startingHashKey);
  const end = parseHashKey(range.endingHashKey);
  if (start === undefined) throw new TypeError(`hashKeyRange.startingHashKey must be a decimal 128-bit integer, got ${JSON.stringify(range.startingHashKey)}`);
  if (end === undefined) throw new TypeError(`hashKeyRange.endingHashKey must be a decimal 128-bit integer, got ${JSON.stringify(range.endingHashKey)}`);
  if (start > end) throw new TypeError(`hashKeyRange is empty: startingHashKey ${range.startingHashKey} > endingHashKey ${range.endingHashKey}`);
  const result: CompiledHashKeyRange = { start, end, startBytes: toBytes(start), endBytes: toBytes(end) };
  compiled.set(range, result);
  return result;
}

function toBytes(value: bigint): Uint8Array {
  const out = new Uint8Array(16);
  let v = value;
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Compares the 16 bytes at `a[aOffset..]` with `b` as big-endian unsigned integers. */
function compare16(a: Uint8Array, aOffset: number, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const d = a[aOffset + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** True if the 16-byte big-endian hash key at `digest[offset..]` lies within `range`. */
export function isDigestInRange(digest: Uint8Array, offset: number, range: CompiledHashKeyRange): boolean {
  return compare16(digest, offset, range.startBytes) >= 0 && compare16(digest, offset, range.endBytes) <= 0;
}

/** True if `hashKey` lies within `range` (inclusive). */
export function isHashKeyInRange(hashKey: bigint, range: CompiledHashKeyRange): boolean {
  return hashKey >= range.start && hashKey <= range.end;
}

/**
 * The hash key Kinesis derives from a partition key: MD5 of its UTF-8 bytes read as a 128-bit
 * big-endian unsigned integer.
 */
export function hashKeyForPartitionKey(partitionKey: string): bigint {
  const bytes = encoder.encode(partitionKey);
  const digest = new Uint8Array(16);
  md5Into(bytes, 0, bytes.length, digest);
  let n = 0n;
  for (let i = 0; i < 16; i++) n = (n << 8n) | BigInt(digest[i]!);
  return n;
}
