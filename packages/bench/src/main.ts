/**
 * `pnpm bench`: starts the embedded emulators once, runs every benchmark (or those named with
 * `--only`), prints a table per benchmark with the baseline measured in the same run, and
 * writes `docs/benchmarks.md`. A missed target is printed as MISS with what limits it.
 * @module
 */
import './quiet-warnings.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKinesalite, startLocalStack, createLocalKinesisClient, type LocalStack, type EmulatorHandle } from '@kcl-ts/local';
import { benchDeaggregation } from './bench-deaggregation.js';
import { benchFleet } from './bench-fleet.js';
import { benchLatency } from './bench-latency.js';
import { benchRebalance } from './bench-rebalance.js';
import { benchRss } from './bench-rss.js';
import { benchThroughput } from './bench-throughput.js';
import { Children } from './children.js';
import { randomTag, type BenchContext } from './context.js';
import { parseFlags, USAGE, type BenchFlags, type BenchmarkName } from './flags.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { formatSummary, num, renderMarkdown, renderText, type BenchReport } from './report.js';
import { summarize } from './stats.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_OUT = join(REPO_ROOT, 'docs', 'benchmarks.md');

function failedReport(name: string, error: unknown): BenchReport {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { name, title: `${name} — FAILED`, setup: 'The benchmark did not complete.', figures: [], notes: [`error: ${detail}`] };
}

function summaryTable(reports: readonly BenchReport[]): string[] {
  const lines = ['| benchmark | figure | kcl-ts | baseline | ratio | target | verdict |', '|---|---|---|---|---|---|---|'];
  for (const r of reports) {
    if (r.figures.length === 0) lines.push(`| ${r.title} | — | — | — | — | — | FAILED |`);
    for (const f of r.figures) {
      if (f.verdict === 'INFO') continue;
      const d = f.digits ?? 2;
      lines.push(
        `| ${r.title} | ${f.name}${f.unit ? ` [${f.unit}]` : ''} | ${formatSummary(f.ours, d)} | ${formatSummary(f.baseline, d)} | ${f.ratio === undefined ? '—' : `${num(f.ratio, 2)}×`} | ${f.target ?? '—'} | ${f.verdict === 'MISS' ? '**MISS**' : f.verdict} |`.replace(/\n/g, ' '),
      );
    }
  }
  return lines;
}

function markdown(flags: BenchFlags, machine: MachineInfo, loads: number[], startedAt: Date, seconds: number, reports: readonly BenchReport[]): string {
  const load = summarize(loads);
  const command = `pnpm bench${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const out = [
    '# Benchmarks',
    '',
    `Written by \`${command}\` (packages/bench) on ${startedAt.toISOString()}; the whole run took ${num(seconds / 60, 1)} min. ` +
      'Every figure is the median with the spread (min–max) over the runs; the baseline is measured in the same invocation; ratio = kcl-ts / baseline (medians unless stated). ' +
      'A missed target is marked **MISS** with what limits it.',
    '',
    '| machine | |',
    '|---|---|',
    `| OS | ${machine.os} |`,
    `| CPU | ${machine.cpu} |`,
    `| cores | ${machine.cores} |`,
    `| memory | ${machine.memoryGb} GB |`,
    `| node | ${machine.node} |`,
    `| 1-min load average during the run | median ${num(load.median, 1)}, max ${num(load.max, 1)} (sampled every 5 s; the machine is shared, so timings are noisy) |`,
    `| mode | ${flags.quick ? 'quick' : 'full'}, ${flags.runs} runs per figure (fewer where a benchmark says so) |`,
    '',
    'Emulators: the embedded stack of `@kcl-ts/local` (Kinesis Mock child process + dynalite in the bench process), started once; ' +
      'kinesalite (in the bench process) for the two benchmarks that pre-load tens of thousands of records. ' +
      'The baselines labelled "Java KCL 2.x timing model" are **our code configured with the Java KCL 2.x defaults**, not the Java KCL itself.',
    '',
    '## Summary',
    '',
    ...summaryTable(reports),
    '',
  ];
  for (const r of reports) out.push(renderMarkdown(r));
  return out.join('\n');
}

async function main(): Promise<void> {
  let flags: BenchFlags;
  try {
    flags = parseFlags(process.argv.slice(2), DEFAULT_OUT);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  const startedAt = new Date();
  const t0 = Date.now();
  const machine = machineInfo();
  const loads: number[] = [machine.load1];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 5_000);
  const log = (message: string): void => {
    process.stderr.write(`[bench ${num((Date.now() - t0) / 1000, 0).padStart(4)} s] ${message}\n`);
  };
  const logDir = mkdtempSync(join(tmpdir(), 'kcl-bench-'));
  const children = new Children(logDir);
  const cleanup = (): void => children.killAll();
  process.on('exit', cleanup);
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  log(`machine: ${machine.os}, ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, node ${machine.node}, load ${machine.load1}`);
  log(`child logs: ${logDir}`);
  let stack: LocalStack | undefined;
  let kinesalite: EmulatorHandle | undefined;
  const reports: BenchReport[] = [];
  try {
    [stack, kinesalite] = await Promise.all([startLocalStack({ shardLimit: 2_000 }), startKinesalite({ shardLimit: 2_000 })]);
    log(`emulators: Kinesis Mock ${stack.kinesisEndpoint}, kinesalite ${kinesalite.endpoint}, dynalite ${stack.dynamoDbEndpoint}`);
    const ctx: BenchContext = {
      kinesisMock: { label: 'the Kinesis Mock', endpoint: stack.kinesisEndpoint, client: stack.kinesisClient() },
      kinesalite: { label: 'kinesalite', endpoint: kinesalite.endpoint, client: createLocalKinesisClient({ endpoint: kinesalite.endpoint, region: stack.region }) },
      dynamoDbEndpoint: stack.dynamoDbEndpoint,
      dynamoDb: stack.dynamoDbClient(),
      region: stack.region,
      children,
      runs: flags.runs,
      quick: flags.quick,
      tag: randomTag(),
      log,
    };
    const has = (n: BenchmarkName): boolean => flags.only.has(n);
    const steps: [string, boolean, () => Promise<BenchReport[]>][] = [
      ['deaggregation', has('deaggregation'), async () => [await benchDeaggregation(ctx)]],
      ['rebalance', has('rebalance') || has('dynamodb'), () => benchRebalance(ctx, { rebalance: has('rebalance'), dynamodb: has('dynamodb') })],
      ['failover', has('failover') || has('handoff'), () => benchFleet(ctx, { failover: has('failover'), handoff: has('handoff') })],
      ['latency', has('latency'), async () => [await benchLatency(ctx)]],
      ['throughput', has('throughput'), async () => [await benchThroughput(ctx)]],
      ['rss', has('rss'), async () => [await benchRss(ctx)]],
    ];
    for (const [name, enabled, run] of steps) {
      if (!enabled) continue;
      let produced: BenchReport[];
      try {
        produced = await run();
      } catch (error) {
        log(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        produced = [failedReport(name, error)];
        process.exitCode = 1;
        await children.stopAll(5_000);
      }
      for (const r of produced) {
        reports.push(r);
        process.stdout.write(`\n${renderText(r)}\n`);
      }
    }
    ctx.kinesisMock.client.destroy();
    ctx.kinesalite.client.destroy();
    ctx.dynamoDb.destroy();
  } finally {
    clearInterval(loadTimer);
    await children.stopAll(5_000);
    await Promise.allSettled([stack?.stop(), kinesalite?.stop()]);
  }
  const seconds = (Date.now() - t0) / 1000;
  const misses = reports.flatMap((r) => r.figures.filter((f) => f.verdict === 'MISS').map((f) => `${r.title}: ${f.name}`));
  process.stdout.write(`\n== Summary (${num(seconds / 60, 1)} min) ==\n`);
  for (const r of reports) {
    for (const f of r.figures) if (f.verdict !== 'INFO') process.stdout.write(`${f.verdict.padEnd(4)}  ${r.title}: ${f.name} = ${formatSummary(f.ours, f.digits ?? 2)}${f.unit ? ` ${f.unit}` : ''} (target ${f.target})\n`);
    if (r.figures.length === 0) process.stdout.write(`FAIL  ${r.title}\n`);
  }
  if (misses.length > 0) process.stdout.write(`${misses.length} target(s) missed — see the MISS lines above for what limits each.\n`);
  if (flags.out) {
    writeFileSync(flags.out, markdown(flags, machine, loads, startedAt, seconds, reports));
    process.stdout.write(`report written to ${relative(process.cwd(), flags.out) || flags.out}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
