import { createRequire } from 'node:module';
import { CreateTableCommand, DescribeTableCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { InvalidCheckpointError, isKclError, type KinesisClientRecord, type RecordProcessorCheckpointer, type ShardRecordProcessor } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamHandler } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, testStack, uniqueName, waitFor } from '../../../test-support/stack.js';
import { DynamoDbSink } from '../src/dynamodb/index.js';
import { batchingProcessorFactory, recordId, type Sink } from '../src/index.js';
import { kinesisEventFromRecords, toLambdaHandler, type LambdaKinesisHandler } from '../src/lambda/index.js';

// The official KPL aggregation library builds the aggregates (CommonJS, typed for the v2 SDK: loaded untyped).
const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
  RecordAggregator: new () => { addUserRecord(r: { partitionKey: string; data: Buffer }): void; build(): { partitionKey: string; data: Buffer } | undefined };
};

const stack = testStack();
let kinesis: KinesisClient;
let dynamo: DynamoDBClient;

/** A stream with one shard holding `records` (plain, or KPL aggregates given as arrays), and what GetRecords returns from `from`. */
async function streamWith(records: ReadonlyArray<string | readonly string[]>): Promise<{ read(from?: string): Promise<KinesisStreamEvent>; shardId: string }> {
  const stream = uniqueName('lambda');
  await createStream(kinesis, stream, 1);
  for (const r of records) {
    if (typeof r === 'string') {
      await kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: r, Data: Buffer.from(JSON.stringify({ id: r })) }));
    } else {
      const aggregator = new agg.RecordAggregator();
      for (const id of r) aggregator.addUserRecord({ partitionKey: id, data: Buffer.from(JSON.stringify({ id })) });
      const built = aggregator.build()!;
      await kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: built.partitionKey, Data: built.data }));
    }
  }
  const shardId = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards![0]!.ShardId!;
  const streamArn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
  return {
    shardId,
    // What the event source mapping does: read the shard from a position, hand the records over.
    read: async (from) => {
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ...(from ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: from } : { ShardIteratorType: 'TRIM_HORIZON' }) }),
      );
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1_000 }));
      return kinesisEventFromRecords(out.Records ?? [], { shardId, streamArn, region: stack.region });
    },
  };
}

async function createTable(): Promise<string> {
  const name = uniqueName('lambda-sink');
  await dynamo.send(
    new CreateTableCommand({ TableName: name, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
  );
  await waitFor(async () => (await dynamo.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus === 'ACTIVE', { message: 'table ACTIVE' });
  return name;
}

/** A processor that handles records one by one and checkpoints after `checkpointAfter` of them, then maybe throws. */
function stepper(opts: { checkpointAfter?: number; throwAfterCheckpoint?: boolean; seen?: string[] }): ShardRecordProcessor {
  return {
    initialize: () => undefined,
    async processRecords({ records, checkpointer }) {
      for (const r of records) opts.seen?.push(`${r.sequenceNumber}/${r.subSequenceNumber ?? '-'}`);
      if (opts.checkpointAfter !== undefined) await checkpointer.checkpoint(records[opts.checkpointAfter - 1]!);
      if (opts.throwAfterCheckpoint) throw new Error('the sink is down');
    },
  };
}

beforeAll(() => {
  kinesis = stack.kinesisClient();
  dynamo = stack.dynamoDbClient();
});
afterAll(() => {
  kinesis.destroy();
  dynamo.destroy();
});

describe('toLambdaHandler', () => {
  it('is a KinesisStreamHandler of @types/aws-lambda, and its answers are KinesisStreamBatchResponses', () => {
    const handler = toLambdaHandler(() => stepper({}));
    const typed: KinesisStreamHandler = handler;
    const answer: Promise<KinesisStreamBatchResponse> = handler({ Records: [] });
    expect(typeof typed).toBe('function');
    return expect(answer).resolves.toEqual({ batchItemFailures: [] });
  });

  it('a batching processor that fails mid-batch: the partial response names the first unflushed record, and the redelivery from there completes the table exactly once', async () => {
    const plain = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `p${from + i}`);
    const { read, shardId } = await streamWith([...plain(0, 13), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'], ...plain(14, 23)]);
    const table = await createTable();
    const real = new DynamoDbSink<{ pk: string; id: string }>({ client: dynamo, tableName: table, keyAttributes: ['pk'] });
    let failures = 0;
    const sink: Sink<{ pk: string; id: string }> = {
      name: 'flaky',
      write: async (batch, context) => {
        if (failures === 0 && batch.entries.some((e) => e.item.id === 'p16')) {
          failures++;
          throw Object.assign(new Error('access denied'), { name: 'AccessDenied', $fault: 'client' });
        }
        await real.write(batch, context);
      },
      classifyError: (error) => real.classifyError(error),
    };
    const handler = toLambdaHandler(
      batchingProcessorFactory({
        sink,
        transform: (record, { shardId: shard }) => ({ pk: recordId(shard, record), id: (JSON.parse(Buffer.from(record.data).toString()) as { id: string }).id }),
        batching: { maxRecords: 8 },
      }),
    );
    const first = await read();
    expect(first.Records).toHaveLength(25); // 24 plain records and one aggregate of 6
    const aggregate = first.Records[14]!.kinesis.sequenceNumber;

    // Flushes: p0–p7 (checkpoint p7), p8–p13 + a0, a1 (checkpoint aggregate/1), then a2–a5, p14–p17 fails.
    const response = await handler(first);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: aggregate }] });
    expect((await dynamo.send(new ScanCommand({ TableName: table }))).Count).toBe(16);

    // Lambda resumes at the reported record: the whole aggregate again (a0, a1 overwrite themselves).
    const second = await read(aggregate);
    expect(second.Records[0]!.kinesis.sequenceNumber).toBe(aggregate);
    expect(await handler(second)).toEqual({ batchItemFailures: [] });
    const items = (await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items!;
    expect(items).toHaveLength(30);
    expect(new Set(items.map((i) => i.id!.S))).toEqual(new Set([...plain(0, 23), 'a0', 'a1', 'a2', 'a3', 'a4', 'a5']));
    expect(items.every((i) => i.pk!.S!.startsWith(`${shardId}:`))).toBe(true);
  });

  it('maps checkpoints to the response: partial checkpoint then throw, nothing checkpointed, and advanceOn processed', async () => {
    const { read } = await streamWith(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    const event = await read();
    const seq = event.Records.map((r) => r.kinesis.sequenceNumber);

    const partial = await toLambdaHandler(() => stepper({ checkpointAfter: 4, throwAfterCheckpoint: true }))(event);
    expect(partial).toEqual({ batchItemFailures: [{ itemIdentifier: seq[4] }] });

    const none = await toLambdaHandler(() => stepper({}))(event);
    expect(none).toEqual({ batchItemFailures: [{ itemIdentifier: seq[0] }] });

    const returned = await toLambdaHandler(() => stepper({}), { advanceOn: 'processed' })(event);
    expect(returned).toEqual({ batchItemFailures: [] });
    const threw = await toLambdaHandler(() => stepper({ checkpointAfter: 2, throwAfterCheckpoint: true }), { advanceOn: 'processed' })(event);
    expect(threw).toEqual({ batchItemFailures: [{ itemIdentifier: seq[2] }] });

    const all = await toLambdaHandler(() => ({ initialize: () => undefined, processRecords: ({ checkpointer }) => checkpointer.checkpoint() }))(event);
    expect(all).toEqual({ batchItemFailures: [] });

    const broken = await toLambdaHandler(() => ({ initialize: () => { throw new Error('no config'); }, processRecords: () => undefined }))(event);
    expect(broken).toEqual({ batchItemFailures: [{ itemIdentifier: seq[0] }] });
  });

  it('aborts the batch signal before the deadline, enforces the checkpoint rules, and refuses checkpoints after the invocation', async () => {
    const event = kinesisEventFromRecords(
      ['100', '200', '300'].map((s) => ({ Data: Buffer.from(s), PartitionKey: 'k', SequenceNumber: s, ApproximateArrivalTimestamp: new Date(0) })),
      { shardId: 'shardId-000000000007', streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' },
    );
    const clock = new FakeClock();
    let kept: RecordProcessorCheckpointer | undefined;
    const errors: unknown[] = [];
    const handler: LambdaKinesisHandler = toLambdaHandler(
      () => ({
        initialize: () => undefined,
        async processRecords({ records, checkpointer, signal }) {
          kept = checkpointer;
          await checkpointer.checkpoint(records[0]!);
          errors.push(await checkpointer.checkpoint('400').catch((e: unknown) => e));
          errors.push(await checkpointer.checkpoint('50').catch((e: unknown) => e));
          await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
        },
      }),
      { clock, timeoutMarginMs: 1_000 },
    );
    const pending = handler(event, { getRemainingTimeInMillis: () => 3_000 });
    await clock.advance(1_999);
    let settled = false;
    void pending.finally(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await pending).toEqual({ batchItemFailures: [{ itemIdentifier: '200' }] });
    expect(errors.every((e) => e instanceof InvalidCheckpointError)).toBe(true);
    await expect(kept!.checkpoint()).rejects.toSatisfy((e: unknown) => isKclError(e, 'LEASE_LOST'));
  });

  it('reports one failure per failing shard of an event', async () => {
    const records = (shardId: string, seqs: string[]): KinesisStreamEvent['Records'] =>
      kinesisEventFromRecords(
        seqs.map((s) => ({ Data: Buffer.from(s), PartitionKey: 'k', SequenceNumber: s, ApproximateArrivalTimestamp: new Date(0) })),
        { shardId, streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' },
      ).Records;
    const event: KinesisStreamEvent = { Records: [...records('shardId-000000000001', ['1', '2']), ...records('shardId-000000000002', ['5', '6'])] };
    const seen: Record<string, KinesisClientRecord[]> = {};
    const handler = toLambdaHandler((shardId) => ({
      initialize: () => undefined,
      async processRecords({ records: batch, checkpointer }) {
        seen[shardId] = [...batch];
        if (shardId.endsWith('1')) await checkpointer.checkpoint();
      },
    }));
    expect(await handler(event)).toEqual({ batchItemFailures: [{ itemIdentifier: '5' }] });
    expect(Object.keys(seen).sort()).toEqual(['shardId-000000000001', 'shardId-000000000002']);
  });
});
