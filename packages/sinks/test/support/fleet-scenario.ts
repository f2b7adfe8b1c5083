/**
 * The end-to-end proof every sink runs, inside a Worker fleet on the embedded stack:
 *
 * 1. two workers share a 2-shard stream and write through the sink;
 * 2. graceful handoff mid-buffer: records are buffered (not yet flushed) when w1 shuts down;
 *    its shutdownRequested flushes and checkpoints, w2 takes the shard over — and no record is
 *    written twice (counted across every flush of the fleet);
 * 3. kill -9 mid-flush: w3 joins (a graceful steal), then w2's next flush writes half of its
 *    items and w2 "dies" (every connection it has is cut and blackholed, so it stops renewing);
 *    w3 fails over and redelivers from the last checkpoint. The sink then holds every record
 *    exactly once by key, and nothing is lost.
 *
 * The processors run on a FakeClock so the test decides when an age flush happens.
 */
import type { KinesisClientRecord } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { Worker } from '@kcl-ts/kcl';
import { expect } from 'vitest';
import { createLocalDynamoDbClient, createLocalKinesisClient } from '../../../local/src/index.js';
import { FAST } from '../../../kcl/test/helpers.js';
import { createStream, putRecords, testStack, uniqueName, waitFor } from '../../../../test-support/stack.js';
import { batchingProcessorFactory, recordId, type FlushReport, type Sink, type SinkBatch, type SinkWriteContext } from '../../src/index.js';
import { startBlackholeProxy, type BlackholeProxy } from './blackhole-proxy.js';

/** A test record's payload. */
export interface Payload {
  readonly k: string;
  readonly n: number;
}

/** What the scenario needs from one sink. */
export interface SinkKit<T> {
  /** The sink server's endpoint (each worker reaches it through its own proxy). */
  readonly upstream: string;
  /** A sink (and its client) for one worker, talking to `endpoint`. */
  sink(endpoint: string): { sink: Sink<T>; close(): void };
  /** Builds the stored item of a record. */
  item(payload: Payload, id: string, record: KinesisClientRecord): T;
  /** `k#n` of every record the sink holds, once per stored copy. */
  stored(): Promise<string[]>;
}

/** Writes half of the first flush after `arm()` through the real sink, then calls `trip` ("the process dies") and hangs in the rest. */
class Tripwire<T> implements Sink<T> {
  armed = false;
  tripped = false;
  constructor(
    private readonly inner: Sink<T>,
    private readonly trip: () => void,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async write(batch: SinkBatch<T>, context: SinkWriteContext): Promise<void> {
    if (this.armed && !this.tripped && batch.entries.length >= 2) {
      this.tripped = true;
      await this.inner.write({ ...batch, entries: batch.entries.slice(0, Math.floor(batch.entries.length / 2)) }, context);
      this.trip();
    }
    await this.inner.write(batch, context);
  }

  classifyError(error: unknown): ReturnType<NonNullable<Sink<T>['classifyError']>> {
    return this.inner.classifyError?.(error) ?? 'transient';
  }
}

interface Member<T> {
  readonly id: string;
  readonly worker: Worker;
  readonly tripwire: Tripwire<T>;
  readonly proxies: BlackholeProxy[];
  close(): Promise<void>;
}

const key = (p: Payload): string => `${p.k}#${p.n}`;

/** Runs the scenario for `kit`; fails the test on any lost or duplicated record. */
export async function runFleetScenario<T>(kit: SinkKit<T>): Promise<void> {
  const stack = testStack();
  const kinesis = stack.kinesisClient();
  const stream = uniqueName('sink-fleet');
  const app = uniqueName('sink-fleet-app');
  const clock = new FakeClock(0, Date.now());
  const reports: Array<FlushReport & { worker: string }> = [];
  const transformed = new Set<string>();
  const members: Member<T>[] = [];

  const start = async (id: string): Promise<Member<T>> => {
    const proxies = await Promise.all([stack.kinesisEndpoint, stack.dynamoDbEndpoint, kit.upstream].map((target) => startBlackholeProxy(target)));
    const [kinesisProxy, dynamoProxy, sinkProxy] = proxies as [BlackholeProxy, BlackholeProxy, BlackholeProxy];
    const target = { region: stack.region, credentials: stack.credentials };
    const kinesisClient = createLocalKinesisClient({ ...target, endpoint: kinesisProxy.endpoint });
    const dynamoDbClient = createLocalDynamoDbClient({ ...target, endpoint: dynamoProxy.endpoint });
    const { sink, close } = kit.sink(sinkProxy.endpoint);
    const tripwire = new Tripwire(sink, () => proxies.forEach((p) => p.freeze()));
    const worker = new Worker({
      ...FAST,
      applicationName: app,
      streamName: stream,
      workerId: id,
      kinesisClient,
      dynamoDbClient,
      initialPosition: 'TRIM_HORIZON',
      processorFactory: batchingProcessorFactory<T>({
        sink: tripwire,
        transform: (record, { shardId }) => {
          const payload = JSON.parse(Buffer.from(record.data).toString('utf8')) as Payload;
          transformed.add(key(payload));
          return kit.item(payload, recordId(shardId, record), record);
        },
        clock,
        batching: { maxRecords: 1_000, maxAgeMs: 1_000 },
        retry: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 50 },
        onFlush: (report) => reports.push({ ...report, worker: id }),
      }),
    });
    await worker.start();
    const member: Member<T> = {
      id,
      worker,
      tripwire,
      proxies,
      close: async () => {
        // A "dead" worker's hung calls fail once its proxies stop; a live one shuts down first.
        if (tripwire.tripped) await Promise.all(proxies.map((p) => p.stop()));
        await worker.shutdown();
        await Promise.all(proxies.map((p) => p.stop()));
        kinesisClient.destroy();
        dynamoDbClient.destroy();
        close();
      },
    };
    members.push(member);
    return member;
  };

  let produced = 0;
  const expected = new Set<string>();
  const produce = async (count: number): Promise<void> => {
    const records = [];
    for (let i = produced; i < produced + count; i++) {
      const payload: Payload = { k: `key-${i % 30}`, n: Math.floor(i / 30) };
      expected.add(key(payload));
      records.push({ partitionKey: payload.k, data: Buffer.from(JSON.stringify(payload)) });
    }
    produced += count;
    await putRecords(kinesis, stream, records);
  };
  /** Moves the processors' clock past maxAgeMs: every buffer is due for an age flush. */
  const ageFlush = (): Promise<void> => clock.advance(1_000);
  const allStored = async (): Promise<boolean> => {
    await ageFlush();
    const stored = await kit.stored();
    return new Set(stored).size === expected.size;
  };
  const okItems = (): number => reports.filter((r) => r.ok).reduce((n, r) => n + r.items, 0);

  try {
    await createStream(kinesis, stream, 2);
    const [w1, w2] = await Promise.all([start('w1'), start('w2')]);
    await waitFor(() => w1!.worker.heldShards().length === 1 && w2!.worker.heldShards().length === 1, { timeoutMs: 20_000, message: 'w1 and w2 hold one shard each' });

    // 1. Steady state.
    await produce(60);
    await waitFor(allStored, { timeoutMs: 20_000, message: 'the first 60 records stored' });

    // 2. Graceful handoff with records still buffered.
    await produce(60);
    await waitFor(() => transformed.size === 120, { timeoutMs: 20_000, message: 'all 120 records delivered (and buffered)' });
    await w1!.worker.shutdown();
    const shutdownFlush = reports.filter((r) => r.worker === 'w1' && r.trigger === 'shutdown' && r.ok);
    expect(shutdownFlush.reduce((n, r) => n + r.items, 0), 'w1 flushed its buffer on shutdown').toBeGreaterThan(0);
    await waitFor(() => w2!.worker.heldShards().length === 2, { timeoutMs: 20_000, message: 'w2 took w1 shard over' });
    await waitFor(allStored, { timeoutMs: 20_000, message: 'all 120 records stored after the handoff' });
    // A flush is reported just after its write is durable: the sink may show the rows a moment earlier.
    await waitFor(() => okItems() >= 120, { timeoutMs: 5_000, message: 'the flush reports of all 120 records' });
    expect(okItems(), 'no record was written twice across the graceful handoff').toBe(120);

    // 3. A peer joins, then w2 dies in the middle of a flush.
    const w3 = await start('w3');
    await waitFor(() => w2!.worker.heldShards().length === 1 && w3.worker.heldShards().length === 1, { timeoutMs: 20_000, message: 'w3 stole one shard (graceful handoff)' });
    expect(okItems(), 'no record was written twice across the rebalance').toBe(120);
    w2!.tripwire.armed = true;
    await produce(60);
    await waitFor(() => transformed.size === 180, { timeoutMs: 20_000, message: 'all 180 records delivered' });
    await waitFor(
      async () => {
        await ageFlush();
        return w2!.tripwire.tripped;
      },
      { timeoutMs: 10_000, message: 'w2 died in the middle of a flush' },
    );
    await waitFor(allStored, { timeoutMs: 40_000, message: 'w3 failed over and stored all 180 records' });
    expect(w3.worker.heldShards()).toHaveLength(2);

    const stored = await kit.stored();
    const counts = new Map<string, number>();
    for (const k of stored) counts.set(k, (counts.get(k) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n > 1), 'records stored more than once').toEqual([]);
    expect(new Set(stored)).toEqual(expected);
    expect(stored).toHaveLength(180);
  } finally {
    await Promise.all(members.map((m) => m.close()));
    kinesis.destroy();
  }
}
