/**
 * `kcl status` on a lease table with malformed items: it shows each as an `invalid` row with
 * the reason instead of failing, and ignores KCL 3.x non-lease items.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLeaseRefresher, InMemoryLeaseRefresher, type LeaseItem } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { runCli } from './run-cli.js';
import { collectStatus, formatStatus, type StatusReport } from '../src/status.js';

describe('kcl status with invalid lease table items', () => {
  const stack = testStack();
  const env = { AWS_REGION: stack.region, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
  const conn = ['--kinesis-endpoint', stack.kinesisEndpoint, '--dynamodb-endpoint', stack.dynamoDbEndpoint];
  const dynamoDb = stack.dynamoDbClient();
  const table = uniqueName('status-invalid');

  beforeAll(async () => {
    const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
    await refresher.createLeaseTableIfNotExists();
    await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000000', checkpoint: extended('TRIM_HORIZON') });
    await refresher.takeLease((await refresher.getLease('shardId-000000000000'))!, 'worker-a');
    const put = (Item: LeaseItem) => dynamoDb.send(new PutItemCommand({ TableName: table, Item }));
    await put({ leaseKey: { S: 'shardId-000000000001' }, leaseCounter: { S: 'x' }, checkpoint: { S: 'TRIM_HORIZON' } });
    await put({ leaseKey: { S: 'shardId-000000000002' }, leaseOwner: { S: 'worker-b' }, leaseCounter: { N: '4' }, checkpoint: { S: 'abc' } });
    await put({ leaseKey: { S: 'Migration3.0' }, entityType: { S: 'CLIENT_VERSION_MIGRATION' } });
  });
  afterAll(() => dynamoDb.destroy());

  const run = (args: string[]): Promise<{ code: number; out: string }> => runCli(args, env);

  it('prints an invalid row with the reason for each malformed item, and the valid leases as usual', async () => {
    const { code, out } = await run(['status', '--app', table, ...conn]);
    expect(out).not.toMatch(/not a valid lease/);
    expect(code).toBe(0);
    expect(out).toContain(`lease table ${table}: 1 leases, 2 invalid items`);
    expect(out).toMatch(/shardId-000000000000\s+unknown\s+worker-a\s+TRIM_HORIZON/);
    expect(out).toMatch(/shardId-000000000001\s+invalid\s+attribute "leaseCounter" has type S, expected N/);
    expect(out).toMatch(/shardId-000000000002\s+invalid\s+attribute "checkpoint" is neither a sequence number nor one of/);
    expect(out).not.toContain('Migration3.0');
    expect(out).toMatch(/worker-a\s+1/);
    expect(out).not.toMatch(/worker-b/);
    expect(out).toContain('invalid: shardId-000000000001, shardId-000000000002');
  });

  it('--json lists the invalid items apart from the leases', async () => {
    const { code, out } = await run(['status', '--app', table, '--json', ...conn]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as StatusReport;
    expect(report.leases.map((l) => l.shardId)).toEqual(['shardId-000000000000']);
    expect(report.invalid).toEqual([
      { leaseKey: 'shardId-000000000001', attribute: 'leaseCounter', reason: 'attribute "leaseCounter" has type S, expected N' },
      { leaseKey: 'shardId-000000000002', attribute: 'checkpoint', reason: expect.stringContaining('neither a sequence number') },
    ]);
  });

  it('with an expiry check, the invalid items come from the second scan', async () => {
    const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
    const report = await collectStatus({ refresher, table, expiryCheckMs: 1000, sleep: async () => undefined });
    expect(report.invalid.map((i) => i.leaseKey)).toEqual(['shardId-000000000001', 'shardId-000000000002']);
    expect(report.expired).toEqual(['shardId-000000000000']);
  });

  it('a refresher without scanLeaseTable gives no invalid items; an item without a key shows as "(no leaseKey)"', async () => {
    const memory = new InMemoryLeaseRefresher();
    await memory.createLeaseIfNotExists({ leaseKey: 'shardId-000000000005', checkpoint: extended('LATEST') });
    const report = await collectStatus({ refresher: memory, table: 'mem' });
    expect(report.invalid).toEqual([]);
    const text = formatStatus({ ...report, invalid: [{ reason: 'no "leaseKey" string attribute', attribute: 'leaseKey' }] });
    expect(text).toMatch(/\(no leaseKey\)\s+invalid\s+no "leaseKey" string attribute/);
    expect(text).toMatch(/shardId-000000000005\s+unknown\s+-\s+LATEST/);
  });
});

describe('kcl status: the scanner role of the single-scanner mode', () => {
  const stack = testStack();
  const dynamoDb = stack.dynamoDbClient();
  afterAll(() => dynamoDb.destroy());

  it('names the holder of the scanner role, and is null without one', async () => {
    const table = uniqueName('status-role');
    const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
    await refresher.createLeaseTableIfNotExists();
    await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000000', checkpoint: extended('TRIM_HORIZON') });
    expect((await collectStatus({ refresher, table })).scannerRole).toBeNull();
    await refresher.claimRole('scanner', undefined, 'worker-7');
    const report = await collectStatus({ refresher, table });
    expect(report.scannerRole).toEqual({ holder: 'worker-7', counter: 1 });
    expect(report.leases.map((l) => l.shardId)).toEqual(['shardId-000000000000']); // the role item is no lease
    expect(report.invalid).toEqual([]);
    expect(formatStatus(report)).toContain('scanner role: worker-7 (counter 1)');
  });
});
