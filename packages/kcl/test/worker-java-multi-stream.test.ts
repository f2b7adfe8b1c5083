/**
 * A lease table written by a Java KCL multi-stream application (items shaped the way its
 * DynamoDBMultiStreamLeaseSerializer writes them) is resumed exactly by kcl-ts: no record at
 * or before a checkpoint delivered again, none after it skipped. And the table kcl-ts leaves
 * behind is what the Java KCL reads back. On both Kinesis emulators: the Kinesis Mock gives a
 * creation timestamp in milliseconds, kinesalite in whole seconds; both an account of zeros.
 */
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDbLeaseRefresher } from '@kcl-ts/leases';
import type { ProcessRecordsInput, ShardRecordProcessor } from '@kcl-ts/processor';
import { afterAll, describe, expect, it } from 'vitest';
import { createStream, putRecords, waitFor, type KinesisKind } from '../../../test-support/stack.js';
import { Worker, type WorkerOptions } from '../src/index.js';
import { FAST, mergeOptions, testStack, uniqueName } from './helpers.js';

const stack = testStack();
const dynamoDb = stack.dynamoDbClient();
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  dynamoDb.destroy();
});

/** The item of one shard, written the way the Java KCL 2.x/3.x multi-stream serializer does. */
function javaItem(streamIdentifier: string, shardId: string, checkpoint: string, owner: string): Record<string, AttributeValue> {
  return {
    leaseKey: { S: `${streamIdentifier}:${shardId}` },
    leaseOwner: { S: owner },
    leaseCounter: { N: '57' },
    checkpoint: { S: checkpoint },
    checkpointSubSequenceNumber: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    startingHashKey: { S: '0' },
    endingHashKey: { S: '340282366920938463463374607431768211455' },
    streamName: { S: streamIdentifier },
    shardId: { S: shardId },
    entityType: { S: 'LEASE' },
    throughputKBps: { N: '0.4' },
    checkpointOwner: { S: owner },
  };
}

for (const kind of ['kinesis-mock', 'kinesalite'] as KinesisKind[]) {
  describe(`a Java KCL multi-stream lease table (${kind})`, () => {
    it('is resumed exactly at its checkpoints, and left in the format Java reads', async () => {
      const kinesis = stack.kinesisClient(kind);
      cleanups.push(() => kinesis.destroy());
      const [orders, clicks] = [uniqueName('java-orders'), uniqueName('java-clicks')];
      await Promise.all([createStream(kinesis, orders, 1), createStream(kinesis, clicks, 1)]);
      const identifierOf = async (name: string): Promise<string> => {
        const summary = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary!;
        const account = /:(\d{12}):stream\//.exec(summary.StreamARN!)![1]!;
        return `${account}:${name}:${Math.floor(summary.StreamCreationTimestamp!.getTime() / 1000)}`;
      };
      const ids = { [orders]: await identifierOf(orders), [clicks]: await identifierOf(clicks) };
      const put = async (name: string, from: number, count: number) =>
        putRecords(kinesis, name, Array.from({ length: count }, (_, i) => ({ partitionKey: `k${(from + i) % 3}`, data: `${name}#${from + i}` })));
      const sequences = { [orders]: await put(orders, 0, 30), [clicks]: await put(clicks, 0, 30) };

      // The Java fleet checkpointed orders after its 12th record and clicks after its 25th, then stopped.
      const table = uniqueName('java-ms');
      const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
      await refresher.createLeaseTableIfNotExists();
      const shardId = sequences[orders]![0]!.shardId;
      const checkpointAt = { [orders]: 11, [clicks]: 24 };
      for (const name of [orders, clicks]) {
        const item = javaItem(ids[name]!, shardId, sequences[name]![checkpointAt[name]!]!.sequenceNumber, 'ip-10-0-1-17.ec2.internal:5c4fd1d5');
        await dynamoDb.send(new PutItemCommand({ TableName: table, Item: item }));
      }

      const seen = new Map<string, string[]>();
      const processor = (streamName: string): ShardRecordProcessor => ({
        initialize: () => undefined,
        async processRecords({ records, checkpointer }: ProcessRecordsInput) {
          for (const r of records) seen.set(streamName, [...(seen.get(streamName) ?? []), Buffer.from(r.data).toString('utf8')]);
          await checkpointer.checkpoint();
        },
      });
      const worker = new Worker(
        mergeOptions<WorkerOptions>(
          {
            applicationName: table,
            streams: [{ streamName: orders }, { streamName: clicks }],
            kinesisClient: kinesis,
            dynamoDbClient: dynamoDb,
            initialPosition: 'TRIM_HORIZON', // must not apply: every shard has a checkpoint
            workerId: 'ts-1',
            processorFactory: (_shardId, { streamName }) => processor(streamName),
          },
          FAST,
          { leases: { leaseDurationMs: 2_000 } }, // the Java owner is gone: its leases expire for us
        ),
      );
      cleanups.push(() => worker.shutdown());
      await worker.start();
      await waitFor(() => seen.get(orders)?.length === 18 && seen.get(clicks)?.length === 5, { timeoutMs: 60_000, message: 'the records after the checkpoints', intervalMs: 100 });
      const more = await put(orders, 30, 5);
      await waitFor(() => seen.get(orders)?.length === 23, { timeoutMs: 60_000, message: 'records put after the takeover' });
      expect(seen.get(orders)).toEqual(Array.from({ length: 23 }, (_, i) => `${orders}#${12 + i}`));
      expect(seen.get(clicks)).toEqual(Array.from({ length: 5 }, (_, i) => `${clicks}#${25 + i}`));
      // No lease in the single-stream format was created beside the Java ones.
      expect((await refresher.listLeases()).map((l) => l.leaseKey).sort()).toEqual([`${ids[clicks]}:${shardId}`, `${ids[orders]}:${shardId}`].sort());

      await worker.shutdown();
      // What a Java KCL multi-stream worker reads next: the same key, the identifier in
      // `streamName`, the shard in `shardId`, and our last checkpoint.
      const item = (await dynamoDb.send(new GetItemCommand({ TableName: table, Key: { leaseKey: { S: `${ids[orders]}:${shardId}` } }, ConsistentRead: true }))).Item!;
      expect(item['streamName']).toEqual({ S: ids[orders] });
      expect(item['shardId']).toEqual({ S: shardId });
      expect(item['checkpoint']).toEqual({ S: more[4]!.sequenceNumber });
      expect(item['checkpointSubSequenceNumber']).toEqual({ N: '0' });
      expect(item['leaseCounter']?.N).toMatch(/^\d+$/);
      expect(Number(item['leaseCounter']!.N)).toBeGreaterThan(57);
      expect(item['leaseOwner']).toBeUndefined(); // released on shutdown: a Java worker takes it at once
    }, 180_000);
  });
}
