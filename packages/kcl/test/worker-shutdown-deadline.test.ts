import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { InMemoryLeaseRefresher } from '@kcl-ts/leases';
import { FakeClock } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { Worker } from '../src/index.js';

/** A stream of one idle shard, answered in memory. */
function idleStream(): KinesisClient {
  return {
    send: async (command: unknown) => {
      if (command instanceof ListShardsCommand) {
        return { Shards: [{ ShardId: 'shardId-000000000000', HashKeyRange: { StartingHashKey: '0', EndingHashKey: String(2n ** 128n - 1n) }, SequenceNumberRange: { StartingSequenceNumber: '1' } }] };
      }
      if (command instanceof GetShardIteratorCommand) return { ShardIterator: 'it' };
      if (command instanceof GetRecordsCommand) return { Records: [], NextShardIterator: 'it', MillisBehindLatest: 0 };
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as KinesisClient;
}

/** Waits until `promise` settles, advancing the fake clock by `stepMs` at a time; returns the fake time that passed. */
async function settleWithin(clock: FakeClock, promise: Promise<unknown>, limitMs: number, stepMs = 250): Promise<number> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const start = clock.elapsed();
  while (!settled) {
    if (clock.elapsed() - start > limitMs) throw new Error(`did not settle within ${limitMs} ms of fake time`);
    await clock.advance(stepMs);
  }
  return clock.elapsed() - start;
}

const settings = { leases: { leaseDurationMs: 10_000 }, processing: { shutdownTimeoutMs: 5_000 }, metrics: { publisher: false as const }, initialPosition: 'TRIM_HORIZON' as const };

describe('Worker.shutdown() resolves by its deadline', () => {
  it('while the lease table does not answer the release of a lease (a DynamoDB outage)', async () => {
    const clock = new FakeClock();
    const store = new (class extends InMemoryLeaseRefresher {
      /** The outage: the eviction never answers, whatever signal it is given. */
      override evictLease(): Promise<boolean> {
        return new Promise(() => undefined);
      }
    })();
    const worker = new Worker({ applicationName: 'deadline-app', streamName: 's', workerId: 'w1', kinesisClient: idleStream(), leaseRefresher: store, clock, processorFactory: () => ({ initialize() {}, processRecords() {} }), ...settings });
    await settleWithin(clock, worker.start(), 5_000);
    await settleWithin(clock, new Promise<void>((r) => (worker.heldShards().length > 0 ? r() : worker.once('leaseAcquired', () => r()))), 5_000);
    const took = await settleWithin(clock, worker.shutdown(), 60_000);
    expect(took).toBeLessThanOrEqual(settings.processing.shutdownTimeoutMs + settings.leases.leaseDurationMs + 250);
    expect(worker.state).toBe('STOPPED');
  });

  it('while start() waits for a lease table that stays in CREATING', async () => {
    const clock = new FakeClock();
    const store = new (class extends InMemoryLeaseRefresher {
      /** The table never becomes ACTIVE; the wait ends only when its signal aborts. */
      override createLeaseTableIfNotExists(signal?: AbortSignal): Promise<boolean> {
        return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
    })();
    const worker = new Worker({ applicationName: 'deadline-app', streamName: 's', workerId: 'w1', kinesisClient: idleStream(), leaseRefresher: store, clock, processorFactory: () => ({ initialize() {}, processRecords() {} }), ...settings });
    const started = worker.start();
    await clock.advance(1_000);
    const took = await settleWithin(clock, worker.shutdown(), 60_000);
    expect(took).toBeLessThanOrEqual(settings.processing.shutdownTimeoutMs + settings.leases.leaseDurationMs + 250);
    await expect(started).rejects.toThrow();
    expect(worker.state).toBe('STOPPED');
  });
});
