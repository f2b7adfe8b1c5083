/**
 * Enhanced fan-out over HTTP/2, the production path: the real SDK `KinesisClient` with
 * `NodeHttp2Handler` (TLS, ALPN h2) against the project's own SubscribeToShard server
 * (`startSubscribeToShardServer` of @kcl-ts/local), which stages what the Kinesis Mock cannot:
 * streams that end, exception events, GOAWAY, reset connections, the 5-second
 * ResourceInUse rule, LimitExceeded, a slow reader and the final event with ChildShards.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListShardsCommand, SplitShardCommand, type Shard } from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSubscribeToShardServer, type ServedRecord, type ServedSubscription, type SubscribeToShardServer, type SubscribeToShardServerOptions } from '@kcl-ts/local';
import { resolveRetrievalConfig, type RetrievalOptions, type Worker, type WorkerOptions } from '../src/index.js';
import { FanOutRecordsFetcher, type RecordsBatch, type SubscriptionReason } from '../src/retrieval/index.js';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Journal, makeWorker, mergeOptions, testStack, uniqueName } from './helpers.js';

const SHARD = 'shardId-000000000000';
const CONSUMER = 'arn:aws:kinesis:us-east-1:000000000000:stream/h2/consumer/h2-app:1';
const stack = testStack();
const servers: SubscribeToShardServer[] = [];
const clients: KinesisClient[] = [];
const fetchers: FanOutRecordsFetcher[] = [];

afterEach(async () => {
  await Promise.all(fetchers.splice(0).map((f) => f.stop()));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

async function server(options: SubscribeToShardServerOptions = {}): Promise<SubscribeToShardServer> {
  const s = await startSubscribeToShardServer({ heartbeatMs: 200, resubscribeWindowMs: 0, ...options });
  servers.push(s);
  return s;
}

/** The SDK client the production path uses: HTTP/2 over TLS (ALPN h2), trusting the server's test certificate. */
function http2Client(s: SubscribeToShardServer, userAgent?: string): KinesisClient {
  const client = new KinesisClient({
    endpoint: s.endpoint,
    region: stack.region,
    credentials: { ...stack.credentials },
    requestHandler: new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca: s.ca } }),
    maxAttempts: 1, // as the Worker's own clients: the fetcher is the one retry layer
    ...(userAgent !== undefined && { customUserAgent: userAgent }),
  });
  clients.push(client);
  return client;
}

/** `count` records over `keys` keys; each payload carries its per-key number (as `putKeyed`). */
function keyed(count: number, keys: number, offset = 0, pad = 0): ServedRecord[] {
  return Array.from({ length: count }, (_, j) => {
    const i = offset + j;
    const k = `key-${i % keys}`;
    return { partitionKey: k, data: JSON.stringify({ k, n: Math.floor(i / keys), pad: 'x'.repeat(pad) }) };
  });
}

interface Harness {
  readonly fetcher: FanOutRecordsFetcher;
  readonly reasons: SubscriptionReason[];
  readonly counts: { resourceInUse: number; limitExceeded: number };
}

function fetcher(s: SubscribeToShardServer, retrieval: RetrievalOptions = {}, client = http2Client(s)): Harness {
  const reasons: SubscriptionReason[] = [];
  const counts = { resourceInUse: 0, limitExceeded: 0 };
  const f = new FanOutRecordsFetcher({
    kinesisClient: client,
    consumerArn: CONSUMER,
    shardId: SHARD,
    start: { checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } },
    config: resolveRetrievalConfig({ retryBaseDelayMs: 50, retryMaxDelayMs: 500, ...retrieval }),
    listener: {
      subscribed: (reason) => reasons.push(reason),
      resourceInUse: () => counts.resourceInUse++,
      limitExceeded: () => counts.limitExceeded++,
    },
  });
  fetchers.push(f);
  return { fetcher: f, reasons, counts };
}

/** Reads batches until `count` records came (or the shard ended); fails at the deadline. */
async function read(f: FanOutRecordsFetcher, count: number, timeoutMs = 30_000): Promise<{ texts: string[]; batches: RecordsBatch[] }> {
  const texts: string[] = [];
  const batches: RecordsBatch[] = [];
  const deadline = AbortSignal.timeout(timeoutMs);
  while (texts.length < count) {
    const batch = await f.next(deadline);
    batches.push(batch);
    texts.push(...batch.records.map((r) => Buffer.from(r.data).toString('utf8')));
    if (batch.shardEnded) break;
  }
  return { texts, batches };
}

/**
 * Waits until the server is held back for good: every listed subscription is blocked by flow
 * control and no event was written over five checks in a row. A reader that buffered without
 * bound would drain the server instead, and this never comes true.
 */
async function heldBack(subs: () => readonly ServedSubscription[], message: string): Promise<number> {
  let last = -1;
  let steady = 0;
  await waitFor(
    () => {
      const list = subs();
      const sent = list.reduce((n, x) => n + x.eventsSent, 0);
      steady = list.length > 0 && list.every((x) => x.blocked) && sent === last ? steady + 1 : 0;
      last = sent;
      return steady >= 5;
    },
    { timeoutMs: 30_000, intervalMs: 100, message },
  );
  return last;
}

/** Every key's numbers in order, each once. */
function expectExactlyOnceInOrder(texts: readonly string[], count: number, keys: number): void {
  expect(texts).toHaveLength(count);
  expect(new Set(texts).size).toBe(count);
  const seen = texts.map((t) => JSON.parse(t) as { k: string; n: number });
  for (let i = 0; i < keys; i++) expect(seen.filter((s) => s.k === `key-${i}`).map((s) => s.n)).toEqual([...Array(count / keys).keys()]);
}

describe('enhanced fan-out over HTTP/2 (NodeHttp2Handler, TLS + ALPN h2) against the project’s SubscribeToShard server', () => {
  it('streams that end after a few events, or after some time (AWS: 5 minutes), are resubscribed from the continuation: nothing lost, nothing twice', async () => {
    const s = await server({ maxRecordsPerEvent: 10 });
    s.putRecords(SHARD, keyed(100, 5));
    s.plan(SHARD, { kind: 'end', afterEvents: 2 }, { kind: 'end', afterEvents: 3 }, { kind: 'end', afterMs: 300 });
    const h = fetcher(s);
    const first = await read(h.fetcher, 100);
    // The third stream ends 300 ms after it opened (by time, as AWS after 5 minutes), with the reader waiting at the tip.
    await waitFor(() => h.reasons.length === 4, { timeoutMs: 10_000, intervalMs: 20, message: 'the fourth subscription' });
    s.putRecords(SHARD, keyed(100, 5, 100));
    const second = await read(h.fetcher, 100);
    expectExactlyOnceInOrder([...first.texts, ...second.texts], 200, 5);
    expect(h.reasons).toEqual(['initial', 'stream-ended', 'stream-ended', 'stream-ended']);
    const served = s.subscriptions;
    expect(served.slice(0, 3).map((x) => x.outcome)).toEqual(['ended', 'ended', 'ended']);
    expect(first.batches.every((b) => typeof b.receivedAt === 'number')).toBe(true);
    expect(served[0]!.position).toBe('TRIM_HORIZON');
    // Each resubscription starts right after the last record the previous stream delivered.
    expect(served[1]!.position).toBe(`AFTER_SEQUENCE_NUMBER:${first.batches[1]!.records.at(-1)!.sequenceNumber}`);
    expect(served.slice(1).every((x) => x.position.startsWith('AFTER_SEQUENCE_NUMBER:'))).toBe(true);
  });

  it.each([
    ['an exception event mid-stream', { kind: 'exception', afterEvents: 2, error: 'InternalFailureException' }],
    // The server ends the stream after GOAWAY: the SDK reports a normal end, and the next subscription opens a new connection.
    ['GOAWAY on the connection', { kind: 'goaway', afterEvents: 2 }],
    ['a reset connection', { kind: 'reset', afterEvents: 2 }],
  ] as const)('%s: resubscribes from the last event received, nothing lost or duplicated', async (_name, plan) => {
    const s = await server({ maxRecordsPerEvent: 10 });
    s.putRecords(SHARD, keyed(60, 3));
    s.plan(SHARD, plan, plan);
    const h = fetcher(s);
    const { texts } = await read(h.fetcher, 60);
    s.putRecords(SHARD, keyed(60, 3, 60));
    const more = await read(h.fetcher, 60);
    expectExactlyOnceInOrder([...texts, ...more.texts], 120, 3);
    expect(s.subscriptions.slice(0, 2).map((x) => x.outcome)).toEqual([plan.kind, plan.kind]);
    expect(h.fetcher.stats.subscribeCalls).toBeGreaterThanOrEqual(3);
    // A reset may reach the client before the SDK resolved the call (then the call is retried);
    // an exception event fails the open stream; GOAWAY ends it.
    if (plan.kind === 'exception') expect(h.reasons.slice(0, 3)).toEqual(['initial', 'stream-failed', 'stream-failed']);
    if (plan.kind === 'goaway') expect(h.reasons.slice(0, 3)).toEqual(['initial', 'stream-ended', 'stream-ended']);
  });

  it('ResourceInUseException on a second subscribe within 5 s is waited out, then the shard is read on', async () => {
    // The AWS rule: no new subscription of a consumer to a shard within the window of the last one.
    const s = await server({ maxRecordsPerEvent: 10, resubscribeWindowMs: 2_500 });
    s.putRecords(SHARD, keyed(40, 4));
    s.plan(SHARD, { kind: 'end', afterEvents: 1 });
    const h = fetcher(s);
    const { texts } = await read(h.fetcher, 40);
    expectExactlyOnceInOrder(texts, 40, 4);
    const rejected = s.subscriptions.filter((x) => x.outcome === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((x) => x.error === 'ResourceInUseException')).toBe(true);
    expect(h.counts.resourceInUse).toBe(rejected.length);
    expect(h.fetcher.stats.resourceInUse).toBe(rejected.length);
  });

  it('a later subscription takes over: the earlier stream ends with a ResourceInUseException event and gets none of the records that follow', async () => {
    const s = await server({ maxRecordsPerEvent: 10 });
    s.putRecords(SHARD, keyed(10, 2));
    const zombie = fetcher(s, {}, http2Client(s, 'zombie'));
    expect((await read(zombie.fetcher, 10)).texts).toHaveLength(10);
    const owner = fetcher(s, {}, http2Client(s, 'owner'));
    expect((await read(owner.fetcher, 10)).texts).toHaveLength(10);
    const first = s.subscriptions[0]!;
    expect(first.userAgent).toContain('zombie');
    expect(first.outcome).toBe('taken-over');
    // Counted as ResourceInUse, not as throttling.
    await waitFor(() => zombie.counts.resourceInUse === 1, { timeoutMs: 10_000, intervalMs: 10, message: 'the takeover counted as ResourceInUse' });
    expect(zombie.counts.limitExceeded).toBe(0);
    expect(zombie.fetcher.stats.throttled).toBe(0);
    await zombie.fetcher.stop();
    s.putRecords(SHARD, keyed(10, 2, 10));
    expect((await read(owner.fetcher, 10)).texts).toHaveLength(10);
    expect(first.recordsSent).toBe(10);
  });

  it('LimitExceededException is retried with backoff and counted', async () => {
    const s = await server();
    s.putRecords(SHARD, keyed(20, 2));
    s.plan(SHARD, { kind: 'reject', error: 'LimitExceededException' }, { kind: 'reject', error: 'LimitExceededException' });
    const h = fetcher(s);
    const { texts } = await read(h.fetcher, 20);
    expectExactlyOnceInOrder(texts, 20, 2);
    expect(h.counts.limitExceeded).toBe(2);
    expect(h.fetcher.stats.throttled).toBe(2);
    expect(s.subscriptions.map((x) => x.outcome).slice(0, 3)).toEqual(['rejected', 'rejected', 'open']);
  });

  it('a slow reader: the fetcher holds at most its prefetch bound and HTTP/2 flow control holds the server back', async () => {
    // 20 KiB records, 4 per event (80 KiB): more than the HTTP/2 stream window in 2 events.
    const s = await server({ maxRecordsPerEvent: 4 });
    s.putRecords(SHARD, keyed(400, 4, 0, 20_000));
    const h = fetcher(s, { prefetchMaxBatches: 2 });
    h.fetcher.start();
    const first = await read(h.fetcher, 1);
    // The reader stops: wait until the server cannot write any more.
    const sent = await heldBack(() => s.subscriptions.slice(0, 1), 'the server is held back by flow control');
    // Read: 1 batch; queued: at most 2; in HTTP/2 and socket buffers: a few events of 80 KiB.
    expect(sent).toBeLessThanOrEqual(1 + 2 + 4);
    expect(sent).toBeLessThan(100);
    const rest = await read(h.fetcher, 400 - first.texts.length, 60_000);
    expectExactlyOnceInOrder([...first.texts, ...rest.texts], 400, 4);
  });

  it('the final event with ChildShards and no continuation is the shard-end batch', async () => {
    const s = await server({ maxRecordsPerEvent: 10 });
    s.putRecords(SHARD, keyed(30, 3));
    const children = [
      { ShardId: 'shardId-000000000001', ParentShards: [SHARD], HashKeyRange: { StartingHashKey: '0', EndingHashKey: '170141183460469231731687303715884105727' } },
      { ShardId: 'shardId-000000000002', ParentShards: [SHARD], HashKeyRange: { StartingHashKey: '170141183460469231731687303715884105728', EndingHashKey: '340282366920938463463374607431768211455' } },
    ];
    s.endShard(SHARD, children);
    const h = fetcher(s);
    const { texts, batches } = await read(h.fetcher, 31);
    expectExactlyOnceInOrder(texts, 30, 3);
    const last = batches.at(-1)!;
    expect(last.shardEnded).toBe(true);
    expect(last.childShards?.map((c) => c.shardId)).toEqual(['shardId-000000000001', 'shardId-000000000002']);
    expect(last.childShards?.[0]?.parentShards).toEqual([SHARD]);
    await expect(h.fetcher.next()).rejects.toThrow(/has ended/);
    expect(s.subscriptions[0]!.outcome).toBe('shard-end');
  });

  it('stop() cancels the HTTP/2 stream at once: the server sees the client cancel it', async () => {
    const s = await server();
    s.putRecords(SHARD, keyed(5, 1));
    const h = fetcher(s);
    await read(h.fetcher, 5);
    await h.fetcher.stop();
    await waitFor(() => s.subscriptions[0]!.outcome !== 'open', { timeoutMs: 10_000, intervalMs: 20, message: 'the server saw the stream closed' });
    expect(s.subscriptions[0]!.outcome).toBe('cancelled');
  });
});

describe('fan-out Workers over HTTP/2 (the server forwards all but SubscribeToShard to the Kinesis Mock)', () => {
  const mock = stack.kinesisClient();
  const dynamo = stack.dynamoDbClient();
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    mock.destroy();
    dynamo.destroy();
  });

  function worker(s: SubscribeToShardServer, app: string, stream: string, journal: Journal, workerId: string, extra: Partial<WorkerOptions> = {}): Worker {
    const w = makeWorker(app, stream, journal, mergeOptions({ workerId, retrieval: { mode: 'fanout' }, kinesisClient: http2Client(s, `worker-${workerId}`) }, extra));
    workers.push(w);
    return w;
  }

  async function shardsOf(stream: string): Promise<Shard[]> {
    return (await mock.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  }

  it('the final event with ChildShards goes through the shard-end path of polling: shardEnded, SHARD_END, then the children', async () => {
    const s = await server({ upstream: stack.kinesisEndpoint, maxRecordsPerEvent: 25 });
    const stream = uniqueName('h2-end');
    await createStream(mock, stream, 1);
    const [parent] = await shardsOf(stream);
    const start = BigInt(parent!.HashKeyRange!.StartingHashKey!);
    const end = BigInt(parent!.HashKeyRange!.EndingHashKey!);
    await mock.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: parent!.ShardId!, NewStartingHashKey: ((start + end) / 2n).toString() }));
    await waitFor(async () => (await shardsOf(stream)).length === 3, { timeoutMs: 30_000, message: 'the split children listed' });
    const children = (await shardsOf(stream)).filter((x) => x.ParentShardId === parent!.ShardId);
    // Keys 0..3 on the parent, then on the children (each key on one child): order across the reshard.
    s.putRecords(parent!.ShardId!, keyed(100, 4));
    s.putRecords(children[0]!.ShardId!, keyed(50, 2, 100));
    s.endShard(
      parent!.ShardId!,
      children.map((c) => ({ ShardId: c.ShardId!, ParentShards: [parent!.ShardId!], HashKeyRange: { StartingHashKey: c.HashKeyRange!.StartingHashKey!, EndingHashKey: c.HashKeyRange!.EndingHashKey! } })),
    );
    const journal = new Journal();
    const samples: { name: string; value: number; shardId: string | undefined }[] = [];
    const w = worker(s, uniqueName('h2-end-app'), stream, journal, 'e1', {
      metrics: { publisher: { publish: () => undefined, record: (m: { name: string; value: number; dimensions: { ShardId?: string } }) => samples.push({ name: m.name, value: m.value, shardId: m.dimensions.ShardId }) } },
    });

    await w.start();
    await waitFor(() => journal.seen.length === 150, { timeoutMs: 45_000, message: 'the parent’s 100 and the child’s 50 records processed' });
    expect(journal.duplicates()).toBe(0);
    expect(journal.ended.get(parent!.ShardId!)).toBe(100); // shardEnded ran after the parent's 100 records
    const firstChildRecord = journal.seen.findIndex((x) => x.shardId === children[0]!.ShardId);
    expect(firstChildRecord).toBe(100);
    await waitFor(() => w.leases().some((l) => l.leaseKey === parent!.ShardId && l.checkpoint.sequenceNumber === 'SHARD_END'), { timeoutMs: 20_000, message: 'the parent lease at SHARD_END' });
    // The parent's subscription ended on the final event, not by the shard-end probe.
    expect(s.subscriptions.find((x) => x.shardId === parent!.ShardId)?.outcome).toBe('shard-end');
    // Metrics: one DeliveryLatency (event arrival → processRecords) per batch, the subscriptions by reason.
    const named = (name: string): typeof samples => samples.filter((m) => m.name === name);
    await waitFor(() => named('RecordsProcessed').reduce((n, m) => n + m.value, 0) === 150, { timeoutMs: 10_000, message: 'RecordsProcessed counts 150' });
    expect(named('DeliveryLatency')).toHaveLength(named('RecordsProcessed').length);
    expect(named('DeliveryLatency').every((m) => m.value >= 0)).toBe(true);
    expect(named('SubscribeToShard.Reason.initial').map((m) => m.shardId).sort()).toEqual([parent!.ShardId, children[0]!.ShardId, children[1]!.ShardId].sort());
  }, 90_000);

  it('slow processors: the worker-wide prefetch budget bounds what every shard’s event stream may bring in; HTTP/2 flow control holds the server back', async () => {
    const s = await server({ upstream: stack.kinesisEndpoint, maxRecordsPerEvent: 4 });
    const stream = uniqueName('h2-budget');
    await createStream(mock, stream, 2);
    const ids = (await shardsOf(stream)).map((x) => x.ShardId!);
    // 20 KB records, 4 per event (80 KB events): 50 events per shard are ready to be pushed.
    for (const [i, id] of ids.entries()) s.putRecords(id, keyed(200, 4, 0, 20_000).map((r) => ({ ...r, partitionKey: `${r.partitionKey}-${i}` })));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const processed = new Map<string, number>();
    const w = worker(s, uniqueName('h2-budget-app'), stream, new Journal(), 'bg', {
      retrieval: { prefetchMaxBatches: 1_000, prefetchMaxBytesPerWorker: 250_000 }, // only the worker-wide budget bounds the queues
      processorFactory: (shardId) => ({
        initialize() {},
        async processRecords({ records }) {
          await gate;
          processed.set(shardId, (processed.get(shardId) ?? 0) + records.length);
        },
      }),
    });
    await w.start();
    await waitFor(() => ids.every((id) => s.open(id).length > 0), { timeoutMs: 30_000, message: 'both shards subscribed' });
    const sent = await heldBack(() => ids.flatMap((id) => s.open(id)), 'both event streams held back by flow control');
    // Budget: 250 KB = 3 events in the queues, plus per shard the batch in processRecords and a few events in the HTTP/2 window and buffers.
    expect(sent).toBeLessThanOrEqual(3 + 2 * (1 + 4));
    expect(sent).toBeLessThan(100);
    release();
    await waitFor(() => ids.every((id) => processed.get(id) === 200), { timeoutMs: 60_000, message: 'every record processed once the processors run' });
  }, 90_000);

  it('lease loss closes the subscription at once, even while processRecords is still busy with a batch', async () => {
    const s = await server({ upstream: stack.kinesisEndpoint, takeover: false });
    const stream = uniqueName('h2-busy');
    await createStream(mock, stream, 1);
    const [shard] = await shardsOf(stream);
    const shardId = shard!.ShardId!;
    s.putRecords(shardId, keyed(10, 2));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let busy = false;
    const seen: number[] = [];
    const journal = new Journal();
    const w = worker(s, uniqueName('h2-busy-app'), stream, journal, 'bz', {
      processorFactory: () => ({
        initialize() {},
        async processRecords({ records }) {
          seen.push(records.length);
          busy = true;
          await gate; // a slow processor that ignores its signal
        },
      }),
    });
    await w.start();
    await waitFor(() => busy, { timeoutMs: 30_000, message: 'processRecords is busy with the first batch' });
    // Another owner takes the lease in the table (as a peer taking an expired lease would).
    const table = w.config.leaseTable.tableName;
    await dynamo.send(new UpdateItemCommand({ TableName: table, Key: { leaseKey: { S: shardId } }, UpdateExpression: 'SET leaseOwner = :o ADD leaseCounter :one', ExpressionAttributeValues: { ':o': { S: 'intruder' }, ':one': { N: '1' } } }));
    await waitFor(() => !w.heldShards().includes(shardId), { timeoutMs: 20_000, message: 'the worker noticed the lost lease' });
    // The stream closes while processRecords is still blocked.
    await waitFor(() => s.subscriptions.filter((x) => x.shardId === shardId).every((x) => x.outcome !== 'open'), { timeoutMs: 10_000, message: 'the subscription closed while processRecords is busy' });
    expect(s.subscriptions.filter((x) => x.shardId === shardId).map((x) => x.outcome)).toEqual(['cancelled']);
    s.putRecords(shardId, keyed(10, 2, 10));
    release();
    await w.shutdown();
    expect(seen).toEqual([10]); // nothing delivered after the loss
  }, 60_000);

  it('lease loss cancels the subscription, and the zombie’s stream delivers nothing to the processor that lost the lease', async () => {
    // No takeover by the server: only the library can close the old owner's stream.
    const s = await server({ upstream: stack.kinesisEndpoint, takeover: false });
    const stream = uniqueName('h2-steal');
    await createStream(mock, stream, 2);
    const ids = (await shardsOf(stream)).map((x) => x.ShardId!);
    const put = (offset: number): void => {
      for (const [i, id] of ids.entries()) s.putRecords(id, keyed(50, 5, offset).map((r) => ({ ...r, partitionKey: `${r.partitionKey}-${i}`, data: String(r.data).replace(/"k":"key-(\d)"/, `"k":"key-$1-${i}"`) })));
    };
    const journal = new Journal();
    const app = uniqueName('h2-steal-app');
    const a = worker(s, app, stream, journal, 'za', { leases: { gracefulHandoff: false } });
    await a.start();
    put(0);
    await waitFor(() => journal.distinct().size === 100 && a.heldShards().length === 2, { timeoutMs: 30_000, message: 'a holds both shards and read 100' });
    const b = worker(s, app, stream, journal, 'zb', { leases: { gracefulHandoff: false } });
    await b.start();
    await waitFor(() => b.heldShards().length === 1 && a.heldShards().length === 1, { timeoutMs: 30_000, message: 'b stole one lease' });
    const stolen = b.heldShards()[0]!;
    expect(journal.events).toContain(`lost za ${stolen}`);
    // The old owner's stream of the stolen shard is closed by the library (the server would go on pushing).
    await waitFor(() => s.subscriptions.filter((x) => x.shardId === stolen && x.userAgent.includes('worker-za')).every((x) => x.outcome !== 'open'), {
      timeoutMs: 20_000,
      message: 'a’s subscription of the stolen shard closed',
    });
    const zombieStreams = s.subscriptions.filter((x) => x.shardId === stolen && x.userAgent.includes('worker-za'));
    expect(zombieStreams.every((x) => x.outcome === 'cancelled')).toBe(true);
    const seenByABefore = journal.seen.filter((x) => x.shardId === stolen && x.workerId === 'za').length;
    put(50);
    await waitFor(() => journal.distinct().size === 200, { timeoutMs: 45_000, message: 'all 200 processed' });
    expect(journal.seen.filter((x) => x.shardId === stolen && x.workerId === 'za')).toHaveLength(seenByABefore);
    expect(s.subscriptions.filter((x) => x.shardId === stolen && x.userAgent.includes('worker-za')).every((x) => x.outcome !== 'open')).toBe(true);
    expect(journal.orderViolations()).toEqual([]);
  }, 90_000);
});
