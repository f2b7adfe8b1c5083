/**
 * kcl-ts example "sink-s3": records batched into S3 objects with `@kcl-ts/sinks` —
 * newline-delimited JSON, gzip, one object per flush under a key fixed by the flush's first
 * record, checkpointed only after S3 has the object.
 *
 *   node examples/sink-s3/dist/main.js [--records 60] [--bucket <name>] [--prefix raw/]
 *        [--duration 15] [--stream <name>] [--app <name>] [--shards 2]
 *
 * Locally (no AWS environment) it embeds Kinesis, DynamoDB and an S3 emulator (s3rver),
 * produces `--records` click events, writes them to S3 in flushes of at most 20 records or
 * 1 s, stops gracefully (flushing what is buffered), and reads the objects back to check that
 * every record is there exactly once. It prints the Redshift COPY that loads them.
 * Against AWS, `--bucket` must exist; it consumes for --duration seconds.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Worker } from '@kcl-ts/kcl';
import { createStreamAndWait, putRecordsBatched } from '@kcl-ts/local';
import { batchingProcessorFactory, recordIdentity, type RecordIdentity } from '@kcl-ts/sinks';
import { S3Sink } from '@kcl-ts/sinks/s3';
import { commonArgs, parseFlags, runFor, connect, runMain } from '@kcl-ts/example-support';
import { connectS3 } from './s3.js';

/** A click as produced. */
interface Click {
  readonly user: string;
  readonly page: string;
  readonly i: number;
}

/** One line of an object: the click and the identity of the record that carried it (for dedup on load). */
type Line = Click & RecordIdentity;

async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function readLines(client: S3Client, bucket: string, prefix: string): Promise<{ objects: number; lines: Line[] }> {
  const lines: Line[] = [];
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) }));
    for (const { Key } of page.Contents ?? []) {
      objects++;
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
      let body = Buffer.from(await object.Body!.transformToByteArray());
      if (Key!.endsWith('.gz')) body = gunzipSync(body);
      for (const line of body.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Line);
    }
    token = page.NextContinuationToken;
  } while (token);
  return { objects, lines };
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), { bucket: { type: 'string' }, prefix: { type: 'string' } });
  const connection = await connect();
  const args = commonArgs(flags, 'sink-s3', connection.mode);
  const s3 = await connectS3(connection.mode);
  try {
    const bucket = (flags.bucket as string | undefined) ?? (connection.mode === 'aws' ? undefined : 'kcl-example-sink-s3');
    if (!bucket) throw new Error('against AWS, name an existing bucket: --bucket <name>');
    // Locally a fresh prefix per run, so a kept emulator's earlier objects are not counted.
    const prefix = (flags.prefix as string | undefined) ?? (connection.mode === 'aws' ? 'raw/' : `run-${Date.now().toString(36)}/`);
    console.log(`sink-s3: ${connection.description}, ${s3.description}; stream ${args.stream}, objects under s3://${bucket}/${prefix}`);
    await s3.ensureBucket(bucket);
    if (connection.mode !== 'aws') await createStreamAndWait(connection.kinesis, args.stream, args.shards);

    const clicks: Click[] = Array.from({ length: args.records }, (_, i) => ({ user: `user-${i % 7}`, page: `/page/${i % 5}`, i }));
    if (clicks.length > 0) {
      await putRecordsBatched(connection.kinesis, args.stream, clicks.map((c) => ({ partitionKey: c.user, data: JSON.stringify(c) })));
      console.log(`produced ${clicks.length} clicks`);
    }

    let written = 0;
    let flushes = 0;
    const worker = new Worker({
      applicationName: args.app,
      streamName: args.stream,
      kinesisClient: connection.kinesis,
      dynamoDbClient: connection.dynamoDb,
      initialPosition: 'TRIM_HORIZON',
      processorFactory: batchingProcessorFactory<Line>({
        sink: new S3Sink<Line>({ client: s3.client, bucket, prefix, streamName: args.stream, gzip: true }),
        transform: (record, { shardId }) => ({ ...(JSON.parse(Buffer.from(record.data).toString('utf8')) as Click), ...recordIdentity(shardId, record) }),
        batching: { maxRecords: 20, maxAgeMs: 1_000 },
        onFlush: (report) => {
          if (!report.ok) return;
          written += report.items;
          flushes++;
        },
      }),
    });
    await worker.start();
    const why = clicks.length > 0 ? ((await until(() => written >= clicks.length, 60_000)) ? 'all records written' : 'timed out') : await runFor(args.durationS);
    console.log(`stopping (${why})…`);
    await worker.shutdown(); // flushes what is buffered, checkpoints it, hands the shards over
    console.log(`wrote ${flushes} objects holding ${written} records`);
    console.log(`processed ${written} records`);

    console.log('load them into Redshift with:');
    console.log(`  COPY clicks FROM 's3://${bucket}/${prefix}${args.stream}/' IAM_ROLE '<role-arn>' FORMAT AS JSON 'auto' GZIP;`);

    if (clicks.length > 0) {
      const { objects, lines } = await readLines(s3.client, bucket, prefix);
      const seen = new Map<number, number>();
      for (const line of lines) seen.set(line.i, (seen.get(line.i) ?? 0) + 1);
      const ok = lines.length === clicks.length && clicks.every((c) => seen.get(c.i) === 1);
      console.log(`  ${objects} objects, ${lines.length} lines, ${seen.size} distinct clicks`);
      console.log(ok ? 'object check: OK (every record exactly once)' : 'object check: FAILED');
      if (!ok) return 1;
    }
    return 0;
  } finally {
    await s3.close();
    await connection.close();
  }
}

runMain('sink-s3', main);
