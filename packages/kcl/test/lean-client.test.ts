import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ExpiredIteratorException, GetRecordsCommand, KinesisClient, ListStreamsCommand, type GetRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDirectGetRecords, withLeanMiddleware } from '../src/lean-client.js';
import { countSdkGetRecordsReads } from './sdk-reader.js';

/** An HTTP server that records each request's headers and answers an empty list. */
describe('withLeanMiddleware', () => {
  const seen: IncomingHttpHeaders[] = [];
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify({ StreamNames: [], HasMoreStreams: false, TableNames: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const settings = () => ({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
    customUserAgent: [['my-app', '1.2 beta']] as [string, string][],
  });

  /** The headers of two calls of `client`. */
  async function headersOf(client: KinesisClient): Promise<IncomingHttpHeaders[]> {
    seen.length = 0;
    await client.send(new ListStreamsCommand({}));
    await client.send(new ListStreamsCommand({}));
    client.destroy();
    return [...seen];
  }

  it('drops the retry middleware (no invocation id, no attempt header) and keeps the SDK user agent but its per-call feature list', async () => {
    const [plain] = await headersOf(new KinesisClient(settings()));
    const lean = await headersOf(withLeanMiddleware(new KinesisClient(settings())));
    expect(plain!['amz-sdk-invocation-id']).toBeDefined(); // what the SDK sends by default
    for (const headers of lean) {
      expect(headers['amz-sdk-invocation-id']).toBeUndefined();
      expect(headers['amz-sdk-request']).toBeUndefined();
      expect(headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 /); // still signed
    }
    const withoutFeatures = (ua: string | undefined) => ua?.split(' ').filter((s) => !s.startsWith('m/')).join(' ');
    expect(lean[0]!['user-agent']).toBe(withoutFeatures(plain!['user-agent']));
    expect(lean[0]!['user-agent']).toContain('my-app/1.2-beta');
    expect(lean[0]!['user-agent']).toMatch(/api\/kinesis#\d/);
    expect(lean[0]!['x-amz-user-agent']).toBe(plain!['x-amz-user-agent']);
    expect(lean[1]!['user-agent']).toBe(lean[0]!['user-agent']);
  });

  it('keeps the SDK middleware it cannot override (another step or priority in some SDK release), and the client works', async () => {
    const client = new KinesisClient(settings());
    client.middlewareStack.remove('retryMiddleware');
    client.middlewareStack.add((next) => next, { step: 'finalizeRequest', name: 'retryMiddleware', priority: 'low' });
    expect(() => withLeanMiddleware(client)).not.toThrow();
    const headers = await headersOf(client);
    expect(headers).toHaveLength(2);
    expect(headers[0]!['user-agent']).toMatch(/api\/kinesis#\d/);
  });

  it('works on a DynamoDB client too', async () => {
    seen.length = 0;
    const client = withLeanMiddleware(new DynamoDBClient(settings()));
    await client.send(new ListTablesCommand({}));
    client.destroy();
    expect(seen[0]!['amz-sdk-invocation-id']).toBeUndefined();
    expect(seen[0]!['user-agent']).toMatch(/api\/dynamodb#\d/);
  });
});

describe('withDirectGetRecords', () => {
  /** Each request gets the next canned answer. */
  const answers: { status: number; body: string; headers?: Record<string, string> }[] = [];
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const answer = answers.shift() ?? { status: 500, body: '{"__type":"InternalFailure","message":"no canned answer"}' };
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1', ...answer.headers });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** A client whose SDK reader counts its GetRecords calls; with `direct`, the fast path in front of it. */
  function client(direct: boolean): { kinesis: KinesisClient; sdkReads: () => number } {
    const kinesis = new KinesisClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    const sdkReads = countSdkGetRecordsReads(kinesis);
    return { kinesis: direct ? withDirectGetRecords(kinesis) : kinesis, sdkReads };
  }

  /** The same body read by the SDK alone and through the fast path. */
  async function bothWays(body: string): Promise<{ sdk: GetRecordsCommandOutput; direct: GetRecordsCommandOutput; sdkReadsOfDirect: number; sdkReadsOfPlain: number }> {
    const plain = client(false);
    const fast = client(true);
    answers.push({ status: 200, body }, { status: 200, body });
    const sdk = await plain.kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' }));
    const direct = await fast.kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' }));
    plain.kinesis.destroy();
    fast.kinesis.destroy();
    return { sdk, direct, sdkReadsOfDirect: fast.sdkReads(), sdkReadsOfPlain: plain.sdkReads() };
  }

  const record = (i: number, extra: Record<string, unknown> = {}) => ({
    SequenceNumber: `4959${String(i).padStart(52, '0')}`,
    ApproximateArrivalTimestamp: 1_732_900_000.123_456_7 + i,
    Data: Buffer.from(`payload ${i} ${'x'.repeat(i * 7)}`).toString('base64'),
    PartitionKey: `key-${i}`,
    ...extra,
  });

  it.each([
    ['records mid-shard', { Records: [record(1), record(2), record(3)], NextShardIterator: 'next', MillisBehindLatest: 1234 }],
    ['no records, caught up', { Records: [], NextShardIterator: 'next', MillisBehindLatest: 0 }],
    ['the end of a shard with its children (null iterator left out)', { Records: [record(4)], NextShardIterator: null, MillisBehindLatest: 0, ChildShards: [{ ShardId: 'shardId-000000000002', ParentShards: ['shardId-000000000000', 'shardId-000000000001'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: '340282366920938463463374607431768211455' } }] }],
    ['escaped and non-ASCII keys, empty data, encryption, unknown members', { Records: [record(5, { PartitionKey: 'é "q" \\ \u2028 日本', Data: '', EncryptionType: 'KMS', Future: { x: 1 } })], NextShardIterator: 'n\u0065xt', Unmodelled: true }],
  ])('reads %s exactly as the SDK does, without the SDK reader', async (_name, body) => {
    const { sdk, direct, sdkReadsOfDirect, sdkReadsOfPlain } = await bothWays(JSON.stringify(body));
    expect(direct).toStrictEqual(sdk);
    expect(direct.$metadata.requestId).toBe('req-1');
    expect(sdkReadsOfDirect).toBe(0);
    expect(sdkReadsOfPlain).toBe(1); // the other client is untouched: its page went through the SDK's reader
  });

  it('hands a body of another shape to the SDK reader, with the bytes it already read', async () => {
    const { sdk, direct, sdkReadsOfDirect } = await bothWays(JSON.stringify({ Records: [record(6, { ApproximateArrivalTimestamp: '1732900000.5' })], NextShardIterator: 'next' }));
    expect(sdkReadsOfDirect).toBe(1);
    expect(direct.Records).toStrictEqual(sdk.Records);
    expect(direct.Records?.[0]?.ApproximateArrivalTimestamp).toStrictEqual(new Date(1_732_900_000_500));
  });

  it.each([
    ['a character outside base64', 'aGV$bG8='],
    ['no padding', 'aGVsbG8'],
    ['a space inside', 'aGVs bG8='],
  ])('hands data with %s to the SDK reader: its error, not altered bytes', async (_name, data) => {
    const body = JSON.stringify({ Records: [record(7, { Data: data })], NextShardIterator: 'next' });
    const plain = client(false);
    const fast = client(true);
    answers.push({ status: 200, body }, { status: 200, body });
    const sdk = await plain.kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' })).catch((e: unknown) => e);
    const direct = await fast.kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' })).catch((e: unknown) => e);
    plain.kinesis.destroy();
    fast.kinesis.destroy();
    expect(sdk).toBeInstanceOf(TypeError);
    expect(direct).toBeInstanceOf(TypeError);
    expect((direct as Error).message).toBe((sdk as Error).message);
    expect(fast.sdkReads()).toBe(1);
  });

  /** One GetRecords call of `fast` answered with `records`. */
  async function readPage(fast: KinesisClient, records: Record<string, unknown>[]): Promise<Uint8Array[]> {
    answers.push({ status: 200, body: JSON.stringify({ Records: records, NextShardIterator: 'next' }) });
    const page = await fast.send(new GetRecordsCommand({ ShardIterator: 'it' }));
    return (page.Records ?? []).map((r) => r.Data!);
  }

  it('decodes small records side by side into shared 8 KiB buffers at 8-byte offsets, a large one into its own', async () => {
    const fast = client(true);
    const small = Array.from({ length: 64 }, (_, i) => Buffer.alloc(512, i));
    const large = Buffer.alloc(5_000, 7);
    const datas = await readPage(fast.kinesis, [...small, large].map((data, i) => record(i, { Data: data.toString('base64') })));
    fast.kinesis.destroy();
    expect(fast.sdkReads()).toBe(0);
    datas.forEach((data, i) => expect(Buffer.from(data)).toStrictEqual(i < 64 ? small[i] : large));
    // 16 records of 512 B to a buffer: 64 fill 4 (5 when the first was part used). On Node 20
    // and 22, Buffer.from fits 11 in its 8 KiB pool: 6 or more.
    const buffers = new Set(datas.slice(0, 64).map((d) => d.buffer));
    expect(buffers.size).toBeLessThanOrEqual(5);
    for (const d of datas.slice(0, 64)) {
      expect(d.buffer.byteLength).toBe(8 * 1024);
      expect(d.byteOffset % 8).toBe(0);
    }
    expect(datas[64]!.buffer.byteLength).toBe(5_000);
    expect(datas[64]!.byteOffset).toBe(0);
  });

  it('keeps the shared buffer when a processor transfers the buffer of one record to another thread', async () => {
    const fast = client(true);
    const datas = await readPage(fast.kinesis, [1, 2, 3].map((i) => record(i, { Data: Buffer.alloc(100, i).toString('base64') })));
    expect(new Set(datas.map((d) => d.buffer)).size).toBe(1);
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(datas[0], [datas[0]!.buffer as ArrayBuffer]); // Node 20 copies it, Node 22 and later refuse
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
    } finally {
      port1.close();
      port2.close();
    }
    const later = await readPage(fast.kinesis, [record(4, { Data: Buffer.alloc(100, 4).toString('base64') })]);
    fast.kinesis.destroy();
    expect(datas.map((d) => Buffer.from(d))).toStrictEqual([1, 2, 3].map((i) => Buffer.alloc(100, i)));
    expect(Buffer.from(later[0]!)).toStrictEqual(Buffer.alloc(100, 4));
  });

  it('leaves records already read intact when a later page holds data that is not base64', async () => {
    const fast = client(true);
    const first = await readPage(fast.kinesis, [record(1, { Data: Buffer.alloc(100, 1).toString('base64') }), record(2, { Data: Buffer.alloc(100, 2).toString('base64') })]);
    const copies = first.map((d) => Buffer.from(d));
    // Its good record is decoded into the shared buffer, then the bad one fails: the page goes to the SDK.
    answers.push({ status: 200, body: JSON.stringify({ Records: [record(3, { Data: Buffer.alloc(90, 3).toString('base64') }), record(4, { Data: `${'QUFB'.repeat(20)}$AAA` })], NextShardIterator: 'next' }) });
    const failed = await fast.kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' })).catch((e: unknown) => e);
    const after = await readPage(fast.kinesis, [record(5, { Data: Buffer.alloc(100, 5).toString('base64') })]);
    fast.kinesis.destroy();
    expect(failed).toBeInstanceOf(TypeError);
    expect(first.map((d) => Buffer.from(d))).toStrictEqual(copies);
    expect(Buffer.from(after[0]!)).toStrictEqual(Buffer.alloc(100, 5));
  });

  it('leaves error responses to the SDK: the typed exception', async () => {
    const fast = client(true);
    answers.push({ status: 400, body: JSON.stringify({ __type: 'ExpiredIteratorException', message: 'Iterator expired' }) });
    const error = await fast.kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' })).catch((e: unknown) => e);
    fast.kinesis.destroy();
    expect(error).toBeInstanceOf(ExpiredIteratorException);
    expect(fast.sdkReads()).toBe(1);
  });
});
