import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

describe('Worker — a fleet of three', () => {
  const { kinesis, workers } = workerTestContext();

  it('spreads 4 shards over 3 workers and processes 5,000 records under 200 keys in per-key order', async () => {
    const stream = uniqueName('fleet');
    const app = uniqueName('fleet-app');
    await createStream(kinesis, stream, 4);
    const journal = new Journal();
    for (const id of ['w1', 'w2', 'w3']) workers.push(makeWorker(app, stream, journal, { workerId: id }));
    await Promise.all(workers.map((w) => w.start()));
    await putKeyed(kinesis, stream, 5_000, 200);
    await waitFor(() => journal.distinct().size === 5_000, { timeoutMs: 60_000, message: 'all 5,000 records processed' });
    expect(journal.orderViolations()).toEqual([]);
    await waitFor(
      () => {
        const counts = workers.map((w) => w.heldShards().length).sort();
        return counts.join('/') === '1/1/2';
      },
      { timeoutMs: 30_000, message: 'leases spread 2/1/1' },
    );
    const owners = new Set(workers.flatMap((w) => w.heldShards()));
    expect(owners.size).toBe(4); // every shard held by exactly one worker
  });

  it('a graceful shutdown hands the shards over: nothing lost, nothing processed twice', async () => {
    const stream = uniqueName('handoff');
    const app = uniqueName('handoff-app');
    await createStream(kinesis, stream, 4);
    const journal = new Journal();
    const fleet = ['a', 'b', 'c'].map((id) => makeWorker(app, stream, journal, { workerId: id }));
    workers.push(...fleet);
    await Promise.all(fleet.map((w) => w.start()));
    await waitFor(() => fleet.every((w) => w.heldShards().length > 0), { timeoutMs: 30_000, message: 'every worker holds a lease' });
    await putKeyed(kinesis, stream, 1_000, 50);
    await waitFor(() => journal.distinct().size >= 400, { timeoutMs: 30_000, message: 'consumption under way' });
    const leaving = fleet[0]!;
    const itsShards = leaving.heldShards();
    const shutdown = leaving.shutdown();
    await putKeyed(kinesis, stream, 1_000, 50, 1_000);
    await shutdown;
    expect(leaving.heldShards()).toEqual([]);
    await waitFor(() => journal.distinct().size === 2_000, { timeoutMs: 60_000, message: 'all 2,000 records processed' });
    await waitFor(() => itsShards.every((s) => fleet.slice(1).some((w) => w.heldShards().includes(s))), { timeoutMs: 30_000, message: 'peers took the shards over' });
    expect(journal.duplicates()).toBe(0);
    expect(journal.orderViolations()).toEqual([]);
  });
});
