import { DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, SplitShardCommand, type GetRecordsCommandOutput, type KinesisClient } from '@aws-sdk/client-kinesis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { withDirectCalls } from '../src/direct-calls.js';
import { withDirectGetRecords } from '../src/lean-client.js';
import { Worker, type KinesisClientRecord } from '../src/index.js';
import { createStream, putRecords, testStack, uniqueName, waitFor, type KinesisKind, type RecordToPut } from '../../../test-support/stack.js';
import { FAST } from './helpers.js';
import { countSdkCalls, countSdkGetRecordsReads } from './sdk-reader.js';

/** Records with binary data of several sizes and partition keys that need JSON escapes or are not ASCII. */
function varied(count: number): RecordToPut[] {
  const keys = ['plain', 'é日本', 'quote"back\\slash', 'line\u2028sep', '🙂 emoji'];
  return Array.from({ length: count }, (_, i) => ({ partitionKey: `${keys[i % keys.length]}-${i}`, data: randomBytes(1 + ((i * 97) % 3000)) }));
}

describe.each<KinesisKind>(['kinesis-mock', 'kinesalite'])('clients the Worker builds itself, on %s', (kind) => {
  const stack = testStack();
  const kinesis = stack.kinesisClient(kind);
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    kinesis.destroy();
  });
  const endpoint = kind === 'kinesalite' ? stack.kinesaliteEndpoint : stack.kinesisEndpoint;

  it("read the emulator's GetRecords pages exactly as the SDK's reader does, up to the end of a split shard", async () => {
    const stream = uniqueName('direct-read');
    await createStream(kinesis, stream, 1);
    await putRecords(kinesis, stream, varied(60));
    const shardId = 'shardId-000000000000';
    await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shardId, NewStartingHashKey: (2n ** 127n).toString() }));
    await waitFor(async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE', {
      timeoutMs: 30_000,
      message: 'the split done',
    });
    const plainDirect = stack.kinesisClient(kind);
    const sdkReads = countSdkGetRecordsReads(plainDirect);
    const sdkCalls = countSdkCalls(plainDirect, 'GetRecords');
    const direct = withDirectCalls(withDirectGetRecords(plainDirect), ['GetRecords']);
    const pages = async (client: KinesisClient): Promise<GetRecordsCommandOutput[]> => {
      const out: GetRecordsCommandOutput[] = [];
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      // The split closes the shard: read until the iterator ends (bounded, in case it never does).
      while (iterator !== undefined && out.length < 50) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 25 }));
        out.push(page);
        iterator = page.NextShardIterator;
      }
      return out;
    };
    const sdk = await waitFor(async () => {
      const read = await pages(kinesis);
      return read[read.length - 1]?.NextShardIterator === undefined ? read : undefined;
    }, { timeoutMs: 30_000, message: 'the split parent read to its end' });
    const mine = await pages(direct);
    direct.destroy();
    // Page by page, but for what changes between two reads: the time behind the tip, and the iterators (they carry a time).
    const comparable = (read: GetRecordsCommandOutput[]) =>
      read.map(({ $metadata: _, MillisBehindLatest: __, NextShardIterator: next, ...page }) => ({ ...page, next: typeof next }));
    expect(comparable(mine)).toStrictEqual(comparable(sdk));
    expect(sdkReads()).toBe(0); // every page of the emulator took the direct path
    expect(sdkCalls()).toBe(1); // and every call after the first went without the SDK's middleware stack
    // The Kinesis Mock ends a closed shard with its children (kinesalite predates ChildShards).
    if (kind === 'kinesis-mock') expect(sdk[sdk.length - 1]!.ChildShards).toHaveLength(2);
    expect(mine.flatMap((p) => p.Records).length).toBe(60);
  });

  it('deliver every record as it was put: data, partition key, sequence number, arrival time', async () => {
    const stream = uniqueName('own-clients');
    await createStream(kinesis, stream, 2);
    const before = Date.now();
    const put = varied(200);
    const results = await putRecords(kinesis, stream, put);
    const seen = new Map<string, KinesisClientRecord>();
    const worker = new Worker({
      ...FAST,
      applicationName: uniqueName('own-clients-app'),
      streamName: stream,
      initialPosition: 'TRIM_HORIZON',
      clientConfig: { region: stack.region, credentials: stack.credentials, kinesisEndpoint: endpoint, dynamoDbEndpoint: stack.dynamoDbEndpoint },
      processorFactory: () => ({
        initialize() {},
        async processRecords({ records, checkpointer }) {
          for (const r of records) seen.set(r.sequenceNumber, r);
          await checkpointer.checkpoint();
        },
      }),
    });
    workers.push(worker);
    await worker.start();
    await waitFor(() => seen.size === put.length, { timeoutMs: 30_000, message: 'every record delivered' });
    put.forEach((record, i) => {
      const got = seen.get(results[i]!.sequenceNumber)!;
      expect(got.partitionKey).toBe(record.partitionKey);
      expect(Buffer.from(got.data).equals(Buffer.from(record.data as Uint8Array))).toBe(true);
      expect(got.approximateArrivalTimestamp).toBeInstanceOf(Date);
      expect(got.approximateArrivalTimestamp.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    });
  });
});
