/**
 * The simulation on several streams: the front that dispatches each command to its stream,
 * `SIM_MULTI_SEEDS` seeded schedules (default 100) of a fleet consuming 2 or 3 streams, and
 * the oracle keeping streams apart (a shard id repeats in every stream).
 */
import { DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { JournalLine, PutRecordAck, ShardLineage } from '@kcl-ts/fleet';
import { describe, expect, it } from 'vitest';
import { checkSimulation } from '../src/oracle.js';
import { generateSchedule, parseSchedule } from '../src/schedule.js';
import { formatFailure, minimize } from '../src/search.js';
import { SimStreams } from '../src/sim-streams.js';
import { runSchedule, type RunResult } from '../src/simulation.js';
import { SimTimeline } from '../src/timeline.js';

const raw = process.env['SIM_MULTI_SEEDS'];
const SEEDS = raw === undefined || raw === '' ? 100 : Number(raw);

describe('SimStreams', () => {
  it('sends each command to its stream: by name, by ARN, by shard iterator and by page token', async () => {
    const timeline = new SimTimeline();
    const streams = new SimStreams({ streamNames: ['a', 'b'], shardCount: 2, clock: timeline.clock('kinesis'), random: () => undefined, listShardsPageSize: 1 });
    const [a, b] = streams.streams;
    b!.put('k', new TextEncoder().encode('{"k":"b/k","n":1}'));
    const client = streams.connect('w', timeline.clock('w'), () => 1);
    const call = async <T>(command: unknown): Promise<T> => {
      const out = client.send(command) as Promise<T>;
      await timeline.runUntil(timeline.now() + 5);
      return out;
    };
    type Summary = { StreamDescriptionSummary: { StreamARN: string; StreamCreationTimestamp: Date } };
    const sa = await call<Summary>(new DescribeStreamSummaryCommand({ StreamName: 'a' }));
    const sb = await call<Summary>(new DescribeStreamSummaryCommand({ StreamARN: b!.streamArn }));
    expect(sa.StreamDescriptionSummary.StreamARN).toBe(a!.streamArn);
    expect(sb.StreamDescriptionSummary.StreamARN).toMatch(/^arn:aws:kinesis:us-east-1:000000000000:stream\/b$/);
    expect(sa.StreamDescriptionSummary.StreamCreationTimestamp.getTime()).not.toBe(sb.StreamDescriptionSummary.StreamCreationTimestamp.getTime());
    const page = await call<{ NextToken: string }>(new ListShardsCommand({ StreamName: 'b' }));
    const next = await call<{ Shards: { ShardId: string }[] }>(new ListShardsCommand({ NextToken: page.NextToken }));
    expect(next.Shards.map((s) => s.ShardId)).toEqual(['shardId-000000000001']);
    const shard = b!.lineage().find((s) => b!.recordCount(s.shardId) === 1)!.shardId;
    const it1 = await call<{ ShardIterator: string }>(new GetShardIteratorCommand({ StreamName: 'b', ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }));
    const records = await call<{ Records: unknown[] }>(new GetRecordsCommand({ ShardIterator: it1.ShardIterator }));
    expect(records.Records).toHaveLength(1);
    expect(streams.key(b!, shard)).toBe(`b/${shard}`);
    expect(streams.leaseKey(b!, shard)).toBe(`000000000000:b:1600000001:${shard}`);
  });

  it('with one stream is a plain MemoryKinesis: bare shard ids and lease keys, no token prefix', () => {
    const timeline = new SimTimeline();
    const streams = new SimStreams({ streamNames: ['only'], shardCount: 1, clock: timeline.clock('kinesis'), random: () => undefined });
    const only = streams.streams[0]!;
    expect(streams.connect('w', timeline.clock('w'), () => 1)).toBeDefined();
    expect(streams.key(only, 'shardId-000000000000')).toBe('shardId-000000000000');
    expect(streams.leaseKey(only, 'shardId-000000000000')).toBe('shardId-000000000000');
  });
});

describe('generateSchedule with streams', () => {
  it('leaves a seed unchanged on one stream, and changes only the stream count and the reshard streams on several', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const one = generateSchedule(seed);
      expect(generateSchedule(seed, { streams: 1 })).toEqual(one);
      const three = generateSchedule(seed, { streams: 3 });
      expect(three.config).toEqual({ ...one.config, streams: 3 });
      expect(three.events.map((e) => (e.kind === 'split' || e.kind === 'merge' ? { at: e.at, kind: e.kind, pick: e.pick } : e))).toEqual(one.events);
      const random = generateSchedule(seed, { streams: 'random' }).config.streams ?? 1;
      expect([1, 2, 3]).toContain(random);
    }
  });
});

describe('deterministic simulation of a fleet on several streams', () => {
  it(`keeps every invariant, per stream, over ${SEEDS} seeded schedules on 2 or 3 streams`, async () => {
    const failed: RunResult[] = [];
    let reshardsBeyondFirst = 0;
    let caughtUp = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const schedule = generateSchedule(seed, { streams: 2 + (seed % 2) });
      reshardsBeyondFirst += schedule.events.filter((e) => (e.kind === 'split' || e.kind === 'merge') && (e.stream ?? 0) > 0).length;
      const result = await runSchedule(schedule);
      if (!result.verdict.ok) failed.push(result);
      // Every line names its shard as `stream/shardId`, like the lineage and the final lease table.
      const badName = result.journal.find((l) => 'shard' in l && !/^sim-stream-[0-2]\/shardId-\d{12}$/.test(l.shard));
      expect(badName, `seed ${seed}`).toBeUndefined();
      if (!result.stats.caughtUp) continue;
      caughtUp++;
      // Not vacuous: every stream's records reached the processors.
      const streams = new Set(result.journal.flatMap((l) => (l.type === 'record' ? [l.shard.split('/')[0]] : [])));
      if (result.verdict.required > 0) expect(streams.size, `seed ${seed}`).toBe(schedule.config.streams);
    }
    expect(reshardsBeyondFirst).toBeGreaterThan(0);
    expect(caughtUp).toBeGreaterThan(SEEDS * 0.8);
    if (failed.length === 0) return;
    const first = failed[0]!;
    const minimal = await minimize(first, { maxShrinkRuns: 40 });
    expect.fail(`${failed.length} of ${SEEDS} seeds failed: ${failed.map((f) => f.schedule.seed).join(', ')}\n${formatFailure({ seed: first.schedule.seed, result: first, minimal })}`);
  }, 900_000);

  it('is deterministic on several streams: a schedule, and its JSON, replay to the same journal and verdict', async () => {
    const schedule = generateSchedule(3, { streams: 3, durationMs: [20_000, 30_000] });
    const first = await runSchedule(schedule);
    expect(first.verdict.required).toBeGreaterThan(0);
    // The whole result: schedule, journal, verdict, stats and skipped events.
    expect(await runSchedule(parseSchedule(JSON.parse(JSON.stringify(schedule))))).toEqual(first);
  }, 60_000);
});

describe('checkSimulation on several streams', () => {
  // Two streams with the same shard ids: the run names a shard `stream/shardId`, a record's key `stream/key`.
  const A0 = 'sim-stream-0/shardId-000000000000';
  const B0 = 'sim-stream-1/shardId-000000000000';
  const B1 = 'sim-stream-1/shardId-000000000001';
  const line = (worker: string, at: number, body: object): JournalLine => ({ worker, at, pid: 0, ...body }) as JournalLine;
  const put = (key: string, n: number, shardId: string, seq: string): PutRecordAck => ({ key, n, shardId, sequenceNumber: seq });

  it('catches a lost record of the second stream although the first stream processed the same key and shard id', () => {
    const journal = [
      line('w1', 0, { type: 'event', event: 'leaseAcquired', shard: A0 }),
      line('w1', 1, { type: 'init', shard: A0, epoch: 'e1', checkpoint: 'TRIM_HORIZON', sub: 0 }),
      line('w1', 2, { type: 'event', event: 'leaseAcquired', shard: B0 }),
      line('w1', 3, { type: 'init', shard: B0, epoch: 'e2', checkpoint: 'TRIM_HORIZON', sub: 0 }),
      line('w1', 10, { type: 'record', shard: A0, epoch: 'e1', key: 'sim-stream-0/k1', n: 1, seq: '100', sub: 0 }),
      line('w1', 10, { type: 'record', shard: A0, epoch: 'e1', key: 'sim-stream-0/k1', n: 2, seq: '101', sub: 0 }),
      line('w1', 11, { type: 'record', shard: B0, epoch: 'e2', key: 'sim-stream-1/k1', n: 1, seq: '100', sub: 0 }),
    ];
    const puts = [put('sim-stream-0/k1', 1, A0, '100'), put('sim-stream-0/k1', 2, A0, '101'), put('sim-stream-1/k1', 1, B0, '100'), put('sim-stream-1/k1', 2, B0, '101')];
    const shards: ShardLineage[] = [{ shardId: A0 }, { shardId: B0 }];
    const verdict = checkSimulation({ journal, puts, shards });
    expect(verdict.violations.map((v) => [v.invariant, v.shard])).toEqual([['no-loss', B0]]);
    expect(verdict.lost).toBe(1);
    // The same journal is clean once the second stream's record is processed.
    const fixed = [...journal, line('w1', 12, { type: 'record', shard: B0, epoch: 'e2', key: 'sim-stream-1/k1', n: 2, seq: '101', sub: 0 })];
    expect(checkSimulation({ journal: fixed, puts, shards }).ok).toBe(true);
  });

  it("catches a child of the second stream processed before its parent's SHARD_END, although the first stream's shard of that id ended", () => {
    const journal = [
      line('w1', 0, { type: 'init', shard: A0, epoch: 'e1', checkpoint: 'TRIM_HORIZON', sub: 0 }),
      line('w1', 1, { type: 'checkpoint', shard: A0, epoch: 'e1', phase: 'shard-end', seq: 'SHARD_END', sub: 0, sentAt: 1 }),
      line('w1', 2, { type: 'init', shard: B0, epoch: 'e2', checkpoint: 'TRIM_HORIZON', sub: 0 }),
      line('w2', 3, { type: 'init', shard: B1, epoch: 'e3', checkpoint: 'TRIM_HORIZON', sub: 0 }),
      line('w2', 4, { type: 'record', shard: B1, epoch: 'e3', key: 'sim-stream-1/k1', n: 1, seq: '300', sub: 0 }),
    ];
    const shards: ShardLineage[] = [{ shardId: A0 }, { shardId: B0 }, { shardId: B1, parentShardId: B0 }];
    const verdict = checkSimulation({ journal, puts: [put('sim-stream-1/k1', 1, B1, '300')], shards });
    expect(verdict.violations.some((v) => v.invariant === 'parent-before-child' && v.shard === B1)).toBe(true);
  });
});
