/**
 * Integration (dynalite): KCL 3.x's `checkpointOwner` is cleared on take, transfer and
 * evict, as KCL 3.x clears it, so a dead Java worker's name does not stay on a lease; and a
 * coordinator works on a KCL 3.5 single-table table (non-lease items skipped, never taken).
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FakeClock } from '@kcl-ts/processor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { LeaseCoordinator, resolveLeaseCoordinatorConfig } from '../src/coordinator/index.js';
import { DynamoDbLeaseRefresher, type LeaseItem } from '../src/dynamodb/index.js';
import { DEAD_JAVA_WORKER, java3LeaseItem, migrationItem, workerMetricStatsItem } from './kcl3-fixtures.js';

const stack = testStack();
const client = stack.dynamoDbClient();
afterAll(() => client.destroy());

describe('checkpointOwner (KCL 3.x) on dynalite', () => {
  const tableName = uniqueName('kcl3');
  let r: DynamoDbLeaseRefresher;
  const put = (Item: LeaseItem) => client.send(new PutItemCommand({ TableName: tableName, Item }));
  const raw = async (leaseKey: string) =>
    (await client.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName });
    await r.createLeaseTableIfNotExists();
  });

  it('reads checkpointOwner into the lease', async () => {
    await put(java3LeaseItem('shardId-000000000100', 'java-next'));
    expect(await r.getLease('shardId-000000000100')).toMatchObject({ leaseOwner: 'java-next', checkpointOwner: DEAD_JAVA_WORKER, leaseCounter: 4211 });
  });

  it('a take clears it', async () => {
    await put(java3LeaseItem('shardId-000000000101', 'java-next'));
    const taken = await r.takeLease((await r.getLease('shardId-000000000101'))!, 'ts-worker');
    expect(taken).toMatchObject({ leaseOwner: 'ts-worker', leaseCounter: 4212 });
    expect(taken?.checkpointOwner).toBeUndefined();
    const item = await raw('shardId-000000000101');
    expect(item?.leaseOwner).toEqual({ S: 'ts-worker' });
    expect(item?.checkpointOwner).toBeUndefined();
    expect(item?.throughputKBps).toEqual({ N: '3.5' }); // attributes of the Java KCL are kept
  });

  it('an eviction clears it', async () => {
    await put(java3LeaseItem('shardId-000000000102', 'ts-worker'));
    expect(await r.evictLease((await r.getLease('shardId-000000000102'))!, 'ts-worker')).toBe(true);
    const item = await raw('shardId-000000000102');
    expect(item?.leaseOwner).toBeUndefined();
    expect(item?.checkpointOwner).toBeUndefined();
    expect(item?.leaseCounter).toEqual({ N: '4212' });
  });

  it('a transfer clears it', async () => {
    await put(java3LeaseItem('shardId-000000000103', 'ts-worker'));
    const moved = await r.transferLease((await r.getLease('shardId-000000000103'))!, 'ts-worker', 'ts-other');
    expect(moved).toMatchObject({ leaseOwner: 'ts-other' });
    expect((await raw('shardId-000000000103'))?.checkpointOwner).toBeUndefined();
  });
});

describe('a LeaseCoordinator on a KCL 3.5 single-table lease table (dynalite)', () => {
  it('starts, takes the dead Java worker\'s leases once expired, clears checkpointOwner, and leaves the non-lease items alone', async () => {
    const tableName = uniqueName('kcl3-single');
    const r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, scanPageSize: 2 });
    await r.createLeaseTableIfNotExists();
    const put = (Item: LeaseItem) => client.send(new PutItemCommand({ TableName: tableName, Item }));
    const keys = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];
    await put(migrationItem());
    await put(workerMetricStatsItem(DEAD_JAVA_WORKER));
    await put(workerMetricStatsItem('ip-10-0-3-42.ec2.internal:1'));
    await put(java3LeaseItem(keys[0]!, 'ip-10-0-3-42.ec2.internal:1', { entityType: true }));
    await put(java3LeaseItem(keys[1]!, DEAD_JAVA_WORKER));
    await put(java3LeaseItem(keys[2]!, 'ip-10-0-3-42.ec2.internal:1', { counter: 7 }));

    const clock = new FakeClock(0);
    const c = new LeaseCoordinator({ refresher: r, workerId: 'ts-worker', clock, config: resolveLeaseCoordinatorConfig({ leaseDurationMs: 1_000 }) });
    const first = await c.runTakerOnce(); // what Worker.start() runs first
    expect(first.leasesSeen).toBe(3);
    expect(first.taken).toEqual([]); // a lease seen for the first time counts as just renewed
    await clock.advance(1_000);
    const second = await c.runTakerOnce();
    expect([...second.taken].sort()).toEqual(keys);
    for (const key of keys) {
      const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: key } }, ConsistentRead: true }))).Item;
      expect(item?.leaseOwner, key).toEqual({ S: 'ts-worker' });
      expect(item?.checkpointOwner, key).toBeUndefined();
    }
    const migration = (await client.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: 'Migration3.0' } }, ConsistentRead: true }))).Item;
    expect(migration).toEqual(migrationItem());
    expect(c.latestLeases().map((l) => l.leaseKey).sort()).toEqual(keys);
    await c.stop();
  });
});
