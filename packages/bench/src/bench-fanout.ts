/**
 * Enhanced fan-out beside polling, both on the Kinesis Mock (kinesalite has no
 * SubscribeToShard): put → processRecords latency and CPU per record at a low rate on 4
 * shards, and the memory of one process reading a backlog on 48 shards. The Kinesis Mock
 * pushes an event about once a second per subscription, so the fan-out latency is the mock's
 * push interval, not kcl-ts's own cost.
 * @module
 */
import { RETRIEVAL_MODES, type RetrievalMode } from '@kcl-ts/fleet';
import { latencyAt, latencyRun, RATE, SHARDS, type LatencyRun } from './bench-latency.js';
import type { BenchContext } from './context.js';
import { figure, num, versus, type BenchReport } from './report.js';
import { rssRun, type RssRun } from './bench-rss.js';
import { alternate } from './peer-run.js';
import { median, percentile } from './stats.js';
import { dropStreamAndTable, preloadedStream } from './streams.js';

const RSS_SHARDS = 48;

type ModeRun = LatencyRun & { readonly rss48: RssRun };

/** Runs the fan-out benchmark. */
export async function benchFanOut(ctx: BenchContext): Promise<BenchReport> {
  const runs = ctx.quick ? 1 : Math.min(ctx.runs, 3);
  const records = ctx.quick ? 200 : 500;
  const perShard = ctx.quick ? 100 : 500;
  let results: Record<RetrievalMode, ModeRun[]>;
  const rssStream = `bench-efo-rss-${ctx.tag}`;
  const total = await preloadedStream(ctx.kinesisMock, rssStream, RSS_SHARDS, perShard, 512, (m) => ctx.log(`fanout: ${m}`));
  try {
    results = await alternate(ctx, 'fanout', RETRIEVAL_MODES, runs, async (mode, run): Promise<ModeRun> => ({ ...(await latencyRun(ctx, 'kcl-ts', run, records, mode)), rss48: await rssRun(ctx, rssStream, 'kcl-ts', run, total, mode) }), (r) =>
      `p50 ${num(percentile(r.latencies, 50), 0)} ms, CPU ${num(r.cpuPerRecordUs, 0)} µs/record, RSS at ${RSS_SHARDS} shards ${num(r.rss48.maxRssMb, 0)} MB`,
      ` (${records} records at ${RATE}/s on ${SHARDS} shards, then ${RSS_SHARDS} shards × ${perShard} records)`);
  } finally {
    await dropStreamAndTable(ctx.kinesisMock.client, ctx.dynamoDb, rssStream);
  }
  const { fanout: efo, polling } = results;
  const of = (f: (r: ModeRun) => number) => versus(efo, polling, f);
  return {
    name: 'fanout',
    title: `Enhanced fan-out beside polling on the Kinesis Mock: latency and CPU at ${RATE} records/s on ${SHARDS} shards, memory on ${RSS_SHARDS} shards`,
    setup:
      `kcl-ts (a Worker from clientConfig, defaults) in its own child process, retrieval.mode 'fanout' (SubscribeToShard over the mock's HTTP/1.1 port) against 'polling', both on the Kinesis Mock, ${runs} run(s) each, alternating. ` +
      `Latency: ${RATE} records/s over 1,000 keys, a PutRecords call every 20 ms, with the call's start time in each payload; latency = processRecords entered − put start, over ${records} records after every shard delivered and 3 s more. ` +
      'CPU per record: the consumer process\'s user + system CPU over that window divided by the records delivered in it (at this low rate it is mostly the cost of keeping up, not of the records). ' +
      `Memory: one consumer reads a backlog of ${RSS_SHARDS} × ${perShard} records of 512 B from TRIM_HORIZON; max RSS of the child's own samples. ` +
      'The Kinesis Mock pushes a SubscribeToShard event about once a second, so the fan-out latency is the mock\'s push interval, not ours (on AWS an event follows a put in about 70 ms).',
    baselineLabel: 'kcl-ts polling on the Kinesis Mock',
    figures: [
      figure({ name: 'p50 put → processRecords (the mock pushes ~1/s)', unit: 'ms', ours: latencyAt(efo, 50), baseline: latencyAt(polling, 50), digits: 0 }),
      figure({ name: 'p99 put → processRecords (the mock pushes ~1/s)', unit: 'ms', ours: latencyAt(efo, 99), baseline: latencyAt(polling, 99), digits: 0 }),
      figure({ name: `CPU per record at ${RATE} records/s`, unit: 'µs', ...of((r) => r.cpuPerRecordUs), digits: 0 }),
      figure({ name: `max RSS, ${SHARDS} shards`, unit: 'MB', ...of((r) => r.maxRssMb), digits: 0 }),
      figure({ name: `max RSS reading a backlog on ${RSS_SHARDS} shards`, unit: 'MB', ...of((r) => r.rss48.maxRssMb), digits: 0 }),
      figure({ name: `time to read the ${RSS_SHARDS}-shard backlog`, unit: 's', ...of((r) => r.rss48.seconds), digits: 1 }),
    ],
    notes: RETRIEVAL_MODES.map((m) => `${m}: pooled p50 ${num(median(results[m].flatMap((r) => r.latencies)), 0)} ms over ${results[m].reduce((n, r) => n + r.latencies.length, 0)} records`),
  };
}
