import { resolveProcessingConfig } from '../src/config.js';
import type { Lease, LeaseUpdate } from '@kcl-ts/leases';
import { extended, LeaseLostError, silentLogger, type KinesisClientRecord } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../src/worker-metrics.js';
import { ShardConsumer } from '../src/shard-consumer.js';
import type { RecordSource, RecordsBatch } from '../src/retrieval/index.js';

const SHARD = 'shardId-000000000001';
const lease: Lease = { leaseKey: SHARD, leaseOwner: 'me', leaseCounter: 3, checkpoint: extended('TRIM_HORIZON'), ownerSwitchesSinceCheckpoint: 0, parentShardIds: [], childShardIds: [] };
const record = (seq: string): KinesisClientRecord => ({ data: new Uint8Array(), partitionKey: 'k', sequenceNumber: seq, approximateArrivalTimestamp: new Date(0) });

/** A source that hands out one batch, then waits until stopped. */
function oneBatch(batch: RecordsBatch): RecordSource {
  let given = false;
  return {
    stats: { getRecordsCalls: 0, getRecordsTimeMs: 0, getRecordsFailures: 0, throttled: 0, expiredIterators: 0, recordsFetched: 0, bytesFetched: 0 },
    start: () => undefined,
    next: (signal) => {
      if (!given) {
        given = true;
        return Promise.resolve(batch);
      }
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    },
    stop: async () => undefined,
  };
}

describe('ShardConsumer', () => {
  it('refuses checkpoints of a processor whose lease was lost, even if the worker holds the shard again', async () => {
    const writes: LeaseUpdate[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inBatch!: () => void;
    const started = new Promise<void>((r) => (inBatch = r));
    let checkpointError: unknown;
    const consumer = new ShardConsumer({
      lease,
      processorFactory: () => ({ initialize() {}, async processRecords({ checkpointer }) {
        inBatch();
        await gate; // a slow batch, still running when the lease is lost
        await checkpointer.checkpoint().catch((e: unknown) => (checkpointError = e));
      } }),
      processing: resolveProcessingConfig({ retryBaseMs: 10, retryMaxMs: 10 }),
      clock: new FakeClock(),
      logger: silentLogger(),
      stream: { streamName: 's', streamIdentifier: 's' },
      // The coordinator would accept this write: the worker holds the shard again by now.
      leases: { holds: () => true, updateLease: async (_key, update) => (writes.push(update), lease) },
      shardSync: { gate: { waitUntilCanStart: async () => undefined }, syncer: { createChildLeases: async () => [] } },
      recordSources: () => oneBatch({ records: [record('100')], shardEnded: false, bytes: 0 }),
      limit: (fn) => fn(),
      metrics: new WorkerMetrics(undefined, 'w', 's'),
      listener: { shardEnded: () => undefined, processorError: () => undefined, retrievalError: () => undefined },
    });
    const done = consumer.run();
    await started;
    consumer.leaseLost();
    release();
    expect(await done).toBe('LEASE_LOST');
    expect(checkpointError).toBeInstanceOf(LeaseLostError);
    expect(writes).toEqual([]);
  });
});
