import { describe, expect, it } from 'vitest';
import { median, percentile, ratio, summarize } from '../src/stats.js';

describe('median', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('is NaN for no values', () => {
    expect(median([])).toBeNaN();
  });
  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('percentile', () => {
  const values = Array.from({ length: 101 }, (_, i) => 100 - i); // 0..100, reversed
  it('p0 is the minimum and p100 the maximum', () => {
    expect(percentile(values, 0)).toBe(0);
    expect(percentile(values, 100)).toBe(100);
  });
  it('is exact on ranks and interpolates between them', () => {
    expect(percentile(values, 90)).toBe(90);
    expect(percentile([10, 20], 25)).toBe(12.5);
    expect(percentile([1, 2, 3, 4], 99)).toBeCloseTo(3.97, 10);
  });
  it('rejects a p outside 0..100 and values that are not numbers', () => {
    expect(() => percentile([1], 101)).toThrow(TypeError);
    expect(() => percentile([1], -1)).toThrow(/p must be between 0 and 100/);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(TypeError);
  });
});

describe('summarize', () => {
  it('summarize agrees with the single helpers', () => {
    const values = [12, 3, 7, 99, 5, 8, 1, 40];
    const s = summarize(values);
    expect(s).toEqual({
      n: 8,
      median: median(values),
      min: 1,
      max: 99,
      p90: percentile(values, 90),
      p99: percentile(values, 99),
      mean: 175 / 8,
    });
  });
});

describe('ratio', () => {
  it('divides, and gives undefined when it cannot', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(undefined, 2)).toBeUndefined();
    expect(ratio(Number.NaN, 2)).toBeUndefined();
  });
});
