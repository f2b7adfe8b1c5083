/**
 * PollingRecordsFetcher against the real emulators (Kinesis Mock and kinesalite) over HTTP.
 */
import { createRequire } from 'node:module';
import { DescribeStreamSummaryCommand, ListShardsCommand, PutRecordCommand, SplitShardCommand, type Shard } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { extended, type KinesisClientRecord } from '@kcl-ts/processor';
import { PollingRecordsFetcher, resolveRetrievalConfig, type RecordsBatch, type StartPosition } from '../src/retrieval/index.js';
import { createStream, putRecords, testStack, uniqueName, waitFor, type KinesisClient, type KinesisKind } from '../../../test-support/stack.js';

const require = createRequire(import.meta.url);
const agg = require('aws-kinesis-agg') as {
  RecordAggregator: new () => { addUserRecord(r: { partitionKey: string; data: Buffer }): void; build(): { partitionKey: string; data: Buffer } };
};

const stack = testStack();
const clients = new Map<KinesisKind, KinesisClient>();
const fetchers: PollingRecordsFetcher[] = [];

function kinesis(kind: KinesisKind = 'kinesis-mock'): KinesisClient {
  let client = clients.get(kind);
  if (!client) {
    client = stack.kinesisClient(kind);
    clients.set(kind, client);
  }
  return client;
}

afterAll(async () => {
  await Promise.all(fetchers.map((f) => f.stop()));
  for (const c of clients.values()) c.destroy();
});

async function firstShard(client: KinesisClient, streamName: string): Promise<Shard> {
  const out = await client.send(new ListShardsCommand({ StreamName: streamName }));
  return out.Shards![0]!;
}

function fetcher(client: KinesisClient, streamName: string, shard: Shard, start: StartPosition): PollingRecordsFetcher {
  const f = new PollingRecordsFetcher({
    kinesisClient: client,
    stream: { streamName },
    shardId: shard.ShardId!,
    hashKeyRange: { startingHashKey: shard.HashKeyRange!.StartingHashKey!, endingHashKey: shard.HashKeyRange!.EndingHashKey! },
    start,
    config: resolveRetrievalConfig({ polling: { idleTimeBetweenReadsMs: 100 } }),
  });
  fetchers.push(f);
  return f;
}

/** Takes batches until `count` records arrived (or a shard-end batch), failing after a deadline. */
async function collect(f: PollingRecordsFetcher, count: number, timeoutMs = 30_000): Promise<{ records: KinesisClientRecord[]; batches: RecordsBatch[] }> {
  const records: KinesisClientRecord[] = [];
  const batches: RecordsBatch[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  while (records.length < count) {
    const batch = await f.next(signal);
    batches.push(batch);
    records.push(...batch.records);
    if (batch.shardEnded) break;
  }
  return { records, batches };
}

const text = (records: readonly KinesisClientRecord[]): string[] => records.map((r) => Buffer.from(r.data).toString());

async function putAggregate(client: KinesisClient, streamName: string, users: readonly string[]): Promise<string> {
  const aggregator = new agg.RecordAggregator();
  users.forEach((u, i) => aggregator.addUserRecord({ partitionKey: `user-${i}`, data: Buffer.from(u) }));
  const built = aggregator.build();
  const out = await client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: built.partitionKey, Data: built.data }));
  return out.SequenceNumber!;
}

describe.each(['kinesis-mock', 'kinesalite'] as const)('PollingRecordsFetcher on %s', (kind) => {
  it('fetches every record in order from TRIM_HORIZON', async () => {
    const client = kinesis(kind);
    const name = uniqueName('retrieval-all');
    await createStream(client, name, 1);
    const put = await putRecords(client, name, Array.from({ length: 40 }, (_, i) => ({ partitionKey: `key-${i % 7}`, data: `m${i}` })));
    const f = fetcher(client, name, await firstShard(client, name), { checkpoint: extended('TRIM_HORIZON') });
    const { records } = await collect(f, 40);
    expect(text(records)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(records.map((r) => r.sequenceNumber)).toEqual(put.map((p) => p.sequenceNumber));
    expect(records.map((r) => r.partitionKey)).toEqual(Array.from({ length: 40 }, (_, i) => `key-${i % 7}`));
    expect(f.stats.recordsFetched).toBe(40);
    await f.stop();
  });

  it('resumes after a sequence-number checkpoint without re-delivering it or anything before it', async () => {
    const client = kinesis(kind);
    const name = uniqueName('retrieval-resume');
    await createStream(client, name, 1);
    const put = await putRecords(client, name, Array.from({ length: 20 }, (_, i) => ({ partitionKey: `k${i}`, data: `m${i}` })));
    const checkpoint = put[11]!.sequenceNumber;
    const f = fetcher(client, name, await firstShard(client, name), { checkpoint: extended(checkpoint) });
    const { records } = await collect(f, 8);
    expect(text(records)).toEqual(Array.from({ length: 8 }, (_, i) => `m${12 + i}`));
    for (const r of records) expect(BigInt(r.sequenceNumber) > BigInt(checkpoint)).toBe(true);
    await f.stop();
  });

  it('resumes in the middle of a KPL aggregate from a sub-sequence checkpoint', async () => {
    const client = kinesis(kind);
    const name = uniqueName('retrieval-agg');
    await createStream(client, name, 1);
    await putRecords(client, name, [{ partitionKey: 'a', data: 'before' }]);
    const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
    const aggSeq = await putAggregate(client, name, users);
    await putRecords(client, name, [{ partitionKey: 'b', data: 'after' }]);

    const whole = fetcher(client, name, await firstShard(client, name), { checkpoint: extended('TRIM_HORIZON') });
    const all = await collect(whole, 8);
    expect(text(all.records)).toEqual(['before', ...users, 'after']);
    expect(all.records.slice(1, 7).map((r) => [r.sequenceNumber, r.subSequenceNumber, r.aggregated, r.partitionKey])).toEqual(
      users.map((_, i) => [aggSeq, i, true, `user-${i}`]),
    );
    await whole.stop();

    const resumed = fetcher(client, name, await firstShard(client, name), { checkpoint: extended(aggSeq, 2) });
    const { records } = await collect(resumed, 4);
    expect(records.map((r) => [Buffer.from(r.data).toString(), r.subSequenceNumber])).toEqual([
      ['u3', 3],
      ['u4', 4],
      ['u5', 5],
      ['after', undefined],
    ]);
    await resumed.stop();
  });

  it('starts at LATEST and at AT_TIMESTAMP', async () => {
    const client = kinesis(kind);
    const name = uniqueName('retrieval-start');
    await createStream(client, name, 1);
    await putRecords(client, name, Array.from({ length: 5 }, (_, i) => ({ partitionKey: `k${i}`, data: `old${i}` })));
    const shard = await firstShard(client, name);

    // Learn the arrival time of the old records, then start AT_TIMESTAMP just after the last one.
    const reader = fetcher(client, name, shard, { checkpoint: extended('TRIM_HORIZON') });
    const old = await collect(reader, 5);
    await reader.stop();
    const lastOld = Math.max(...old.records.map((r) => r.approximateArrivalTimestamp.getTime()));

    const latest = fetcher(client, name, shard, { checkpoint: extended('LATEST') });
    latest.start();
    // LATEST is fixed when the iterator is taken: wait until the first GetRecords happened.
    await waitFor(() => latest.stats.getRecordsCalls > 0, { message: 'first GetRecords of the LATEST fetcher' });
    await putRecords(client, name, Array.from({ length: 3 }, (_, i) => ({ partitionKey: `k${i}`, data: `new${i}` })));

    const fromLatest = await collect(latest, 3);
    expect(text(fromLatest.records)).toEqual(['new0', 'new1', 'new2']);

    const atTimestamp = fetcher(client, name, shard, { checkpoint: extended('AT_TIMESTAMP'), initialTimestamp: new Date(lastOld + 1) }); // emulators stamp arrivals in ms
    const fromTimestamp = await collect(atTimestamp, 3);
    expect(text(fromTimestamp.records)).toEqual(['new0', 'new1', 'new2']);
    await latest.stop();
    await atTimestamp.stop();
  });

  it('reads a split parent to its end and reports the shard end', async () => {
    const client = kinesis(kind);
    const name = uniqueName('retrieval-split');
    await createStream(client, name, 1);
    await putRecords(client, name, Array.from({ length: 10 }, (_, i) => ({ partitionKey: `k${i}`, data: `p${i}` })));
    const parent = await firstShard(client, name);
    const f = fetcher(client, name, parent, { checkpoint: extended('TRIM_HORIZON') });
    const first = await collect(f, 10);
    expect(text(first.records)).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));

    await client.send(new SplitShardCommand({ StreamName: name, ShardToSplit: parent.ShardId!, NewStartingHashKey: (1n << 127n).toString() }));
    await waitFor(async () => (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE', {
      message: 'stream ACTIVE after SplitShard',
      timeoutMs: 30_000,
    });
    const children = ((await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? []).filter((s) => s.ParentShardId === parent.ShardId);
    expect(children).toHaveLength(2);
    await putRecords(client, name, [{ partitionKey: 'later', data: 'child-record' }]);

    const rest = await collect(f, Number.POSITIVE_INFINITY, 60_000);
    const end = rest.batches.at(-1)!;
    expect(end.shardEnded).toBe(true);
    expect(text(rest.records)).toEqual([]); // nothing new in the parent; the new record went to a child
    if (kind === 'kinesis-mock') {
      expect(end.childShards?.map((c) => c.shardId).sort()).toEqual(children.map((c) => c.ShardId).sort());
      for (const c of end.childShards!) {
        expect(c.parentShards).toEqual([parent.ShardId]);
        const listed = children.find((s) => s.ShardId === c.shardId)!;
        expect(c.hashKeyRange).toEqual({ startingHashKey: listed.HashKeyRange!.StartingHashKey, endingHashKey: listed.HashKeyRange!.EndingHashKey });
      }
    } else {
      expect(end.childShards).toBeUndefined(); // kinesalite does not send ChildShards
    }
    await expect(f.next()).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it('rejects next() with ResourceNotFoundError for a shard that does not exist', async () => {
    const client = kinesis(kind);
    const name = uniqueName('retrieval-missing');
    await createStream(client, name, 1);
    const real = await firstShard(client, name);
    const f = fetcher(client, name, { ...real, ShardId: 'shardId-000000000099' }, { checkpoint: extended('TRIM_HORIZON') });
    await expect(f.next(AbortSignal.timeout(30_000))).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND', resourceType: 'shard', resourceName: 'shardId-000000000099' });
  });
});
