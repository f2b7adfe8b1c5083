/**
 * Deaggregation throughput: runs the existing `@kcl-ts/kcl` bench (kcl-ts's decoder versus
 * aws-kinesis-agg's `deaggregateSync` on the same input, alternating runs) in its own process
 * and reads its table. It exports no function (it runs on import), hence the child process.
 * @module
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './context.js';
import { figure, type BenchReport } from './report.js';
import type { Summary } from './stats.js';

const SCRIPT = fileURLToPath(new URL('../../kcl/dist/bench/deaggregation-bench.js', import.meta.url));

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SCRIPT, ...args], { maxBuffer: 1 << 20, env: { ...process.env, NODE_NO_WARNINGS: '1' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${SCRIPT} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const int = (s: string): number => Number(s.replace(/,/g, ''));

/** Parses one row `name   median   min - max` of the bench's table. */
function row(output: string, name: string, runs: number): Summary {
  const line = output.split('\n').find((l) => l.startsWith(name));
  const m = line?.slice(name.length).match(/([\d,]+)\s+([\d,]+)\s+-\s+([\d,]+)/);
  if (!m) throw new Error(`deaggregation bench: no row "${name}" in its output:\n${output}`);
  const median = int(m[1]!);
  return { n: runs, median, min: int(m[2]!), max: int(m[3]!), p90: Number.NaN, p99: Number.NaN, mean: Number.NaN };
}

/** Runs the deaggregation benchmark. */
export async function benchDeaggregation(ctx: BenchContext): Promise<BenchReport> {
  const aggregates = ctx.quick ? 1_000 : 2_000;
  const perAggregate = 50;
  const runs = ctx.quick ? 7 : 15;
  ctx.log(`deaggregation: ${aggregates} aggregates × ${perAggregate} records, ${runs} alternating runs`);
  const output = await run([String(aggregates), String(perAggregate), String(runs)]);
  const ours = row(output, 'kcl-ts deaggregate (+ hash-range check)', runs);
  const oursNoRange = row(output, 'kcl-ts deaggregate (no range check)', runs);
  const theirs = row(output, 'aws-kinesis-agg deaggregateSync', runs);
  const paired = output.match(/paired runs: median ([\d.]+)x, spread ([\d.]+)x - ([\d.]+)x/);
  const pairedSummary: Summary | undefined = paired
    ? { n: runs, median: Number(paired[1]), min: Number(paired[2]), max: Number(paired[3]), p90: Number.NaN, p99: Number.NaN, mean: Number.NaN }
    : undefined;
  const ratio = pairedSummary?.median ?? ours.median / theirs.median;
  return {
    name: 'deaggregation',
    title: 'Deaggregation of KPL aggregated records',
    setup:
      `packages/kcl/dist/bench/deaggregation-bench.js, run as a child process: ${aggregates.toLocaleString('en-US')} aggregated records × ${perAggregate} user records of 100 B, ` +
      `${runs} runs alternating between the decoders after a warm-up; both verify the MD5 trailer, ours also checks every user record's hash key against the shard's range.`,
    baselineLabel: 'aws-kinesis-agg deaggregateSync on the same input = 1.0',
    figures: [
      figure({
        name: 'deaggregation (with hash-range check)',
        unit: 'records/s',
        ours,
        baseline: theirs,
        ratio,
        target: '≥ 3× aws-kinesis-agg',
        pass: ratio >= 3,
        limit: 'protobuf decoding and MD5 of each aggregate dominate both decoders',
        digits: 0,
      }),
      ...(pairedSummary ? [figure({ name: 'paired-run ratio ours / aws-kinesis-agg', unit: '×', ours: pairedSummary })] : []),
      figure({ name: 'deaggregation without the range check', unit: 'records/s', ours: oursNoRange, baseline: theirs, digits: 0 }),
    ],
    notes: ['the ratio column of the first row is the median of the paired-run ratios (each run of ours against the adjacent run of aws-kinesis-agg)'],
  };
}
