import { describe, expect, it } from 'vitest';
import { findHashKeyHoles, hashKeyMidpoint, MAX_HASH_KEY, parseHashKey } from '../src/hash-key-space.js';

const r = (a: bigint | number, b: bigint | number) => ({ startingHashKey: BigInt(a).toString(), endingHashKey: BigInt(b).toString() });
const MAX = MAX_HASH_KEY;
const HALF = 1n << 127n;

describe('hash-key space', () => {
  it('MAX_HASH_KEY is 2^128 - 1', () => {
    expect(MAX.toString()).toBe('340282366920938463463374607431768211455');
  });

  it('no holes when ranges tile the space, in any order', () => {
    expect(findHashKeyHoles([r(HALF, MAX), r(0, HALF - 1n)])).toEqual([]);
    expect(findHashKeyHoles([r(0, MAX)])).toEqual([]);
  });

  it('adjacent ranges (end + 1 === start) leave no hole; a gap of one key is a hole', () => {
    expect(findHashKeyHoles([r(0, 9), r(10, MAX)])).toEqual([]);
    expect(findHashKeyHoles([r(0, 9), r(11, MAX)])).toEqual([r(10, 10)]);
  });

  it('finds holes at the start, in the middle and at the end, beyond Number precision', () => {
    const big = 1n << 100n;
    expect(findHashKeyHoles([r(5, big), r(big + 2n, MAX - 1n)])).toEqual([r(0, 4), r(big + 1n, big + 1n), r(MAX, MAX)]);
  });

  it('overlapping and nested ranges count once', () => {
    expect(findHashKeyHoles([r(0, 100), r(50, 60), r(90, MAX)])).toEqual([]);
    expect(findHashKeyHoles([r(0, 100), r(50, 60), r(102, MAX)])).toEqual([r(101, 101)]);
  });

  it('no ranges: the whole space is one hole', () => {
    expect(findHashKeyHoles([])).toEqual([r(0, MAX)]);
  });

  it('rejects malformed keys and reversed ranges', () => {
    expect(() => parseHashKey('-1')).toThrow(TypeError);
    expect(() => parseHashKey((MAX + 1n).toString())).toThrow(/2\^128/);
    expect(() => findHashKeyHoles([r(10, 5)])).toThrow(/starts after it ends/);
  });

  it('midpoint splits a range into two halves', () => {
    expect(hashKeyMidpoint(r(0, MAX))).toBe((HALF - 1n).toString());
    expect(hashKeyMidpoint(r(10, 20))).toBe('15');
  });
});
