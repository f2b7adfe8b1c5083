#!/usr/bin/env node
/**
 * `pnpm test:sim`: a long seed search of the simulation, or the replay of one schedule.
 *
 * ```
 * pnpm test:sim -- --seeds 100000            # seeds 1..100000 on every core
 * pnpm test:sim -- --seeds 500 --from 9000   # seeds 9000..9499
 * pnpm test:sim -- --seed 42                 # one seed (shrunk if it fails)
 * pnpm test:sim -- --replay failure.json     # one schedule, as printed for a failure
 * ```
 * Prints progress, the number of seeds run, and every failing seed with its minimal
 * schedule (also written to `--out DIR` when given). Exit code 1 if anything failed.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker as Thread, workerData } from 'node:worker_threads';
import { formatOracleVerdict } from './oracle.js';
import { parseSchedule } from './schedule.js';
import { checkSeed, formatFailure, minimize, type Failure, type SearchOptions } from './search.js';
import { runSchedule } from './simulation.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `usage: test:sim [--seeds N] [--from S] [--jobs J] [--max-failures F] [--out DIR]
       test:sim --seed N [--out DIR]
       test:sim --replay FILE [--shrink]
options:
  --seeds N          number of seeds to run (default 100)
  --from S           first seed (default 1)
  --jobs J           worker threads (default: the number of cores)
  --max-failures F   stop after F failing seeds (default 5)
  --duration MIN-MAX simulated length of the faulty part, in seconds (default 60-120)
  --out DIR          also write each minimal failing schedule to DIR/seed-<n>.json
  --no-shrink        report failing seeds without shrinking them
  --shrink           with --replay: shrink the schedule if it fails
  --trace SHARD      with --replay: print the journal lines of SHARD ('all' for every line)
  --coordination M   every-worker (default), single-scanner, or worker-heartbeat (single scanner
                     with worker heartbeats): the lease coordination mode of every worker
  --streams N|random streams the fleet consumes (default 1); random: 1 for ~60% of the seeds,
                     else 2 or 3`;

interface ThreadTask {
  readonly seeds: readonly number[];
  readonly options: SearchOptions;
  readonly maxFailures: number;
}

type ThreadMessage = { readonly type: 'done'; readonly seed: number; readonly ok: boolean } | { readonly type: 'failure'; readonly report: string; readonly seed: number; readonly schedule: string };

/** Body of a search thread: runs its seeds, reports each one, shrinks failures. */
async function threadMain(task: ThreadTask): Promise<void> {
  let failures = 0;
  for (const seed of task.seeds) {
    const failure = await checkSeed(seed, task.options);
    if (failure) {
      failures++;
      parentPort!.postMessage({ type: 'failure', seed, report: formatFailure(failure), schedule: JSON.stringify(failure.minimal.schedule, null, 2) } satisfies ThreadMessage);
    }
    parentPort!.postMessage({ type: 'done', seed, ok: failure === undefined } satisfies ThreadMessage);
    if (failures >= task.maxFailures) return;
  }
}

function parseDuration(text: string | undefined): SearchOptions['durationMs'] {
  if (text === undefined) return undefined;
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (m === null || Number(m[1]) < 5 || Number(m[2]) < Number(m[1])) throw new TypeError(`--duration must be MIN-MAX seconds (MIN >= 5), got ${text}`);
  return [Number(m[1]) * 1000, Number(m[2]) * 1000];
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${name} must be a positive integer, got ${text}`);
  return n;
}

function writeOut(dir: string | undefined, seed: number, schedule: string): void {
  if (dir === undefined) return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `seed-${seed}.json`);
  writeFileSync(file, `${schedule}\n`);
  console.log(`wrote ${file}`);
}

async function replay(file: string, shrink: boolean, out: string | undefined, trace: string | undefined): Promise<number> {
  const schedule = parseSchedule(JSON.parse(readFileSync(file, 'utf8')));
  const started = Date.now();
  const result = await runSchedule(schedule);
  if (trace !== undefined) {
    for (const line of result.journal) {
      if (trace !== 'all' && (!('shard' in line) || line.shard !== trace)) continue;
      const { at, worker, pid: _pid, type, ...rest } = line;
      console.log(`${String(at).padStart(7)} ${worker.padEnd(7)} ${type.padEnd(20)} ${JSON.stringify(rest)}`);
    }
  }
  console.log(`replayed ${file} (seed ${schedule.seed}, ${schedule.events.length} events) in ${Date.now() - started} ms: ${formatOracleVerdict(result.verdict)}`);
  if (result.verdict.ok || !shrink) return result.verdict.ok ? 0 : 1;
  const minimal = await minimize(result);
  const failure: Failure = { seed: schedule.seed, result, minimal };
  console.log(formatFailure(failure));
  writeOut(out, schedule.seed, JSON.stringify(minimal.schedule, null, 2));
  return 1;
}

async function search(from: number, count: number, jobs: number, maxFailures: number, options: SearchOptions, out: string | undefined): Promise<number> {
  const started = Date.now();
  const threads = Math.max(1, Math.min(jobs, count));
  console.log(`running seeds ${from}..${from + count - 1} on ${threads} thread(s)`);
  let done = 0;
  let failed = 0;
  let lastReport = started;
  const failingSeeds: number[] = [];
  const progress = (): void => {
    const secs = (Date.now() - started) / 1000;
    console.log(`  ${done}/${count} seeds run, ${failed} failed, ${(done / Math.max(secs, 0.001)).toFixed(1)} seeds/s, ${secs.toFixed(0)} s`);
  };
  const workers = Array.from({ length: threads }, (_, t) => {
    const seeds: number[] = [];
    for (let s = from + t; s < from + count; s += threads) seeds.push(s);
    const thread = new Thread(new URL(import.meta.url), { workerData: { seeds, options, maxFailures } satisfies ThreadTask });
    return { thread, ended: new Promise<void>((resolve, reject) => {
      thread.on('message', (message: ThreadMessage) => {
        if (message.type === 'failure') {
          failed++;
          failingSeeds.push(message.seed);
          console.log(message.report);
          writeOut(out, message.seed, message.schedule);
          if (failed >= maxFailures) void Promise.all(workers.map((w) => w.thread.terminate()));
          return;
        }
        done++;
        if (Date.now() - lastReport >= 10_000) {
          lastReport = Date.now();
          progress();
        }
      });
      thread.on('error', reject);
      thread.on('exit', () => resolve());
    }) };
  });
  await Promise.all(workers.map((w) => w.ended));
  progress();
  console.log(`${done} seeds run in ${((Date.now() - started) / 1000).toFixed(1)} s; ${failed === 0 ? 'no failure' : `failing seeds: ${failingSeeds.sort((a, b) => a - b).join(', ')}`}`);
  return failed === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  // `pnpm test:sim -- --seeds 10` passes the `--` on: drop it, or every option is positional.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  const { values } = parseArgs({
    args,
    options: {
      seeds: { type: 'string' },
      from: { type: 'string' },
      seed: { type: 'string' },
      replay: { type: 'string' },
      jobs: { type: 'string' },
      'max-failures': { type: 'string' },
      duration: { type: 'string' },
      out: { type: 'string' },
      shrink: { type: 'boolean' },
      'no-shrink': { type: 'boolean' },
      trace: { type: 'string' },
      coordination: { type: 'string' },
      streams: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const coordination = values.coordination;
  if (coordination !== undefined && coordination !== 'every-worker' && coordination !== 'single-scanner' && coordination !== 'worker-heartbeat') {
    throw new TypeError(`--coordination must be every-worker, single-scanner or worker-heartbeat, got ${coordination}`);
  }
  const streams = values.streams === undefined || values.streams === 'random' ? values.streams : positiveInt('streams', values.streams, 1);
  const options: SearchOptions = {
    ...(streams !== undefined && { streams }),
    ...(values.duration !== undefined && { durationMs: parseDuration(values.duration)! }),
    ...(coordination !== undefined && { coordination }),
    ...(values['no-shrink'] === true && { maxShrinkRuns: 0 }),
  };
  if (values.replay !== undefined) return replay(values.replay, values.shrink ?? false, values.out, values.trace);
  if (values.seed !== undefined) {
    const seed = positiveInt('seed', values.seed, 1);
    const started = Date.now();
    const failure = await checkSeed(seed, options);
    if (failure === undefined) {
      console.log(`seed ${seed}: CLEAN (${Date.now() - started} ms)`);
      return 0;
    }
    console.log(formatFailure(failure));
    writeOut(values.out, seed, JSON.stringify(failure.minimal.schedule, null, 2));
    return 1;
  }
  return search(
    positiveInt('from', values.from, 1),
    positiveInt('seeds', values.seeds, 100),
    positiveInt('jobs', values.jobs, availableParallelism()),
    positiveInt('max-failures', values['max-failures'], 5),
    options,
    values.out,
  );
}

if (isMainThread) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      console.error(USAGE);
      process.exit(2);
    },
  );
} else {
  threadMain(workerData as ThreadTask).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
