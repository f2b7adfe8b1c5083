import { resolveProcessingConfig } from '../src/config.js';
import type { Lease, LeaseUpdate } from '@kcl-ts/leases';
import { applyLeaseUpdate } from '@kcl-ts/leases';
import {
  extended,
  LeaseLostError,
  silentLogger,
  type KinesisClientRecord,
  type RecordProcessorCheckpointer,
  type ShardRecordProcessor,
} from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { describe, expect, it } from 'vitest';
import type { RecordSource, RecordsBatch } from '../src/retrieval/index.js';
import { WorkerMetrics } from '../src/worker-metrics.js';
import { ShardConsumer, type ShardConsumerDeps } from '../src/shard-consumer.js';

const SHARD = 'shardId-000000000001';
const baseLease: Lease = { leaseKey: SHARD, leaseOwner: 'me', leaseCounter: 3, checkpoint: extended('TRIM_HORIZON'), ownerSwitchesSinceCheckpoint: 0, parentShardIds: [], childShardIds: [] };
const record = (seq: string): KinesisClientRecord => ({ data: new Uint8Array(), partitionKey: 'k', sequenceNumber: seq, approximateArrivalTimestamp: new Date(0) });
const batch = (...seqs: string[]): RecordsBatch => ({ records: seqs.map(record), shardEnded: false, bytes: 0 });

/** A source that hands out the given batches in order, then waits until stopped. */
function batches(...list: RecordsBatch[]): RecordSource {
  const queue = [...list];
  return {
    stats: { getRecordsCalls: 0, getRecordsTimeMs: 0, getRecordsFailures: 0, throttled: 0, expiredIterators: 0, recordsFetched: 0, bytesFetched: 0 },
    start: () => undefined,
    next: (signal) => {
      const next = queue.shift();
      if (next) return Promise.resolve(next);
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    },
    stop: async () => undefined,
  };
}

interface Harness {
  readonly consumer: ShardConsumer;
  readonly writes: LeaseUpdate[];
  readonly errors: unknown[];
  readonly sources: Lease[];
  readonly clock: FakeClock;
  stored(): Lease;
}

/** Overrides of the consumer's parts: whether the holding is live, and how children are created. */
interface Extra {
  readonly lease?: Lease;
  readonly holds?: () => boolean;
  readonly createChildLeases?: ShardConsumerDeps['shardSync']['syncer']['createChildLeases'];
}

function harness(processor: () => ShardRecordProcessor | undefined, source: RecordSource, extra: Extra = {}): Harness {
  const writes: LeaseUpdate[] = [];
  const errors: unknown[] = [];
  const sources: Lease[] = [];
  const clock = new FakeClock();
  let stored = extra.lease ?? baseLease;
  const consumer = new ShardConsumer({
    lease: stored,
    stream: { streamName: 's', streamIdentifier: 's' },
    processorFactory: processor as () => ShardRecordProcessor,
    processing: resolveProcessingConfig({ retryBaseMs: 10, retryMaxMs: 10 }),
    clock,
    logger: silentLogger(),
    leases: {
      holds: extra.holds ?? (() => true),
      updateLease: async (_key, update) => {
        writes.push(update);
        stored = applyLeaseUpdate(stored, update);
        return stored;
      },
    },
    shardSync: { gate: { waitUntilCanStart: async () => undefined }, syncer: { createChildLeases: extra.createChildLeases ?? (async () => []) } },
    recordSources: (request) => (sources.push({ ...stored, checkpoint: request.start.checkpoint }), source),
    limit: (fn) => fn(),
    metrics: new WorkerMetrics(undefined, 'w', 's'),
    listener: { shardEnded: () => undefined, processorError: (e) => errors.push(e), retrievalError: (e) => errors.push(e) },
  });
  return { consumer, writes, errors, sources, clock, stored: () => stored };
}

/** Resolves once `predicate` holds, advancing the fake clock a little at a time; fails after `steps`. */
async function until(clock: FakeClock, predicate: () => boolean, steps = 200): Promise<void> {
  for (let i = 0; i < steps; i++) {
    if (predicate()) return;
    await clock.advance(5);
  }
  throw new Error('condition not reached');
}

describe('ShardConsumer guarantees', () => {
  it('a no-argument checkpoint in shutdownRequested does not cover a batch whose processRecords threw', async () => {
    const delivered: string[] = [];
    const h = harness(
      () => ({
        initialize() {},
        processRecords({ records }) {
          delivered.push(records.map((r) => r.sequenceNumber).join(','));
          if (records[0]!.sequenceNumber === '200') throw new Error('sink down');
        },
        async shutdownRequested({ checkpointer }) {
          await checkpointer.checkpoint();
        },
      }),
      batches(batch('100', '101'), batch('200', '201')),
    );
    const done = h.consumer.run();
    await until(h.clock, () => h.errors.length > 0); // the second batch failed and waits for its retry
    h.consumer.requestShutdown();
    await h.clock.advance(50);
    expect(await done).toBe('REQUESTED');
    expect(delivered[0]).toBe('100,101');
    expect(delivered[1]).toBe('200,201');
    // The failed batch is not checkpointed: the next owner delivers it again.
    expect(h.writes.map((w) => w.checkpoint?.sequenceNumber)).toEqual(['101']);
  });

  it('a no-argument checkpoint inside processRecords covers the batch being processed', async () => {
    const h = harness(
      () => ({
        initialize() {},
        async processRecords({ checkpointer }) {
          await checkpointer.checkpoint();
        },
      }),
      batches(batch('100', '101')),
    );
    const done = h.consumer.run();
    await until(h.clock, () => h.writes.length > 0);
    h.consumer.requestShutdown();
    await done;
    expect(h.writes.map((w) => w.checkpoint?.sequenceNumber)).toEqual(['101']);
  });

  it('does not deliver a prefetched batch once the holding is past its deadline, and aborts the signal', async () => {
    let live = true;
    const delivered: string[] = [];
    let lost = 0;
    let signal: AbortSignal | undefined;
    const h = harness(
      () => ({
        initialize() {},
        processRecords({ records, signal: s }) {
          signal = s;
          delivered.push(records[0]!.sequenceNumber);
          // A synchronous stall longer than the lease happens here: when it ends, no timer has
          // run yet, so only the clock can tell that the holding is gone.
          live = false;
        },
        leaseLost() {
          lost++;
        },
      }),
      batches(batch('100'), batch('200')),
      { holds: () => live },
    );
    expect(await h.consumer.run()).toBe('LEASE_LOST');
    expect(delivered).toEqual(['100']);
    expect(signal?.aborted).toBe(true);
    expect(lost).toBe(1);
  });

  it('does not create child leases at shard end once the holding is past its deadline (a finished child would restart at TRIM_HORIZON)', async () => {
    let live = true;
    let lost = 0;
    const created: string[] = [];
    const h = harness(
      () => ({
        initialize() {},
        processRecords() {
          // A stall past the lease: meanwhile a peer took the lease over, finished the shard and
          // its children, and lease cleanup deleted the children's leases.
          live = false;
        },
        leaseLost() {
          lost++;
        },
      }),
      batches(batch('100'), { records: [], shardEnded: true, bytes: 0, childShards: [{ shardId: 'shardId-000000000002', parentShards: [SHARD], hashKeyRange: { startingHashKey: '0', endingHashKey: '1' } }] }),
      {
        holds: () => live,
        createChildLeases: async (_lease, children) => {
          created.push(...(children ?? []).map((c) => c.shardId));
          return created;
        },
      },
    );
    expect(await h.consumer.run()).toBe('LEASE_LOST');
    expect(created).toEqual([]);
    expect(lost).toBe(1);
    expect(h.writes.some((w) => w.checkpoint?.sequenceNumber === 'SHARD_END')).toBe(false);
  });

  it("a finished consumer's checkpointer refuses writes (it is bound to its holding)", async () => {
    let saved: RecordProcessorCheckpointer | undefined;
    const h = harness(
      () => ({
        initialize() {},
        processRecords({ checkpointer }) {
          saved = checkpointer;
        },
      }),
      batches(batch('100')),
    );
    const done = h.consumer.run();
    await until(h.clock, () => saved !== undefined);
    h.consumer.requestShutdown(); // e.g. a handoff drain: the consumer ends before the lease leaves
    await done;
    await expect(saved!.checkpoint('100')).rejects.toBeInstanceOf(LeaseLostError);
    expect(h.writes).toEqual([]);
  });

  it('resolves a LATEST start once to AT_TIMESTAMP for later owners, persisted before the first read', async () => {
    const h = harness(() => ({ initialize() {}, processRecords() {} }), batches(), { lease: { ...baseLease, checkpoint: extended('LATEST') } });
    const startedAt = h.clock.now();
    const done = h.consumer.run();
    await until(h.clock, () => h.sources.length > 0);
    // Written for every later owner before the first read; this first owner reads from LATEST.
    expect(h.writes).toEqual([{ checkpoint: extended('AT_TIMESTAMP'), initialTimestamp: startedAt }]);
    expect(h.stored().checkpoint).toEqual(extended('AT_TIMESTAMP'));
    expect(h.sources[0]!.checkpoint).toEqual(extended('LATEST'));
    h.consumer.requestShutdown();
    await done;
  });

  it('a processorFactory that returns undefined fails with an error that says so', async () => {
    const h = harness(() => undefined, batches());
    await h.consumer.run();
    expect(h.consumer.failed).toBe(true);
    expect(String(h.errors[0])).toMatch(/processorFactory returned undefined for shardId-000000000001/);
  });

  it('a processor without processRecords fails with an error that names the method', async () => {
    const h = harness(() => ({ initialize() {} }) as unknown as ShardRecordProcessor, batches());
    await h.consumer.run();
    expect(String(h.errors[0])).toMatch(/has no processRecords\(\) method/);
  });
});
