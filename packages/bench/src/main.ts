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
import { benchFleet } from './bench-fleet.js';
import { benchIdle } from './bench-idle.js';
import { benchNeighbours } from './bench-neighbours.js';
import { benchLatency } from './bench-latency.js';
import { benchRebalance } from './bench-rebalance.js';
import { leaseSection } from './leases/bench-leases.js';
import { benchRss } from './bench-rss.js';
import { benchFanOut } from './bench-fanout.js';
import { benchThroughput } from './bench-throughput.js';
import { Children } from './children.js';
import { EmulatorProcess } from './emulators.js';
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

/** The figures of issue #17 (kcl-ts against lifion-kinesis and the raw SDK loop), in one table. */
function sideBySideTable(reports: readonly BenchReport[]): string[] {
  const lines = ['| figure | kcl-ts | against | baseline | ratio | target | verdict |', '|---|---|---|---|---|---|---|'];
  for (const r of reports) {
    for (const f of r.figures) {
      if (!f.against) continue;
      const d = f.digits ?? 2;
      lines.push(
        `| ${f.name}${f.unit ? ` [${f.unit}]` : ''} | ${formatSummary(f.ours, d)} | ${f.against} | ${formatSummary(f.baseline, d)} | ${f.ratio === undefined ? '—' : `${num(f.ratio, 2)}×`} | ${f.target ?? '—'} | ${f.verdict === 'MISS' ? '**MISS**' : f.verdict} |`,
      );
    }
  }
  return lines.length > 2 ? lines : [];
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
    ...(() => {
      const table = sideBySideTable(reports);
      return table.length === 0
        ? []
        : [
            '## Side by side: kcl-ts, lifion-kinesis 1.3.3 and the raw AWS SDK loop (issue #17)',
            '',
            'Each row is measured in this run, each implementation alone in its own process, alternating; median (min–max, n) over the runs; ratio = kcl-ts / baseline. Details and what limits each miss are in the sections below.',
            '',
            ...table,
            '',
          ];
    })(),
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
  let emulatorsForCleanup: EmulatorProcess | undefined;
  // Every child forked by the fleet harness is SIGKILLed when this process exits.
  const cleanup = (): void => {
    emulatorsForCleanup?.kill();
  };
  process.on('exit', cleanup);
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

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
    const needsMock = [...flags.only].some((n) => n === 'rebalance' || n === 'dynamodb' || n === 'failover' || n === 'handoff' || n === 'fanout' || n === 'fanout-pipeline');
    [kinesisMock, emulators] = await Promise.all([needsMock ? startKinesisMock({ shardLimit: 2_000, region }) : undefined, EmulatorProcess.start(logDir)]);
    emulatorsForCleanup = emulators;
    const mock = kinesisMock;
    log(`emulators: Kinesis Mock ${mock?.endpoint ?? '(not needed)'} (pid ${mock?.pid ?? '—'}); kinesalite ${emulators.directKinesisEndpoint} behind the counting front ${emulators.kinesisEndpoint}, dynalite ${emulators.dynamoDbEndpoint} (pid ${emulators.pid})`);
    const unavailable = (): never => {
      throw new Error('the Kinesis Mock was not started for this selection');
    };
    const ctx: BenchContext = {
      kinesisMock: mock
        ? { label: 'the Kinesis Mock', endpoint: mock.endpoint, client: createLocalKinesisClient({ endpoint: mock.endpoint, region }) }
        : { label: 'the Kinesis Mock', get endpoint(): string { return unavailable(); }, get client() { return unavailable(); } },
      kinesalite: { label: 'kinesalite', endpoint: emulators.kinesisEndpoint, client: createLocalKinesisClient({ endpoint: emulators.directKinesisEndpoint, region }) },
      emulators,
      dynamoDbEndpoint: emulators.dynamoDbEndpoint,
      dynamoDb: createLocalDynamoDbClient({ endpoint: emulators.dynamoDbEndpoint, region }),
      region,
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
      ['idle', has('idle'), async () => [await benchIdle(ctx)]],
      ['neighbours', has('neighbours'), async () => [await benchNeighbours(ctx)]],
      ['rss', has('rss'), async () => [await benchRss(ctx)]],
      ['fanout-pipeline', has('fanout-pipeline'), async () => [await benchFanOutPipeline(ctx)]],
      ['fanout', has('fanout'), async () => [await benchFanOut(ctx)]],
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
    if (mock) ctx.kinesisMock.client.destroy();
    ctx.kinesalite.client.destroy();
    ctx.dynamoDb.destroy();
  } finally {
    clearInterval(loadTimer);
    await children.stopAll(5_000);
    await Promise.allSettled([kinesisMock?.stop(), emulators?.stop()]);
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
