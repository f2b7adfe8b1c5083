import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { CreateTableCommand, DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createStreamAndWait,
  startKinesisMock,
  startLocalStack,
  type LocalStack,
} from '@kcl-ts/local';
import { findFreePort, isPortFree } from '../src/ports.js';
import { waitFor } from '../../../test-support/stack.js';

// These tests start their own emulators (not the shared globalSetup stack) because they
// check starting and stopping. Starting the Kinesis Mock is slow, so there are two stacks.

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function roundTripRecord(stack: LocalStack, streamName: string): Promise<void> {
  const kinesis = stack.kinesisClient();
  try {
    await createStreamAndWait(kinesis, streamName, 1);
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    const put = await kinesis.send(
      new PutRecordCommand({ StreamName: streamName, PartitionKey: 'pk', Data: new TextEncoder().encode('hello') }),
    );
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
    expect(shards.map((s) => s.ShardId)).toEqual([put.ShardId]);
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: put.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const records = await waitFor(
      async () => {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
        return out.Records?.length ? out.Records : undefined;
      },
      { message: 'the record to be readable' },
    );
    expect(records.map((r) => new TextDecoder().decode(r.Data))).toEqual(['hello']);
    expect(records[0]?.SequenceNumber).toBe(put.SequenceNumber);
  } finally {
    kinesis.destroy();
  }
}

async function roundTripItem(stack: LocalStack, tableName: string): Promise<string | undefined> {
  const dynamo = stack.dynamoDbClient();
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitFor(
      async () => (await dynamo.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus === 'ACTIVE',
      { message: 'table ACTIVE' },
    );
    await dynamo.send(new PutItemCommand({ TableName: tableName, Item: { leaseKey: { S: 'shardId-0' }, owner: { S: 'w1' } } }));
    const got = await dynamo.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: 'shardId-0' } } }));
    return got.Item?.owner?.S;
  } finally {
    dynamo.destroy();
  }
}

describe('startLocalStack with the Kinesis Mock', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.stop());

  it('starts on the requested ports, serves Kinesis and DynamoDB, and stops without leftovers', async () => {
    const kinesisPort = await findFreePort();
    let dynamoDbPort = await findFreePort();
    while (dynamoDbPort === kinesisPort) dynamoDbPort = await findFreePort();
    stack = await startLocalStack({ kinesisPort, dynamoDbPort });

    expect(stack.kinesisImplementation).toBe('kinesis-mock');
    expect(stack.kinesisEndpoint).toBe(`http://127.0.0.1:${kinesisPort}`);
    expect(stack.dynamoDbEndpoint).toBe(`http://127.0.0.1:${dynamoDbPort}`);
    expect(stack.env.KCL_KINESIS_ENDPOINT).toBe(stack.kinesisEndpoint);
    expect(stack.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.dynamoDbEndpoint);
    const pid = stack.kinesisPid;
    expect(pid).toBeTypeOf('number');
    expect(processGone(pid!)).toBe(false);

    await roundTripRecord(stack, 'local-mock-roundtrip');
    expect(await roundTripItem(stack, 'local-mock-leases')).toBe('w1');

    const first = stack.stop();
    const second = stack.stop();
    expect(second).toBe(first);
    await first;
    await stack.stop();
    expect(processGone(pid!)).toBe(true);
    expect(await isPortFree(kinesisPort)).toBe(true);
    expect(await isPortFree(dynamoDbPort)).toBe(true);
  });
});

describe('startLocalStack with kinesalite and persistence', () => {
  let dir: string | undefined;
  const stacks: LocalStack[] = [];
  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves Kinesis in-process and keeps streams and tables across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kcl-local-'));
    const first = await startLocalStack({ kinesis: 'kinesalite', persistence: { directory: dir } });
    stacks.push(first);
    expect(first.kinesisImplementation).toBe('kinesalite');
    expect(first.kinesisPid).toBeUndefined();
    await roundTripRecord(first, 'local-kinesalite-roundtrip');
    expect(await roundTripItem(first, 'local-kinesalite-leases')).toBe('w1');
    const kinesisPort = Number(new URL(first.kinesisEndpoint).port);
    await first.stop();
    expect(await isPortFree(kinesisPort)).toBe(true);

    const second = await startLocalStack({ kinesis: 'kinesalite', persistence: { directory: dir } });
    stacks.push(second);
    const kinesis = second.kinesisClient();
    const dynamo = second.dynamoDbClient();
    try {
      const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'local-kinesalite-roundtrip' }));
      expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
      const item = await dynamo.send(
        new GetItemCommand({ TableName: 'local-kinesalite-leases', Key: { leaseKey: { S: 'shardId-0' } } }),
      );
      expect(item.Item?.owner?.S).toBe('w1');
    } finally {
      kinesis.destroy();
      dynamo.destroy();
    }
  });
});

describe('startKinesisMock failures', () => {
  it('rejects with the output of a child that exits early (port taken)', async () => {
    const { createServer } = await import('node:net');
    // Hangs up on every connection, so closing it does not wait for the readiness probes.
    const blocker = createServer((socket) => socket.destroy());
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      await expect(startKinesisMock({ port, startTimeoutMs: 30_000 })).rejects.toThrow(/exited[\s\S]*Address already in use/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
