/**
 * Deaggregation throughput: runs `deaggregation-process.js` (kcl-ts's decoder versus
 * aws-kinesis-agg's `deaggregateSync` on the same input, alternating runs) in its own process
 * and reports both comparisons — as each decoder returns records, and like with like (the same
 * output shape) — plus MD5's share of aws-kinesis-agg's time.
 * @module
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './context.js';
import type { DeaggregationResult } from './deaggregation-process.js';
import { figure, num, type BenchReport } from './report.js';
import { median, summarize } from './stats.js';

const SCRIPT = fileURLToPath(new URL('./deaggregation-process.js', import.meta.url));

function run(args: string[]): Promise<DeaggregationResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SCRIPT, ...args], { maxBuffer: 1 << 20, env: { ...process.env, NODE_NO_WARNINGS: '1' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${SCRIPT} failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as DeaggregationResult);
    });
  });
}

/** Runs the deaggregation benchmark. */
export async function benchDeaggregation(ctx: BenchContext): Promise<BenchReport> {
  const aggregates = ctx.quick ? 1_000 : 2_000;
  const perAggregate = 50;
  const runs = ctx.quick ? 7 : 15;
  ctx.log(`deaggregation: ${aggregates} aggregates × ${perAggregate} records, ${runs} alternating runs`);
  const r = await run([String(aggregates), String(perAggregate), String(runs)]);
  const paired = (ours: number[]): number[] => ours.map((v, i) => v / r.theirs[i]!);
  const native = paired(r.oursNative);
  const same = paired(r.oursSameShape);
  const sameRatio = median(same);
  const md5 = summarize(r.md5ShareOfTheirs.map((v) => v * 100));
  return {
    name: 'deaggregation',
    title: 'Deaggregation of KPL aggregated records',
    setup:
      `packages/bench/dist/deaggregation-process.js, run as a child process: ${aggregates.toLocaleString('en-US')} aggregated records (built with aws-kinesis-agg's RecordAggregator) × ${perAggregate} user records of 100 B, ` +
      `${runs} runs alternating between the decoders after a warm-up. Both verify the MD5 trailer; kcl-ts also checks every user record's hash key against the shard's range. ` +
      'The decoders do not return the same thing: kcl-ts returns records whose data are views into the aggregate (no copy), while aws-kinesis-agg, given AWS SDK v3 records, converts the aggregate to base64 and back and returns a fresh Buffer per user record. ' +
      'So both are reported: "as returned" (each decoder\'s own output) and "same output shape" (kcl-ts\'s records copied into aws-kinesis-agg\'s shape, { PartitionKey, ExplicitHashKey, SequenceNumber, SubSequenceNumber, Data: fresh Buffer }). ' +
      'Ratios are medians of per-run ratios (each run of kcl-ts against the adjacent run of aws-kinesis-agg).',
    baselineLabel: 'aws-kinesis-agg 4.2.8 deaggregateSync on the same input',
    figures: [
      figure({
        name: 'deaggregation, same output shape (with hash-range check)',
        unit: 'records/s',
        ours: summarize(r.oursSameShape),
        baseline: summarize(r.theirs),
        ratio: sameRatio,
        target: '≥ 3× aws-kinesis-agg',
        pass: sameRatio >= 3,
        limit: 'the like-with-like shape makes kcl-ts copy every user record into a fresh Buffer and object, which its own output avoids',
        digits: 0,
      }),
      figure({ name: 'deaggregation as each decoder returns records (with hash-range check)', unit: 'records/s', ours: summarize(r.oursNative), baseline: summarize(r.theirs), ratio: median(native), digits: 0 }),
      figure({ name: 'paired-run ratio, same output shape', unit: '×', ours: summarize(same) }),
      figure({ name: 'paired-run ratio, as returned', unit: '×', ours: summarize(native) }),
      figure({ name: 'deaggregation as returned, without the range check', unit: 'records/s', ours: summarize(r.oursNoRange), baseline: summarize(r.theirs), digits: 0 }),
      figure({ name: "MD5 of every aggregate, as a share of aws-kinesis-agg's time", unit: '%', ours: md5, digits: 1 }),
    ],
    notes: [
      `MD5 is ${num(md5.median, 1)} % of aws-kinesis-agg's time here, so MD5 does not dominate it; the rest is its protobufjs decoding, the base64 conversions (of the aggregate and of every user record, for AWS SDK v3 input) and the per-record objects, not measured separately. (An earlier version of this page said protobuf decoding and MD5 dominate both decoders; that was wrong.)`,
    ],
  };
}
