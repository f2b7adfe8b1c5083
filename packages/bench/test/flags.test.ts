import { describe, expect, it } from 'vitest';
import { BENCHMARKS, parseFlags } from '../src/flags.js';

describe('parseFlags', () => {
  it('runs everything 5 times and writes the default report without flags', () => {
    const flags = parseFlags([], '/out.md');
    expect([...flags.only]).toEqual([...BENCHMARKS]);
    expect(flags).toMatchObject({ runs: 5, quick: false, out: '/out.md', help: false });
  });
  it('--quick lowers the default runs; --runs overrides it', () => {
    expect(parseFlags(['--quick'], '/o').runs).toBe(3);
    expect(parseFlags(['--quick', '--runs', '7'], '/o').runs).toBe(7);
  });
  it('--only selects names (comma list or repeated) and writes no report unless --out is given', () => {
    const flags = parseFlags(['--only', 'failover,handoff', '--only', 'rss'], '/o');
    expect([...flags.only].sort()).toEqual(['failover', 'handoff', 'rss']);
    expect(flags.out).toBeUndefined();
    expect(parseFlags(['--only', 'rss', '--out', '/x.md'], '/o').out).toBe('/x.md');
    expect(parseFlags(['--no-out'], '/o').out).toBeUndefined();
  });
  it('rejects unknown names, bad run counts and unknown arguments with a message', () => {
    expect(() => parseFlags(['--only', 'speed'], '/o')).toThrow(/unknown benchmark "speed"/);
    expect(() => parseFlags(['--runs', '0'], '/o')).toThrow(/--runs must be an integer/);
    expect(() => parseFlags(['--runs'], '/o')).toThrow(/'--runs <value>' argument missing/);
    expect(() => parseFlags(['--fast'], '/o')).toThrow(/Unknown option '--fast'/);
    expect(parseFlags(['-h'], '/o').help).toBe(true);
  });
});
