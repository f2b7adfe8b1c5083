/**
 * Two Workers in the `single-scanner` coordination mode on the emulators (Kinesis Mock +
 * dynalite): the table gets the owner index, one worker holds the scanner role (and says so),
 * the shards are shared, every record is processed, and when the role holder shuts down the
 * other takes the role and every shard.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import type { Worker } from '../src/index.js';
import { Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

describe('Worker — single-scanner coordination', () => {
  const { kinesis, dynamoDb, workers } = workerTestContext();

  it('one scanner, shards shared, every record processed; the role moves on a graceful shutdown', async () => {
    const stream = uniqueName('scanner');
    const app = uniqueName('scanner-app');
    await createStream(kinesis, stream, 4);
    await putKeyed(kinesis, stream, 200, 20);
    const journal = new Journal();
    const roles: Array<{ workerId: string; holder: string | undefined }> = [];
    const make = (workerId: string): Worker => {
      const worker = makeWorker(app, stream, journal, { workerId, leases: { coordination: 'single-scanner' } });
      worker.on('roleChanged', ({ workerId: w, holder }) => roles.push({ workerId: w, holder }));
      workers.push(worker);
      return worker;
    };
    const a = make('w-a');
    await a.start();
    const b = make('w-b');
    await b.start();
    await waitFor(() => journal.distinct().size === 200, { timeoutMs: 40_000, message: 'all 200 records processed' });
    await waitFor(() => a.heldShards().length === 2 && b.heldShards().length === 2, { timeoutMs: 20_000, message: 'two shards each' });
    expect(journal.orderViolations()).toEqual([]);

    const { Table } = await dynamoDb.send(new DescribeTableCommand({ TableName: app }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['LeaseOwnerToLeaseKeyIndex']);
    expect(a.coordinatorRole()).toEqual({ role: 'scanner', holder: 'w-a', heldByMe: true });
    expect(b.coordinatorRole()).toEqual({ role: 'scanner', holder: 'w-a', heldByMe: false });
    expect(roles).toContainEqual({ workerId: 'w-b', holder: 'w-a' });

    await a.shutdown();
    await waitFor(() => b.coordinatorRole()?.heldByMe === true && b.heldShards().length === 4, { timeoutMs: 20_000, message: 'b holds the role and every shard' });
    await putKeyed(kinesis, stream, 40, 20, 200);
    await waitFor(() => journal.distinct().size === 240, { timeoutMs: 30_000, message: 'the later records processed by b' });
    expect(journal.orderViolations()).toEqual([]);
  });
});
