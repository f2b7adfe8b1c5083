/**
 * `pnpm bench`: starts the embedded emulators once, runs every benchmark (or those named with
 * `--only`), prints a table per benchmark with the baseline measured in the same run, and
 * writes `docs/benchmarks.md`. A missed target is printed as MISS with what limits it.
 * @module
 */
import './quiet-warnings.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalDynamoDbClient, createLocalKinesisClient, startKinesisMock, type EmulatorHandle } from '@kcl-ts/local';
import { benchDeaggregation } from './bench-deaggregation.js';
import { benchFanOutPipeline } from './bench-fanout-pipeline.js';
import { benchFanOut } from './bench-fanout.js';
import { benchFleet } from './bench-fleet.js';
import { benchIdle } from './bench-idle.js';
import { benchLatency } from './bench-latency.js';
import { benchNeighbours } from './bench-neighbours.js';
import { benchRebalance } from './bench-rebalance.js';
import { benchRss } from './bench-rss.js';
import { benchThroughput } from './bench-throughput.js';
import { BENCHMARKS, parseFlags, USAGE, type BenchFlags, type BenchmarkName } from './flags.js';
import { EmulatorProcess } from './emulators.js';
import type { BenchContext } from './context.js';
import { leaseSection } from './leases/bench-leases.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { stopAllPeers } from './peer-run.js';
import { cells, formatSummary, num, renderMarkdown, renderText, type BenchReport, type Figure } from './report.js';
import { summarize } from './stats.js';

type Run = (ctx: BenchContext, only: ReadonlySet<BenchmarkName>) => Promise<BenchReport[]>;
const one = (bench: (ctx: BenchContext) => Promise<BenchReport>): Run => async (ctx) => [await bench(ctx)];

/** The entry that runs each benchmark (several names may share one), and whether it needs the Kinesis Mock. */
const ENTRIES: Readonly<Record<BenchmarkName, { readonly run: Run; readonly kinesisMock?: true }>> = {
  deaggregation: { run: one(benchDeaggregation) },
  rebalance: { run: benchRebalance, kinesisMock: true },
  dynamodb: { run: benchRebalance, kinesisMock: true },
  failover: { run: benchFleet, kinesisMock: true },
  handoff: { run: benchFleet, kinesisMock: true },
  latency: { run: one(benchLatency) },
  throughput: { run: one(benchThroughput) },
  idle: { run: one(benchIdle) },
  neighbours: { run: one(benchNeighbours) },
  rss: { run: one(benchRss) },
  'fanout-pipeline': { run: one(benchFanOutPipeline), kinesisMock: true },
  fanout: { run: one(benchFanOut), kinesisMock: true },
};

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_OUT = join(REPO_ROOT, 'docs', 'benchmarks.md');

function failedReport(name: string, error: unknown): BenchReport {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { name, title: `${name} — FAILED`, setup: 'The benchmark did not complete.', figures: [], notes: [`error: ${detail}`] };
}

/** A Markdown table row of a figure after `first` cells, a MISS in bold. */
const row = (f: Figure, first: readonly string[], against: boolean): string => `| ${[...first, ...cells(f, against)].join(' | ')} |`.replace(/\n/g, ' ').replace(/\| MISS \|$/, '| **MISS** |');

function summaryTable(reports: readonly BenchReport[]): string[] {
  const lines = ['| benchmark | figure | kcl-ts | baseline | ratio | target | verdict |', '|---|---|---|---|---|---|---|'];
  for (const r of reports) {
    if (r.figures.length === 0) lines.push(`| ${r.title} | — | — | — | — | — | FAILED |`);
    for (const f of r.figures) if (f.verdict !== 'INFO') lines.push(row(f, [r.title], false));
  }
  return lines;
}

/** The figures of issue #17 (kcl-ts against lifion-kinesis and the raw SDK loop), in one table. */
function sideBySideTable(reports: readonly BenchReport[]): string[] {
  const rows = reports.flatMap((r) => r.figures.filter((f) => f.against).map((f) => row(f, [], true)));
  return rows.length === 0 ? [] : ['| figure | kcl-ts | against | baseline | ratio | target | verdict |', '|---|---|---|---|---|---|---|', ...rows];
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
    'Processes: no emulator runs in the orchestrator. kinesalite and dynalite (from `@kcl-ts/local`) share one emulator child process, which also counts every client\'s GetRecords calls per shard (from the iterators) and, where a benchmark says so, enforces the 5 calls/s/shard limit; ' +
      'the Kinesis Mock (fleet benchmarks) is another child process. Every consumer under test runs alone in its own child process and measures its own `process.cpuUsage()` and `memoryUsage()`; ' +
      'kcl-ts is measured through a Worker built from `clientConfig` (the clients users get) wherever it is compared with another implementation. ' +
      'The baselines labelled "Java KCL 2.x timing model" are **our code configured with the Java KCL 2.x defaults**, not the Java KCL itself.',
    '',
    ...(sideBySideTable(reports).length === 0
      ? []
      : [
          '## Side by side: kcl-ts, lifion-kinesis 1.3.3 and the raw AWS SDK loop (issue #17)',
          '',
          'Each row is measured in this run, each implementation alone in its own process, alternating; median (min–max, n) over the runs; ratio = kcl-ts / baseline. Details and what limits each miss are in the sections below.',
          '',
          ...sideBySideTable(reports),
          '',
        ]),
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
  // Every child forked through the fleet harness (peers, workers, the emulator process) is SIGKILLed when this process exits.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

  log(`machine: ${machine.os}, ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, node ${machine.node}, load ${machine.load1}`);
  log(`child logs: ${logDir}`);
  let kinesisMock: EmulatorHandle | undefined;
  let emulators: EmulatorProcess | undefined;
  const reports: BenchReport[] = [];
  const region = 'us-east-1';
  try {
    // No emulator runs in this process: the Kinesis Mock is its own child process, kinesalite
    // and dynalite share another one (emulator-process.js), so neither the orchestrator's work
    // nor the emulators' lands in a measured process.
    const selected = BENCHMARKS.filter((name) => flags.only.has(name)).map((name) => ({ name, ...ENTRIES[name] }));
    const started = await Promise.all([selected.some((b) => b.kinesisMock) ? startKinesisMock({ shardLimit: 2_000, region }) : undefined, EmulatorProcess.start(logDir)]);
    [kinesisMock, emulators] = started;
    const { endpoints } = started[1];
    const mock = kinesisMock;
    log(`emulators: Kinesis Mock ${mock?.endpoint ?? '(not needed)'} (pid ${mock?.pid ?? '—'}); kinesalite ${endpoints.directKinesisEndpoint} behind the counting front ${endpoints.kinesisEndpoint}, dynalite ${endpoints.dynamoDbEndpoint} (pid ${emulators.pid})`);
    const unavailable = (): never => {
      throw new Error('the Kinesis Mock was not started for this selection');
    };
    const ctx: BenchContext = {
      kinesisMock: mock
        ? { label: 'the Kinesis Mock', endpoint: mock.endpoint, client: createLocalKinesisClient({ endpoint: mock.endpoint, region }) }
        : { label: 'the Kinesis Mock', get endpoint(): string { return unavailable(); }, get client() { return unavailable(); } },
      kinesalite: { label: 'kinesalite', endpoint: endpoints.kinesisEndpoint, client: createLocalKinesisClient({ endpoint: endpoints.directKinesisEndpoint, region }) },
      emulators,
      dynamoDbEndpoint: endpoints.dynamoDbEndpoint,
      dynamoDb: createLocalDynamoDbClient({ endpoint: endpoints.dynamoDbEndpoint, region }),
      region,
      logDir,
      runs: flags.runs,
      quick: flags.quick,
      tag: Math.random().toString(36).slice(2, 8),
      log,
    };
    // One run per entry point: an entry that yields several reports (rebalance + dynamodb, failover + handoff) runs once for all of them.
    for (const run of new Set(selected.map((b) => b.run))) {
      const names = selected.filter((b) => b.run === run).map((b) => b.name);
      let produced: BenchReport[];
      try {
        produced = await run(ctx, flags.only);
      } catch (error) {
        log(`${names.join(', ')} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        produced = [failedReport(names[0]!, error)];
        process.exitCode = 1;
        await stopAllPeers(5_000);
      }
      for (const r of produced) {
        reports.push(r);
        process.stdout.write(`\n${renderText(r)}\n`);
      }
    }
    if (mock) ctx.kinesisMock.client.destroy();
    ctx.kinesalite.client.destroy();
    ctx.dynamoDb.destroy();
  } finally {
    clearInterval(loadTimer);
    await stopAllPeers(5_000);
    await Promise.allSettled([kinesisMock?.stop(), emulators?.stop(5_000)]);
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
    // The lease-coordination section is written by `pnpm bench:leases`: keep it.
    const kept = existsSync(flags.out) ? leaseSection(readFileSync(flags.out, 'utf8')) : undefined;
    const report = markdown(flags, machine, loads, startedAt, seconds, reports);
    writeFileSync(flags.out, kept === undefined ? report : `${report.trimEnd()}\n\n${kept}\n`);
    process.stdout.write(`report written to ${relative(process.cwd(), flags.out) || flags.out}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
