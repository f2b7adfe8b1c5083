import { BatchWriteItemCommand, CreateTableCommand, DescribeTableCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { systemClock, type KinesisClientRecord } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName, waitFor } from '../../../test-support/stack.js';
import { createLocalDynamoDbClient } from '../../local/src/index.js';
import { DynamoDbSink } from '../src/dynamodb/index.js';
import { recordId, type SinkBatch, type SinkWriteContext } from '../src/index.js';
import { rec } from './support/fakes.js';
import { runFleetScenario, type Payload } from './support/fleet-scenario.js';

const SHARD = 'shardId-000000000001';
const stack = testStack();
let client: DynamoDBClient;
const context: SinkWriteContext = { signal: undefined, attempt: 0, clock: new FakeClock() };

async function createTable(name: string): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitFor(async () => (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus === 'ACTIVE', { message: `table ${name} ACTIVE` });
  return name;
}

async function scan(table: string, from: DynamoDBClient = client): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await from.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start && { ExclusiveStartKey: start }) }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

function batch<T>(items: Array<[T, KinesisClientRecord]>): SinkBatch<T> {
  return { shardId: SHARD, entries: items.map(([item, record]) => ({ item, record })), bytes: 0 };
}

beforeAll(() => {
  client = stack.dynamoDbClient();
});
afterAll(() => client.destroy());

describe('DynamoDbSink', () => {
  it('writes BatchWriteItem chunks; a redelivered batch overwrites itself; equal keys in a flush keep the last item', async () => {
    const table = await createTable(uniqueName('ddb-sink'));
    const sink = new DynamoDbSink<{ pk: string; v: number }>({ client, tableName: table, keyAttributes: ['pk'] });
    const records = Array.from({ length: 60 }, (_, i) => rec(1_000 + i));
    const items = records.map((r, i): [{ pk: string; v: number }, KinesisClientRecord] => [{ pk: recordId(SHARD, r), v: i }, r]);
    await sink.write(batch(items), context);
    await sink.write(batch(items.slice(10, 50)), context); // redelivery with other boundaries
    expect(await scan(table)).toHaveLength(60);

    await sink.write(batch([[{ pk: 'same', v: 1 }, rec(2_000)], [{ pk: 'same', v: 2 }, rec(2_001)]]), context);
    expect((await scan(table)).find((i) => i.pk === 'same')).toEqual({ pk: 'same', v: 2 });
  });

  it('sends UnprocessedItems again until every item is written', async () => {
    const table = await createTable(uniqueName('ddb-unprocessed'));
    let calls = 0;
    const flaky = {
      send: async (command: BatchWriteItemCommand) => {
        calls++;
        const requests = command.input.RequestItems![table]!;
        if (calls === 1) {
          // the first call "processes" only the first 5 items
          await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests.slice(0, 5) } }));
          return { UnprocessedItems: { [table]: requests.slice(5) } };
        }
        return client.send(command);
      },
    } as unknown as DynamoDBClient;
    const sink = new DynamoDbSink<{ pk: string }>({ client: flaky, tableName: table, keyAttributes: ['pk'], concurrency: 1 });
    // The real clock: the resend waits a backoff of 25–50 ms.
    await sink.write(batch(Array.from({ length: 20 }, (_, i): [{ pk: string }, KinesisClientRecord] => [{ pk: `k${i}` }, rec(i + 1)])), { ...context, clock: systemClock });
    expect(calls).toBe(2);
    expect(await scan(table)).toHaveLength(20);
  });

  it('newestWins keeps the newest version per key; a redelivered or older record is reported stale', async () => {
    const table = await createTable(uniqueName('ddb-newest'));
    const sink = new DynamoDbSink<{ pk: string; state: string }>({ client, tableName: table, keyAttributes: ['pk'], newestWins: true });
    expect(await sink.write(batch([[{ pk: 'device-1', state: 'second' }, rec(20)]]), context)).toEqual({ stale: 0 });
    expect(await sink.write(batch([[{ pk: 'device-1', state: 'first' }, rec(10)]]), context)).toEqual({ stale: 1 });
    expect(await sink.write(batch([[{ pk: 'device-1', state: 'second' }, rec(20)]]), context)).toEqual({ stale: 1 });
    expect((await scan(table))[0]).toMatchObject({ pk: 'device-1', state: 'second' });
    // Sequence numbers of different lengths still order numerically (the version is length-prefixed).
    await sink.write(batch([[{ pk: 'device-1', state: 'third' }, rec('100', 0)], [{ pk: 'device-2', state: 'x' }, rec('7', 3)]]), context);
    const byKey = Object.fromEntries((await scan(table)).map((i) => [i.pk, i]));
    expect(byKey['device-1']).toMatchObject({ state: 'third', _kclVersion: '003:100:0000000000' });
    expect(byKey['device-2']).toMatchObject({ state: 'x', _kclVersion: '001:7:0000000003' });
  });

  it('validates its options and its items', async () => {
    expect(() => new DynamoDbSink({ client, tableName: '', keyAttributes: ['pk'] })).toThrow(/dynamoDb\.tableName must be a non-empty string/);
    expect(() => new DynamoDbSink({ client, tableName: 't', keyAttributes: [] as never })).toThrow(/dynamoDb\.keyAttributes/);
    expect(() => new DynamoDbSink({ client, tableName: 't', keyAttributes: ['pk'], concurrency: 0 })).toThrow(/dynamoDb\.concurrency/);
    const sink = new DynamoDbSink<{ other: string }>({ client, tableName: 't', keyAttributes: ['pk'] });
    const error = await sink.write(batch([[{ other: 'x' }, rec(1)]]), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(sink.classifyError(error)).toBe('fatal');
  });

  it('end to end in a Worker fleet: graceful handoff mid-buffer without duplicates, kill -9 mid-flush without loss or duplicates', async () => {
    const table = await createTable(uniqueName('ddb-fleet'));
    await runFleetScenario<{ pk: string; k: string; n: number }>({
      upstream: stack.dynamoDbEndpoint,
      sink: (endpoint) => {
        // The worker's sink client goes through the worker's own proxy.
        const proxied = createLocalDynamoDbClient({ endpoint, region: stack.region, credentials: stack.credentials });
        return { sink: new DynamoDbSink({ client: proxied, tableName: table, keyAttributes: ['pk'] }), close: () => proxied.destroy() };
      },
      item: ({ k, n }: Payload, id) => ({ pk: id, k, n }),
      stored: async () => (await scan(table)).map((i) => `${String(i.k)}#${String(i.n)}`),
    });
  }, 90_000);
});
