/**
 * Multi-stream applications on the Kinesis Mock and dynalite: one fleet, one lease table,
 * several streams from a tracker; streams added, resharded, removed and missing while running.
 */
import { DescribeStreamSummaryCommand, ListShardsCommand, ListStreamConsumersCommand, MergeShardsCommand, SplitShardCommand, type Shard } from '@aws-sdk/client-kinesis';
import { DynamoDbLeaseRefresher, type Lease } from '@kcl-ts/leases';
import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Worker, type StreamConfig, type WorkerOptions } from '../src/index.js';
import { FAST, Journal, mergeOptions, putKeyed, uniqueName, workerTestContext } from './helpers.js';

const { kinesis, dynamoDb, workers } = workerTestContext();

/** A tracker whose list the test changes; counts the calls so a test can wait for refreshes. */
function tracker(initial: string[], extra: Partial<{ formerStreamsLeasesDeletion: unknown }> = {}) {
  const state = { names: [...initial], calls: 0 };
  const streams = {
    list: async (): Promise<StreamConfig[]> => {
      state.calls += 1;
      return state.names.map((streamName) => ({ streamName }));
    },
    refreshIntervalMs: 300,
    ...extra,
  } as NonNullable<WorkerOptions['streams']>;
  return { state, streams };
}

/** A worker of a multi-stream application; each stream's records go to that stream's journal. */
function multiStreamWorker(app: string, workerId: string, streams: WorkerOptions['streams'], journals: Map<string, Journal>, extra: Partial<WorkerOptions> = {}): Worker {
  const journalOf = (name: string): Journal => {
    let journal = journals.get(name);
    if (!journal) journals.set(name, (journal = new Journal()));
    return journal;
  };
  const worker = new Worker(
    mergeOptions<WorkerOptions>(
      {
        applicationName: app,
        streams,
        kinesisClient: kinesis,
        dynamoDbClient: dynamoDb,
        initialPosition: 'TRIM_HORIZON',
        workerId,
        processorFactory: (shardId, { streamName }) => journalOf(streamName).processor(workerId, shardId),
      },
      FAST,
      extra,
    ),
  );
  workers.push(worker);
  return worker;
}

async function shards(stream: string): Promise<Shard[]> {
  return (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
}

async function active(stream: string): Promise<boolean> {
  const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  return s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
}

async function leasesOf(table: string): Promise<Lease[]> {
  return new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table }).listLeases();
}

const streamOfKey = (leaseKey: string): string | undefined => leaseKey.split(':')[1];

describe('Worker — several streams in one application', () => {
  it('3 workers, 3 streams; a 4th added, one split and one merged under load, one removed: nothing lost or out of order', async () => {
    const [s1, s2, s3, s4] = [uniqueName('ms-a'), uniqueName('ms-b'), uniqueName('ms-c'), uniqueName('ms-d')];
    await Promise.all([createStream(kinesis, s1, 2), createStream(kinesis, s2, 2), createStream(kinesis, s3, 2), createStream(kinesis, s4, 1)]);
    const app = uniqueName('ms-app');
    const { state, streams } = tracker([s1, s2, s3]);
    const journals = new Map<string, Journal>();
    const fleet = ['m1', 'm2', 'm3'].map((id) => multiStreamWorker(app, id, streams, journals));
    const streamErrors: string[] = [];
    for (const w of fleet) w.on('streamError', (e) => streamErrors.push(e.stream));
    await Promise.all(fleet.map((w) => w.start()));

    const put = new Map<string, number>();
    const produce = async (stream: string, n: number): Promise<void> => {
      await putKeyed(kinesis, stream, n, 10, put.get(stream) ?? 0);
      put.set(stream, (put.get(stream) ?? 0) + n);
    };
    const done = (stream: string): boolean => (journals.get(stream)?.distinct().size ?? 0) === (put.get(stream) ?? 0);
    await Promise.all([s1, s2, s3].map((s) => produce(s, 100)));

    // A fourth stream appears in the tracker: leases at its initial position, no restart.
    state.names.push(s4);
    await produce(s4, 100);
    await waitFor(() => [s1, s2, s3, s4].every(done), { timeoutMs: 90_000, message: 'first records of the four streams processed' });

    // Split s1's first shard and merge s2's two shards, with records before and after.
    const [first] = await shards(s1);
    const start = BigInt(first!.HashKeyRange!.StartingHashKey!);
    const end = BigInt(first!.HashKeyRange!.EndingHashKey!);
    await kinesis.send(new SplitShardCommand({ StreamName: s1, ShardToSplit: first!.ShardId!, NewStartingHashKey: ((start + end) / 2n).toString() }));
    const pair = (await shards(s2)).sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
    await kinesis.send(new MergeShardsCommand({ StreamName: s2, ShardToMerge: pair[0]!.ShardId!, AdjacentShardToMerge: pair[1]!.ShardId! }));
    await Promise.all([s1, s2, s3, s4].map((s) => produce(s, 50)));
    await waitFor(async () => (await active(s1)) && (await active(s2)), { timeoutMs: 30_000, message: 's1 and s2 ACTIVE after the reshards' });
    await Promise.all([s1, s2, s3, s4].map((s) => produce(s, 100)));
    await waitFor(() => [s1, s2, s3, s4].every(done), { timeoutMs: 120_000, message: 'every record after the reshards processed' });

    // The reshards created leases only in their own streams: s3 and s4 kept theirs.
    const beforeRemoval = await leasesOf(app);
    expect(beforeRemoval.filter((l) => streamOfKey(l.leaseKey) === s3)).toHaveLength(2);
    expect(beforeRemoval.filter((l) => streamOfKey(l.leaseKey) === s4)).toHaveLength(1);
    expect(beforeRemoval.filter((l) => streamOfKey(l.leaseKey) === s1).length).toBeGreaterThanOrEqual(3); // parent + 2 children (until cleanup)
    for (const lease of beforeRemoval) expect(lease.leaseKey).toBe(`${lease.streamIdentifier}:${lease.shardId}`);

    // s3 leaves the tracker: its processors stop and its leases are released, not deleted (default strategy).
    const s3Leases = beforeRemoval.filter((l) => streamOfKey(l.leaseKey) === s3);
    state.names = state.names.filter((n) => n !== s3);
    await waitFor(async () => (await leasesOf(app)).filter((l) => streamOfKey(l.leaseKey) === s3).every((l) => l.leaseOwner === undefined), {
      timeoutMs: 30_000,
      message: 'the removed stream’s leases released',
    });
    const processedOfS3 = journals.get(s3)!.seen.length;
    await produce(s3, 30); // never processed: the stream is not consumed any more
    await Promise.all([s1, s2, s4].map((s) => produce(s, 50)));
    await waitFor(() => [s1, s2, s4].every(done), { timeoutMs: 90_000, message: 'the remaining streams keep being processed' });
    const calls = state.calls;
    await waitFor(() => state.calls >= calls + 3, { timeoutMs: 30_000, message: 'three more refreshes of the tracker' });
    expect(journals.get(s3)!.seen.length).toBe(processedOfS3);
    expect(fleet.flatMap((w) => w.heldShards()).filter((k) => streamOfKey(k) === s3)).toEqual([]);
    const byKey = (a: Lease, b: Lease): number => a.leaseKey.localeCompare(b.leaseKey);
    const after = (await leasesOf(app)).filter((l) => streamOfKey(l.leaseKey) === s3).sort(byKey);
    expect(after.map((l) => [l.leaseKey, l.checkpoint.sequenceNumber])).toEqual(s3Leases.sort(byKey).map((l) => [l.leaseKey, expect.stringMatching(/^\d+$/)]));

    for (const s of [s1, s2, s3, s4]) expect(journals.get(s)!.orderViolations(), s).toEqual([]);
    expect(streamErrors).toEqual([]);
  }, 360_000);

  it('a missing stream is an error event naming it; the other stream goes on, and the missing one is consumed once created', async () => {
    const present = uniqueName('ms-present');
    const missing = uniqueName('ms-missing');
    await createStream(kinesis, present, 1);
    const app = uniqueName('ms-app');
    const { streams } = tracker([present, missing]);
    const journals = new Map<string, Journal>();
    const worker = multiStreamWorker(app, 'x1', streams, journals);
    const streamErrors: { stream: string; code: unknown }[] = [];
    worker.on('streamError', (e) => streamErrors.push({ stream: e.stream, code: (e.error as { code?: unknown }).code }));
    worker.on('error', () => undefined);
    await worker.start();
    await putKeyed(kinesis, present, 40, 4);
    await waitFor(() => journals.get(present)?.distinct().size === 40, { timeoutMs: 60_000, message: 'the present stream processed' });
    expect(streamErrors.length).toBeGreaterThan(0);
    expect(streamErrors.every((e) => e.stream === missing && e.code === 'RESOURCE_NOT_FOUND')).toBe(true);

    await createStream(kinesis, missing, 1);
    await putKeyed(kinesis, missing, 20, 2);
    await waitFor(() => journals.get(missing)?.distinct().size === 20, { timeoutMs: 60_000, message: 'the stream created late is consumed' });
  }, 180_000);

  it('auto-detection deletes a removed stream’s leases after the deferral; the listed stream’s stay', async () => {
    const kept = uniqueName('ms-kept');
    const gone = uniqueName('ms-gone');
    await Promise.all([createStream(kinesis, kept, 1), createStream(kinesis, gone, 2)]);
    const app = uniqueName('ms-app');
    const { state, streams } = tracker([kept, gone], { formerStreamsLeasesDeletion: { strategy: 'auto', waitMs: 1_000 } });
    const journals = new Map<string, Journal>();
    const worker = multiStreamWorker(app, 'd1', streams, journals);
    await worker.start();
    await waitFor(async () => (await leasesOf(app)).length === 3, { timeoutMs: 30_000, message: 'leases of both streams' });
    state.names = [kept];
    await waitFor(async () => (await leasesOf(app)).every((l) => streamOfKey(l.leaseKey) === kept), { timeoutMs: 30_000, message: 'the removed stream’s leases deleted' });
    expect((await leasesOf(app)).map((l) => streamOfKey(l.leaseKey))).toEqual([kept]);
  }, 120_000);

  it('the provided strategy deletes only the named streams’ leases', async () => {
    const [kept, named, unnamed] = [uniqueName('ms-kept'), uniqueName('ms-named'), uniqueName('ms-unnamed')];
    await Promise.all([createStream(kinesis, kept, 1), createStream(kinesis, named, 1), createStream(kinesis, unnamed, 1)]);
    const app = uniqueName('ms-app');
    const { state, streams } = tracker([kept, named, unnamed], {
      formerStreamsLeasesDeletion: { strategy: 'provided', waitMs: 0, streams: () => [{ streamName: named }] },
    });
    const worker = multiStreamWorker(app, 'p1', streams, new Map());
    await worker.start();
    await waitFor(async () => (await leasesOf(app)).length === 3, { timeoutMs: 30_000, message: 'leases of the three streams' });
    state.names = [kept];
    await waitFor(async () => (await leasesOf(app)).every((l) => streamOfKey(l.leaseKey) !== named), { timeoutMs: 30_000, message: 'the named stream’s leases deleted' });
    const calls = state.calls;
    await waitFor(() => state.calls >= calls + 3, { timeoutMs: 30_000, message: 'three more refreshes of the tracker' });
    expect((await leasesOf(app)).map((l) => streamOfKey(l.leaseKey)).sort()).toEqual([kept, unnamed].sort());
  }, 120_000);

  it('enhanced fan-out: one consumer registration per stream, every stream read through its own', async () => {
    const [a, b] = [uniqueName('ms-efo-a'), uniqueName('ms-efo-b')];
    await Promise.all([createStream(kinesis, a, 1), createStream(kinesis, b, 2)]);
    const app = uniqueName('ms-efo');
    const journals = new Map<string, Journal>();
    const worker = multiStreamWorker(app, 'f1', [{ streamName: a }, { streamName: b }], journals, { retrieval: { mode: 'fanout' } });
    await worker.start();
    for (const stream of [a, b]) {
      const arn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
      const consumers = (await kinesis.send(new ListStreamConsumersCommand({ StreamARN: arn }))).Consumers ?? [];
      expect(consumers.map((c) => c.ConsumerName)).toEqual([app]);
    }
    await Promise.all([putKeyed(kinesis, a, 30, 3), putKeyed(kinesis, b, 30, 3)]);
    await waitFor(() => journals.get(a)?.distinct().size === 30 && journals.get(b)?.distinct().size === 30, { timeoutMs: 60_000, message: 'both streams read by fan-out' });
  }, 120_000);
});
