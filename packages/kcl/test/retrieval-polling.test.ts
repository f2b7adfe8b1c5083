/**
 * PollingRecordsFetcher against a stub Kinesis client on a FakeClock: pacing, prefetch bounds,
 * error handling and delivery order, without real time or a real emulator.
 */
import { createRequire } from 'node:module';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { DependencyError, extended, FakeClock, InvalidStateError, isKclError, ResourceNotFoundError, ShutdownError, type KinesisClientRecord } from '@kcl-ts/processor';
import { PollingRecordsFetcher, resolveRetrievalConfig, type RecordsBatch, type PollingOptions, type RetrievalOptions, type StartPosition } from '../src/retrieval/index.js';

const require = createRequire(import.meta.url);
const agg = require('aws-kinesis-agg') as {
  RecordAggregator: new () => { addUserRecord(r: { partitionKey: string; data: Buffer }): void; build(): { partitionKey: string; data: Buffer } };
};

const BASE_SEQ = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000n;
const seqOf = (i: number): string => (BASE_SEQ + BigInt(i) * 100n).toString();

type Failure = Error | ((input: Record<string, unknown>) => Error | undefined);

/**
 * A one-shard Kinesis stub. Iterators are `it:<index>`; GetRecords returns up to `Limit`
 * (and at most `pageSize`) records from there. `failures` holds errors to throw, by operation,
 * consumed one per call (`undefined` entries mean "succeed").
 */
class StubKinesis {
  records: _Record[] = [];
  /** When true, reading past the last record ends the shard (NextShardIterator absent). */
  closed = false;
  childShards: { ShardId: string; ParentShards: string[]; HashKeyRange: { StartingHashKey: string; EndingHashKey: string } }[] | undefined;
  /** Max records per response (on top of Limit). */
  pageSize = Number.POSITIVE_INFINITY;
  /** When true, every response claims the shard is behind (MillisBehindLatest > 0). */
  alwaysBehind = false;
  failures: { GetRecords: (Failure | undefined)[]; GetShardIterator: (Failure | undefined)[] } = { GetRecords: [], GetShardIterator: [] };
  getRecordsStarts: number[] = [];
  iteratorRequests: GetShardIteratorCommandInput[] = [];
  lastSignal: AbortSignal | undefined;
  /** When set, GetRecords never resolves until aborted (to observe abort). */
  hang = false;

  constructor(private readonly clock: FakeClock) {}

  addPlain(count: number, prefix = 'r'): void {
    for (let k = 0; k < count; k++) {
      const i = this.records.length;
      this.records.push({ SequenceNumber: seqOf(i), PartitionKey: `pk-${i % 5}`, Data: Buffer.from(`${prefix}${i}`), ApproximateArrivalTimestamp: new Date(1_700_000_000_000 + i * 1000) });
    }
  }

  addAggregate(users: { partitionKey: string; data: string }[]): string {
    const aggregator = new agg.RecordAggregator();
    for (const u of users) aggregator.addUserRecord({ partitionKey: u.partitionKey, data: Buffer.from(u.data) });
    const built = aggregator.build();
    const i = this.records.length;
    this.records.push({ SequenceNumber: seqOf(i), PartitionKey: built.partitionKey, Data: built.data, ApproximateArrivalTimestamp: new Date() });
    return seqOf(i);
  }

  get client(): KinesisClient {
    return this as unknown as KinesisClient;
  }

  async send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    this.lastSignal = options?.abortSignal;
    if (command instanceof GetShardIteratorCommand) {
      const input = command.input;
      this.iteratorRequests.push(input);
      this.fail('GetShardIterator', input as unknown as Record<string, unknown>);
      return { ShardIterator: `it:${this.position(input)}` };
    }
    if (command instanceof GetRecordsCommand) {
      this.getRecordsStarts.push(this.clock.elapsed());
      const input = command.input;
      this.fail('GetRecords', input as unknown as Record<string, unknown>);
      if (this.hang) {
        await new Promise((_resolve, reject) => options?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      }
      const from = Number(input.ShardIterator!.slice(3));
      const take = Math.min(input.Limit ?? 10_000, this.pageSize);
      const page = this.records.slice(from, from + take);
      const next = from + page.length;
      const atEnd = next >= this.records.length;
      return {
        Records: page,
        MillisBehindLatest: this.alwaysBehind || !atEnd ? 5_000 : 0,
        ...(atEnd && this.closed ? { ChildShards: this.childShards } : { NextShardIterator: `it:${next}` }),
      };
    }
    throw new Error(`unexpected command ${String(command)}`);
  }

  private fail(operation: 'GetRecords' | 'GetShardIterator', input: Record<string, unknown>): void {
    const f = this.failures[operation].shift();
    const error = typeof f === 'function' ? f(input) : f;
    if (error) throw error;
  }

  private position(input: GetShardIteratorCommandInput): number {
    switch (input.ShardIteratorType) {
      case 'TRIM_HORIZON':
        return 0;
      case 'LATEST':
        return this.records.length;
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        const target = BigInt(input.StartingSequenceNumber!);
        const i = this.records.findIndex((r) => (input.ShardIteratorType === 'AT_SEQUENCE_NUMBER' ? BigInt(r.SequenceNumber!) >= target : BigInt(r.SequenceNumber!) > target));
        return i < 0 ? this.records.length : i;
      }
      case 'AT_TIMESTAMP': {
        const i = this.records.findIndex((r) => r.ApproximateArrivalTimestamp!.getTime() >= input.Timestamp!.getTime());
        return i < 0 ? this.records.length : i;
      }
      default:
        throw new Error(`bad iterator type ${String(input.ShardIteratorType)}`);
    }
  }
}

const throttle = (): Error => new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard', $metadata: { httpStatusCode: 400 } });
const serverError = (): Error => Object.assign(new Error('We encountered an internal error'), { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } });

const fetchers: PollingRecordsFetcher[] = [];
afterEach(async () => {
  await Promise.all(fetchers.splice(0).map((f) => f.stop()));
});

/** The polling options and the shared retrieval options in one object, as these tests tune them. */
type FlatOptions = PollingOptions & Omit<RetrievalOptions, 'polling'>;

/** {@link FlatOptions} as the nested `retrieval` group. */
function nested({ maxRecords, idleTimeBetweenReadsMs, maxIdleTimeBetweenReadsMs, maxGetRecordsPerSecond, ...rest }: FlatOptions): RetrievalOptions {
  const polling = Object.fromEntries(Object.entries({ maxRecords, idleTimeBetweenReadsMs, maxIdleTimeBetweenReadsMs, maxGetRecordsPerSecond }).filter(([, v]) => v !== undefined));
  return { ...rest, polling };
}

function makeFetcher(stub: StubKinesis, clock: FakeClock, options: FlatOptions = {}, start: StartPosition = { checkpoint: extended('TRIM_HORIZON') }, extra: { hashKeyRange?: { startingHashKey: string; endingHashKey: string } } = {}): PollingRecordsFetcher {
  const fetcher = new PollingRecordsFetcher({
    kinesisClient: stub.client,
    stream: { streamName: 'orders' },
    shardId: 'shardId-000000000000',
    start,
    config: resolveRetrievalConfig(nested({ idleTimeBetweenReadsMs: 250, ...options })),
    clock,
    random: () => 0.5,
    ...extra,
  });
  fetchers.push(fetcher);
  return fetcher;
}

/** Advances the fake clock in steps until `until()` holds (or fails after `maxMs` of fake time). */
async function drive(clock: FakeClock, until: () => boolean, maxMs = 120_000, stepMs = 25): Promise<void> {
  for (let t = 0; t <= maxMs; t += stepMs) {
    if (until()) return;
    await clock.advance(stepMs);
  }
  throw new Error(`condition not reached within ${maxMs} ms of fake time`);
}

/** A consumer taking batches as fast as they come, until stopped or the fetcher fails. */
function consumer(fetcher: PollingRecordsFetcher): { batches: RecordsBatch[]; records: KinesisClientRecord[]; error: unknown; done: Promise<void> } {
  const state = { batches: [] as RecordsBatch[], records: [] as KinesisClientRecord[], error: undefined as unknown, done: Promise.resolve() };
  state.done = (async () => {
    try {
      for (;;) {
        const batch = await fetcher.next();
        state.batches.push(batch);
        state.records.push(...batch.records);
      }
    } catch (err) {
      state.error = err;
    }
  })();
  return state;
}

const dataOf = (records: readonly KinesisClientRecord[]): string[] => records.map((r) => Buffer.from(r.data).toString());
const range = (n: number, prefix = 'r', from = 0): string[] => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

describe('PollingRecordsFetcher (stub Kinesis, fake clock)', () => {
  it('delivers every record in order, in non-empty batches, and counts them', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(23);
    const fetcher = makeFetcher(stub, clock, { maxRecords: 5 });
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length >= 23);
    expect(dataOf(c.records)).toEqual(range(23));
    expect(c.batches.every((b) => b.records.length > 0 && !b.shardEnded)).toBe(true);
    expect(c.records.every((r) => r.subSequenceNumber === undefined && r.aggregated === false)).toBe(true);
    expect(fetcher.stats.recordsFetched).toBe(23);
    expect(fetcher.stats.bytesFetched).toBe(c.records.reduce((n, r) => n + r.data.length, 0));
    expect(stub.iteratorRequests).toEqual([{ StreamName: 'orders', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }]);
  });

  it('does not deliver empty batches but records MillisBehindLatest, and idles between reads when caught up', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    const fetcher = makeFetcher(stub, clock, { idleTimeBetweenReadsMs: 1_000 });
    const c = consumer(fetcher);
    await drive(clock, () => stub.getRecordsStarts.length >= 5);
    expect(c.batches).toEqual([]);
    expect(fetcher.stats.lastMillisBehindLatest).toBe(0);
    const gaps = stub.getRecordsStarts.slice(1).map((t, i) => t - stub.getRecordsStarts[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1_000);
    // New data is picked up on the next poll.
    stub.addPlain(2);
    await drive(clock, () => c.records.length === 2);
    expect(dataOf(c.records)).toEqual(['r0', 'r1']);
  });

  it('backs off while a shard stays empty (250, 500, 1,000 ms); sparse records keep the pause long, a busy shard polls fast again', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    const fetcher = makeFetcher(stub, clock);
    const c = consumer(fetcher);
    await drive(clock, () => stub.getRecordsStarts.length >= 6);
    const gaps = (starts: readonly number[]): number[] => starts.slice(1).map((t, i) => t - starts[i]!);
    const idle = gaps(stub.getRecordsStarts.slice(0, 6));
    expect(idle.slice(0, 3).map((g) => Math.round(g / 250) * 250)).toEqual([250, 500, 1_000]);
    for (const gap of idle.slice(3)) expect(gap).toBeLessThan(1_100); // bounded by maxIdleTimeBetweenReadsMs
    // Sparse traffic, one record per poll: each call still waits for about three records'
    // worth of arrivals, so the pause stays at the bound.
    const poll = async (records: number): Promise<void> => {
      stub.addPlain(records);
      const calls = stub.getRecordsStarts.length;
      await drive(clock, () => stub.getRecordsStarts.length >= calls + 1);
    };
    for (let i = 0; i < 3; i++) await poll(1);
    const sparse = gaps(stub.getRecordsStarts.slice(-3));
    for (const gap of sparse) expect(Math.round(gap / 250) * 250).toBe(1_000);
    // A busy shard (ten records waiting at every poll): back to the base idle time within a few polls.
    for (let i = 0; i < 5; i++) await poll(10);
    const busy = gaps(stub.getRecordsStarts.slice(-3));
    for (const gap of busy) expect(Math.round(gap / 250) * 250).toBe(250);
    expect(c.records.length).toBe(3 + 50);
  });

  it('maxIdleTimeBetweenReadsMs equal to idleTimeBetweenReadsMs turns the backoff off; a larger idle time raises the bound', async () => {
    expect(resolveRetrievalConfig({ polling: { idleTimeBetweenReadsMs: 1_500 } }).polling.maxIdleTimeBetweenReadsMs).toBe(1_500);
    expect(() => resolveRetrievalConfig({ polling: { idleTimeBetweenReadsMs: 500, maxIdleTimeBetweenReadsMs: 400 } })).toThrow(/^retrieval\.polling\.maxIdleTimeBetweenReadsMs must be a number >= 500/);
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    const fetcher = makeFetcher(stub, clock, { idleTimeBetweenReadsMs: 250, maxIdleTimeBetweenReadsMs: 250 });
    consumer(fetcher);
    await drive(clock, () => stub.getRecordsStarts.length >= 6);
    const starts = stub.getRecordsStarts;
    for (let i = 1; i < 6; i++) expect(starts[i]! - starts[i - 1]!).toBeLessThan(300);
  });

  it('never starts more than maxGetRecordsPerSecond GetRecords calls in any second while behind', async () => {
    for (const perSecond of [5, 2]) {
      const clock = new FakeClock();
      const stub = new StubKinesis(clock);
      stub.alwaysBehind = true;
      stub.addPlain(2_000);
      const fetcher = makeFetcher(stub, clock, { maxRecords: 10, maxGetRecordsPerSecond: perSecond });
      const c = consumer(fetcher);
      await clock.advance(10_000);
      await drive(clock, () => stub.getRecordsStarts.length >= perSecond * 10);
      const starts = stub.getRecordsStarts;
      for (const t of starts) {
        expect(starts.filter((s) => s >= t && s < t + 1_000).length).toBeLessThanOrEqual(perSecond);
      }
      // ...and it does poll back to back while behind (no idle sleeps): about perSecond × 10 calls in 10 s.
      expect(starts.filter((s) => s < 10_000).length).toBeGreaterThanOrEqual(perSecond * 10 - 1);
      expect(c.records.length).toBeGreaterThan(0);
      await fetcher.stop();
    }
  });

  it('stops fetching while the prefetch queue is full, and resumes when the consumer takes a batch', async () => {
    const cases: { options: FlatOptions; expectedBatches: number }[] = [
      { options: { prefetchMaxBatches: 3 }, expectedBatches: 3 },
      { options: { prefetchMaxBatches: 100, prefetchMaxRecords: 25 }, expectedBatches: 3 }, // 10 records per batch
      { options: { prefetchMaxBatches: 100, prefetchMaxBytes: 85 }, expectedBatches: 2 }, // 40 bytes, then 50 bytes per batch
    ];
    for (const { options, expectedBatches } of cases) {
      const clock = new FakeClock();
      const stub = new StubKinesis(clock);
      stub.alwaysBehind = true;
      stub.addPlain(1_000, 'rec'); // data 'rec0'..'rec9' ≈ 4 bytes each
      const fetcher = makeFetcher(stub, clock, { maxRecords: 10, ...options });
      fetcher.start();
      await clock.advance(30_000);
      expect(stub.getRecordsStarts.length).toBe(expectedBatches);
      const first = await fetcher.next();
      expect(dataOf(first.records)).toEqual(range(10, 'rec'));
      await drive(clock, () => stub.getRecordsStarts.length === expectedBatches + 1);
      await clock.advance(30_000);
      expect(stub.getRecordsStarts.length).toBe(expectedBatches + 1);
      await fetcher.stop();
    }
  });

  it('retries throttling with backoff, counts it, and loses nothing', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(30);
    stub.failures.GetRecords = [undefined, throttle(), new LimitExceededException({ message: 'limit', $metadata: {} }), undefined, throttle()];
    stub.failures.GetShardIterator = [throttle()];
    const fetcher = makeFetcher(stub, clock, { maxRecords: 10 });
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length >= 30);
    expect(dataOf(c.records)).toEqual(range(30));
    expect(fetcher.stats.throttled).toBe(4);
    expect(c.error).toBeUndefined();
  });

  it('retries 5xx errors, then gives up with a retryable DependencyError after maxRetries in a row', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(10);
    stub.failures.GetRecords = [serverError(), serverError()];
    const fetcher = makeFetcher(stub, clock, { maxRetries: 2 });
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length === 10);
    expect(dataOf(c.records)).toEqual(range(10));

    stub.addPlain(1);
    stub.failures.GetRecords = [serverError(), serverError(), serverError()];
    await drive(clock, () => c.error !== undefined);
    expect(c.error).toBeInstanceOf(DependencyError);
    expect((c.error as DependencyError).retryable).toBe(true);
    expect((c.error as DependencyError).operation).toBe('GetRecords');
  });

  it('on ExpiredIterator drops undelivered batches and resumes after the last delivered record', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.alwaysBehind = true;
    stub.addPlain(100);
    const fetcher = makeFetcher(stub, clock, { maxRecords: 10, prefetchMaxBatches: 3 });
    fetcher.start();
    await drive(clock, () => stub.getRecordsStarts.length === 3);
    const delivered: KinesisClientRecord[] = [...(await fetcher.next()).records]; // r0..r9; r10..r29 stay queued
    // The next GetRecords (for r30..) finds its iterator expired.
    stub.failures.GetRecords = [new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} })];
    await drive(clock, () => fetcher.stats.expiredIterators === 1 && stub.iteratorRequests.length === 2);
    expect(stub.iteratorRequests[1]).toMatchObject({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: seqOf(9) });
    const c = consumer(fetcher);
    await drive(clock, () => delivered.length + c.records.length >= 100);
    delivered.push(...c.records);
    expect(dataOf(delivered)).toEqual(range(100)); // nothing lost, nothing twice
    expect(fetcher.stats.expiredIterators).toBe(1);
  });

  it('on ExpiredIterator before anything was delivered, re-reads from the first discarded record', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.alwaysBehind = true;
    stub.addPlain(50);
    // The first response (r4..r13, r4 dropped as the checkpoint) is queued; the second call expires.
    stub.failures.GetRecords = [undefined, new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} })];
    const fetcher = makeFetcher(stub, clock, { maxRecords: 10 }, { checkpoint: extended(seqOf(4)) });
    fetcher.start();
    await drive(clock, () => fetcher.stats.expiredIterators === 1 && stub.iteratorRequests.length === 2);
    expect(stub.iteratorRequests[1]).toMatchObject({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: seqOf(5) });
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length >= 45);
    await clock.advance(2_000);
    expect(dataOf(c.records)).toEqual(range(45, 'r', 5));
  });

  it('rejects next() with ResourceNotFoundError when the shard or stream is gone', async () => {
    for (const operation of ['GetRecords', 'GetShardIterator'] as const) {
      const clock = new FakeClock();
      const stub = new StubKinesis(clock);
      stub.failures[operation] = [new ResourceNotFoundException({ message: 'Shard does not exist', $metadata: {} })];
      const fetcher = makeFetcher(stub, clock);
      const c = consumer(fetcher);
      await drive(clock, () => c.error !== undefined);
      expect(c.error).toBeInstanceOf(ResourceNotFoundError);
      expect(c.error).toMatchObject({ resourceType: 'shard', resourceName: 'shardId-000000000000' });
      await expect(fetcher.next()).rejects.toBeInstanceOf(ResourceNotFoundError);
    }
  });

  it('fails with a non-retryable DependencyError on other errors', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.failures.GetShardIterator = [Object.assign(new Error('bad seq'), { name: 'InvalidArgumentException', $fault: 'client', $metadata: { httpStatusCode: 400 } })];
    const fetcher = makeFetcher(stub, clock);
    const c = consumer(fetcher);
    await drive(clock, () => c.error !== undefined);
    expect(c.error).toBeInstanceOf(DependencyError);
    expect((c.error as DependencyError).retryable).toBe(false);
  });

  it('delivers a final shard-end batch with the child shards, then rejects further next() calls', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(12);
    stub.closed = true;
    stub.childShards = [
      { ShardId: 'shardId-000000000001', ParentShards: ['shardId-000000000000'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: '99' } },
      { ShardId: 'shardId-000000000002', ParentShards: ['shardId-000000000000'], HashKeyRange: { StartingHashKey: '100', EndingHashKey: '199' } },
    ];
    const fetcher = makeFetcher(stub, clock, { maxRecords: 5 });
    const c = consumer(fetcher);
    await drive(clock, () => c.error !== undefined);
    expect(dataOf(c.records)).toEqual(range(12));
    const last = c.batches.at(-1)!;
    expect(last.shardEnded).toBe(true);
    expect(c.batches.filter((b) => b.shardEnded)).toHaveLength(1);
    expect(last.childShards).toEqual([
      { shardId: 'shardId-000000000001', parentShards: ['shardId-000000000000'], hashKeyRange: { startingHashKey: '0', endingHashKey: '99' } },
      { shardId: 'shardId-000000000002', parentShards: ['shardId-000000000000'], hashKeyRange: { startingHashKey: '100', endingHashKey: '199' } },
    ]);
    expect(c.error).toBeInstanceOf(InvalidStateError);
    const calls = stub.getRecordsStarts.length;
    await clock.advance(10_000);
    expect(stub.getRecordsStarts.length).toBe(calls);
  });

  it('delivers an empty shard-end batch when the end comes after the last record', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(3);
    stub.pageSize = 3; // first response: 3 records, shard still open...
    const fetcher = makeFetcher(stub, clock);
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length === 3);
    stub.closed = true; // ...then it is closed: the next response is empty and ends it
    await drive(clock, () => c.batches.some((b) => b.shardEnded));
    expect(c.batches.at(-1)).toMatchObject({ records: [], shardEnded: true });
  });

  it('treats a SHARD_END checkpoint as an already-ended shard without calling Kinesis', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    const fetcher = makeFetcher(stub, clock, {}, { checkpoint: extended('SHARD_END') });
    const batch = await fetcher.next();
    expect(batch).toEqual({ records: [], shardEnded: true, bytes: 0 });
    await expect(fetcher.next()).rejects.toBeInstanceOf(InvalidStateError);
    expect(stub.iteratorRequests).toEqual([]);
  });

  it('starts at the record after a sequence-number checkpoint (AT_SEQUENCE_NUMBER, checkpoint dropped)', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(10);
    const fetcher = makeFetcher(stub, clock, {}, { checkpoint: extended(seqOf(6)) });
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length === 3);
    expect(dataOf(c.records)).toEqual(['r7', 'r8', 'r9']);
    expect(stub.iteratorRequests[0]).toMatchObject({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: seqOf(6) });
  });

  it('resumes in the middle of an aggregate from a sub-sequence checkpoint', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(1);
    const aggSeq = stub.addAggregate(Array.from({ length: 6 }, (_, i) => ({ partitionKey: `k${i}`, data: `u${i}` })));
    stub.addPlain(1);
    const fetcher = makeFetcher(stub, clock, {}, { checkpoint: extended(aggSeq, 2) });
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length === 4);
    expect(c.records.map((r) => [Buffer.from(r.data).toString(), r.sequenceNumber, r.subSequenceNumber])).toEqual([
      ['u3', aggSeq, 3],
      ['u4', aggSeq, 4],
      ['u5', aggSeq, 5],
      ['r2', seqOf(2), undefined],
    ]);
  });

  it('drops aggregated user records outside the shard hash-key range', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    stub.addAggregate(keys.map((k) => ({ partitionKey: k, data: k })));
    const lower = { startingHashKey: '0', endingHashKey: ((1n << 127n) - 1n).toString() };
    const fetcher = makeFetcher(stub, clock, {}, undefined, { hashKeyRange: lower });
    const c = consumer(fetcher);
    const { hashKeyForPartitionKey } = await import('../src/retrieval/index.js');
    const expected = keys.filter((k) => hashKeyForPartitionKey(k) < 1n << 127n);
    await drive(clock, () => c.records.length === expected.length);
    await clock.advance(2_000);
    expect(dataOf(c.records)).toEqual(expected);
    expect(c.records.map((r) => r.subSequenceNumber)).toEqual(expected.map((k) => keys.indexOf(k)));
  });

  it('uses LATEST and AT_TIMESTAMP iterators for those start positions', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.addPlain(5);
    const latest = makeFetcher(stub, clock, {}, { checkpoint: extended('LATEST') });
    const cl = consumer(latest);
    const ts = new Date(1_700_000_000_000 + 3_000);
    const atTs = makeFetcher(stub, clock, {}, { checkpoint: extended('AT_TIMESTAMP'), initialTimestamp: ts });
    const ct = consumer(atTs);
    await drive(clock, () => ct.records.length === 2 && stub.iteratorRequests.length === 2);
    stub.addPlain(1);
    await drive(clock, () => cl.records.length === 1 && ct.records.length === 3);
    expect(dataOf(cl.records)).toEqual(['r5']);
    expect(dataOf(ct.records)).toEqual(['r3', 'r4', 'r5']);
    expect(stub.iteratorRequests.map((r) => r.ShardIteratorType).sort()).toEqual(['AT_TIMESTAMP', 'LATEST']);
    expect(stub.iteratorRequests.find((r) => r.ShardIteratorType === 'AT_TIMESTAMP')!.Timestamp).toEqual(ts);
  });

  it('validates the start position up front', () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    expect(() => makeFetcher(stub, clock, {}, { checkpoint: extended('AT_TIMESTAMP') })).toThrow(/initialTimestamp/);
    expect(() => makeFetcher(stub, clock, {}, { checkpoint: extended('12x') })).toThrow(TypeError);
  });

  it('stop() is idempotent, stops waiting for a hung in-flight call and rejects a pending next()', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.hang = true; // the call never answers
    const fetcher = makeFetcher(stub, clock);
    const pending = fetcher.next();
    pending.catch(() => undefined);
    await drive(clock, () => stub.getRecordsStarts.length === 1);
    // Calls carry no per-call options (they would defeat the SDK's handler cache): the fetcher
    // stops waiting for the call instead of aborting it.
    expect(stub.lastSignal).toBeUndefined();
    const first = fetcher.stop();
    const second = fetcher.stop();
    await Promise.all([first, second]);
    await expect(pending).rejects.toBeInstanceOf(ShutdownError);
    await expect(fetcher.next()).rejects.toBeInstanceOf(ShutdownError);
    fetcher.start(); // no effect after stop
    await clock.advance(5_000);
    expect(stub.getRecordsStarts.length).toBe(1);
  });

  it('stop() also ends a fetcher that is sleeping or waiting for queue space', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    stub.alwaysBehind = true;
    stub.addPlain(100);
    const fetcher = makeFetcher(stub, clock, { maxRecords: 10, prefetchMaxBatches: 1 });
    fetcher.start();
    await drive(clock, () => stub.getRecordsStarts.length === 1);
    await clock.advance(1_000);
    await fetcher.stop(); // resolves: the loop was waiting for space
    expect(clock.pendingTimers).toBe(0);
  });

  it('an aborted next() loses no batch', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis(clock);
    const fetcher = makeFetcher(stub, clock);
    const controller = new AbortController();
    const aborted = fetcher.next(controller.signal);
    await clock.advance(1_000);
    controller.abort();
    await expect(aborted).rejects.toSatisfy((e: unknown) => isKclError(e, 'ABORTED'));
    stub.addPlain(2);
    const c = consumer(fetcher);
    await drive(clock, () => c.records.length === 2);
    expect(dataOf(c.records)).toEqual(['r0', 'r1']);
  });
});
