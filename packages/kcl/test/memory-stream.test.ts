import { extended, silentLogger } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import type { RecordSourceRequest } from '../src/index.js';
import { FakeClock, MemoryStream } from '../src/testing.js';

function request(shardId: string, checkpoint: string, extra: Partial<RecordSourceRequest> = {}): RecordSourceRequest {
  return { shardId, leaseKey: shardId, stream: { streamName: 'memory-stream', streamIdentifier: 'memory-stream' }, start: { checkpoint: extended(checkpoint) }, emptyBatches: false, logger: silentLogger(), ...extra };
}

const text = (data: Uint8Array): string => Buffer.from(data).toString('utf8');

describe('MemoryStream', () => {
  it('routes a partition key to the open shard owning its MD5, always the same one', async () => {
    const stream = new MemoryStream({ shardCount: 4 });
    const first = stream.put('user-1', 'a');
    expect(stream.put('user-1', 'b').shardId).toBe(first.shardId);
    const shardsUsed = new Set(Array.from({ length: 64 }, (_, i) => stream.put(`k${i}`, 'x').shardId));
    expect(shardsUsed.size).toBe(4);
    const shards = await stream.listShards();
    expect(shards.map((s) => s.hashKeyRange.startingHashKey)[0]).toBe('0');
    expect(shards.at(-1)!.hashKeyRange.endingHashKey).toBe(((1n << 128n) - 1n).toString());
  });

  it('splits and merges like Kinesis: parents close, children list their parents and cover the same hash keys', async () => {
    const stream = new MemoryStream({ shardCount: 2 });
    const [left, right] = stream.split('shardId-000000000000');
    const merged = stream.merge(right, 'shardId-000000000001');
    const shards = await stream.listShards();
    expect(shards.filter((s) => s.endingSequenceNumber === undefined).map((s) => s.shardId)).toEqual([left, merged]);
    expect(shards.find((s) => s.shardId === merged)).toMatchObject({ parentShardId: right, adjacentParentShardId: 'shardId-000000000001' });
    expect(await stream.listChildShards('shardId-000000000000')).toHaveLength(2);
    expect(() => stream.merge(left, 'shardId-000000000001')).toThrow(/closed/);
  });

  it('serves a shard from TRIM_HORIZON, after a checkpoint, at LATEST and AT_TIMESTAMP, then ends it with its children', async () => {
    const clock = new FakeClock();
    const stream = new MemoryStream({ clock, batchSize: 2 });
    const shard = 'shardId-000000000000';
    for (const d of ['r0', 'r1', 'r2']) stream.put('k', d);
    await clock.advance(1_000);
    const afterPause = new Date(clock.now());
    stream.put('k', 'r3');
    const all = stream.records(shard);
    const fromStart = stream.recordSources(request(shard, 'TRIM_HORIZON'));
    expect((await fromStart.next()).records.map((r) => text(r.data))).toEqual(['r0', 'r1']);
    expect((await fromStart.next()).records.map((r) => text(r.data))).toEqual(['r2', 'r3']);
    const afterCheckpoint = stream.recordSources(request(shard, all[1]!.sequenceNumber));
    expect((await afterCheckpoint.next()).records.map((r) => text(r.data))).toEqual(['r2', 'r3']);
    const atTimestamp = stream.recordSources(request(shard, 'AT_TIMESTAMP', { start: { checkpoint: extended('AT_TIMESTAMP'), initialTimestamp: afterPause } }));
    expect((await atTimestamp.next()).records.map((r) => text(r.data))).toEqual(['r3']);
    const latest = stream.recordSources(request(shard, 'LATEST'));
    latest.start();
    stream.put('k', 'r4');
    expect((await latest.next()).records.map((r) => text(r.data))).toEqual(['r4']);
    const children = stream.split(shard);
    const end = await latest.next();
    expect(end).toMatchObject({ records: [], shardEnded: true });
    expect(end.childShards?.map((c) => c.shardId)).toEqual(children);
  });

  it('a caught-up source waits for records, yields empty batches only when asked, and stops waiting when aborted', async () => {
    const clock = new FakeClock();
    const stream = new MemoryStream({ clock, idleBatchMs: 500 });
    const shard = 'shardId-000000000000';
    const empties = stream.recordSources(request(shard, 'TRIM_HORIZON', { emptyBatches: true }));
    const idle = empties.next();
    await clock.advance(500);
    expect(await idle).toMatchObject({ records: [], shardEnded: false });
    const quiet = stream.recordSources(request(shard, 'TRIM_HORIZON'));
    let settled = false;
    const waiting = quiet.next().then((b) => ((settled = true), b));
    await clock.advance(5_000);
    expect(settled).toBe(false);
    stream.put('k', 'late');
    expect((await waiting).records.map((r) => text(r.data))).toEqual(['late']);
    const controller = new AbortController();
    const aborted = quiet.next(controller.signal);
    controller.abort();
    await expect(aborted).rejects.toBeDefined();
    await quiet.stop();
    await expect(quiet.next()).rejects.toThrow(/stopped/);
  });
});

describe('the README example of @kcl-ts/kcl/testing', () => {
  it('runs a Worker on a MemoryStream with a FakeClock: the record is processed after advancing the clock', async () => {
    const { Worker } = await import('../src/index.js');
    const { InMemoryLeaseRefresher } = await import('../src/testing.js');
    const seen: string[] = [];
    const clock = new FakeClock();
    const stream = new MemoryStream({ shardCount: 2, clock });
    const worker = new Worker({
      applicationName: 'test',
      streamName: stream.streamLabel,
      processorFactory: () => ({ initialize() {}, processRecords: ({ records }) => void seen.push(...records.map((r) => text(r.data))) }),
      leaseRefresher: new InMemoryLeaseRefresher(),
      shardLister: () => stream,
      recordSourceFactory: stream.recordSources,
      clock,
      initialPosition: 'TRIM_HORIZON',
    });
    const started = worker.start();
    await clock.advance(100);
    await started;
    stream.put('user-1', JSON.stringify({ id: 1 }));
    await clock.advance(1_000);
    expect(seen).toEqual(['{"id":1}']);
    const stopped = worker.shutdown();
    await clock.advance(1_000);
    await stopped;
  });
});
