/**
 * Shrinking a failing schedule to a minimal one that still fails (delta debugging).
 * @module
 */
import type { Schedule, SimEvent } from './schedule.js';

/** Options of {@link shrinkSchedule}. */
export interface ShrinkOptions {
  /** Most candidate runs. @default 300 */
  readonly maxRuns?: number;
  /** Called after each candidate run. */
  readonly onStep?: (step: { readonly runs: number; readonly events: number; readonly kept: boolean }) => void;
}

/** What {@link shrinkSchedule} found. */
export interface ShrinkResult {
  /** The smallest failing schedule found (the input if nothing could be removed). */
  readonly schedule: Schedule;
  /** Candidate runs made. */
  readonly runs: number;
}

/**
 * Delta debugging (ddmin) over the events: removes chunks of events, halving the chunk size
 * when no chunk can go, while `fails` still holds; then shortens the run to just after its
 * last event. The result is 1-minimal (no single event can be dropped) unless `maxRuns` ran
 * out. `fails` must be deterministic.
 */
export async function shrinkSchedule(schedule: Schedule, fails: (candidate: Schedule) => Promise<boolean>, options: ShrinkOptions = {}): Promise<ShrinkResult> {
  const maxRuns = options.maxRuns ?? 300;
  let runs = 0;
  let events: readonly SimEvent[] = schedule.events;
  const attempt = async (candidate: Schedule): Promise<boolean> => {
    runs++;
    const kept = await fails(candidate);
    options.onStep?.({ runs, events: candidate.events.length, kept });
    return kept;
  };
  const withEvents = (list: readonly SimEvent[]): Schedule => ({ ...schedule, events: list });

  let n = 2;
  while (events.length >= 1 && runs < maxRuns) {
    const size = Math.ceil(events.length / n);
    let reduced = false;
    for (let start = 0; start < events.length && runs < maxRuns; start += size) {
      const complement = [...events.slice(0, start), ...events.slice(start + size)];
      if (await attempt(withEvents(complement))) {
        events = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (reduced) continue;
    if (size <= 1) break;
    n = Math.min(events.length, n * 2);
  }

  let result = withEvents(events);
  const lastAt = Math.max(0, ...events.map((e) => e.at));
  const shorter = Math.min(schedule.config.durationMs, Math.ceil((lastAt + 4_000) / 1_000) * 1_000);
  if (shorter < schedule.config.durationMs && runs < maxRuns) {
    const candidate: Schedule = { ...result, config: { ...result.config, durationMs: shorter } };
    if (await attempt(candidate)) result = candidate;
  }
  return { schedule: result, runs };
}
