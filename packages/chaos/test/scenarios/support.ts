/**
 * Shared frame of the chaos scenario tests: the profile, the clients, and cleanup that
 * always kills the worker processes (also after a failure).
 */
import { afterAll, afterEach, describe, expect } from 'vitest';
import { RETRIEVAL_MODES, type RetrievalMode, type Verdict } from '@kcl-ts/fleet';
import { Scenario, type ScenarioOptions } from '../../src/scenario.js';
import { testStack } from '../../../../test-support/stack.js';

/**
 * `short` (the default, e.g. from the root `pnpm test`) or `full` (`pnpm test:chaos`, whose
 * config sets CHAOS_PROFILE=full unless told otherwise).
 */
export const PROFILE: 'short' | 'full' = process.env.CHAOS_PROFILE === 'full' ? 'full' : 'short';
export const FULL = PROFILE === 'full';

/** Picks the short or the full value. */
export const pick = <T>(short: T, full: T): T => (FULL ? full : short);

const only = process.env.CHAOS_RETRIEVAL;
if (only !== undefined && !RETRIEVAL_MODES.includes(only as RetrievalMode)) throw new TypeError(`CHAOS_RETRIEVAL must be one of ${RETRIEVAL_MODES.join(', ')}, got ${JSON.stringify(only)}`);

/**
 * `describe.each` over the retrieval modes a scenario runs in: `short` in the short profile
 * (none: the scenario is skipped there), `full` in the full one; `CHAOS_RETRIEVAL=polling|fanout`
 * keeps only that mode. A scenario left with no mode is reported as skipped.
 */
export function describeModes(short: readonly RetrievalMode[], full: readonly RetrievalMode[]): (name: string, fn: (retrieval: RetrievalMode) => void) => void {
  const modes = (FULL ? full : short).filter((m) => only === undefined || m === only);
  return (name, fn) => (modes.length > 0 ? describe.each(modes)(name, fn) : describe.skip.each([...full])(name, fn));
}

/**
 * Registers the clients and the cleanup of one scenario file; `create` makes a scenario whose
 * processes are killed after each test.
 */
export function scenarioFrame(): { create(options: Omit<ScenarioOptions, 'stack' | 'kinesis' | 'dynamoDb'>): Promise<Scenario>; stack: ReturnType<typeof testStack> } {
  const stack = testStack();
  const kinesis = stack.kinesisClient();
  const dynamoDb = stack.dynamoDbClient();
  const live: Scenario[] = [];
  afterEach(async () => {
    await Promise.all(live.splice(0).map((s) => s.cleanup()));
  });
  afterAll(() => {
    kinesis.destroy();
    dynamoDb.destroy();
  });
  return {
    stack,
    async create(options) {
      const s = await Scenario.create({ ...options, stack, kinesis, dynamoDb });
      live.push(s);
      return s;
    },
  };
}

/** Prints the verdict (and `extra`) and asserts it is clean and every worker stopped gracefully at the end. */
export function expectClean(verdict: Verdict & { text: string; killedAtEnd: readonly string[] }, extra = ''): void {
  console.log(extra ? `${verdict.text}\n  ${extra}` : verdict.text);
  expect(verdict.violations, verdict.text).toEqual([]);
  expect(verdict.killedAtEnd, `workers that did not stop within the shutdown deadline — ${verdict.text}`).toEqual([]);
}

/** What a scenario table varies: its name, its streams (one when absent), shards per stream and producer keys. */
export type ScenarioShape = Pick<ScenarioOptions, 'name' | 'streams' | 'shards' | 'keys'>;

/** Three streams of two shards: the shard ids repeat across the streams. */
export const MULTI_STREAM = { streams: ['orders', 'payments', 'audit'], shards: 2, keys: 8 } as const;

/**
 * {@link expectClean}, then the same per stream (each stream's verdict clean, with puts), and
 * `zero` (lost records, or duplicates) at 0 overall and on every stream.
 */
export function expectCleanPerStream(verdict: Parameters<typeof expectClean>[0] & { byStream: ReadonlyMap<string, Verdict> }, zero: 'lost' | 'duplicates'): void {
  expectClean(verdict);
  expect(verdict.summary[zero], zero).toBe(0);
  for (const [stream, v] of verdict.byStream) {
    expect(v.violations, `stream ${stream}`).toEqual([]);
    expect(v.summary.puts, `puts on ${stream}`).toBeGreaterThan(0);
    expect(v.summary[zero], `${zero} on ${stream}`).toBe(0);
  }
}
