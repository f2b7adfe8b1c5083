import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { extended, FakeClock } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { PollingRecordsFetcher, PrefetchBudget, resolveRetrievalConfig } from '../src/retrieval/index.js';
import { PrefetchQueue } from '../src/retrieval/prefetcher.js';
import type { RecordsBatch } from '../src/retrieval/index.js';

const batch = (bytes: number): RecordsBatch => ({ records: [], shardEnded: false, bytes });
const roomy = { maxBatches: 100, maxRecords: 1_000_000, maxBytes: 1 << 30 };

describe('PrefetchBudget shared by the queues of one worker', () => {
  it('stops a shard that holds a batch once the worker-wide budget is spent, but never an empty one', () => {
    const budget = new PrefetchBudget(100);
    const a = new PrefetchQueue(roomy, undefined, budget);
    const b = new PrefetchQueue(roomy, undefined, budget);
    a.put(batch(80));
    expect(a.isFull()).toBe(false);
    a.put(batch(30));
    expect(budget.usedBytes).toBe(110);
    expect(a.isFull()).toBe(true);
    expect(b.isFull()).toBe(false); // an empty queue may always fetch one batch
    b.put(batch(50));
    expect(b.isFull()).toBe(true);
  });

  it('wakes a waiting producer when another shard’s consumer frees room', async () => {
    const budget = new PrefetchBudget(100);
    const a = new PrefetchQueue(roomy, undefined, budget);
    const b = new PrefetchQueue(roomy, undefined, budget);
    a.put(batch(90));
    b.put(batch(20));
    let woke = false;
    const waiting = b.waitForSpace(new AbortController().signal).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    await a.take(); // handed to a's consumer: still counted while it is processed
    await Promise.resolve();
    expect(woke).toBe(false);
    expect(budget.usedBytes).toBe(110);
    const next = new AbortController();
    const asking = a.take(next.signal).catch(() => undefined); // a's consumer is done with it
    await waiting;
    expect(woke).toBe(true);
    expect(budget.usedBytes).toBe(20);
    next.abort();
    await asking;
  });

  it('returns the bytes of dropped batches', () => {
    const budget = new PrefetchBudget(100);
    const a = new PrefetchQueue(roomy, undefined, budget);
    a.put(batch(60));
    a.put(batch(60));
    a.clear();
    expect(budget.usedBytes).toBe(0);
    expect(budget.exhausted()).toBe(false);
  });

  it('rejects a non-positive budget', () => {
    expect(() => new PrefetchBudget(0)).toThrow(TypeError);
  });
});

describe('PrefetchBudget admission of calls in flight', () => {
  it('splits the budget among the sources registered, at the average record size seen', () => {
    const budget = new PrefetchBudget(1_000_000);
    const off = [budget.register(), budget.register(), budget.register(), budget.register()];
    budget.observe(100, 100 * 500); // pulls the average from the initial 1,024 toward 500 bytes
    const average = budget.averageRecordBytes;
    expect(average).toBeLessThan(1024);
    expect(budget.recordLimit(10_000)).toBe(Math.floor(250_000 / average));
    for (const remove of off) remove();
    off[0]!(); // removing twice counts once
    budget.register();
    expect(budget.recordLimit(10_000)).toBe(Math.min(10_000, Math.floor(1_000_000 / average)));
    expect(new PrefetchBudget(Infinity).recordLimit(10_000)).toBe(10_000);
  });

  it('admits a call while its estimate fits, or when nothing is held; a waiting call is admitted when room frees', async () => {
    const budget = new PrefetchBudget(100);
    const first = await budget.acquire(150, new AbortController().signal); // larger than the budget: admitted, nothing held
    expect(budget.usedBytes).toBe(150);
    let second: (() => void) | undefined;
    const waiting = budget.acquire(60, new AbortController().signal).then((release) => (second = release));
    await Promise.resolve();
    expect(second).toBeUndefined();
    first();
    first(); // idempotent
    await waiting;
    expect(budget.usedBytes).toBe(60);
    second!();
    expect(budget.usedBytes).toBe(0);
  });

  it('a shard that holds nothing is admitted even while another shard’s slow batch fills the budget', async () => {
    const budget = new PrefetchBudget(100);
    const a = new PrefetchQueue(roomy, undefined, budget);
    const b = new PrefetchQueue(roomy, undefined, budget);
    a.put(batch(150));
    await a.take(); // a's processor is stuck on it and never asks for the next batch
    expect(budget.usedBytes).toBe(150);
    expect(b.holdsNothing).toBe(true);
    const release = await budget.acquire(60, new AbortController().signal, () => b.holdsNothing);
    expect(budget.usedBytes).toBe(210);
    release();
    expect(a.holdsNothing).toBe(false);
  });

  it('a waiting call rejects with the signal’s reason when aborted, and holds nothing', async () => {
    const budget = new PrefetchBudget(100);
    const held = await budget.acquire(90, new AbortController().signal);
    const controller = new AbortController();
    const waiting = budget.acquire(50, controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    held();
    expect(budget.usedBytes).toBe(0);
  });

  it('48 polling shards catching up hold pages bounded by the budget, not by shards × maxRecords', async () => {
    const RECORD_BYTES = 500;
    const data = new Uint8Array(RECORD_BYTES);
    const budget = new PrefetchBudget(4 * 1024 * 1024);
    let requestedInFlight = 0;
    let maxRequestedInFlight = 0;
    let released = 0;
    const pending: (() => void)[] = [];
    const client = {
      async send(command: { input: { Limit?: number; ShardIterator?: string } }): Promise<unknown> {
        if (command.input.ShardIterator === undefined) return { ShardIterator: 'it:0' };
        const limit = command.input.Limit!;
        const from = Number(command.input.ShardIterator.slice(3));
        requestedInFlight += limit * RECORD_BYTES;
        maxRequestedInFlight = Math.max(maxRequestedInFlight, requestedInFlight);
        // Every response waits until the test lets the calls in flight complete together.
        await new Promise<void>((resolve) => pending.push(resolve));
        requestedInFlight -= limit * RECORD_BYTES;
        const Records = Array.from({ length: limit }, (_, i) => ({
          SequenceNumber: String(1_000_000 + from + i),
          PartitionKey: 'k',
          Data: data,
          ApproximateArrivalTimestamp: new Date(0),
        }));
        return { Records, NextShardIterator: `it:${from + limit}`, MillisBehindLatest: 60_000 };
      },
    };
    const config = resolveRetrievalConfig({});
    const clock = new FakeClock();
    const fetchers = Array.from(
      { length: 48 },
      (_, i) =>
        new PollingRecordsFetcher({
          kinesisClient: client as unknown as KinesisClient,
          stream: { streamName: 'backlog' },
          shardId: `shardId-${String(i).padStart(12, '0')}`,
          start: { checkpoint: extended('TRIM_HORIZON') },
          config,
          clock,
          budget,
        }),
    );
    // Consumers take every batch at once; the calls in flight are released round by round.
    const consumers = fetchers.map(async (f) => {
      for (;;) {
        const batch = await f.next().catch(() => undefined);
        if (batch === undefined) return;
        released += batch.records.length;
      }
    });
    for (let round = 0; round < 60 && released < 48 * 20_000; round++) {
      await clock.advance(200); // the calls of one shard are at least 200 ms apart (5 per second)
      for (const resolve of pending.splice(0)) resolve();
    }
    await Promise.all(fetchers.map((f) => f.stop()));
    await Promise.all(consumers);
    expect(released).toBeGreaterThan(48 * 1_000); // it made progress on the backlog
    // Without the admission, all 48 shards ask for a full page (10,000 × 500 B = 240 MB) at once.
    expect(maxRequestedInFlight).toBeLessThanOrEqual(budget.maxBytes + config.polling.maxRecords * RECORD_BYTES);
    expect(budget.usedBytes).toBe(0);
  });
});
