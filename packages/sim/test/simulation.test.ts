/**
 * The deterministic simulation as part of the test suite: `SIM_SEEDS` seeded schedules
 * (default 200, from `SIM_FIRST_SEED`, default 1) of a fleet of real Workers under faults,
 * each checked by the oracle. A failure prints the failing seeds and the first one's
 * minimal schedule, replayable with `pnpm test:sim -- --replay <file>`.
 */
import { describe, expect, it } from 'vitest';
import { generateSchedule, parseSchedule } from '../src/schedule.js';
import { formatFailure, minimize, runSeed } from '../src/search.js';
import { runSchedule, type RunResult } from '../src/simulation.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

const SEEDS = envInt('SIM_SEEDS', 200);
const FIRST = envInt('SIM_FIRST_SEED', 1);

describe('deterministic simulation of a fleet', () => {
  it(`keeps every invariant over ${SEEDS} seeded fault schedules (seeds ${FIRST}..${FIRST + SEEDS - 1})`, async () => {
    const failed: RunResult[] = [];
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
      const result = await runSeed(seed);
      if (!result.verdict.ok) failed.push(result);
    }
    if (failed.length === 0) return;
    const first = failed[0]!;
    const minimal = await minimize(first, { maxShrinkRuns: 40 });
    expect.fail(`${failed.length} of ${SEEDS} seeds failed: ${failed.map((f) => f.schedule.seed).join(', ')}\n${formatFailure({ seed: first.schedule.seed, result: first, minimal })}`);
  }, 600_000);

  it('is deterministic: a schedule, and its JSON, replay to the same journal and verdict', async () => {
    const schedule = generateSchedule(5, { durationMs: [20_000, 30_000] });
    const a = await runSchedule(schedule);
    const b = await runSchedule(parseSchedule(JSON.parse(JSON.stringify(schedule))));
    expect(a.journal.length).toBeGreaterThan(100);
    expect(b.journal).toEqual(a.journal);
    expect(b.verdict).toEqual(a.verdict);
    expect(b.stats).toEqual(a.stats);
  }, 60_000);

  it('runs the fleet for real: records flow, leases move, faults are injected', async () => {
    const result = await runSeed(2);
    expect(result.stats.puts).toBeGreaterThan(0);
    expect(result.verdict.summary.recordsProcessed).toBeGreaterThanOrEqual(result.verdict.required);
    expect(result.verdict.summary.checkpointsAccepted).toBeGreaterThan(0);
    expect(result.stats.workersStarted).toBeGreaterThan(0);
    expect(result.stats.kinesisCalls['GetRecords']).toBeGreaterThan(0);
  }, 60_000);
});
