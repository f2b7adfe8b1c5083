/**
 * FanOutRecordsFetcher against a stub SubscribeToShard client on a FakeClock: ResourceInUse
 * retries, LimitExceeded backoff, the 1/s subscribe spacing, resubscription from the
 * continuation, shard end, backpressure and cancellation — no real time, no emulator.
 */
import {
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
  type StartingPosition,
  type SubscribeToShardCommand,
  type SubscribeToShardCommandOutput,
  type SubscribeToShardEvent,
  type SubscribeToShardEventStream,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidStateError, ResourceNotFoundError } from '@kcl-ts/processor';
import { FakeClock, flushMicrotasks } from '@kcl-ts/processor/testing';
import { FanOutRecordsFetcher, MAX_EVENT_SILENCE_MS, MIN_SUBSCRIBE_SPACING_MS, resolveRetrievalConfig, type FanOutRecordsFetcherDeps, type RecordsBatch } from '../src/retrieval/index.js';

const BASE_SEQ = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000n;
const seqOf = (i: number): string => (BASE_SEQ + BigInt(i) * 100n).toString();
const record = (i: number): _Record => ({ SequenceNumber: seqOf(i), PartitionKey: `k${i % 3}`, Data: Buffer.from(`r${i}`), ApproximateArrivalTimestamp: new Date(0) });
const CONSUMER = 'arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1';

/** One event stream the test drives: push events, end it, or fail it. */
class EventStream implements AsyncIterable<SubscribeToShardEventStream> {
  private readonly items: ({ event: SubscribeToShardEventStream } | { end: true } | { error: Error })[] = [];
  private wake: (() => void) | undefined;
  /** Events pulled by the fetcher so far. */
  pulled = 0;
  returned = false;

  push(event: SubscribeToShardEvent): void {
    this.items.push({ event: { SubscribeToShardEvent: event } });
    this.wake?.();
  }

  end(): void {
    this.items.push({ end: true });
    this.wake?.();
  }

  fail(error: Error): void {
    this.items.push({ error });
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<SubscribeToShardEventStream> {
    try {
      for (;;) {
        const item = this.items.shift();
        if (item === undefined) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          continue;
        }
        if ('end' in item) return;
        if ('error' in item) throw item.error;
        this.pulled++;
        yield item.event;
      }
    } finally {
      this.returned = true;
    }
  }
}

/** A SubscribeToShard stub: each call takes the next planned answer (an error to throw, or a new stream). */
class StubClient {
  readonly calls: { position: StartingPosition; signal: AbortSignal | undefined; at: number }[] = [];
  readonly streams: EventStream[] = [];
  /** Errors to throw, one per call, before streams are handed out. */
  failures: Error[] = [];

  constructor(private readonly clock: FakeClock) {}

  async send(command: SubscribeToShardCommand, options?: { abortSignal?: AbortSignal }): Promise<SubscribeToShardCommandOutput> {
    this.calls.push({ position: command.input.StartingPosition!, signal: options?.abortSignal, at: this.clock.elapsed() });
    const failure = this.failures.shift();
    if (failure) throw failure;
    const stream = new EventStream();
    this.streams.push(stream);
    return { EventStream: stream, $metadata: {} };
  }

  get last(): EventStream {
    return this.streams.at(-1)!;
  }
}

const inUse = (): Error => new ResourceInUseException({ message: 'Another active subscription exists', $metadata: {} });
const limit = (): Error => new LimitExceededException({ message: 'Rate exceeded', $metadata: {} });

let fetcher: FanOutRecordsFetcher | undefined;
afterEach(async () => {
  await fetcher?.stop();
  fetcher = undefined;
});

function make(clock: FakeClock, client: StubClient, extra: Partial<FanOutRecordsFetcherDeps> = {}): FanOutRecordsFetcher {
  fetcher = new FanOutRecordsFetcher({
    kinesisClient: client,
    consumerArn: CONSUMER,
    shardId: 'shardId-000000000000',
    start: { checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } },
    config: resolveRetrievalConfig({ retryBaseDelayMs: 100, retryMaxDelayMs: 1_000 }),
    clock,
    random: () => 0.5,
    ...extra,
  });
  return fetcher;
}

const texts = (batch: RecordsBatch): string[] => batch.records.map((r) => Buffer.from(r.data).toString());

describe('FanOutRecordsFetcher (stub client, fake clock)', () => {
  it('retries ResourceInUseException (a previous subscription still open) until it subscribes', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    client.failures = [inUse(), inUse()];
    const inUseSeen: number[] = [];
    const f = make(clock, client, { listener: { resourceInUse: () => inUseSeen.push(clock.elapsed()) } });
    f.start();
    await clock.advance(0);
    expect(client.calls).toHaveLength(1);
    await clock.advance(5_000);
    expect(client.calls).toHaveLength(3);
    expect(f.stats.resourceInUse).toBe(2);
    expect(inUseSeen).toHaveLength(2);
    client.last.push({ Records: [record(1)], ContinuationSequenceNumber: seqOf(1), MillisBehindLatest: 7 });
    const batch = await f.next();
    expect(texts(batch)).toEqual(['r1']);
    expect(f.stats.lastMillisBehindLatest).toBe(7);
  });

  it('backs off after LimitExceededException and never subscribes twice within a second', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    client.failures = [limit(), limit(), limit()];
    let limited = 0;
    const f = make(clock, client, { listener: { limitExceeded: () => limited++ } });
    f.start();
    await clock.advance(10_000);
    expect(client.calls).toHaveLength(4);
    expect(limited).toBe(3);
    expect(f.stats.throttled).toBe(3);
    const gaps = client.calls.slice(1).map((c, i) => c.at - client.calls[i]!.at);
    expect(gaps.every((g) => g >= MIN_SUBSCRIBE_SPACING_MS)).toBe(true);
  });

  it('resubscribes after the continuation when the event stream ends: no gap, no duplicate, one subscribe per second', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const reasons: string[] = [];
    const f = make(clock, client, { listener: { subscribed: (r) => reasons.push(r) } });
    f.start();
    await clock.advance(0);
    client.last.push({ Records: [record(1), record(2)], ContinuationSequenceNumber: seqOf(2), MillisBehindLatest: 0 });
    client.last.end();
    expect(texts(await f.next())).toEqual(['r1', 'r2']);
    await clock.advance(MIN_SUBSCRIBE_SPACING_MS - 1);
    expect(client.calls).toHaveLength(1); // spacing: not yet
    await clock.advance(1);
    expect(client.calls).toHaveLength(2);
    expect(client.calls[1]!.position).toEqual({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seqOf(2) });
    // An empty event moves the continuation on too.
    client.last.push({ Records: [], ContinuationSequenceNumber: seqOf(2), MillisBehindLatest: 0 });
    client.last.push({ Records: [record(3)], ContinuationSequenceNumber: seqOf(3), MillisBehindLatest: 0 });
    client.last.end();
    expect(texts(await f.next())).toEqual(['r3']);
    await clock.advance(MIN_SUBSCRIBE_SPACING_MS);
    expect(client.calls[2]!.position).toEqual({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seqOf(3) });
    expect(reasons).toEqual(['initial', 'stream-ended', 'stream-ended']);
  });

  it('resubscribes after a failed event stream from the last event received', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const reasons: string[] = [];
    const f = make(clock, client, { listener: { subscribed: (r) => reasons.push(r) } });
    f.start();
    await clock.advance(0);
    client.last.push({ Records: [record(1)], ContinuationSequenceNumber: seqOf(1), MillisBehindLatest: 0 });
    client.last.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(texts(await f.next())).toEqual(['r1']);
    await clock.advance(5_000);
    expect(client.calls).toHaveLength(2);
    expect(client.calls[1]!.position).toEqual({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seqOf(1) });
    expect(reasons).toEqual(['initial', 'stream-failed']);
  });

  it('starts AT_SEQUENCE_NUMBER at a checkpoint and drops what the checkpoint covers', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const f = make(clock, client, { start: { checkpoint: { sequenceNumber: seqOf(2), subSequenceNumber: 0 } } });
    f.start();
    await clock.advance(0);
    expect(client.calls[0]!.position).toEqual({ Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: seqOf(2) });
    client.last.push({ Records: [record(2), record(3)], ContinuationSequenceNumber: seqOf(3), MillisBehindLatest: 0 });
    expect(texts(await f.next())).toEqual(['r3']);
  });

  it('starts AT_TIMESTAMP at a resolved LATEST', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const at = new Date(clock.now());
    const f = make(clock, client, { start: { checkpoint: { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0 }, initialTimestamp: at } });
    f.start();
    await clock.advance(0);
    expect(client.calls[0]!.position).toEqual({ Type: 'AT_TIMESTAMP', Timestamp: at });
  });

  it('ends the shard on the event without a continuation, with its ChildShards', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const f = make(clock, client);
    f.start();
    await clock.advance(0);
    const child = { ShardId: 'shardId-000000000001', ParentShards: ['shardId-000000000000'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: '10' } };
    client.last.push({ Records: [record(1)], ContinuationSequenceNumber: undefined, MillisBehindLatest: 0, ChildShards: [child] });
    const batch = await f.next();
    expect(batch.shardEnded).toBe(true);
    expect(texts(batch)).toEqual(['r1']);
    expect(batch.childShards).toEqual([{ shardId: child.ShardId, parentShards: child.ParentShards, hashKeyRange: { startingHashKey: '0', endingHashKey: '10' } }]);
    await expect(f.next()).rejects.toBeInstanceOf(InvalidStateError);
    await flushMicrotasks();
    expect(client.calls[0]!.signal?.aborted).toBe(true); // the finished stream's request is closed
  });

  it('does not pull the event stream while the prefetch queue is full (backpressure)', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const f = make(clock, client, { config: resolveRetrievalConfig({ prefetchMaxBatches: 1 }) });
    f.start();
    await clock.advance(0);
    for (let i = 1; i <= 4; i++) client.last.push({ Records: [record(i)], ContinuationSequenceNumber: seqOf(i), MillisBehindLatest: 0 });
    await clock.advance(0);
    expect(client.last.pulled).toBe(1);
    expect(texts(await f.next())).toEqual(['r1']);
    await clock.advance(0);
    expect(client.last.pulled).toBe(2);
    expect(texts(await f.next())).toEqual(['r2']);
    expect(texts(await f.next())).toEqual(['r3']);
    expect(texts(await f.next())).toEqual(['r4']);
  });

  it('stop() aborts the subscription request at once', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const f = make(clock, client);
    f.start();
    await clock.advance(0);
    const signal = client.calls[0]!.signal!;
    expect(signal.aborted).toBe(false);
    await f.stop();
    expect(signal.aborted).toBe(true);
  });

  it('a reader that stops waiting closes the event stream; the next read resubscribes from the continuation', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const reasons: string[] = [];
    const f = make(clock, client, { listener: { subscribed: (r) => reasons.push(r) } });
    f.start();
    await clock.advance(0);
    client.last.push({ Records: [record(1)], ContinuationSequenceNumber: seqOf(1), MillisBehindLatest: 0 });
    expect(texts(await f.next())).toEqual(['r1']);
    const reader = new AbortController();
    const waiting = f.next(reader.signal);
    reader.abort();
    await expect(waiting).rejects.toThrow();
    await clock.advance(0);
    expect(client.calls[0]!.signal!.aborted).toBe(true); // closed at once: no zombie stream
    await clock.advance(10_000);
    expect(client.calls).toHaveLength(1); // nobody reads: no new subscription
    const next = f.next();
    await clock.advance(MIN_SUBSCRIBE_SPACING_MS);
    expect(client.calls).toHaveLength(2);
    expect(client.calls[1]!.position).toEqual({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seqOf(1) });
    client.last.push({ Records: [record(2)], ContinuationSequenceNumber: seqOf(2), MillisBehindLatest: 0 });
    expect(texts(await next)).toEqual(['r2']);
    expect(reasons).toEqual(['initial', 'resumed']);
  });

  it('reports a missing shard or consumer as ResourceNotFoundError', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    client.failures = [new ResourceNotFoundException({ message: 'consumer not found', $metadata: {} })];
    const f = make(clock, client);
    await expect(f.next()).rejects.toBeInstanceOf(ResourceNotFoundError);
  });

  it('yields one shard-end batch for a SHARD_END checkpoint without subscribing', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const f = make(clock, client, { start: { checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 } } });
    const batch = await f.next();
    expect(batch.shardEnded).toBe(true);
    expect(client.calls).toHaveLength(0);
  });
});

describe('FanOutRecordsFetcher: a silent event stream', () => {
  it('closes a stream that sends nothing for MAX_EVENT_SILENCE_MS and subscribes again after the last event, losing nothing', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const reasons: string[] = [];
    const f = make(clock, client, { listener: { subscribed: (reason) => reasons.push(reason) } });
    f.start();
    await clock.advance(0);
    client.last.push({ Records: [record(1)], ContinuationSequenceNumber: seqOf(1), MillisBehindLatest: 0 });
    expect(texts(await f.next())).toEqual(['r1']);
    // Just short of the limit the stream is still trusted.
    await clock.advance(MAX_EVENT_SILENCE_MS - 1);
    expect(client.calls).toHaveLength(1);
    await clock.advance(1);
    await clock.advance(MIN_SUBSCRIBE_SPACING_MS);
    expect(client.calls).toHaveLength(2);
    // The silent stream's request was aborted: that is what closes an HTTP/2 event stream.
    expect(client.calls[0]!.signal?.aborted).toBe(true);
    expect(client.calls[1]!.position).toEqual({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seqOf(1) });
    expect(reasons).toEqual(['initial', 'stream-silent']);
    client.last.push({ Records: [record(2)], ContinuationSequenceNumber: seqOf(2), MillisBehindLatest: 0 });
    expect(texts(await f.next())).toEqual(['r2']);
  });

  it('does not count the time spent waiting for queue space as silence', async () => {
    const clock = new FakeClock();
    const client = new StubClient(clock);
    const f = make(clock, client, { config: resolveRetrievalConfig({ retryBaseDelayMs: 100, retryMaxDelayMs: 1_000, prefetchMaxBatches: 1 }) });
    f.start();
    await clock.advance(0);
    client.last.push({ Records: [record(1)], ContinuationSequenceNumber: seqOf(1), MillisBehindLatest: 0 });
    client.last.push({ Records: [record(2)], ContinuationSequenceNumber: seqOf(2), MillisBehindLatest: 0 });
    await clock.advance(0);
    // The queue is full (one batch) and nobody takes it for longer than the silence limit.
    await clock.advance(MAX_EVENT_SILENCE_MS * 2);
    expect(client.calls).toHaveLength(1);
    expect(texts(await f.next())).toEqual(['r1']);
    expect(texts(await f.next())).toEqual(['r2']);
  });
});
