/**
 * The lease table's calls sent directly (`withDirectCalls`, as the Worker's own DynamoDB
 * client does) against dynalite over HTTP: conditional writes, fencing, paged scans, the owner
 * index and binary attributes behave as through the SDK.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLeaseRefresher, type Lease } from '@kcl-ts/leases';
import { afterAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { withDirectCalls } from '../src/direct-calls.js';
import { withLeanMiddleware } from '../src/lean-client.js';
import { countSdkCalls } from './sdk-reader.js';

const stack = testStack();
const plain = stack.dynamoDbClient();
const direct = withDirectCalls(
  withLeanMiddleware(new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoDbEndpoint, credentials: stack.credentials, maxAttempts: 1, cacheMiddleware: true })),
  ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan'],
);
const sdkCalls = countSdkCalls(direct);
afterAll(() => {
  plain.destroy();
  direct.destroy();
});

const start = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } as const;

describe('lease table calls sent directly, on dynalite', () => {
  it('create, take, checkpoint, renew, fence a paused owner, list and delete, as the SDK sees them', async () => {
    const tableName = uniqueName('direct-leases');
    const mine = new DynamoDbLeaseRefresher({ dynamoDbClient: direct, tableName, ownerIndex: true });
    const reference = new DynamoDbLeaseRefresher({ dynamoDbClient: plain, tableName, ownerIndex: true });
    await mine.createLeaseTableIfNotExists();
    const before = sdkCalls();
    const keys = Array.from({ length: 5 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
    for (const leaseKey of keys) expect(await mine.createLeaseIfNotExists({ leaseKey, checkpoint: start, parentShardIds: ['shardId-p'] })).toBe(true);
    expect(await mine.createLeaseIfNotExists({ leaseKey: keys[0]!, checkpoint: start })).toBe(false); // a conditional put that fails
    const taken: Lease[] = [];
    for (const leaseKey of keys) taken.push((await mine.takeLease((await mine.getLease(leaseKey))!, 'A'))!);
    const checkpointed = (await mine.updateLease(taken[0]!, 'A', { checkpoint: { sequenceNumber: '4959', subSequenceNumber: 3 } }))!;
    const renewed = (await mine.renewLease(checkpointed, 'A'))!;
    expect(renewed.leaseCounter).toBe(checkpointed.leaseCounter + 1);
    expect(await reference.getLease(keys[0]!)).toEqual(renewed);
    // B takes the lease while A is paused: A can neither renew nor checkpoint it.
    const byB = (await reference.takeLease((await reference.getLease(keys[0]!))!, 'B'))!;
    expect(await mine.renewLease(renewed, 'A')).toBeUndefined();
    expect(await mine.updateLease(renewed, 'A', { checkpoint: { sequenceNumber: '9999', subSequenceNumber: 0 } })).toBeUndefined();
    expect((await plain.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: keys[0]! } }, ConsistentRead: true }))).Item?.['checkpoint']).toEqual({ S: '4959' });
    // Binary state goes through the SDK (its bytes are base64 on the wire), the rest directly.
    const withState = (await mine.updateLease(taken[1]!, 'A', { pendingCheckpoint: { sequenceNumber: '7', subSequenceNumber: 1 }, pendingCheckpointState: new Uint8Array([42, 0, 255]) }))!;
    expect((await reference.getLease(keys[1]!))?.pendingCheckpointState).toEqual(new Uint8Array([42, 0, 255]));
    expect(withState.pendingCheckpointState).toEqual(new Uint8Array([42, 0, 255]));
    const sort = (leases: Lease[]) => [...leases].sort((a, b) => a.leaseKey.localeCompare(b.leaseKey));
    expect(sort(await mine.listLeases())).toEqual(sort(await reference.listLeases()));
    expect((await mine.listLeaseKeysForOwner('A'))?.sort()).toEqual(keys.slice(1));
    expect(await mine.deleteLease(keys[4]!)).toBe(true);
    expect(await reference.getLease(keys[4]!)).toBeUndefined();
    expect(byB.leaseOwner).toBe('B');
    // One call per operation through the SDK (its template) and the one with bytes; all others were direct.
    expect(sdkCalls() - before).toBeLessThanOrEqual(8);
  });

  it('lets exactly one of five racing workers take the same lease', async () => {
    const tableName = uniqueName('direct-race');
    const setup = new DynamoDbLeaseRefresher({ dynamoDbClient: plain, tableName });
    await setup.createLeaseTableIfNotExists();
    const leaseKey = 'shardId-race';
    await setup.createLeaseIfNotExists({ leaseKey, checkpoint: start });
    // One take on another lease of the table first: the race's UpdateItem calls are then all direct.
    await setup.createLeaseIfNotExists({ leaseKey: 'shardId-warm', checkpoint: start });
    await new DynamoDbLeaseRefresher({ dynamoDbClient: direct, tableName }).takeLease((await setup.getLease('shardId-warm'))!, 'w0');
    const seen = (await setup.getLease(leaseKey))!;
    const before = sdkCalls();
    const racers = ['w1', 'w2', 'w3', 'w4', 'w5'].map((w) => new DynamoDbLeaseRefresher({ dynamoDbClient: direct, tableName }).takeLease(seen, w));
    const winners = (await Promise.all(racers)).filter((x): x is Lease => x !== undefined);
    expect(sdkCalls() - before).toBe(0);
    expect(winners).toHaveLength(1);
    expect(await setup.getLease(leaseKey)).toEqual(winners[0]);
  });
});
