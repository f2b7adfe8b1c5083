/**
 * Enhanced fan-out against the Kinesis Mock (kinesis-local 0.6.2) over HTTP/1.1: Workers in
 * fan-out mode, registration, resubscription, failover and two applications on one stream.
 */
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  ListStreamConsumersCommand,
  SplitShardCommand,
  SubscribeToShardCommand,
  type Shard,
  type SubscribeToShardCommandOutput,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { FanOutRecordsFetcher, registerStreamConsumer, resolveRetrievalConfig, type Worker, type WorkerOptions } from '../src/index.js';
import { Journal, makeWorker, mergeOptions, putKeyed, testStack, uniqueName } from './helpers.js';

const stack = testStack();
const kinesis = stack.kinesisClient(); // the Kinesis Mock (kinesalite has no SubscribeToShard)
const workers: Worker[] = [];
const fetchers: FanOutRecordsFetcher[] = [];
afterAll(async () => {
  await Promise.all(fetchers.map((f) => f.stop()));
  await Promise.all(workers.map((w) => w.shutdown()));
  kinesis.destroy();
});

function fanOutWorker(app: string, stream: string, journal: Journal, workerId: string, extra: Partial<WorkerOptions> = {}): Worker {
  const w = makeWorker(app, stream, journal, mergeOptions({ workerId, retrieval: { mode: 'fanout' } }, extra));
  workers.push(w);
  return w;
}

async function shards(stream: string): Promise<Shard[]> {
  return (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
}

async function streamArn(stream: string): Promise<string> {
  return (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
}

async function active(stream: string): Promise<boolean> {
  const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  return s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
}

/** No record of a child before the last record of each of its parents. */
function expectParentsFirst(journal: Journal, all: readonly Shard[]): void {
  for (const shard of all) {
    const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => Boolean(p));
    const firstOfChild = journal.seen.findIndex((s) => s.shardId === shard.ShardId);
    if (parents.length === 0 || firstOfChild < 0) continue;
    for (const parent of parents) {
      const lastOfParent = journal.seen.map((s) => s.shardId).lastIndexOf(parent);
      expect(lastOfParent, `${shard.ShardId} started before ${parent} finished`).toBeLessThan(firstOfChild);
    }
  }
}

describe('enhanced fan-out on the Kinesis Mock', () => {
  it('a fan-out Worker processes every record of a 2-shard stream in per-key order', async () => {
    const stream = uniqueName('fo-basic');
    const app = uniqueName('fo-basic-app');
    await createStream(kinesis, stream, 2);
    const journal = new Journal();
    const worker = fanOutWorker(app, stream, journal, 'f1');
    await worker.start();
    await putKeyed(kinesis, stream, 600, 30);
    await waitFor(() => journal.distinct().size === 600, { timeoutMs: 45_000, message: 'all 600 records processed' });
    expect(journal.orderViolations()).toEqual([]);
    expect(journal.duplicates()).toBe(0);
    const consumers = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: await streamArn(stream) }));
    expect(consumers.Consumers?.map((c) => c.ConsumerName)).toEqual([app]);
    await worker.shutdown();
    // Never deregistered on shutdown.
    const after = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: await streamArn(stream) }));
    expect(after.Consumers?.map((c) => c.ConsumerName)).toEqual([app]);
  });

  it('a fan-out Worker starting at LATEST (resolved to AT_TIMESTAMP) reads what is put after it started, not before', async () => {
    const stream = uniqueName('fo-latest');
    const app = uniqueName('fo-latest-app');
    await createStream(kinesis, stream, 1);
    await putKeyed(kinesis, stream, 20, 4); // before the start: not read
    const journal = new Journal();
    const worker = fanOutWorker(app, stream, journal, 'l1', { initialPosition: 'LATEST' });
    await worker.start();
    await waitFor(() => journal.events.some((e) => e.startsWith('init l1')), { timeoutMs: 20_000, message: 'the shard consumer initialized' });
    await waitFor(() => worker.leases().some((l) => l.checkpoint.sequenceNumber === 'AT_TIMESTAMP'), { timeoutMs: 20_000, message: 'LATEST resolved to AT_TIMESTAMP' });
    await putKeyed(kinesis, stream, 40, 4, 20);
    await waitFor(() => journal.distinct().size === 40, { timeoutMs: 30_000, message: 'the 40 records put after the start processed' });
    // Each key's records #5..#14 (put after the start), in order; #0..#4 (before) never.
    for (let k = 0; k < 4; k++) expect(journal.seen.filter((s) => s.key === `key-${k}`).map((s) => s.n)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('registration is idempotent: two workers starting at once share one ACTIVE consumer', async () => {
    const stream = uniqueName('fo-reg');
    await createStream(kinesis, stream, 1);
    const name = uniqueName('fo-reg-consumer');
    const [a, b] = await Promise.all([
      registerStreamConsumer({ kinesisClient: kinesis, stream: { streamName: stream }, consumerName: name, timeoutMs: 30_000 }),
      registerStreamConsumer({ kinesisClient: kinesis, stream: { streamName: stream }, consumerName: name, timeoutMs: 30_000 }),
    ]);
    expect(a.consumerArn).toBe(b.consumerArn);
    const again = await registerStreamConsumer({ kinesisClient: kinesis, stream: { streamArn: a.streamArn }, consumerName: name, timeoutMs: 30_000 });
    expect(again.consumerArn).toBe(a.consumerArn);
    const consumers = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: a.streamArn }));
    expect(consumers.Consumers).toHaveLength(1);
  });

  it('resubscribes after the event stream ends, with no gap and no duplicate', async () => {
    const stream = uniqueName('fo-resub');
    await createStream(kinesis, stream, 1);
    const { consumerArn } = await registerStreamConsumer({ kinesisClient: kinesis, stream: { streamName: stream }, consumerName: 'resub', timeoutMs: 30_000 });
    const [shard] = await shards(stream);
    // Ends every event stream after its first event with records (or its second event), as AWS
    // does after 5 minutes: every wave of records is read across a resubscription.
    const positions: string[] = [];
    const ending = {
      async send(command: SubscribeToShardCommand, options?: { abortSignal?: AbortSignal }): Promise<SubscribeToShardCommandOutput> {
        positions.push(`${command.input.StartingPosition?.Type}:${command.input.StartingPosition?.SequenceNumber ?? ''}`);
        const out = await kinesis.send(command, options);
        const inner = out.EventStream!;
        async function* firstTwo(): AsyncGenerator<SubscribeToShardEventStream> {
          let n = 0;
          for await (const event of inner) {
            yield event;
            if (++n === 2 || (event.SubscribeToShardEvent?.Records?.length ?? 0) > 0) return;
          }
        }
        return { ...out, EventStream: firstTwo() };
      },
    };
    const subscribed: string[] = [];
    const f = new FanOutRecordsFetcher({
      kinesisClient: ending,
      consumerArn,
      shardId: shard!.ShardId!,
      start: { checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } },
      config: resolveRetrievalConfig({ prefetchMaxBatches: 2 }),
      listener: { subscribed: (reason) => subscribed.push(reason) },
    });
    fetchers.push(f);
    const texts: string[] = [];
    const deadline = AbortSignal.timeout(45_000);
    let put = 0;
    // Records arrive in several waves, so several event streams carry records.
    for (let wave = 0; wave < 4; wave++) {
      await putKeyed(kinesis, stream, 25, 5, put);
      put += 25;
      while (texts.length < put) {
        const batch = await f.next(deadline);
        texts.push(...batch.records.map((r) => Buffer.from(r.data).toString()));
      }
    }
    const seen = texts.map((t) => JSON.parse(t) as { k: string; n: number });
    expect(new Set(texts).size).toBe(texts.length); // no duplicate
    expect(texts).toHaveLength(100); // no gap
    for (let i = 0; i < 5; i++) expect(seen.filter((s) => s.k === `key-${i}`).map((s) => s.n)).toEqual([...Array(20).keys()]);
    expect(subscribed.filter((r) => r === 'stream-ended').length).toBeGreaterThanOrEqual(3);
    expect(positions[0]).toBe('TRIM_HORIZON:');
    expect(positions.slice(1).every((p) => p.startsWith('AFTER_SEQUENCE_NUMBER:'))).toBe(true);
    await f.stop();
  });

  it('a fan-out Worker whose event streams end every few events processes every record once, in order, and counts the resubscriptions', async () => {
    const stream = uniqueName('fo-worker-resub');
    const app = uniqueName('fo-worker-resub-app');
    await createStream(kinesis, stream, 2);
    // The Worker's client: every SubscribeToShard event stream ends after 3 events (AWS: 5 minutes).
    const ending = {
      config: kinesis.config,
      async send(command: Parameters<typeof kinesis.send>[0], options?: { abortSignal?: AbortSignal }): Promise<unknown> {
        const out = (await kinesis.send(command as never, options as never)) as SubscribeToShardCommandOutput;
        if (!(command instanceof SubscribeToShardCommand)) return out;
        const inner = out.EventStream!;
        async function* firstThree(): AsyncGenerator<SubscribeToShardEventStream> {
          let n = 0;
          for await (const event of inner) {
            yield event;
            if (++n === 3) return;
          }
        }
        return { ...out, EventStream: firstThree() };
      },
    } as unknown as typeof kinesis;
    const samples: { name: string; value: number }[] = [];
    const journal = new Journal();
    const worker = fanOutWorker(app, stream, journal, 'rs', {
      kinesisClient: ending,
      metrics: { publisher: { publish: () => undefined, record: (sample: { name: string; value: number }) => samples.push({ name: sample.name, value: sample.value }) } },
    });
    await worker.start();
    let put = 0;
    for (let wave = 0; wave < 4; wave++) {
      await putKeyed(kinesis, stream, 100, 20, put);
      put += 100;
      await waitFor(() => journal.distinct().size === put, { timeoutMs: 30_000, message: `${put} records processed` });
    }
    expect(journal.duplicates()).toBe(0);
    expect(journal.orderViolations()).toEqual([]);
    const count = (name: string): number => samples.filter((m) => m.name === name).reduce((n, m) => n + m.value, 0);
    expect(count('SubscribeToShard.Reason.initial')).toBe(2);
    expect(count('SubscribeToShard.Reason.stream-ended')).toBeGreaterThanOrEqual(2);
    expect(count('SubscribeToShard.Success')).toBe(count('SubscribeToShard.Reason.initial') + count('SubscribeToShard.Reason.stream-ended') + count('SubscribeToShard.Reason.stream-failed') + count('SubscribeToShard.Reason.resumed'));
    // Recorded once processRecords returned (after the journal saw the records).
    await waitFor(() => count('RecordsProcessed') === 400, { timeoutMs: 10_000, message: 'RecordsProcessed counts 400' });
  });

  it('graceful handoff: a peer continues from the checkpoint with no duplicates', async () => {
    const stream = uniqueName('fo-handoff');
    const app = uniqueName('fo-handoff-app');
    await createStream(kinesis, stream, 2);
    const journal = new Journal();
    const a = fanOutWorker(app, stream, journal, 'ha');
    await a.start();
    await putKeyed(kinesis, stream, 200, 20);
    await waitFor(() => journal.distinct().size === 200, { timeoutMs: 30_000, message: 'first 200 processed by a' });
    const b = fanOutWorker(app, stream, journal, 'hb');
    await b.start();
    await a.shutdown();
    await putKeyed(kinesis, stream, 200, 20, 200);
    await waitFor(() => journal.distinct().size === 400, { timeoutMs: 45_000, message: 'all 400 processed' });
    expect(journal.seen.filter((s) => s.n >= 10).every((s) => s.workerId === 'hb')).toBe(true);
    expect(journal.duplicates()).toBe(0);
    expect(journal.orderViolations()).toEqual([]);
  });

  it('a lease stolen without handoff closes the old owner’s subscription: the new owner subscribes and reads on', async () => {
    const stream = uniqueName('fo-steal');
    const app = uniqueName('fo-steal-app');
    await createStream(kinesis, stream, 2);
    const journal = new Journal();
    const a = fanOutWorker(app, stream, journal, 'sa', { leases: { gracefulHandoff: false } });
    await a.start();
    await putKeyed(kinesis, stream, 100, 10);
    await waitFor(() => journal.distinct().size === 100 && a.heldShards().length === 2, { timeoutMs: 30_000, message: 'a holds both shards and read 100' });
    const b = fanOutWorker(app, stream, journal, 'sb', { leases: { gracefulHandoff: false } });
    await b.start();
    await waitFor(() => b.heldShards().length === 1 && a.heldShards().length === 1, { timeoutMs: 30_000, message: 'b stole one lease' });
    const stolen = b.heldShards()[0]!;
    await putKeyed(kinesis, stream, 100, 10, 100);
    await waitFor(() => journal.distinct().size === 200, { timeoutMs: 45_000, message: 'all 200 processed' });
    expect(journal.orderViolations()).toEqual([]);
    // After the steal, the stolen shard's new records were read by b only: a's stream was closed.
    expect(journal.seen.filter((s) => s.shardId === stolen && s.n >= 10).every((s) => s.workerId === 'sb')).toBe(true);
    expect(journal.events).toContain(`lost sa ${stolen}`);
  });

  it('two applications on one stream at once, one fan-out and one polling, both complete with their own leases', async () => {
    const stream = uniqueName('fo-two-apps');
    await createStream(kinesis, stream, 2);
    const fanJournal = new Journal();
    const pollJournal = new Journal();
    const fan = fanOutWorker(uniqueName('fo-app-fan'), stream, fanJournal, 'fan');
    const poll = makeWorker(uniqueName('fo-app-poll'), stream, pollJournal, { workerId: 'poll' });
    workers.push(poll);
    await Promise.all([fan.start(), poll.start()]);
    await putKeyed(kinesis, stream, 300, 15);
    await waitFor(() => fanJournal.distinct().size === 300 && pollJournal.distinct().size === 300, { timeoutMs: 45_000, message: 'both applications processed all 300' });
    expect(fanJournal.orderViolations()).toEqual([]);
    expect(pollJournal.orderViolations()).toEqual([]);
    expect(fan.heldShards()).toHaveLength(2);
    expect(poll.heldShards()).toHaveLength(2);
    expect(fan.config.leaseTable.tableName).not.toBe(poll.config.leaseTable.tableName);
  });

  it('a fleet of 3 fan-out workers follows a split under load: nothing lost, per-key order, no child before its parents', async () => {
    const stream = uniqueName('fo-fleet');
    const app = uniqueName('fo-fleet-app');
    await createStream(kinesis, stream, 2);
    const journal = new Journal();
    const fleet = ['x1', 'x2', 'x3'].map((id) => fanOutWorker(app, stream, journal, id));
    await Promise.all(fleet.map((w) => w.start()));
    let put = 0;
    const produce = async (n: number): Promise<void> => {
      await putKeyed(kinesis, stream, n, 40, put);
      put += n;
    };
    await produce(300);
    const [first] = await shards(stream);
    const start = BigInt(first!.HashKeyRange!.StartingHashKey!);
    const end = BigInt(first!.HashKeyRange!.EndingHashKey!);
    const splitting = kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: first!.ShardId!, NewStartingHashKey: ((start + end) / 2n).toString() }));
    await produce(200); // under load while the split happens
    await splitting;
    await waitFor(() => active(stream), { timeoutMs: 30_000, message: 'stream ACTIVE after split' });
    await produce(300);
    await waitFor(() => journal.distinct().size === put, { timeoutMs: 90_000, message: `all ${put} records processed` });
    expect(journal.orderViolations()).toEqual([]);
    expect(journal.ended.has(first!.ShardId!)).toBe(true);
    expectParentsFirst(journal, await shards(stream));
  }, 150_000);
});
