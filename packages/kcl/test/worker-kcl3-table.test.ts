/**
 * A Worker started on a Java KCL 3.5 single-table lease table (dynalite + Kinesis): the
 * `Migration3.0` and `WORKER_METRIC_STATS` items are skipped by the taker, shard sync,
 * cleanup and `kcl status`; the dead Java worker's leases are taken once expired, with
 * `checkpointOwner` cleared; every record is processed.
 */
import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLeaseRefresher, type LeaseItem } from '@kcl-ts/leases';
import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { DEAD_JAVA_WORKER, java3LeaseItem, migrationItem, workerMetricStatsItem } from '../../leases/test/kcl3-fixtures.js';
import { collectStatus } from '../../cli/src/status.js';
import { Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

describe('Worker on a KCL 3.5 single-table lease table', () => {
  const { kinesis, dynamoDb, workers } = workerTestContext();

  it('starts, takes over from the dead Java worker, clears checkpointOwner, and leaves the non-lease items alone', async () => {
    const stream = uniqueName('kcl3');
    const app = uniqueName('kcl3-app');
    await createStream(kinesis, stream, 2);
    await putKeyed(kinesis, stream, 100, 10);
    const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: app });
    await refresher.createLeaseTableIfNotExists();
    const put = (Item: LeaseItem) => dynamoDb.send(new PutItemCommand({ TableName: app, Item }));
    const nonLease = [migrationItem(), workerMetricStatsItem(DEAD_JAVA_WORKER), workerMetricStatsItem('ip-10-0-3-42.ec2.internal:1')];
    for (const item of nonLease) await put(item);
    await put(java3LeaseItem('shardId-000000000000', DEAD_JAVA_WORKER, { entityType: true }));
    await put(java3LeaseItem('shardId-000000000001', 'ip-10-0-3-42.ec2.internal:1'));

    const journal = new Journal();
    const worker = makeWorker(app, stream, journal, { workerId: 'ts-1' });
    workers.push(worker);
    await worker.start();
    await waitFor(() => journal.distinct().size === 100, { timeoutMs: 40_000, message: 'all 100 records processed' });
    expect(journal.duplicates()).toBe(0);
    expect(worker.heldShards().sort()).toEqual(['shardId-000000000000', 'shardId-000000000001']);

    for (const leaseKey of ['shardId-000000000000', 'shardId-000000000001']) {
      const item = (await dynamoDb.send(new GetItemCommand({ TableName: app, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }))).Item;
      expect(item?.leaseOwner, leaseKey).toEqual({ S: 'ts-1' });
      expect(item?.checkpointOwner, leaseKey).toBeUndefined();
    }
    // Shard sync and cleanup ran over the table (sync interval 2 s) and left the non-lease items as they were.
    const all = (await dynamoDb.send(new ScanCommand({ TableName: app, ConsistentRead: true }))).Items ?? [];
    for (const item of nonLease) expect(all).toContainEqual(item);
    expect(all).toHaveLength(nonLease.length + 2);

    const status = await collectStatus({ refresher, table: app });
    expect(status.leases.map((l) => l.shardId).sort()).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(status.invalid).toEqual([]);
    expect(status.workers).toEqual([{ workerId: 'ts-1', leases: 2 }]);
    expect(status.scannerRole).toBeNull(); // the default mode keeps no role item
  });
});
