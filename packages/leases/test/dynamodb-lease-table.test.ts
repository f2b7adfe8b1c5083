/** Integration tests of lease-table creation and inspection against dynalite. */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { InvalidStateError, ResourceNotFoundError } from '@kcl-ts/processor';
import { afterAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { pino } from 'pino';
import { DynamoDbLeaseRefresher, LEASE_OWNER_INDEX } from '../src/dynamodb/index.js';

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

describe('lease table settings (dynalite, requests captured)', () => {
  /** A refresher whose client records every command it sends. */
  function capturing(tableName: string, options: Partial<ConstructorParameters<typeof DynamoDbLeaseRefresher>[0]> = {}) {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    const own = stack.dynamoDbClient();
    own.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push({ name: String(context.commandName), input: args.input as Record<string, unknown> });
        return next(args);
      },
      { step: 'initialize', name: 'captureCommands' },
    );
    const warnings: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    const r = new DynamoDbLeaseRefresher({ dynamoDbClient: own, tableName, logger, ...options });
    return { r, sent, warnings, destroy: () => own.destroy() };
  }

  it('sends tags, deletion protection, the owner index and point-in-time recovery; the emulator refusing PITR is a warning logged once', async () => {
    const tableName = uniqueName('settings');
    const t = capturing(tableName, { tags: { team: 'streams' }, deletionProtection: true, pointInTimeRecovery: true, ownerIndex: true });
    try {
      expect(await t.r.createLeaseTableIfNotExists()).toBe(true);
      const create = t.sent.find((c) => c.name === 'CreateTableCommand')!.input;
      expect(create).toMatchObject({
        Tags: [{ Key: 'team', Value: 'streams' }],
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [{ IndexName: LEASE_OWNER_INDEX, KeySchema: [{ AttributeName: 'leaseOwner', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      });
      expect(t.sent.filter((c) => c.name === 'UpdateContinuousBackupsCommand').map((c) => c.input)).toEqual([
        { TableName: tableName, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } },
      ]);
      // dynalite has no UpdateContinuousBackups and ignores DeletionProtectionEnabled: two warnings, no failure.
      expect(t.warnings.map((w) => w.setting).sort()).toEqual(['deletionProtection', 'pointInTimeRecovery']);
      expect(t.warnings.find((w) => w.setting === 'pointInTimeRecovery')?.msg).toMatch(/point-in-time recovery/);
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus])).toEqual([[LEASE_OWNER_INDEX, 'ACTIVE']]);
      // The same refresher again (a restart of the create path): nothing new sent, nothing warned again.
      expect(await t.r.createLeaseTableIfNotExists()).toBe(false);
      expect(t.warnings).toHaveLength(2);
    } finally {
      t.destroy();
    }
  });

  it('adds the owner index to an existing table without one, with one UpdateTable', async () => {
    const tableName = uniqueName('settings');
    await refresher(tableName).createLeaseTableIfNotExists();
    const t = capturing(tableName, { ownerIndex: true });
    try {
      expect(await t.r.createLeaseTableIfNotExists()).toBe(false);
      const updates = t.sent.filter((c) => c.name === 'UpdateTableCommand').map((c) => c.input);
      expect(updates).toEqual([
        {
          TableName: tableName,
          AttributeDefinitions: [{ AttributeName: 'leaseOwner', AttributeType: 'S' }],
          GlobalSecondaryIndexUpdates: [{ Create: expect.objectContaining({ IndexName: LEASE_OWNER_INDEX, Projection: { ProjectionType: 'KEYS_ONLY' } }) }],
        },
      ]);
    } finally {
      t.destroy();
    }
  });

  it("adds the owner index to an existing provisioned table with the table's capacities, though this worker is configured on demand", async () => {
    const tableName = uniqueName('settings');
    await new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, billingMode: { readCapacity: 7, writeCapacity: 3 } }).createLeaseTableIfNotExists();
    const t = capturing(tableName, { ownerIndex: true });
    try {
      expect(await t.r.createLeaseTableIfNotExists()).toBe(false);
      const update = t.sent.find((c) => c.name === 'UpdateTableCommand')!.input;
      expect(update).toMatchObject({ GlobalSecondaryIndexUpdates: [{ Create: { IndexName: LEASE_OWNER_INDEX, ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 } } }] });
      // Accepted: a refused UpdateTable is logged as a warning.
      expect(t.warnings).toEqual([]);
    } finally {
      t.destroy();
    }
  });

  it('sends nothing extra by default, and rejects a non-boolean setting naming it', async () => {
    const tableName = uniqueName('settings');
    const t = capturing(tableName);
    try {
      await t.r.createLeaseTableIfNotExists();
      const create = t.sent.find((c) => c.name === 'CreateTableCommand')!.input;
      expect(create).not.toHaveProperty('DeletionProtectionEnabled');
      expect(create).not.toHaveProperty('GlobalSecondaryIndexes');
      expect(t.sent.some((c) => c.name === 'UpdateContinuousBackupsCommand')).toBe(false);
      expect(t.warnings).toEqual([]);
    } finally {
      t.destroy();
    }
    expect(() => new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, pointInTimeRecovery: 'yes' as never })).toThrow(/pointInTimeRecovery must be a boolean \(true or false\), got "yes"/);
    expect(() => new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, deletionProtection: 1 as never })).toThrow(/deletionProtection must be a boolean/);
    expect(() => new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, ownerIndex: null as never })).toThrow(/ownerIndex must be a boolean/);
  });
});
