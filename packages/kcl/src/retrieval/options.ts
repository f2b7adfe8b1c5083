/**
 * Options of polling record retrieval, their defaults, and validation.
 * @module
 */
import { MAX_TIMER_DELAY_MS } from '@kcl-ts/processor';

/**
 * Options of polling retrieval. Every field is optional; see {@link RETRIEVAL_DEFAULTS}.
 * Durations (`…Ms`) are milliseconds of at most 2^31−1 (`MAX_TIMER_DELAY_MS`, about 24.8 days:
 * the longest delay a Node.js timer honours).
 */
export interface RetrievalOptions {
  /**
   * Maximum records per GetRecords call (the `Limit` parameter), 1..10,000.
   * Java KCL: `maxRecords`.
   * @default 10_000
   */
  readonly maxRecords?: number;
  /**
   * Pause after a GetRecords call that found the shard caught up (an empty batch, or
   * `MillisBehindLatest` 0) before polling again. While the shard is behind, the next call
   * follows at once (subject to {@link RetrievalOptions.maxGetRecordsPerSecond}). The default
   * keeps put→process latency around 150 ms at the median while leaving room under the
   * 5 calls/s shard limit for another consumer.
   * Java KCL: `idleTimeBetweenReadsInMillis` (default 1,500, minimum 200).
   * @default 250
   */
  readonly idleTimeBetweenReadsMs?: number;
  /**
   * Adaptive polling of a caught-up shard, between `idleTimeBetweenReadsMs` and this bound:
   * after each further poll in a row that returned no records, the pause doubles; after a poll
   * that returned records, the pause is the time for about three records to arrive at the
   * shard's recent rate. A busy shard (≥ 12 records/s) keeps `idleTimeBetweenReadsMs`; an idle
   * or sparse one (≤ 3 records/s) is polled about once a second instead of four times, leaving
   * the shard's 5 GetRecords/s — shared by every polling application of the stream — to the
   * others, at the price of up to this much latency for records on a sparse shard. Set it
   * equal to `idleTimeBetweenReadsMs` to turn the adaptation off. Java KCL: none (it always
   * idles `idleTimeBetweenReadsInMillis`).
   * @default 1_000 (or `idleTimeBetweenReadsMs`, when that is larger)
   */
  readonly maxIdleTimeBetweenReadsMs?: number;
  /**
   * Upper bound of GetRecords calls per second on one shard, 1..5 (Kinesis allows 5 per shard,
   * shared by every polling consumer). Enforced as a minimum spacing of `1000 / value` ms
   * between call starts. Java KCL: no equivalent (it relies on the idle time).
   * @default 5
   */
  readonly maxGetRecordsPerSecond?: number;
  /**
   * Prefetch bound: fetching pauses while this many undelivered batches are queued.
   * Java KCL: `maxPendingProcessRecordsInput` (prefetching cache).
   * @default 3
   */
  readonly prefetchMaxBatches?: number;
  /**
   * Prefetch bound: fetching pauses while this many undelivered user records are queued.
   * The queue may exceed it by at most one batch. Java KCL: `maxRecordsCount`.
   * @default 30_000
   */
  readonly prefetchMaxRecords?: number;
  /**
   * Prefetch bound: fetching pauses while this many bytes of undelivered data are queued.
   * The queue may exceed it by at most one batch (≤ 10 MiB). Java KCL: `maxByteSize`.
   * @default 33_554_432 (32 MiB)
   */
  readonly prefetchMaxBytes?: number;
  /**
   * Consecutive transient failures (5xx, network errors, timeouts) of one call before the
   * fetcher gives up and reports a retryable `DependencyError`. Throttling is retried without
   * limit. Java KCL: no direct equivalent.
   * @default 10
   */
  readonly maxRetries?: number;
  /**
   * Base delay of the exponential backoff (full jitter) after throttling or a transient failure.
   * @default 100
   */
  readonly retryBaseDelayMs?: number;
  /**
   * Cap of the backoff delay.
   * @default 5_000
   */
  readonly retryMaxDelayMs?: number;
}

/** {@link RetrievalOptions} with every default applied and validated. */
export type RetrievalConfig = { readonly [K in keyof RetrievalOptions]-?: number };

/** The defaults of {@link RetrievalOptions}. */
export const RETRIEVAL_DEFAULTS: RetrievalConfig = Object.freeze({
  maxRecords: 10_000,
  idleTimeBetweenReadsMs: 250,
  maxIdleTimeBetweenReadsMs: 1_000,
  maxGetRecordsPerSecond: 5,
  prefetchMaxBatches: 3,
  prefetchMaxRecords: 30_000,
  prefetchMaxBytes: 32 * 1024 * 1024,
  maxRetries: 10,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 5_000,
});

interface Rule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

const RULES: { readonly [K in keyof RetrievalConfig]: Rule } = {
  maxRecords: { min: 1, max: 10_000, integer: true },
  idleTimeBetweenReadsMs: { min: 0, max: MAX_TIMER_DELAY_MS, integer: false },
  maxIdleTimeBetweenReadsMs: { min: 0, max: MAX_TIMER_DELAY_MS, integer: false },
  maxGetRecordsPerSecond: { min: 1, max: 5, integer: false },
  prefetchMaxBatches: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
  prefetchMaxRecords: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
  prefetchMaxBytes: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
  maxRetries: { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  retryBaseDelayMs: { min: 0, max: MAX_TIMER_DELAY_MS, integer: false },
  retryMaxDelayMs: { min: 0, max: MAX_TIMER_DELAY_MS, integer: false },
};

/**
 * Merges `options` over {@link RETRIEVAL_DEFAULTS} and validates the result.
 * @throws TypeError naming the offending option and its value.
 */
export function resolveRetrievalConfig(options: RetrievalOptions = {}): RetrievalConfig {
  const result: Record<string, number> = {};
  for (const key of Object.keys(RULES) as (keyof RetrievalConfig)[]) {
    let value: unknown = options[key] ?? RETRIEVAL_DEFAULTS[key];
    // An idle time above the default bound (e.g. the Java KCL's 1,500) raises the bound with it.
    if (key === 'maxIdleTimeBetweenReadsMs' && options.maxIdleTimeBetweenReadsMs === undefined && typeof options.idleTimeBetweenReadsMs === 'number') {
      value = Math.max(RETRIEVAL_DEFAULTS.maxIdleTimeBetweenReadsMs, options.idleTimeBetweenReadsMs);
    }
    const rule = RULES[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || value > rule.max || (rule.integer && !Number.isInteger(value))) {
      const kind = rule.integer ? 'an integer' : 'a number';
      const bounds = rule.max === Number.MAX_SAFE_INTEGER ? `>= ${rule.min}` : `between ${rule.min} and ${rule.max}`;
      throw new TypeError(`${key} must be ${kind} ${bounds}, got ${describe(value)}`);
    }
    result[key] = value;
  }
  if (result['maxIdleTimeBetweenReadsMs']! < result['idleTimeBetweenReadsMs']!) {
    throw new TypeError(`maxIdleTimeBetweenReadsMs must be >= idleTimeBetweenReadsMs (${result['idleTimeBetweenReadsMs']}), got ${result['maxIdleTimeBetweenReadsMs']}`);
  }
  if (result['retryMaxDelayMs']! < result['retryBaseDelayMs']!) {
    throw new TypeError(`retryMaxDelayMs must be >= retryBaseDelayMs (${result['retryBaseDelayMs']}), got ${result['retryMaxDelayMs']}`);
  }
  return Object.freeze(result) as unknown as RetrievalConfig;
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}
