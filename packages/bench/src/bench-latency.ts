/**
 * Put → process latency at a low rate, kcl-ts against lifion-kinesis side by side (each in its
 * own child process), with each one's GetRecords calls per shard (counted by the emulator) and
 * its memory maxima at 4 shards.
 * @module
 */
import { waitFor, type RetrievalMode } from '@kcl-ts/fleet';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { figure, MB, num, summaryOf, type BenchReport } from './report.js';
import { alternate, callsBetween, IMPL_LABEL, LIBRARIES, spawnPeer, type PeerHandle } from './peer-run.js';
import { percentile } from './stats.js';
import { createStream, dropStreamAndTable, startRateProducer } from './streams.js';

/** Shards of the latency stream. */
export const SHARDS = 4;
/** Records per second of the latency producer. */
export const RATE = 50;

/** One run's figures. */
export interface LatencyRun {
  readonly latencies: number[];
  /** GetRecords calls per second per shard over the window (kinesalite only: its front counts them). */
  readonly callsPerSecond: number[];
  /** CPU of the consumer process over the window, per record delivered in it (µs). */
  readonly cpuPerRecordUs: number;
  readonly missing: number;
  readonly maxRssMb: number;
  readonly maxHeapMb: number;
}

/** Put → delivery latency of each record of the window (`key#n`), at its first delivery. */
function firstSeen(child: PeerHandle, window: ReadonlySet<string>): Map<string, number> {
  const first = new Map<string, number>();
  for (const b of child.batches) for (const [k, n, t] of b.records ?? []) if (window.has(`${k}#${n}`) && !first.has(`${k}#${n}`)) first.set(`${k}#${n}`, b.at - t);
  return first;
}

/** The summary over runs of each run's `p`-th percentile latency. */
export const latencyAt = (rs: readonly LatencyRun[], p: number) => summaryOf(rs, (r) => percentile(r.latencies, p));

/**
 * One latency run of `impl` on a fresh 4-shard stream: on kinesalite (GetRecords counted), or
 * with `retrieval` given, kcl-ts on the Kinesis Mock in that retrieval mode.
 */
export async function latencyRun(ctx: BenchContext, impl: 'kcl-ts' | 'lifion', run: number, records: number, retrieval?: RetrievalMode): Promise<LatencyRun> {
  const kinesis = retrieval ? ctx.kinesisMock : ctx.kinesalite;
  const stream = `bench-latency-${impl}${retrieval ? `-${retrieval}` : ''}-${run}-${ctx.tag}`;
  const shards = await createStream(kinesis.client, stream, SHARDS);
  const child = await spawnPeer(ctx, { impl, stream, id: stream, report: 'records', ...(retrieval && { retrieval, kinesis }) });
  const producer = startRateProducer(kinesis.client, stream, RATE);
  try {
    await waitFor(() => new Set(child.batches.map((b) => b.shardId)).size === SHARDS || !child.alive, 120_000, 50);
    if (!child.alive || new Set(child.batches.map((b) => b.shardId)).size < SHARDS) throw new Error(`latency ${impl}: not every shard delivered within 120 s (${child.errors.join('; ')})`);
    // A few seconds more, so start-up (lease taking, lifion's first acquisition round) is over.
    await delay(3_000);
    const before = retrieval ? undefined : await ctx.emulators.counts(stream);
    const cpuBefore = (await child.sample()).cpuUs;
    const t0 = Date.now();
    const put0 = producer.put();
    await waitFor(() => producer.put() - put0 >= records, 120_000, 20);
    const seconds = (Date.now() - t0) / 1000;
    const after = retrieval ? undefined : await ctx.emulators.counts(stream);
    await producer.stop();
    // The window: the next `records` acknowledged puts after put0.
    const window = new Set(producer.keyed.acked.slice(put0, put0 + records).map((p) => `${p.key}#${p.n}`));
    let first = firstSeen(child, window);
    await waitFor(() => (first = firstSeen(child, window)).size >= window.size, 30_000, 100);
    const calls = before && after ? callsBetween(before, after) : undefined;
    const last = await child.sample();
    return {
      latencies: [...first.values()],
      callsPerSecond: calls ? shards.map((s) => (calls.get(s.ShardId!) ?? 0) / seconds) : [],
      cpuPerRecordUs: (last.cpuUs - cpuBefore) / Math.max(1, first.size),
      missing: Math.max(0, window.size - first.size),
      maxRssMb: last.maxRss / MB,
      maxHeapMb: last.maxHeapUsed / MB,
    };
  } finally {
    await producer.stop();
    await child.stop(20_000);
    await dropStreamAndTable(kinesis.client, ctx.dynamoDb, stream, stream);
    if (!retrieval) await ctx.emulators.forget(stream);
  }
}

/** Runs the latency benchmark. */
export async function benchLatency(ctx: BenchContext): Promise<BenchReport> {
  const runs = ctx.quick ? 2 : Math.min(ctx.runs, 3);
  const records = ctx.quick ? 300 : 500;
  const results = await alternate(ctx, 'latency', LIBRARIES, runs, (impl, run) => latencyRun(ctx, impl, run, records), (r) =>
    `p50 ${num(percentile(r.latencies, 50), 0)} ms, p99 ${num(percentile(r.latencies, 99), 0)} ms, GetRecords/s/shard max ${num(Math.max(...r.callsPerSecond), 2)}, max RSS ${num(r.maxRssMb, 0)} MB, heap ${num(r.maxHeapMb, 0)} MB`,
    ` (${records} records at ${RATE}/s on ${SHARDS} shards)`);
  const { 'kcl-ts': ours, lifion: theirs } = results;
  const pooled = (rs: LatencyRun[]): string => {
    const all = rs.flatMap((r) => r.latencies);
    return `${all.length} records: p50 ${num(percentile(all, 50), 0)} ms, p90 ${num(percentile(all, 90), 0)} ms, p99 ${num(percentile(all, 99), 0)} ms, max ${num(Math.max(...all), 0)} ms`;
  };
  const [p50, p99] = [latencyAt(ours, 50), latencyAt(ours, 99)];
  const [rss, rssTheirs] = [summaryOf(ours, (r) => r.maxRssMb), summaryOf(theirs, (r) => r.maxRssMb)];
  const [heap, heapTheirs] = [summaryOf(ours, (r) => r.maxHeapMb), summaryOf(theirs, (r) => r.maxHeapMb)];
  const calls = summaryOf(ours, (r) => Math.max(...r.callsPerSecond));
  const missing = [...ours, ...theirs].reduce((a, r) => a + r.missing, 0);
  return {
    name: 'latency',
    title: `Put → process latency at ${RATE} records/s on ${SHARDS} shards, and memory at ${SHARDS} shards`,
    setup:
      `A ${SHARDS}-shard stream on kinesalite (in the emulator process); one consumer child process per implementation from TRIM_HORIZON of the fresh stream, checkpointing every batch; ` +
      `a producer in the orchestrator (the fleet harness's keyed producer) puts ${RATE} records/s over 1,000 keys, a PutRecords call every 20 ms, with the call's start time in each payload. ` +
      `Latency = time the batch reached the application (kcl-ts: processRecords entered; lifion: its "data" event) − put call start, for ${records} records per run after every shard delivered and 3 s more. ` +
      `GetRecords calls are counted per shard by the emulator process over the same window. RSS and heap: maxima of the child's own process.memoryUsage(), sampled every 250 ms over its life. ` +
      `${runs} runs per implementation, alternating which goes first; the percentile figures are the median over runs of each run's percentile. ` +
      'Earlier versions of this page compared against "our Worker with idleTimeBetweenReadsMs 1,500" as a stand-in for the Java KCL: that was arithmetic (a record waits about half the idle time plus a round trip), not a second implementation; lifion-kinesis is measured instead.',
    baselineLabel: IMPL_LABEL.lifion,
    figures: [
      figure({ against: 'lifion', name: 'p50 latency', unit: 'ms', ours: p50, baseline: latencyAt(theirs, 50), digits: 0, target: '≤ 250 ms', pass: p50.median <= 250,
        limit: 'a shard with records is polled every idleTimeBetweenReadsMs (250 ms): a record waits on average half of that plus one GetRecords round trip' }),
      figure({ name: 'p90 latency', unit: 'ms', ours: latencyAt(ours, 90), baseline: latencyAt(theirs, 90), digits: 0 }),
      figure({ against: 'lifion', name: 'p99 latency', unit: 'ms', ours: p99, baseline: latencyAt(theirs, 99), digits: 0, target: '≤ 1,000 ms', pass: p99.median <= 1_000,
        limit: 'after a quiet spell the idle backoff has stretched the pause to up to 1,000 ms, and scheduling stalls of this shared machine land in the tail' }),
      figure({ name: `GetRecords calls per second per shard at ${RATE / SHARDS} records/s per shard (busiest shard)`, unit: 'calls/s', ours: calls, baseline: summaryOf(theirs, (r) => Math.max(...r.callsPerSecond)),
        target: '≤ 5', pass: calls.max <= 5, limit: 'the per-shard rate limiter (maxGetRecordsPerSecond) did not hold' }),
      figure({ against: 'lifion', name: `max RSS, ${SHARDS} shards`, unit: 'MB', ours: rss, baseline: rssTheirs, digits: 0, target: '≤ 1.1× lifion', pass: rss.median / rssTheirs.median <= 1.1,
        limit: 'the AWS SDK v3 Kinesis and DynamoDB clients and their modules make up most of the baseline' }),
      figure({ against: 'lifion', name: `max heap used, ${SHARDS} shards`, unit: 'MB', ours: heap, baseline: heapTheirs, digits: 0, target: '≤ 1.5× lifion', pass: heap.median / heapTheirs.median <= 1.5,
        limit: 'the AWS SDK v3 clients and their modules' }),
    ],
    notes: [`kcl-ts pooled over runs — ${pooled(ours)}`, `lifion pooled over runs — ${pooled(theirs)}`, ...(missing > 0 ? [`${missing} records of the windows were not seen delivered within 20 s after the window`] : [])],
  };
}
