/**
 * The fan-out pipeline's own latency: from the moment our HTTP/2 SubscribeToShard server hands
 * an event to its HTTP/2 stream to the `processRecords` call of its record in a fan-out Worker.
 * What it covers: TLS and HTTP/2 on loopback, the SDK's event-stream decoding, the fetcher's
 * queue, the shard consumer and the processor call. What it does not: Kinesis itself (on AWS
 * about 70 ms from put to push; the Kinesis Mock pushes about once a second).
 * @module
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { Worker } from '@kcl-ts/kcl';
import { localCredentials, startSubscribeToShardServer } from '@kcl-ts/local';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { waitUntil } from '@kcl-ts/fleet';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { figure, num, type BenchReport } from './report.js';
import { percentile, summarize } from './stats.js';
import { createStream, dropStreamAndTable } from './streams.js';

/** Pause between two events: each one meets an idle pipeline (latency, not throughput). */
const GAP_MS = 10;
const WARM_UP = 50;

/** Latencies (ms) of one run, one per event. */
async function runOnce(ctx: BenchContext, run: number, events: number): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const processedAt = new Map<string, number>();
  const server = await startSubscribeToShardServer({
    upstream: ctx.kinesisMock.endpoint,
    onEventSent: ({ sequenceNumbers, at }) => {
      for (const s of sequenceNumbers) sentAt.set(s, at);
    },
  });
  const stream = `bench-fo-pipeline-${run}-${ctx.tag}`;
  const [shard] = await createStream(ctx.kinesisMock.client, stream, 1);
  const shardId = shard!.ShardId!;
  const kinesis = new KinesisClient({
    endpoint: server.endpoint,
    region: ctx.region,
    credentials: localCredentials(),
    maxAttempts: 1,
    requestHandler: new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca: server.ca } }),
  });
  const worker = new Worker({
    applicationName: stream,
    streamName: stream,
    kinesisClient: kinesis,
    dynamoDbClient: ctx.dynamoDb,
    retrieval: { mode: 'fanout' },
    initialPosition: 'TRIM_HORIZON',
    metrics: { publisher: false },
    processorFactory: () => ({
      initialize() {},
      processRecords({ records }) {
        const t = performance.now();
        for (const r of records) processedAt.set(r.sequenceNumber, t);
      },
    }),
  });
  try {
    await worker.start();
    const put = async (count: number): Promise<string[]> => {
      const sequences: string[] = [];
      for (let i = 0; i < count; i++) {
        sequences.push(...server.putRecords(shardId, [{ partitionKey: `k${i % 8}`, data: 'x'.repeat(100) }]));
        await delay(GAP_MS);
      }
      return sequences;
    };
    const within = (fn: () => boolean, timeoutMs: number, what: string) => waitUntil(fn, { timeoutMs, intervalMs: 20, message: `fan-out pipeline: ${what}` });
    await within(() => server.open(shardId).length > 0, 60_000, 'the Worker subscribed');
    const warm = await put(WARM_UP);
    await within(() => warm.every((s) => processedAt.has(s)), 30_000, 'warm-up records processed');
    const measured = await put(events);
    await within(() => measured.every((s) => processedAt.has(s)), 30_000, 'records processed');
    return measured.map((s) => processedAt.get(s)! - sentAt.get(s)!);
  } finally {
    await worker.shutdown();
    kinesis.destroy();
    await server.close();
    await dropStreamAndTable(ctx.kinesisMock.client, ctx.dynamoDb, stream).catch(() => undefined);
  }
}

/** Runs the fan-out pipeline latency benchmark: one report with the p50 against its target (≤ 5 ms), p90 and p99. */
export async function benchFanOutPipeline(ctx: BenchContext): Promise<BenchReport> {
  const events = ctx.quick ? 200 : 600;
  ctx.log(`fan-out pipeline: ${ctx.runs} run(s) × ${events} events, one record each, ${GAP_MS} ms apart`);
  const runs: number[][] = [];
  for (let run = 0; run < ctx.runs; run++) runs.push(await runOnce(ctx, run, events));
  const per = (p: number): number[] => runs.map((l) => percentile(l, p));
  const all = summarize(runs.flat());
  const p50 = summarize(per(50));
  return {
    name: 'fanout-pipeline',
    title: 'Enhanced fan-out: the pipeline’s own latency (event on the HTTP/2 server → processRecords)',
    setup:
      `A fan-out Worker (SubscribeToShard over HTTP/2 with NodeHttp2Handler, TLS with ALPN h2 on loopback) reads one shard from our SubscribeToShard server (@kcl-ts/local startSubscribeToShardServer; other calls forwarded to the Kinesis Mock). ` +
      `The server pushes ${events} events of one 100-byte record, ${GAP_MS} ms apart, after ${WARM_UP} warm-up events; the latency of a record is from the server handing its event to the HTTP/2 stream to the processRecords call that gets it, both on the same performance.now() clock. ` +
      `The server and the Worker share the orchestrator process (the server's own work is included). ${ctx.runs} run(s), a fresh stream, consumer and lease table each; the figures are medians over runs of each run's percentile. ` +
      'Kinesis itself is not included: AWS pushes about 70 ms after the put; the Kinesis Mock about once a second.',
    figures: [
      figure({ name: 'event → processRecords, p50', unit: 'ms', ours: p50, target: 'p50 ≤ 5 ms', pass: p50.median <= 5, noRatio: true, digits: 2 }),
      figure({ name: 'event → processRecords, p90', unit: 'ms', ours: summarize(per(90)), noRatio: true, digits: 2 }),
      figure({ name: 'event → processRecords, p99', unit: 'ms', ours: summarize(per(99)), noRatio: true, digits: 2 }),
    ],
    notes: [`all ${all.n} events of every run: median ${num(all.median)} ms, p90 ${num(all.p90)} ms, p99 ${num(all.p99)} ms, min ${num(all.min)} ms, max ${num(all.max)} ms`],
  };
}
