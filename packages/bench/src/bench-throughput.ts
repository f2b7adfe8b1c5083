/**
 * Throughput of the Worker (no-op processor, from TRIM_HORIZON) versus a raw AWS SDK
 * GetRecords loop, on the same pre-loaded stream of the same emulator; both run in a child
 * process, alternating.
 * @module
 */
import { waitUntil } from './children.js';
import { streamTarget, type BenchContext } from './context.js';
import type { ChildMessage } from './messages.js';
import { figure, num, summary, type BenchReport } from './report.js';
import { median } from './stats.js';
import { createStream, dropStreamAndTable, dropTable, preload, seedLeaseTable } from './streams.js';

const SHARDS = 4;
const BYTES = 200;

type Done = Extract<ChildMessage, { type: 'done' }>;

/** Records per second from `startAt` to the last record, and from the first record to the last. */
function rates(d: Done): { total: number; steady: number } {
  return {
    total: (d.records / (d.lastRecordAt - d.startAt)) * 1000,
    steady: d.lastRecordAt > d.firstRecordAt ? (d.records / (d.lastRecordAt - d.firstRecordAt)) * 1000 : Number.NaN,
  };
}

/** Runs the throughput benchmark. */
export async function benchThroughput(ctx: BenchContext): Promise<BenchReport> {
  const perShard = ctx.quick ? 5_000 : 40_000;
  const kinesis = ctx.kinesalite;
  const name = `bench-throughput-${ctx.tag}`;
  const shards = await createStream(kinesis.client, name, SHARDS);
  ctx.log(`throughput: pre-loading ${SHARDS} × ${perShard} records of ${BYTES} B into ${kinesis.label}`);
  const t0 = Date.now();
  const total = await preload(kinesis.client, name, shards, perShard, BYTES);
  ctx.log(`throughput: pre-loaded ${total} records in ${num((Date.now() - t0) / 1000, 1)} s`);
  const raw: Done[] = [];
  const worker: Done[] = [];
  const runs = Math.max(ctx.quick ? 2 : ctx.runs, 2);
  const tables: string[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const order: ('raw' | 'worker')[] = run % 2 === 1 ? ['raw', 'worker'] : ['worker', 'raw'];
      for (const kind of order) {
        const id = `bench-tp-${kind}-${run}-${ctx.tag}`;
        let child;
        if (kind === 'raw') {
          child = ctx.children.spawn(id, { mode: 'raw', ...streamTarget(ctx, kinesis, name), expectedRecords: total, limit: 10_000 });
        } else {
          // The table exists beforehand, as in production; shard sync and lease taking are measured.
          await seedLeaseTable(ctx.dynamoDb, id, shards);
          tables.push(id);
          child = ctx.children.spawn(id, {
            mode: 'worker',
            ...streamTarget(ctx, kinesis, name),
            workerId: id,
            applicationName: id,
            options: { initialPosition: 'TRIM_HORIZON' },
            report: 'counts',
            checkpoint: false,
            expectedRecords: total,
            statsIntervalMs: 1_000,
            logLevel: 'warn',
          });
        }
        const ok = await waitUntil(() => child.done !== undefined || child.fatal !== undefined || !child.alive, 300_000, 20);
        await child.stop(20_000);
        if (!ok || !child.done) throw new Error(`throughput ${kind} run ${run} did not finish: ${child.errors.join('; ') || 'timeout'}`);
        (kind === 'raw' ? raw : worker).push(child.done);
        ctx.log(`throughput: ${kind} run ${run}: ${num(rates(child.done).total, 0)} records/s (${child.done.records} records)`);
      }
    }
  } finally {
    await dropStreamAndTable(kinesis.client, ctx.dynamoDb, name);
    for (const t of tables) await dropTable(ctx.dynamoDb, t);
  }
  const w = summary(worker.map((d) => rates(d).total));
  const r = summary(raw.map((d) => rates(d).total));
  const paired = worker.map((d, i) => rates(d).total / rates(raw[i]!).total);
  const ratio = median(paired);
  return {
    name: 'throughput',
    title: 'Throughput through the Worker vs a raw AWS SDK GetRecords loop',
    setup:
      `A ${SHARDS}-shard stream on ${kinesis.label}, pre-loaded with ${SHARDS} × ${perShard.toLocaleString('en-US')} records of ~${BYTES} B. ` +
      '(a) raw: a child process lists the shards, takes TRIM_HORIZON iterators and calls GetRecords (Limit 10,000) in a tight loop on every shard concurrently until each is empty with MillisBehindLatest 0; ' +
      '(b) Worker: a child process runs a Worker at default settings from TRIM_HORIZON with a no-op processor (no checkpoints) until every record was processed; the lease table exists beforehand, shard sync and lease taking are inside the measured time. ' +
      `Rate = records / (last record − start), measured inside the child. ${runs} runs, a and b alternating; the ratio is the median of the per-run ratios. ` +
      `kinesalite is used because the Kinesis Mock slows down as a shard grows (on this machine 2,000 records put in 3.5 s but 20,000 in 146 s).`,
    baselineLabel: 'raw AWS SDK GetRecords loop = 1.0',
    figures: [
      figure({
        name: 'Worker / raw loop throughput',
        unit: 'ratio',
        ours: summary(paired),
        target: '≥ 0.9',
        pass: ratio >= 0.9,
        limit:
          'the Worker spends its first few hundred ms on shard sync, the lease scan and takes before the first GetRecords, and it spaces GetRecords calls (≤ 5/s/shard) where the raw loop does not',
      }),
      figure({ name: 'throughput, start → last record', unit: 'records/s', ours: w, baseline: r, digits: 0 }),
      figure({
        name: 'throughput, first record → last record',
        unit: 'records/s',
        ours: summary(worker.map((d) => rates(d).steady)),
        baseline: summary(raw.map((d) => rates(d).steady)),
        digits: 0,
      }),
      figure({
        name: 'time to the first record',
        unit: 'ms',
        ours: summary(worker.map((d) => d.firstRecordAt - d.startAt)),
        baseline: summary(raw.map((d) => d.firstRecordAt - d.startAt)),
        digits: 0,
      }),
    ],
    notes: [`raw loop GetRecords calls per run: ${raw.map((d) => d.calls ?? 0).join(', ')}`],
  };
}
