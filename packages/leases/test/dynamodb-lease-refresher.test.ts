/**
 * DynamoDB-specific integration tests on dynalite: Java KCL items, the stored item format,
 * pagination, and concurrent conditional writes over real HTTP. The shared semantics are
 * in dynamodb-contract.test.ts.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Lease } from '@kcl-ts/leases';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { DynamoDbLeaseRefresher, type LeaseItem } from '../src/dynamodb/index.js';

const stack = testStack();
const client = stack.dynamoDbClient();
afterAll(() => client.destroy());

const REAL_SEQ = '49590338271490256608559692538361571095921575989136588898';

/** An item shaped the way the Java KCL 2.x/3.x writes it, with attributes kcl-ts ignores. */
function javaItem(leaseKey: string, checkpoint: string): LeaseItem {
  return {
    leaseKey: { S: leaseKey },
    leaseOwner: { S: 'ip-10-0-1-17.ec2.internal:5c4fd1d5-0cf4-4d0e-a2d4-2f5e4b7a4c11' },
    leaseCounter: { N: '1093' },
    checkpoint: { S: checkpoint },
    checkpointSubSequenceNumber: { N: '2' },
    ownerSwitchesSinceCheckpoint: { N: '1' },
    parentShardId: { SS: ['shardId-000000000001', 'shardId-000000000002'] },
    startingHashKey: { S: '0' },
    endingHashKey: { S: '170141183460469231731687303715884105727' },
    throughputKBps: { N: '12.75' },
    checkpointOwner: { S: 'ip-10-0-1-17.ec2.internal:5c4fd1d5' },
    leaseState: { S: 'ACTIVE' },
    isMarkedForLeaseSteal: { BOOL: false },
  };
}

describe('DynamoDbLeaseRefresher on dynalite', () => {
  let tableName: string;
  let r: DynamoDbLeaseRefresher;
  beforeAll(async () => {
    tableName = uniqueName('leases');
    r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName });
    await r.createLeaseTableIfNotExists();
  });

  const rawItem = async (leaseKey: string) =>
    (await client.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }))).Item;

  it('reads Java-KCL-written items (TRIM_HORIZON and a real sequence number) through getLease and listLeases', async () => {
    const own = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: uniqueName('java') });
    await own.createLeaseTableIfNotExists();
    const table = own.tableName;
    await client.send(new PutItemCommand({ TableName: table, Item: javaItem('shardId-000000000003', 'TRIM_HORIZON') }));
    await client.send(new PutItemCommand({ TableName: table, Item: javaItem('shardId-000000000004', REAL_SEQ) }));
    const expected = (leaseKey: string, sequenceNumber: string): Lease => ({
      leaseKey,
      leaseOwner: 'ip-10-0-1-17.ec2.internal:5c4fd1d5-0cf4-4d0e-a2d4-2f5e4b7a4c11',
      leaseCounter: 1093,
      checkpoint: { sequenceNumber, subSequenceNumber: 2 },
      ownerSwitchesSinceCheckpoint: 1,
      parentShardIds: ['shardId-000000000001', 'shardId-000000000002'],
      childShardIds: [],
      hashKeyRange: { startingHashKey: '0', endingHashKey: '170141183460469231731687303715884105727' },
      checkpointOwner: 'ip-10-0-1-17.ec2.internal:5c4fd1d5',
    });
    expect(await own.getLease('shardId-000000000003')).toEqual(expected('shardId-000000000003', 'TRIM_HORIZON'));
    expect(await own.getLease('shardId-000000000004')).toEqual(expected('shardId-000000000004', REAL_SEQ));
    const listed = (await own.listLeases()).sort((a, b) => a.leaseKey.localeCompare(b.leaseKey));
    expect(listed).toEqual([expected('shardId-000000000003', 'TRIM_HORIZON'), expected('shardId-000000000004', REAL_SEQ)]);
  });

  it('takes over and checkpoints a Java-KCL item, keeping the attributes it does not know', async () => {
    const leaseKey = 'shardId-java-takeover';
    await client.send(new PutItemCommand({ TableName: tableName, Item: javaItem(leaseKey, REAL_SEQ) }));
    const lease = (await r.getLease(leaseKey))!;
    const taken = (await r.takeLease(lease, 'ts-worker'))!;
    expect(taken).toMatchObject({ leaseOwner: 'ts-worker', leaseCounter: 1094, ownerSwitchesSinceCheckpoint: 2 });
    const next = '49590338271490256608559692538361571095921575989136589999';
    expect(await r.updateLease(taken, 'ts-worker', { checkpoint: { sequenceNumber: next, subSequenceNumber: 0 } })).toBeDefined();
    const item = await rawItem(leaseKey);
    expect(item).toMatchObject({
      leaseOwner: { S: 'ts-worker' },
      leaseCounter: { N: '1095' },
      checkpoint: { S: next },
      checkpointSubSequenceNumber: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      throughputKBps: { N: '12.75' },
      leaseState: { S: 'ACTIVE' },
    });
    expect(item?.checkpointOwner).toBeUndefined(); // cleared by the take, as KCL 3.x clears it
  });

  it('stores the Java KCL attribute names and omits empty sets', async () => {
    const leaseKey = 'shardId-format';
    await r.createLeaseIfNotExists({ leaseKey, checkpoint: { sequenceNumber: 'LATEST', subSequenceNumber: 0 }, parentShardIds: ['shardId-p'] });
    const created = (await r.getLease(leaseKey))!;
    expect(await rawItem(leaseKey)).toEqual({
      leaseKey: { S: leaseKey },
      leaseCounter: { N: '0' },
      checkpoint: { S: 'LATEST' },
      checkpointSubSequenceNumber: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      parentShardId: { SS: ['shardId-p'] },
    });
    const taken = (await r.takeLease(created, 'A'))!;
    const withChildren = (await r.updateLease(taken, 'A', { childShardIds: ['shardId-c1', 'shardId-c2'], pendingCheckpoint: { sequenceNumber: '7', subSequenceNumber: 1 }, pendingCheckpointState: new Uint8Array([42]) }))!;
    expect(await rawItem(leaseKey)).toMatchObject({
      leaseOwner: { S: 'A' },
      childShardIds: { SS: expect.arrayContaining(['shardId-c1', 'shardId-c2']) },
      pendingCheckpoint: { S: '7' },
      pendingCheckpointSubSequenceNumber: { N: '1' },
      pendingCheckpointState: { B: new Uint8Array([42]) },
    });
    await r.updateLease(withChildren, 'A', { childShardIds: [], pendingCheckpoint: null });
    const item = (await rawItem(leaseKey))!;
    expect(Object.keys(item)).not.toContain('childShardIds');
    expect(Object.keys(item)).not.toContain('pendingCheckpoint');
    expect(Object.keys(item)).not.toContain('pendingCheckpointSubSequenceNumber');
    expect(Object.keys(item)).not.toContain('pendingCheckpointState');
  });

  it('lets exactly one of five racing workers take the same lease', async () => {
    const leaseKey = 'shardId-race';
    await r.createLeaseIfNotExists({ leaseKey, checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
    const seen = (await r.getLease(leaseKey))!;
    const workers = ['w1', 'w2', 'w3', 'w4', 'w5'];
    // Each worker has its own refresher (and so its own retry state) on the shared client.
    const results = await Promise.all(
      workers.map((w) => new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName }).takeLease(seen, w)),
    );
    const winners = results.filter((x): x is Lease => x !== undefined);
    expect(winners).toHaveLength(1);
    expect(await r.getLease(leaseKey)).toEqual(winners[0]);
    expect(winners[0]!.leaseCounter).toBe(1);
  });

  it('keeps a zombie out: A paused while B took the lease cannot renew or checkpoint', async () => {
    const leaseKey = 'shardId-zombie';
    await r.createLeaseIfNotExists({ leaseKey, checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
    const a = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName });
    const b = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName });
    const heldByA = (await a.updateLease((await a.takeLease((await a.getLease(leaseKey))!, 'A'))!, 'A', { checkpoint: { sequenceNumber: '100', subSequenceNumber: 0 } }))!;
    // A pauses; B sees the lease not renewed and takes it at the counter it saw.
    const heldByB = (await b.takeLease((await b.getLease(leaseKey))!, 'B'))!;
    expect(heldByB.leaseOwner).toBe('B');
    expect(await a.renewLease(heldByA, 'A')).toBeUndefined();
    expect(await a.updateLease(heldByA, 'A', { checkpoint: { sequenceNumber: '999', subSequenceNumber: 0 } })).toBeUndefined();
    expect((await rawItem(leaseKey))?.checkpoint).toEqual({ S: '100' });
    expect(await b.updateLease(heldByB, 'B', { checkpoint: { sequenceNumber: '150', subSequenceNumber: 0 } })).toMatchObject({ checkpoint: { sequenceNumber: '150' } });
  });

  it('lists every lease across several scan pages', async () => {
    const paged = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: uniqueName('paged'), scanPageSize: 2 });
    await paged.createLeaseTableIfNotExists();
    const keys = Array.from({ length: 7 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
    for (const leaseKey of keys) await paged.createLeaseIfNotExists({ leaseKey, checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
    const sends: string[] = [];
    const counting = new DynamoDbLeaseRefresher({
      dynamoDbClient: new Proxy(client, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return (command: { constructor: { name: string } }, options?: unknown) => {
            sends.push(command.constructor.name);
            return (target.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
          };
        },
      }),
      tableName: paged.tableName,
      scanPageSize: 2,
    });
    const listed = await counting.listLeases();
    expect(listed.map((l) => l.leaseKey).sort()).toEqual(keys);
    expect(sends.filter((s) => s === 'ScanCommand').length).toBeGreaterThanOrEqual(4);
  });
});
