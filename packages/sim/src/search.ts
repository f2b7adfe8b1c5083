/**
 * Running seeds, and turning a failing one into a minimal replayable schedule. Shared by the
 * test suite and the `test:sim` command.
 * @module
 */
import { formatOracleVerdict, type OracleInvariant } from './oracle.js';
import { generateSchedule, type GenerateOptions, type Schedule } from './schedule.js';
import { shrinkSchedule } from './shrink.js';
import { runSchedule, type RunOptions, type RunResult } from './simulation.js';

/** Options of a seed search. */
export interface SearchOptions extends GenerateOptions, RunOptions {
  /** Most runs spent shrinking one failure (0: do not shrink). @default 300 */
  readonly maxShrinkRuns?: number;
}

/** A failing seed, with its minimal schedule. */
export interface Failure {
  readonly seed: number;
  /** The run of the full generated schedule. */
  readonly result: RunResult;
  /** The shrunk schedule and its run. */
  readonly minimal: { readonly schedule: Schedule; readonly result: RunResult; readonly shrinkRuns: number };
}

/** Generates and runs the schedule of `seed`. */
export function runSeed(seed: number, options: SearchOptions = {}): Promise<RunResult> {
  return runSchedule(generateSchedule(seed, options), options);
}

/** The invariants a run broke. */
export function brokenInvariants(result: RunResult): Set<OracleInvariant> {
  return new Set(result.verdict.violations.map((v) => v.invariant));
}

/**
 * Shrinks a failing run's schedule while it still breaks at least one of the invariants the
 * original run broke (so the shrinking does not wander off to another failure).
 */
export async function minimize(result: RunResult, options: SearchOptions = {}): Promise<Failure['minimal']> {
  const wanted = brokenInvariants(result);
  let last: RunResult = result;
  const { schedule, runs } = await shrinkSchedule(
    result.schedule,
    async (candidate) => {
      const run = await runSchedule(candidate, options);
      const kept = [...brokenInvariants(run)].some((i) => wanted.has(i));
      if (kept) last = run;
      return kept;
    },
    { maxRuns: options.maxShrinkRuns ?? 300 },
  );
  const final = last.schedule === schedule ? last : await runSchedule(schedule, options);
  return { schedule, result: final, shrinkRuns: runs };
}

/** Runs seed `seed`; if it fails, shrinks it. */
export async function checkSeed(seed: number, options: SearchOptions = {}): Promise<Failure | undefined> {
  const result = await runSeed(seed, options);
  if (result.verdict.ok) return undefined;
  const minimal = options.maxShrinkRuns === 0 ? { schedule: result.schedule, result, shrinkRuns: 0 } : await minimize(result, options);
  return { seed, result, minimal };
}

/** A report of a failure: the seed, what broke, and the minimal schedule as replayable JSON. */
export function formatFailure(failure: Failure): string {
  const { seed, result, minimal } = failure;
  return [
    `seed ${seed} FAILED (${result.schedule.config.processor ?? 'recording'} processor, ${result.schedule.events.length} events): ${formatOracleVerdict(result.verdict, 8)}`,
    `minimal schedule (${minimal.schedule.events.length} events, ${minimal.shrinkRuns} shrink runs): ${formatOracleVerdict(minimal.result.verdict, 8)}`,
    'replay: npx -y pnpm@12.21.0 test:sim -- --replay <file with the JSON below>',
    JSON.stringify(minimal.schedule, null, 2),
  ].join('\n');
}
