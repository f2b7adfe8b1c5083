/**
 * kcl-ts example "lambda": runs the function of `handler.ts` locally the way Lambda's Kinesis
 * event source mapping would — read a batch of a shard with GetRecords, hand it over as a
 * Kinesis event, and resume where the partial batch response says.
 *
 *   node examples/lambda/dist/main.js [--records 40] [--batch-size 20] [--no-failure]
 *        [--stream <name>] [--shards 2]
 *
 * Locally (no AWS environment) it embeds Kinesis and DynamoDB, produces `--records` records,
 * and makes the sink fail once in the middle of the first invocation: the processor has
 * checkpointed the flushes before the failure, so the response names the first record after
 * them, and the next invocation starts exactly there. At the end it checks that the table
 * holds every record exactly once. (Against AWS, deploy `dist/handler.js` instead.)
 */
import { CreateTableCommand, ScanCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandOutput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { createStreamAndWait, putRecordsBatched } from '@kcl-ts/local';
import type { Sink, SinkBatch, SinkWriteContext } from '@kcl-ts/sinks';
import { kinesisEventFromRecords, type LambdaKinesisHandler } from '@kcl-ts/sinks/lambda';
import { commonArgs, numberFlag, parseFlags, connect, runMain } from '@kcl-ts/example-support';
import { createHandler, eventSink, type EventItem } from './handler.js';

/** Fails the first write that contains record `#failAt`, like a sink that is briefly down. */
class FailOnce implements Sink<EventItem> {
  readonly name: string;
  failed = false;
  constructor(
    private readonly inner: Sink<EventItem>,
    private readonly failAt: string,
  ) {
    this.name = inner.name;
  }

  async write(batch: SinkBatch<EventItem>, context: SinkWriteContext): Promise<void> {
    if (!this.failed && batch.entries.some((e) => e.item.body.includes(`"n":${this.failAt}}`))) {
      this.failed = true;
      throw Object.assign(new Error('the table is unavailable (injected)'), { name: 'AccessDeniedException', $fault: 'client' });
    }
    await this.inner.write(batch, context);
  }

  /** The DynamoDB sink calls a client fault (access denied) fatal: no retry in this invocation. */
  classifyError(error: unknown): ReturnType<NonNullable<Sink<EventItem>['classifyError']>> {
    return this.inner.classifyError?.(error) ?? 'transient';
  }
}

/** What Lambda's event source mapping does for one shard: batches from a position, resumed by the response. */
async function pollShard(kinesis: KinesisClient, stream: string, streamArn: string, shardId: string, handler: LambdaKinesisHandler, batchSize: number): Promise<number> {
  let position: { type: 'TRIM_HORIZON' } | { type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string } = { type: 'TRIM_HORIZON' };
  let invocations = 0;
  for (;;) {
    const iterator: GetShardIteratorCommandOutput = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: position.type, ...('sequenceNumber' in position && { StartingSequenceNumber: position.sequenceNumber }) }),
    );
    const batch: GetRecordsCommandOutput = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: batchSize }));
    const Records = batch.Records ?? [];
    if (Records.length === 0) return invocations;
    invocations++;
    const event = kinesisEventFromRecords(Records, { shardId, streamArn });
    const response = await handler(event, { getRemainingTimeInMillis: () => 60_000 });
    const failure = response.batchItemFailures[0]?.itemIdentifier;
    const index = failure === undefined ? -1 : Records.findIndex((r) => r.SequenceNumber === failure);
    console.log(
      `invocation ${invocations} on ${shardId}: ${Records.length} records → ` +
        (failure === undefined ? 'batchItemFailures: [] (all checkpointed)' : `batchItemFailures: [${failure}]: Lambda resumes at the batch's record ${index + 1} (partial batch failure)`),
    );
    position = failure === undefined ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: Records.at(-1)!.SequenceNumber! } : { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: failure };
  }
}

async function scanCount(client: DynamoDBClient, tableName: string): Promise<string[]> {
  const bodies: string[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(start && { ExclusiveStartKey: start }) }));
    bodies.push(...(page.Items ?? []).map((i) => i.body!.S!));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return bodies;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), { 'batch-size': { type: 'string' }, 'no-failure': { type: 'boolean' } });
  const connection = await connect();
  try {
    if (connection.mode === 'aws') {
      console.log('lambda: this local run simulates the event source mapping; on AWS, deploy dist/handler.js (see README.md)');
      return 0;
    }
    const args = commonArgs(flags, 'lambda', connection.mode);
    const batchSize = Math.max(1, Math.floor(numberFlag(flags, 'batch-size', 20)));
    const tableName = `${args.app}-events-${Date.now().toString(36)}`;
    console.log(`lambda: ${connection.description}; stream ${args.stream}, table ${tableName}`);
    await connection.dynamoDb.send(
      new CreateTableCommand({ TableName: tableName, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
    await waitUntilTableExists({ client: connection.dynamoDb, maxWaitTime: 60, minDelay: 1 }, { TableName: tableName });
    await createStreamAndWait(connection.kinesis, args.stream, args.shards);
    await putRecordsBatched(connection.kinesis, args.stream, Array.from({ length: args.records }, (_, n) => ({ partitionKey: `key-${n % 8}`, data: JSON.stringify({ n }) })));
    console.log(`produced ${args.records} records`);

    // Fail once, in the flush that holds record n=11 (the second flush of its shard's first batch when there is one shard).
    const failAt = String(Math.min(11, Math.max(0, args.records - 1)));
    const sink = flags['no-failure'] ? eventSink(connection.dynamoDb, tableName) : new FailOnce(eventSink(connection.dynamoDb, tableName), failAt);
    const handler = createHandler(sink);
    const streamArn = (await connection.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: args.stream }))).StreamDescriptionSummary!.StreamARN!;
    const shards = (await connection.kinesis.send(new ListShardsCommand({ StreamName: args.stream }))).Shards ?? [];
    let invocations = 0;
    for (const shard of shards) invocations += await pollShard(connection.kinesis, args.stream, streamArn, shard.ShardId!, handler, batchSize);

    const bodies = await scanCount(connection.dynamoDb, tableName);
    const distinct = new Set(bodies.map((b) => (JSON.parse(b) as { n: number }).n));
    console.log(`processed ${bodies.length} records in ${invocations} invocations`);
    const ok = bodies.length === args.records && distinct.size === args.records;
    console.log(ok ? `table check: OK (${args.records} records, each stored exactly once)` : `table check: FAILED (${bodies.length} items, ${distinct.size} distinct, ${args.records} produced)`);
    return ok ? 0 : 1;
  } finally {
    await connection.close();
  }
}

runMain('lambda', main);
