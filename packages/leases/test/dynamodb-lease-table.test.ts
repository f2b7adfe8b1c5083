/** Integration tests of lease-table creation and inspection against dynalite. */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { InvalidStateError, ResourceNotFoundError } from '@kcl-ts/processor';
import { afterAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { DynamoDbLeaseRefresher } from '../src/dynamodb/index.js';

const stack = testStack();
const client = stack.dynamoDbClient();
afterAll(() => client.destroy());

const refresher = (tableName: string) => new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName });

describe('lease table management (dynalite)', () => {
  it('creates the table once, with hash key leaseKey, and waits until ACTIVE', async () => {
    const tableName = uniqueName('leases');
    const r = refresher(tableName);
    expect(await r.leaseTableExists()).toBe(false);
    expect(await r.createLeaseTableIfNotExists()).toBe(true);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'leaseKey', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST');
    expect(await r.leaseTableExists()).toBe(true);
    // A second call, or a second worker, finds it.
    expect(await r.createLeaseTableIfNotExists()).toBe(false);
    expect(await refresher(tableName).createLeaseTableIfNotExists()).toBe(false);
  });

  it('lets two workers race to create the table: exactly one creates it, both return once it is ACTIVE', async () => {
    const tableName = uniqueName('leases');
    const results = await Promise.all([refresher(tableName).createLeaseTableIfNotExists(), refresher(tableName).createLeaseTableIfNotExists()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
  });

  it('creates a provisioned table when asked', async () => {
    const tableName = uniqueName('leases');
    const r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, billingMode: { readCapacity: 3, writeCapacity: 4 } });
    expect(await r.createLeaseTableIfNotExists()).toBe(true);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 3, WriteCapacityUnits: 4 });
  });

  it('refuses a table with the wrong key schema, naming the table and both schemas', async () => {
    const tableName = uniqueName('not-leases');
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const r = refresher(tableName);
    const error = await r.createLeaseTableIfNotExists().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as Error).message).toContain(`"${tableName}"`);
    expect((error as Error).message).toContain('[id (HASH, S)]');
    expect((error as Error).message).toContain('[leaseKey (HASH, S)]');
    await expect(r.leaseTableExists()).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('refuses a table with a range key', async () => {
    const tableName = uniqueName('ranged');
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: 'leaseKey', AttributeType: 'S' },
          { AttributeName: 'sortKey', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'leaseKey', KeyType: 'HASH' },
          { AttributeName: 'sortKey', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await expect(refresher(tableName).leaseTableExists()).rejects.toThrow(/sortKey \(RANGE, N\)/);
  });

  it('reports a missing table as ResourceNotFoundError that says how to fix it', async () => {
    const tableName = uniqueName('missing');
    const error = await refresher(tableName).listLeases().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(error).toMatchObject({ resourceType: 'table', resourceName: tableName });
    expect((error as Error).message).toContain(`lease table "${tableName}" does not exist in region ${stack.region}`);
    expect((error as Error).message).toContain(stack.dynamoDbEndpoint.replace(/\/$/, ''));
    expect((error as Error).message).toContain('hash key leaseKey (S)');
    await expect(refresher(tableName).getLease('shardId-0')).rejects.toBeInstanceOf(ResourceNotFoundError);
  });
});
