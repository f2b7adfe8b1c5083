/**
 * Resident memory of one Worker process holding 48 shards with a backlog and a slow processor,
 * so that prefetching runs into its bounds. Sampled inside the worker process.
 * @module
 */
import type { Shard } from '@aws-sdk/client-kinesis';
import { waitUntil } from './children.js';
import { streamTarget, type BenchContext } from './context.js';
import type { WorkerTuning } from './messages.js';
import { figure, num, summary, type BenchReport, type Figure } from './report.js';
import { median } from './stats.js';
import { createStream, dropStreamAndTable, dropTable, preload, seedLeaseTable } from './streams.js';

const SHARDS = 48;
const BYTES = 1_024;
/** Slower than the fetcher's 5 calls/s, so a shard's prefetch queue fills to its bounds. */
const BATCH_DELAY_MS = 250;
const MB = 1024 * 1024;

interface RssRun {
  /** Median RSS while leases are held and no record was processed yet. */
  readonly idleMb: number;
  readonly maxArrayBuffersMb: number;
  readonly maxMb: number;
  readonly steadyMedianMb: number;
  readonly maxHeapMb: number;
  readonly seconds: number;
  readonly samples: number;
}

async function runOnce(ctx: BenchContext, stream: string, shards: readonly Shard[], label: string, run: number, total: number, tuning: WorkerTuning): Promise<RssRun> {
  const id = `bench-rss-${label}-${run}-${ctx.tag}`;
  await seedLeaseTable(ctx.dynamoDb, id, shards);
  const child = ctx.children.spawn(
    id,
    {
      mode: 'worker',
      ...streamTarget(ctx, ctx.kinesalite, stream),
      workerId: id,
      applicationName: id,
      options: { initialPosition: 'TRIM_HORIZON', ...tuning },
      report: 'counts',
      checkpoint: true,
      batchDelayMs: BATCH_DELAY_MS,
      expectedRecords: total,
      statsIntervalMs: 200,
      logLevel: 'warn',
    },
    { keepStats: true },
  );
  try {
    const ok = await waitUntil(() => child.done !== undefined || !child.alive, 300_000, 50);
    if (!ok || !child.done) throw new Error(`rss ${label} run ${run} did not finish: ${child.errors.join('; ') || 'timeout'}`);
    const samples = child.statsHistory;
    // KCL_BENCH_RSS_TRACE=1 prints every sample (to see where the peak is).
    if (process.env['KCL_BENCH_RSS_TRACE']) {
      for (const x of samples) process.stderr.write(`rss ${label} +${x.at - child.startingAt!} ms held ${x.held.length} processed ${x.processed} rss ${num(x.rss / MB, 0)} heapTotal ${num(x.heapTotal / MB, 0)} heapUsed ${num(x.heapUsed / MB, 0)} arrayBuffers ${num(x.arrayBuffers / MB, 0)}\n`);
    }
    const steady = samples.filter((s) => s.processed > 0 && s.processed < total).map((s) => s.rss / MB);
    const idle = samples.filter((s) => s.held.length > 0 && s.processed === 0).map((s) => s.rss / MB);
    return {
      idleMb: idle.length ? median(idle) : Number.NaN,
      maxArrayBuffersMb: Math.max(...samples.map((s) => s.arrayBuffers / MB)),
      maxMb: Math.max(...samples.map((s) => s.rss / MB)),
      steadyMedianMb: steady.length ? median(steady) : Number.NaN,
      maxHeapMb: Math.max(...samples.map((s) => s.heapUsed / MB)),
      seconds: (child.done.lastRecordAt - child.done.startAt) / 1000,
      samples: samples.length,
    };
  } finally {
    await child.stop(30_000);
    await dropTable(ctx.dynamoDb, id);
  }
}

/** Runs the RSS benchmark. */
export async function benchRss(ctx: BenchContext): Promise<BenchReport> {
  const perShard = ctx.quick ? 500 : 2_000;
  const name = `bench-rss-${ctx.tag}`;
  const shards = await createStream(ctx.kinesalite.client, name, SHARDS);
  ctx.log(`rss: pre-loading ${SHARDS} × ${perShard} records of ${BYTES} B into ${ctx.kinesalite.label}`);
  const t0 = Date.now();
  const total = await preload(ctx.kinesalite.client, name, shards, perShard, BYTES);
  ctx.log(`rss: pre-loaded ${total} records in ${num((Date.now() - t0) / 1000, 1)} s`);
  const configs: [string, string, WorkerTuning][] = [
    ['defaults', 'default prefetch bounds (3 batches, 30,000 records, 32 MiB per shard; maxRecords 10,000)', {}],
    ['bounded', 'maxRecords 100, prefetchMaxBatches 1, prefetchMaxBytes 256 KiB per shard', { maxRecords: 100, prefetchMaxBatches: 1, prefetchMaxBytes: 256 * 1024 }],
  ];
  const runs = ctx.quick ? 1 : Math.min(ctx.runs, 2);
  const results = new Map<string, RssRun[]>(configs.map(([label]) => [label, []]));
  try {
    for (let run = 1; run <= runs; run++) {
      for (const [label, , tuning] of configs) {
        ctx.log(`rss: ${label} run ${run}/${runs}`);
        const r = await runOnce(ctx, name, shards, label, run, total, tuning);
        results.get(label)!.push(r);
        ctx.log(`rss: ${label} run ${run}: max ${num(r.maxMb, 0)} MB, steady median ${num(r.steadyMedianMb, 0)} MB, ${num(r.seconds, 1)} s`);
      }
    }
  } finally {
    await dropStreamAndTable(ctx.kinesalite.client, ctx.dynamoDb, name);
  }
  const figures: Figure[] = [];
  for (const [label, description] of configs) {
    const rs = results.get(label)!;
    const max = summary(rs.map((r) => r.maxMb));
    figures.push(
      figure({
        name: `max RSS, ${description}`,
        unit: 'MB',
        ours: max,
        target: '≤ 150 MB',
        pass: max.max <= 150,
        limit:
          label === 'defaults'
            ? `the backlog (${num((SHARDS * perShard * BYTES) / MB, 0)} MB of record data over ${SHARDS} shards) fits the per-shard bounds (32 MiB / 30,000 records / 3 batches each), so the worker-wide prefetchMaxBytesPerWorker budget (64 MiB) is what bounds the queued records; on top come the SDK's transient copies of each GetRecords response (JSON text, base64) until garbage collection and the ~85 MB Node + SDK + Worker baseline`
            : `${SHARDS} queues of one batch (+1 being fetched, +1 being processed) of 100 records × ${BYTES} B, the SDK's copies of each response (JSON text, base64) until garbage collection, on top of the Node + SDK + Worker baseline (the "before the first record" row)`,
        digits: 0,
      }),
      figure({ name: `steady median RSS, ${label}`, unit: 'MB', ours: summary(rs.map((r) => r.steadyMedianMb)), digits: 0 }),
      figure({ name: `RSS before the first record was processed (leases being taken), ${label}`, unit: 'MB', ours: summary(rs.map((r) => r.idleMb).filter((v) => !Number.isNaN(v))), digits: 0 }),
      figure({ name: `max heap used, ${label}`, unit: 'MB', ours: summary(rs.map((r) => r.maxHeapMb)), digits: 0 }),
      figure({ name: `max ArrayBuffer memory (record data), ${label}`, unit: 'MB', ours: summary(rs.map((r) => r.maxArrayBuffersMb)), digits: 0 }),
    );
  }
  return {
    name: 'rss',
    title: 'RSS of one worker holding 48 shards',
    setup:
      `A ${SHARDS}-shard stream on ${ctx.kinesalite.label} pre-loaded with ${SHARDS} × ${perShard.toLocaleString('en-US')} records of ${BYTES} B (${num((SHARDS * perShard * BYTES) / MB, 0)} MB). ` +
      `One Worker child process takes all ${SHARDS} leases and processes from TRIM_HORIZON with a slow processor (${BATCH_DELAY_MS} ms per batch, checkpoint every batch) until every record was processed; ` +
      'process.memoryUsage() is sampled every 200 ms inside the worker. Steady = samples between the first processed record and the last.',
    figures,
    notes: [...results].map(([label, rs]) => `${label}: ${rs.map((r) => `${num(r.seconds, 1)} s, ${r.samples} samples`).join('; ')}`),
  };
}
