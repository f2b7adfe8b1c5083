import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

describe('Worker — single worker', () => {
  const { kinesis, workers } = workerTestContext();

  it('processes every record of a 2-shard stream in per-key order, and shuts down releasing its leases', async () => {
    const stream = uniqueName('basic');
    await createStream(kinesis, stream, 2);
    await putKeyed(kinesis, stream, 300, 20);
    const journal = new Journal();
    const worker = makeWorker(uniqueName('app'), stream, journal, { workerId: 'w1' });
    workers.push(worker);
    const acquired: string[] = [];
    worker.on('leaseAcquired', ({ shardId }) => acquired.push(shardId));
    await worker.start();
    await waitFor(() => journal.distinct().size === 300, { timeoutMs: 30_000, message: 'all 300 records processed' });
    expect(journal.orderViolations()).toEqual([]);
    expect(journal.duplicates()).toBe(0);
    expect(acquired.sort()).toEqual(worker.heldShards());
    expect(acquired).toHaveLength(2);
    await worker.shutdown();
    expect(worker.state).toBe('STOPPED');
    expect(journal.events.filter((e) => e.startsWith('shutdown w1'))).toHaveLength(2);
    await worker.shutdown(); // idempotent
  });

  it('callProcessRecordsEvenForEmptyList delivers empty batches of an idle shard', async () => {
    const stream = uniqueName('empty');
    await createStream(kinesis, stream, 1);
    const sizes: number[] = [];
    const journal = new Journal();
    const worker = makeWorker(uniqueName('app'), stream, journal, {
      workerId: 'idle',
      processing: { callProcessRecordsEvenForEmptyList: true },
      processorFactory: () => ({ initialize() {}, processRecords: ({ records }) => void sizes.push(records.length) }),
    });
    workers.push(worker);
    await worker.start();
    await waitFor(() => sizes.length >= 2, { timeoutMs: 20_000, message: 'empty batches delivered' });
    expect(sizes.every((n) => n === 0)).toBe(true);
  });
});
