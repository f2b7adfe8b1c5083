import type { Shard } from '@aws-sdk/client-kinesis';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { busiestWorker, chooseMerge, chooseSplit } from '../src/chaos.js';
import { formatLine, formatTable, shortShard } from '../src/dashboard.js';
import type { WorkerHandle } from '../src/fleet.js';
import { DEMO_DEFAULTS, FlagError, parseFlags } from '../src/flags.js';
import { JournalFollower, journalPath, JournalTail, JournalWriter, parseJournal, readJournals } from '../src/journal.js';
import { decodePayload, encodePayload } from '../src/producer.js';

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
  });

  it.each([
    [['--shards', 'x'], /--shards must be a whole number, got "x"/],
    [['--shards', '0'], /--shards must be between 1 and 20, got 0/],
    [['--workers', '2.5'], /--workers must be a whole number/],
    [['--duration'], /--duration needs a value/],
    [['--rate', '--no-chaos'], /--rate needs a value/],
    [['--json'], /--json needs a file name/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--no-chaos=1'], /--no-chaos takes no value/],
    [['--colour'], /unknown flag "--colour"/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(FlagError);
    expect(() => parseFlags(argv)).toThrow(message);
  });
});

describe('journal', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('round-trips entries and counts a torn last line', () => {
    dir = mkdtempSync(join(tmpdir(), 'demo-journal-'));
    const w = new JournalWriter(journalPath(dir, 'w1'));
    w.append([{ type: 'record', worker: 'w1', shard: 's0', key: 'k', n: 0, seq: '1', processedAt: 5, putAt: 1 }]);
    w.append([{ type: 'end', worker: 'w1', shard: 's0', endedAt: 6 }, { type: 'checkpoint', worker: 'w1', shard: 's0', seq: '1', at: 7 }]);
    w.close();
    appendFileSync(journalPath(dir, 'w1'), '{"type":"record","wor'); // a SIGKILL mid-write
    const j = readJournals(dir);
    expect(j.records).toHaveLength(1);
    expect(j.ends).toEqual([{ type: 'end', worker: 'w1', shard: 's0', endedAt: 6 }]);
    expect(j.checkpoints).toHaveLength(1);
    expect(j.tornLines).toBe(1);
    expect(parseJournal('{"type":"other"}\n\n{"type":"end","worker":"w","shard":"s","endedAt":1}').tornLines).toBe(1);
  });

  it('tails only complete lines and picks up new journal files', () => {
    dir = mkdtempSync(join(tmpdir(), 'demo-journal-'));
    const file = journalPath(dir, 'w1');
    const tail = new JournalTail(file);
    expect(tail.read()).toEqual([]);
    const line = (n: number): string => `${JSON.stringify({ type: 'record', worker: 'w1', shard: 's', key: 'k', n, seq: String(n), processedAt: 1, putAt: 0 })}\n`;
    appendFileSync(file, line(0) + line(1).slice(0, 10));
    expect(tail.read().map((e) => (e.type === 'record' ? e.n : -1))).toEqual([0]);
    appendFileSync(file, line(1).slice(10));
    expect(tail.read().map((e) => (e.type === 'record' ? e.n : -1))).toEqual([1]);

    const follower = new JournalFollower(dir);
    follower.poll();
    expect(follower.processed).toBe(2);
    appendFileSync(journalPath(dir, 'w1b'), line(1) + line(2));
    follower.poll();
    expect(follower.processed).toBe(3);
    expect(follower.has('k', 2)).toBe(true);
    expect(follower.has('k', 3)).toBe(false);
  });
});

describe('chaos choices', () => {
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
    const h = (id: string, held: string[]): WorkerHandle => ({ id, pid: 1, state: 'running', held: new Set(held), progress: new Map(), spawnedAt: 0 });
    const live = [h('w1', ['a']), h('w2', ['b', 'c']), h('w3', ['d', 'e'])];
    expect(busiestWorker(live)?.id).toBe('w2');
    expect(busiestWorker(live, new Set(['w2']))?.id).toBe('w3');
    expect(busiestWorker([])).toBeUndefined();
  });
});

describe('payload and dashboard', () => {
  it('encodes and decodes the record payload', () => {
    expect(decodePayload(encodePayload({ k: 'key-1', n: 7, t: 123 }))).toEqual({ k: 'key-1', n: 7, t: 123 });
    expect(decodePayload(new TextEncoder().encode('not json'))).toBeUndefined();
    expect(decodePayload(new TextEncoder().encode('{"k":1}'))).toBeUndefined();
  });

  it('formats a table for terminals and a compact line for CI', () => {
    const state = {
      elapsedMs: 12_000,
      put: 2400,
      processed: 2380,
      shards: [
        { shardId: 'shardId-000000000000', status: 'ended' as const, owner: undefined, records: 700, lagMs: undefined },
        { shardId: 'shardId-000000000004', status: 'open' as const, owner: 'w2', records: 812, lagMs: 250 },
      ],
      workers: [
        { id: 'w1', state: 'killed', leases: 0 },
        { id: 'w2', state: 'running', leases: 1 },
      ],
    };
    expect(shortShard('shardId-000000000004')).toBe('shard-4');
    const table = formatTable(state).join('\n');
    expect(table).toMatch(/shard-4\s+w2\s+812\s+250\s+open/);
    expect(table).toMatch(/workers: w1\[killed\] w2\(1\)/);
    const line = formatLine(state);
    expect(line).toBe('put=2400 processed=2380 | s4:w2 812/250ms');
    expect(line).not.toContain('\u001b');
  });
});
