import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { KinesisClientRecord } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../../test-support/stack.js';
import type { SinkBatch, SinkWriteContext } from '../src/index.js';
import { defaultObjectKey, S3Sink } from '../src/s3/index.js';
import { rec } from './support/fakes.js';
import { runFleetScenario, type Payload } from './support/fleet-scenario.js';
import { startS3rver, type S3rverHandle } from './support/s3rver.js';

const SHARD = 'shardId-000000000002';
const context: SinkWriteContext = { signal: undefined, attempt: 0, clock: new FakeClock() };
let s3: S3rverHandle;
let client: S3Client;

function batch<T>(items: Array<[T, KinesisClientRecord]>): SinkBatch<T> {
  return { shardId: SHARD, entries: items.map(([item, record]) => ({ item, record })), bytes: 0 };
}

async function bucket(): Promise<string> {
  const name = uniqueName('bucket').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
  await s3.createBucket(name);
  return name;
}

async function keys(bucketName: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucketName, Prefix: prefix, ...(token && { ContinuationToken: token }) }));
    out.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return out.sort();
}

async function lines(bucketName: string, key: string): Promise<unknown[]> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
  let body = Buffer.from(await object.Body!.transformToByteArray());
  if (key.endsWith('.gz')) body = gunzipSync(body);
  return body
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

beforeAll(async () => {
  s3 = await startS3rver();
  client = s3.client();
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

describe('S3Sink', () => {
  it('writes one NDJSON object per flush under a key fixed by the first record; a redelivery with other boundaries rewrites it', async () => {
    const b = await bucket();
    const sink = new S3Sink<{ v: number }>({ client, bucket: b, streamName: 'orders', prefix: 'raw/' });
    const records = [rec('49590000000000000000000000000000000000000000000000000001', 0), rec('49590000000000000000000000000000000000000000000000000001', 1), rec('49590000000000000000000000000000000000000000000000000002')];
    await sink.write(batch(records.map((r, i): [{ v: number }, KinesisClientRecord] => [{ v: i }, r])), context);
    const key = 'raw/orders/shardId-000000000002/49590000000000000000000000000000000000000000000000000001-0000000000.ndjson';
    expect(await keys(b)).toEqual([key]);
    expect(await lines(b, key)).toEqual([{ v: 0 }, { v: 1 }, { v: 2 }]);
    const head = await client.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    expect(head.Metadata).toMatchObject({
      'kcl-shard-id': SHARD,
      'kcl-first-sequence-number': '49590000000000000000000000000000000000000000000000000001',
      'kcl-last-sequence-number': '49590000000000000000000000000000000000000000000000000002',
      'kcl-last-sub-sequence-number': '0',
      'kcl-records': '3',
    });
    // A new owner resumes after the same checkpoint, so its first flush starts at the same record.
    await sink.write(batch(records.slice(0, 2).map((r, i): [{ v: number }, KinesisClientRecord] => [{ v: i }, r])), context);
    expect(await keys(b)).toEqual([key]);
    expect(await lines(b, key)).toEqual([{ v: 0 }, { v: 1 }]);
  });

  it('gzips, and uploads large flushes in parts', async () => {
    const b = await bucket();
    const sink = new S3Sink<{ pad: string; i: number }>({ client, bucket: b, streamName: 's', gzip: true, partSizeBytes: 5 * 1024 * 1024 });
    await sink.write(batch([[{ pad: 'x', i: 0 }, rec(1)]]), context);
    const [small] = await keys(b);
    expect(small).toMatch(/\.ndjson\.gz$/);
    expect(await lines(b, small!)).toEqual([{ pad: 'x', i: 0 }]);

    const counted = s3.client();
    const commands: string[] = [];
    counted.middlewareStack.add(
      (next, ctx) => (args) => {
        commands.push(String((ctx as { commandName?: string }).commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    const plain = new S3Sink<{ pad: string; i: number }>({ client: counted, bucket: b, streamName: 'big', partSizeBytes: 5 * 1024 * 1024 });
    const pad = 'y'.repeat(64 * 1024);
    const items = Array.from({ length: 100 }, (_, i): [{ pad: string; i: number }, KinesisClientRecord] => [{ pad, i }, rec(100 + i)]); // ~6.4 MB
    await plain.write(batch(items), context);
    const [bigKey] = await keys(b, 'big/');
    expect(bigKey).toBeDefined();
    counted.destroy();
    expect(commands.sort()).toEqual(['CompleteMultipartUploadCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand']);
    expect((await lines(b, bigKey!)).map((l) => (l as { i: number }).i)).toEqual(items.map((_, i) => i));
  });

  it('pads short sequence numbers so keys list in sequence order, and validates its options', () => {
    const first = rec('7', 2);
    expect(defaultObjectKey({ prefix: '', streamName: 's', shardId: SHARD, first, extension: '.ndjson' })).toBe(`s/${SHARD}/${'7'.padStart(56, '0')}-0000000002.ndjson`);
    expect(() => new S3Sink({ client, bucket: '', streamName: 's' })).toThrow(/s3\.bucket must be a non-empty string/);
    expect(() => new S3Sink({ client, bucket: 'b', streamName: 's', partSizeBytes: 1024 })).toThrow(/s3\.partSizeBytes must be an integer from 5242880/);
    expect(() => new S3Sink({ client: {} as never, bucket: 'b', streamName: 's' })).toThrow(/s3\.client\.send must be a function/);
  });

  it('end to end in a Worker fleet: graceful handoff mid-buffer without duplicates, kill -9 mid-flush without loss or duplicates', async () => {
    const b = await bucket();
    await runFleetScenario<Payload & { id: string }>({
      upstream: s3.endpoint,
      sink: (endpoint) => {
        const own = s3.client(endpoint);
        return { sink: new S3Sink({ client: own, bucket: b, streamName: 'fleet', gzip: true }), close: () => own.destroy() };
      },
      item: (payload, id) => ({ ...payload, id }),
      stored: async () => {
        const stored: string[] = [];
        for (const key of await keys(b, 'fleet/')) {
          for (const line of (await lines(b, key)) as Payload[]) stored.push(`${line.k}#${line.n}`);
        }
        return stored;
      },
    });
  }, 90_000);
});
