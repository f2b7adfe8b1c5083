import type { Shard } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { formatLine, formatTable, shortShard } from '../src/dashboard.js';
import { DEMO_DEFAULTS, FlagError, parseFlags } from '../src/flags.js';
import { busiestWorker, chooseMerge, chooseSplit } from '../src/timeline.js';

describe('flags', () => {
  it('has defaults and parses both --flag value and --flag=value', () => {
    expect(parseFlags([])).toEqual(DEMO_DEFAULTS);
    expect(parseFlags(['--shards', '2', '--workers=5', '--duration', '20', '--rate', '100', '--no-chaos', '--json', 'out.json', '--', '--keep'])).toEqual({
      ...DEMO_DEFAULTS,
      shards: 2,
      workers: 5,
      durationS: 20,
      rate: 100,
      chaos: false,
      json: 'out.json',
      keep: true,
    });
    expect(parseFlags(['--duration', '5', '-h'])).toBe('help');
    expect(parseFlags(['--retrieval', 'fanout'])).toEqual({ ...DEMO_DEFAULTS, retrieval: 'fanout' });
    expect(DEMO_DEFAULTS.streams).toBe(1);
    expect(parseFlags(['--', '--streams', '3'])).toEqual({ ...DEMO_DEFAULTS, streams: 3 });
  });

  it.each([
    [['--shards', 'x'], /--shards must be a whole number, got "x"/],
    [['--streams', '0'], /--streams must be between 1 and 10, got 0/],
    [['--streams', '11'], /--streams must be between 1 and 10, got 11/],
    [['--shards', '0'], /--shards must be between 1 and 20, got 0/],
    [['--workers', '2.5'], /--workers must be a whole number/],
    [['--duration'], /'--duration <value>' argument missing/],
    [['--rate', '--no-chaos'], /'--rate' argument is ambiguous/],
    [['--json'], /'--json <value>' argument missing/],
    [['--json='], /--json needs a file name/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--retrieval', 'push'], /--retrieval must be one of polling, fanout, got "push"/],
    [['--no-chaos=1'], /'--no-chaos' does not take an argument/],
    [['--colour'], /Unknown option '--colour'/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(FlagError);
    expect(() => parseFlags(argv)).toThrow(message);
  });
});

describe('timeline choices', () => {
  const MAX = (1n << 128n) - 1n;
  const shard = (id: string, start: bigint, end: bigint, closed = false): Shard => ({
    ShardId: id,
    HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
    SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed && { EndingSequenceNumber: '2' }) },
  });

  it('splits the widest open shard at the middle of its range', () => {
    const half = MAX / 2n;
    const shards = [shard('a', 0n, half, true), shard('b', 0n, half / 2n), shard('c', half / 2n + 1n, MAX)];
    const choice = chooseSplit(shards);
    expect(choice?.shardId).toBe('c');
    const mid = BigInt(choice!.newStartingHashKey);
    expect(mid).toBeGreaterThan(half / 2n + 1n);
    expect(mid).toBeLessThanOrEqual(MAX);
    expect(mid).toBe((half / 2n + 1n + MAX + 1n) / 2n);
    expect(chooseSplit([shard('x', 5n, 5n)])).toBeUndefined();
  });

  it('merges only two open shards whose ranges touch', () => {
    expect(chooseMerge([shard('b', 11n, 20n), shard('a', 0n, 10n)])).toEqual({ shardId: 'a', adjacentShardId: 'b' });
    expect(chooseMerge([shard('a', 0n, 10n), shard('gap', 12n, 20n)])).toBeUndefined();
    expect(chooseMerge([shard('a', 0n, 10n), shard('closed', 11n, 20n, true), shard('c', 21n, 30n)])).toBeUndefined();
  });

  it('picks the worker holding the most leases, skipping excluded ones', () => {
    const h = (workerId: string, held: string[]) => ({ workerId, held: new Set(held) });
    const live = [h('w1', ['a']), h('w2', ['b', 'c']), h('w3', ['d', 'e'])];
    expect(busiestWorker(live)?.workerId).toBe('w2');
    expect(busiestWorker(live, new Set(['w2']))?.workerId).toBe('w3');
    expect(busiestWorker([])).toBeUndefined();
  });
});

describe('dashboard', () => {
  it('formats a table for terminals and a compact line for CI', () => {
    const state = {
      elapsedMs: 12_000,
      put: 2400,
      processed: 2380,
      shards: [
        { shardId: 'shardId-000000000000', status: 'ended' as const, owner: undefined, records: 700, lagMs: undefined },
        { shardId: 'shardId-000000000004', status: 'open' as const, owner: 'w2', records: 812, lagMs: 250, event: 'w2 took shard-4' },
      ],
      workers: [
        { id: 'w1', state: 'killed', leases: 0 },
        { id: 'w2', state: 'running', leases: 1 },
      ],
    };
    expect(shortShard('shardId-000000000004')).toBe('shard-4');
    expect(shortShard('kcl-demo-abc-s2/shardId-000000000004')).toBe('s2/shard-4'); // several streams
    const table = formatTable(state).join('\n');
    expect(table).toMatch(/shard-4\s+w2\s+812\s+250\s+open\s+w2 took shard-4/);
    expect(table).toMatch(/workers: w1\[killed\] w2\(1\)/);
    const line = formatLine(state);
    expect(line).toBe('put=2400 processed=2380 | s4:w2 812/250ms');
    expect(line).not.toContain('\u001b');
  });
});
