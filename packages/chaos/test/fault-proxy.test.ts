import { CreateTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { createLocalDynamoDbClient, createLocalKinesisClient } from '@kcl-ts/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, testStack, uniqueName, waitFor } from '../../../test-support/stack.js';
import { startFaultProxy, type FaultProxy, type FaultProxyStats } from '../src/fault-proxy.js';
import { FaultRuleSet, faultResponse, operationName, validateFaultRule } from '../src/fault-rules.js';

async function errorOf(p: Promise<unknown>): Promise<{ name?: string; $fault?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (error) {
    return error as { name?: string };
  }
  throw new Error('expected the call to fail');
}

describe('fault rules (pure)', () => {
  it('extracts the operation from X-Amz-Target and matches either form', () => {
    expect(operationName('Kinesis_20131202.GetRecords')).toBe('GetRecords');
    expect(operationName('DynamoDB_20120810.UpdateItem')).toBe('UpdateItem');
    expect(operationName(undefined)).toBe('');
    const rules = new FaultRuleSet(() => 0);
    rules.add({ kind: 'throttle', operation: 'GetRecords' });
    rules.add({ kind: 'error5xx', operation: 'DynamoDB_20120810.UpdateItem', target: 'dynamodb' });
    expect(rules.decide('kinesis', 'Kinesis_20131202.GetRecords').fault?.kind).toBe('throttle');
    expect(rules.decide('kinesis', 'Kinesis_20131202.PutRecords').fault).toBeUndefined();
    expect(rules.decide('dynamodb', 'DynamoDB_20120810.UpdateItem').fault?.kind).toBe('error5xx');
    expect(rules.decide('kinesis', 'DynamoDB_20120810.UpdateItem').fault).toBeUndefined(); // wrong target
  });

  it('bodyContains narrows a rule to requests carrying a text (e.g. SHARD_END checkpoints)', () => {
    const rules = new FaultRuleSet(() => 0);
    rules.add({ kind: 'error5xx', operation: 'UpdateItem', bodyContains: 'SHARD_END' });
    expect(rules.decide('dynamodb', 'DynamoDB_20120810.UpdateItem', '{"checkpoint":{"S":"SHARD_END"}}').fault?.kind).toBe('error5xx');
    expect(rules.decide('dynamodb', 'DynamoDB_20120810.UpdateItem', '{"checkpoint":{"S":"4968"}}').fault).toBeUndefined();
    rules.clear();
    rules.add({ kind: 'drop', bodyContains: ['shardId-000000000000', '"checkpoint"'] });
    expect(rules.decide('dynamodb', 'X.UpdateItem', '{"Key":{"leaseKey":{"S":"shardId-000000000000"}},"N":{"#c":"checkpoint"}}').fault?.kind).toBe('drop');
    expect(rules.decide('dynamodb', 'X.UpdateItem', '{"Key":{"leaseKey":{"S":"shardId-000000000000"}}}').fault).toBeUndefined();
    expect(() => validateFaultRule({ kind: 'drop', bodyContains: '' })).toThrow(/bodyContains/);
    expect(() => validateFaultRule({ kind: 'drop', bodyContains: [] })).toThrow(/bodyContains/);
  });

  it('honours count and probability, adds latencies, and keeps counters of removed rules', () => {
    let roll = 0.5;
    const rules = new FaultRuleSet(() => roll);
    const limited = rules.add({ kind: 'drop', count: 2 });
    const never = rules.add({ kind: 'throttle', probability: 0.4 });
    rules.add({ kind: 'latency', latencyMs: 30 });
    rules.add({ kind: 'latency', latencyMs: 20 });
    expect(rules.decide('kinesis', 'X.A')).toEqual({ latencyMs: 50, fault: { kind: 'drop', count: 2 } });
    expect(rules.decide('kinesis', 'X.A').fault?.kind).toBe('drop');
    expect(rules.decide('kinesis', 'X.A')).toEqual({ latencyMs: 50 }); // drop exhausted, throttle rolls 0.5 ≥ 0.4
    roll = 0.1;
    expect(rules.decide('kinesis', 'X.A').fault?.kind).toBe('throttle');
    expect(rules.stats().find((s) => s.id === limited)).toMatchObject({ matched: 4, injected: 2 });
    expect(rules.remove(never)).toBe(true);
    expect(rules.remove(never)).toBe(false);
    expect(rules.totalInjected('throttle')).toBe(1);
    rules.clear();
    expect(rules.decide('kinesis', 'X.A')).toEqual({ latencyMs: 0 });
    expect(rules.totalInjected()).toBe(2 + 1 + 4 + 4);
  });

  it('rejects bad rules with a TypeError naming the field', () => {
    expect(() => validateFaultRule({ kind: 'nope' as 'drop' })).toThrow(/kind/);
    expect(() => validateFaultRule({ kind: 'drop', probability: 2 })).toThrow(/probability/);
    expect(() => validateFaultRule({ kind: 'drop', count: -1 })).toThrow(/count/);
    expect(() => validateFaultRule({ kind: 'error5xx', status: 502 as 500 })).toThrow(/status/);
    expect(() => validateFaultRule({ kind: 'throttle', errorType: 'a b' })).toThrow(/errorType/);
  });

  it('shapes errors like AWS: namespaced __type for DynamoDB, plain for Kinesis, x-amzn-ErrorType header', () => {
    const k = faultResponse({ kind: 'throttle' }, 'kinesis');
    expect(k.status).toBe(400);
    expect(JSON.parse(k.body)).toMatchObject({ __type: 'ProvisionedThroughputExceededException' });
    expect(k.headers['x-amzn-errortype']).toMatch(/^ProvisionedThroughputExceededException/);
    const d = faultResponse({ kind: 'throttle' }, 'dynamodb');
    expect(JSON.parse(d.body).__type).toBe('com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException');
    expect(faultResponse({ kind: 'error5xx', status: 503 }, 'kinesis').status).toBe(503);
  });
});

describe('fault proxy against the emulators', () => {
  const stack = testStack();
  let kinesisProxy: FaultProxy;
  let dynamoProxy: FaultProxy;
  let kinesis: KinesisClient;
  let kinesisRetrying: KinesisClient;
  let dynamo: DynamoDBClient;
  const stream = uniqueName('proxy');
  const table = uniqueName('proxy-table');

  beforeAll(async () => {
    kinesisProxy = await startFaultProxy({ target: stack.kinesisEndpoint, kind: 'kinesis' });
    dynamoProxy = await startFaultProxy({ target: stack.dynamoDbEndpoint, kind: 'dynamodb' });
    const common = { region: stack.region, credentials: stack.credentials, maxAttempts: 1 };
    kinesis = createLocalKinesisClient({ ...common, endpoint: kinesisProxy.endpoint });
    kinesisRetrying = createLocalKinesisClient({ ...common, endpoint: kinesisProxy.endpoint, maxAttempts: 3 });
    dynamo = createLocalDynamoDbClient({ ...common, endpoint: dynamoProxy.endpoint });
    const direct = stack.kinesisClient();
    await createStream(direct, stream, 1);
    direct.destroy();
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitFor(async () => {
      await dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'probe' } } }));
      return true;
    }, { timeoutMs: 30_000, message: 'table usable' });
  });

  afterAll(async () => {
    kinesis?.destroy();
    kinesisRetrying?.destroy();
    dynamo?.destroy();
    await kinesisProxy?.stop();
    await dynamoProxy?.stop();
  });

  it('passes requests through unchanged when no rule fires', async () => {
    kinesisProxy.clearRules();
    const put = await kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'a', Data: Buffer.from('hello') }));
    expect(put.SequenceNumber).toMatch(/^\d+$/);
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    expect(shards.Shards).toHaveLength(1);
    expect(kinesisProxy.stats().byOperation).toMatchObject({ PutRecord: 1, ListShards: 1 });
  });

  it('a Kinesis throttle rule surfaces as ProvisionedThroughputExceededException, only for its operation', async () => {
    const id = kinesisProxy.addRule({ kind: 'throttle', operation: 'ListShards', count: 1 });
    const error = await errorOf(kinesis.send(new ListShardsCommand({ StreamName: stream })));
    expect(error.name).toBe('ProvisionedThroughputExceededException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toMatch(/Rate exceeded/);
    await kinesis.send(new ListShardsCommand({ StreamName: stream })); // count exhausted
    expect(kinesisProxy.stats().rules.find((r) => r.id === id)).toMatchObject({ injected: 1, matched: 2 });
    kinesisProxy.clearRules();
  });

  it('inspect sees every request with its body and may inject a fault of its own', async () => {
    const seen: string[] = [];
    const front = await startFaultProxy({
      target: stack.kinesisEndpoint,
      kind: 'kinesis',
      inspect: (operation, body) => {
        seen.push(`${operation} ${(JSON.parse(body) as { StreamName?: string }).StreamName}`);
        return operation === 'ListShards' && seen.length > 1 ? { kind: 'throttle' } : undefined;
      },
    });
    const client = createLocalKinesisClient({ region: stack.region, credentials: stack.credentials, maxAttempts: 1, endpoint: front.endpoint });
    try {
      expect((await client.send(new ListShardsCommand({ StreamName: stream }))).Shards).toHaveLength(1);
      expect((await errorOf(client.send(new ListShardsCommand({ StreamName: stream })))).name).toBe('ProvisionedThroughputExceededException');
      expect(seen).toEqual([`ListShards ${stream}`, `ListShards ${stream}`]);
      expect(front.stats()).toMatchObject({ requests: 2, forwarded: 1, injected: 0 });
    } finally {
      client.destroy();
      await front.stop();
    }
  });

  it('LimitExceededException and ExpiredIteratorException keep their names', async () => {
    const direct = stack.kinesisClient();
    const it0 = await direct.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    direct.destroy();
    kinesisProxy.addRule({ kind: 'expiredIterator', operation: 'GetRecords', count: 1 });
    const expired = await errorOf(kinesis.send(new GetRecordsCommand({ ShardIterator: it0.ShardIterator! })));
    expect(expired.name).toBe('ExpiredIteratorException');
    const records = await kinesis.send(new GetRecordsCommand({ ShardIterator: it0.ShardIterator! }));
    expect(records.Records?.length).toBeGreaterThanOrEqual(1);
    kinesisProxy.addRule({ kind: 'throttle', errorType: 'LimitExceededException', operation: 'ListShards', count: 1 });
    expect((await errorOf(kinesis.send(new ListShardsCommand({ StreamName: stream })))).name).toBe('LimitExceededException');
    kinesisProxy.clearRules();
  });

  it('5xx rules are seen as server faults (500 InternalFailure, 503 ServiceUnavailable)', async () => {
    kinesisProxy.addRule({ kind: 'error5xx', count: 1 });
    const e500 = await errorOf(kinesis.send(new ListShardsCommand({ StreamName: stream })));
    expect(e500.$fault).toBe('server');
    expect(e500.name).toBe('InternalFailure');
    expect(e500.$metadata?.httpStatusCode).toBe(500);
    kinesisProxy.addRule({ kind: 'error5xx', status: 503, count: 1 });
    const e503 = await errorOf(kinesis.send(new ListShardsCommand({ StreamName: stream })));
    expect(e503.$fault).toBe('server');
    expect(e503.$metadata?.httpStatusCode).toBe(503);
    kinesisProxy.clearRules();
  });

  it('the SDK retries an injected 5xx by itself when allowed to (the second attempt passes)', async () => {
    const id = kinesisProxy.addRule({ kind: 'error5xx', operation: 'ListShards', count: 1 });
    const out = await kinesisRetrying.send(new ListShardsCommand({ StreamName: stream }));
    expect(out.Shards).toHaveLength(1);
    expect(kinesisProxy.stats().rules.find((r) => r.id === id)?.injected).toBe(1);
    kinesisProxy.clearRules();
  });

  it('DynamoDB throttling errors carry the names the SDK and the lease refresher expect', async () => {
    dynamoProxy.addRule({ kind: 'throttle', operation: 'PutItem', count: 1 });
    const pte = await errorOf(dynamo.send(new PutItemCommand({ TableName: table, Item: { id: { S: 'x' } } })));
    expect(pte.name).toBe('ProvisionedThroughputExceededException');
    dynamoProxy.addRule({ kind: 'throttle', errorType: 'ThrottlingException', operation: 'DynamoDB_20120810.PutItem', count: 1 });
    expect((await errorOf(dynamo.send(new PutItemCommand({ TableName: table, Item: { id: { S: 'x' } } })))).name).toBe('ThrottlingException');
    dynamoProxy.addRule({ kind: 'error5xx', operation: 'UpdateItem', count: 1 });
    const e500 = await errorOf(dynamo.send(new UpdateItemCommand({ TableName: table, Key: { id: { S: 'x' } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { N: '1' } } })));
    expect(e500.name).toBe('InternalServerError');
    expect(e500.$fault).toBe('server');
    dynamoProxy.clearRules();
  });

  it('latency rules delay but deliver', async () => {
    const id = dynamoProxy.addRule({ kind: 'latency', latencyMs: 100, operation: 'GetItem' });
    const out = await dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'nothing' } } }));
    expect(out.Item).toBeUndefined();
    expect(dynamoProxy.stats().rules.find((r) => r.id === id)?.injected).toBe(1);
    dynamoProxy.clearRules();
  });

  it('a dropped connection is a network error for the SDK', async () => {
    dynamoProxy.addRule({ kind: 'drop', operation: 'GetItem', count: 1 });
    const error = await errorOf(dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'nothing' } } })));
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    expect(`${error.name} ${error.code} ${error.message}`).toMatch(/ECONNRESET|socket hang up|EPIPE/i);
    dynamoProxy.clearRules();
  });

  it("phase 'after' applies the write and then loses the response", async () => {
    dynamoProxy.addRule({ kind: 'drop', operation: 'PutItem', phase: 'after', count: 1 });
    await errorOf(dynamo.send(new PutItemCommand({ TableName: table, Item: { id: { S: 'ghost' }, v: { N: '7' } } })));
    const got = await dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'ghost' } }, ConsistentRead: true }));
    expect(got.Item?.['v']?.N).toBe('7');
    dynamoProxy.clearRules();
  });

  it('can be driven over its /__faults control endpoint', async () => {
    // What another process would do: plain HTTP to the control path.
    const control = async <T>(method: string, path = '', body?: unknown): Promise<{ status: number; value: T }> => {
      const res = await fetch(new URL(`/__faults${path}`, kinesisProxy.endpoint), { method, ...(body !== undefined && { body: JSON.stringify(body) }) });
      return { status: res.status, value: (await res.json()) as T };
    };
    const { value: { id } } = await control<{ id: number }>('POST', '', { kind: 'throttle', operation: 'ListShards' });
    expect((await errorOf(kinesis.send(new ListShardsCommand({ StreamName: stream })))).name).toBe('ProvisionedThroughputExceededException');
    const { value: stats } = await control<FaultProxyStats>('GET');
    expect(stats.rules.find((r) => r.id === id)?.injected).toBe(1);
    expect((await control<{ removed: boolean }>('DELETE', `/${id}`)).value.removed).toBe(true);
    await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    expect(await control<{ message: string }>('POST', '', { kind: 'bogus' })).toMatchObject({ status: 400, value: { message: expect.stringMatching(/kind/) } });
    expect((await control('DELETE')).status).toBe(200);
  });

  describe('SubscribeToShard event streams', () => {
    let consumerArn: string;
    /** Registers a stream consumer and waits until it is ACTIVE. */
    async function registerConsumer(): Promise<string> {
      const arn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
      const consumer = (await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: uniqueName('proxy') }))).Consumer!.ConsumerARN!;
      await waitFor(async () => (await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumer }))).ConsumerDescription?.ConsumerStatus === 'ACTIVE', {
        timeoutMs: 30_000,
        message: 'consumer ACTIVE',
      });
      return consumer;
    }
    beforeAll(async () => {
      consumerArn = await registerConsumer();
    });

    /** Subscribes through the proxy from TRIM_HORIZON; resolves the events read before the stream failed or `wanted` were read. */
    async function readEvents(wanted: number): Promise<{ events: number; records: number; error?: unknown }> {
      const shardId = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards![0]!.ShardId!;
      let events = 0;
      let records = 0;
      try {
        const out = await kinesis.send(new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: { Type: 'TRIM_HORIZON' } }));
        for await (const event of out.EventStream!) {
          if (!event.SubscribeToShardEvent) continue;
          events++;
          records += event.SubscribeToShardEvent.Records?.length ?? 0;
          if (events >= wanted) break;
        }
      } catch (error) {
        return { events, records, error };
      }
      return { events, records };
    }

    it('forwards the event stream as it comes, and drop-after cuts it after its first event', async () => {
      kinesisProxy.clearRules();
      await kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'a', Data: Buffer.from('pushed') }));
      const whole = await readEvents(2);
      expect(whole.error).toBeUndefined();
      expect(whole.events).toBe(2); // a buffered proxy would hang until the subscription ends
      expect(whole.records).toBeGreaterThan(0);

      kinesisProxy.addRule({ kind: 'drop', phase: 'after', operation: 'SubscribeToShard', count: 1 });
      const cut = await readEvents(3);
      expect(cut.error).toBeDefined();
      expect(cut.events).toBeLessThan(3);
      expect(kinesisProxy.injected('drop')).toBeGreaterThanOrEqual(1);
      kinesisProxy.clearRules();
    }, 60_000);

    it('cutStreams() drops every open event stream', async () => {
      const reading = readEvents(1_000);
      await waitFor(() => kinesisProxy.cutStreams() > 0, { timeoutMs: 10_000, message: 'an open stream to cut' });
      const result = await reading;
      expect(result.error).toBeDefined();
    }, 60_000);
  
    it('subscriptionTakeover hands a subscription to a call 5 s after the open one, as AWS does', async () => {
      const ownConsumer = await registerConsumer(); // no subscription of the tests above in the way
      const takeover = await startFaultProxy({ target: testStack().kinesisEndpoint, kind: 'kinesis', subscriptionTakeover: true });
      const client = createLocalKinesisClient({ region: testStack().region, credentials: testStack().credentials, endpoint: takeover.endpoint });
      try {
        const shardId = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards![0]!.ShardId!;
        const subscribe = () => client.send(new SubscribeToShardCommand({ ConsumerARN: ownConsumer, ShardId: shardId, StartingPosition: { Type: 'TRIM_HORIZON' } }));
        const frozen = await subscribe(); // opened, then never read again: a frozen owner
        await frozen.EventStream![Symbol.asyncIterator]().next();
        expect((await errorOf(subscribe())).name).toBe('ResourceInUseException'); // within 5 s: refused, as on AWS
        const second = await waitFor(() => subscribe().catch(() => undefined), { timeoutMs: 20_000, intervalMs: 1_000, message: 'the second subscription taken over' });
        const event = await second.EventStream![Symbol.asyncIterator]().next();
        expect(event.done).toBe(false);
      } finally {
        client.destroy();
        await takeover.stop();
      }
    }, 60_000);
  });
});
