import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { CreateTableCommand, DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createStream, putRecords, testStack, uniqueName, waitFor } from '../../../test-support/stack.js';

// Exercises the shared stack of the globalSetup through the test-support helpers other
// packages' integration tests use.
const stack = testStack();

describe('test-support stack', () => {
  const clients = {
    'kinesis-mock': stack.kinesisClient('kinesis-mock'),
    kinesalite: stack.kinesisClient('kinesalite'),
  };
  const dynamo = stack.dynamoDbClient();
  afterAll(() => {
    clients['kinesis-mock'].destroy();
    clients.kinesalite.destroy();
    dynamo.destroy();
  });

  it('provides distinct endpoints for the two Kinesis emulators and dynalite', () => {
    const endpoints = new Set([stack.kinesisEndpoint, stack.kinesaliteEndpoint, stack.dynamoDbEndpoint]);
    expect(endpoints.size).toBe(3);
    expect(stack.region).toBe('us-east-1');
  });

  for (const kind of ['kinesis-mock', 'kinesalite'] as const) {
    it(`creates a stream, puts records in batches and reads them back on ${kind}`, async () => {
      const client = clients[kind];
      const name = uniqueName(`ts-${kind}`);
      await createStream(client, name, 2);
      const records = Array.from({ length: 12 }, (_, i) => ({ partitionKey: `pk-${i}`, data: `payload-${i}` }));
      const results = await putRecords(client, name, records);
      expect(results).toHaveLength(12);

      const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
      expect(shards).toHaveLength(2);
      const read: string[] = [];
      for (const shard of shards) {
        const { ShardIterator } = await client.send(
          new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        const out = await client.send(new GetRecordsCommand({ ShardIterator }));
        for (const r of out.Records ?? []) read.push(new TextDecoder().decode(r.Data));
      }
      expect(read.sort()).toEqual(records.map((r) => r.data).sort());
      // Every record reports the shard it was read from.
      const shardIds = new Set(shards.map((s) => s.ShardId));
      expect(results.every((r) => shardIds.has(r.shardId))).toBe(true);
    });
  }

  it('round-trips an item through dynalite', async () => {
    const table = uniqueName('ts-table');
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitFor(
      async () => (await dynamo.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus === 'ACTIVE',
      { message: `table ${table} ACTIVE` },
    );
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { leaseKey: { S: 'shard-1' }, n: { N: '7' } } }));
    const got = await dynamo.send(new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'shard-1' } } }));
    expect(got.Item?.n?.N).toBe('7');
  });

  it('uniqueName gives distinct valid names', () => {
    const names = new Set(Array.from({ length: 50 }, () => uniqueName('a b/c')));
    expect(names.size).toBe(50);
    for (const n of names) expect(n).toMatch(/^[a-zA-Z0-9_.-]{1,128}$/);
    expect(uniqueName('x'.repeat(300)).length).toBeLessThanOrEqual(128);
  });

  it('waitFor returns the first truthy value and fails with the message and last value', async () => {
    let calls = 0;
    await expect(waitFor(async () => (++calls >= 3 ? calls : 0), { intervalMs: 1 })).resolves.toBe(3);
    await expect(waitFor(async () => false, { timeoutMs: 30, intervalMs: 5, message: 'never' })).rejects.toThrow(
      /never \(last value: false\)/,
    );
    await expect(
      waitFor(
        async () => {
          throw new Error('boom');
        },
        { timeoutMs: 30, intervalMs: 5, message: 'throws' },
      ),
    ).rejects.toThrow(/throws \(last error: Error: boom\)/);
  });
});
