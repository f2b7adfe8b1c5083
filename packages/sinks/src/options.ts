/**
 * Options of the {@link BatchingProcessor}, validated and resolved once by
 * {@link resolveBatchingProcessorConfig}. Errors are `TypeError`s naming the option path and
 * the bad value.
 * @module
 */
import { assertClock, assertLogger, MAX_TIMER_DELAY_MS, silentLogger, systemClock, type Clock, type KinesisClientRecord, type Logger } from '@kcl-ts/processor';
import type { MetricsPublisher } from '@kcl-ts/kcl';
import type { FlushReport } from './metrics.js';
import type { Sink } from './sink.js';

/** Passed to `transform` with every record. */
export interface TransformContext {
  /** The shard the record was read from. */
  readonly shardId: string;
}

/**
 * Turns a record into the item to write, or `undefined` to skip it. A skipped record is still
 * processed: the checkpoint after the next flush covers it. Must be deterministic (the same
 * record gives the same item), so a redelivered record is written the same way.
 */
export type RecordTransform<T> = (record: KinesisClientRecord, context: TransformContext) => T | undefined;

/** When a buffer is flushed. A flush happens when any limit is reached. */
export interface BatchingOptions {
  /** Flush when this many items are buffered; also the most items one flush writes. @default 500 */
  readonly maxRecords?: number;
  /** Flush when the buffered items reach this many bytes (see `sizeOf`); also the most one flush writes (a single larger item is written alone). @default 4194304 (4 MiB) */
  readonly maxBytes?: number;
  /**
   * Flush when the oldest record not yet flushed has waited this long, in ms. `Infinity`
   * flushes only by count, bytes, shutdown and shard end. @default 10000
   */
  readonly maxAgeMs?: number;
  /**
   * Also flush by age between batches, from a timer on the injected clock, so an idle shard's
   * buffer is written and checkpointed too (otherwise only the next `processRecords` call or
   * the shutdown flushes it). The timer never runs concurrently with a `processRecords`.
   * @default true
   */
  readonly ageTimer?: boolean;
}

/** Retries of a failed flush, with exponential backoff and full jitter (`withRetries` of `@kcl-ts/processor`). */
export interface FlushRetryOptions {
  /** Retries after the first attempt (throttling has a budget of its own, as large). 0 = one attempt. @default 5 */
  readonly maxRetries?: number;
  /** Backoff base in ms: retry n waits at most `baseDelayMs × 2^n`. @default 100 */
  readonly baseDelayMs?: number;
  /** Longest single backoff in ms. @default 5000 */
  readonly maxDelayMs?: number;
  /** Randomness in [0, 1) for the jitter (tests make it deterministic). @default Math.random */
  readonly random?: () => number;
}

/** Options of {@link BatchingProcessor} and {@link batchingProcessorFactory}. */
export interface BatchingProcessorOptions<T> {
  /** Where flushes are written. Shared by every shard's processor; must be idempotent. */
  readonly sink: Sink<T>;
  /** Record → item (`undefined` skips the record). */
  readonly transform: RecordTransform<T>;
  /** Flush thresholds. */
  readonly batching?: BatchingOptions;
  /** Flush retries. */
  readonly retry?: FlushRetryOptions;
  /** Size of an item for `batching.maxBytes`. @default the record's data length */
  readonly sizeOf?: (item: T, record: KinesisClientRecord) => number;
  /** Source of time for ages, backoff and the age timer. @default systemClock */
  readonly clock?: Clock;
  /** Logger (record content is never logged above `debug`). @default silent */
  readonly logger?: Logger;
  /**
   * Receives the metrics of every flush (`SinkFlushRecords`, `SinkFlushBytes`,
   * `SinkFlushLatency`, `SinkFlushRetries`, `SinkFlushFailures`, `SinkStaleItems`; dimensions
   * `Operation` = `Sink:<sink name>` and `ShardId`): through `record` when the publisher has
   * one, otherwise one `publish` call per flush (e.g. an `EmfMetricsPublisher`).
   */
  readonly metrics?: MetricsPublisher;
  /** Called after every flush, successful or not. Exceptions it throws are logged and ignored. */
  readonly onFlush?: (report: FlushReport) => void;
}

/** The resolved options: every default applied, every value checked. */
export interface BatchingProcessorConfig<T> {
  readonly sink: Sink<T>;
  readonly transform: RecordTransform<T>;
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly ageTimer: boolean;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
  readonly sizeOf: (item: T, record: KinesisClientRecord) => number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsPublisher | undefined;
  readonly onFlush: ((report: FlushReport) => void) | undefined;
}

/** Defaults of {@link BatchingProcessorOptions}. */
export const BATCHING_DEFAULTS = {
  maxRecords: 500,
  maxBytes: 4 * 1024 * 1024,
  maxAgeMs: 10_000,
  ageTimer: true,
  maxRetries: 5,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
} as const;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** Throws a TypeError unless `value` is an integer in [min, max] (or undefined). */
export function checkInteger(path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${path} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

/** Throws a TypeError unless `value` is a number ≥ min (Infinity allowed when `allowInfinity`). */
export function checkNumber(path: string, value: unknown, min: number, allowInfinity = false): number | undefined {
  if (value === undefined) return undefined;
  const ok = typeof value === 'number' && !Number.isNaN(value) && value >= min && (allowInfinity || Number.isFinite(value));
  if (!ok) throw new TypeError(`${path} must be a number >= ${min}${allowInfinity ? ' (or Infinity)' : ''}, got ${show(value)}`);
  return value;
}

/** Throws a TypeError unless `value` is a function (or undefined when optional). */
export function checkFunction<F>(path: string, value: unknown, optional: boolean): F | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'function') throw new TypeError(`${path} must be a function, got ${show(value)}`);
  return value as F;
}

/** Throws a TypeError unless `value` is a non-empty string. */
export function checkString(path: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${path} must be a non-empty string, got ${show(value)}`);
  return value;
}

/** Throws a TypeError unless `value` is a boolean (or undefined). */
export function checkBoolean(path: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new TypeError(`${path} must be true or false, got ${show(value)}`);
  return value;
}

/** Throws a TypeError unless `value` is a (non-null) object or undefined. */
export function checkObject(path: string, value: unknown, optional = true): Record<string, unknown> {
  if (value === undefined && optional) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${path} must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

/** Validates a {@link Sink}: an object with `name` and `write`. */
function checkSink<T>(value: unknown): Sink<T> {
  const sink = checkObject('sink', value, false);
  checkString('sink.name', sink.name);
  checkFunction('sink.write', sink.write, false);
  checkFunction('sink.classifyError', sink.classifyError, true);
  return value as Sink<T>;
}

/**
 * Validates `options` and applies the defaults.
 * @throws TypeError naming the option path (`batching.maxRecords`, `retry.maxRetries`, …) and the bad value.
 */
export function resolveBatchingProcessorConfig<T>(options: BatchingProcessorOptions<T>): BatchingProcessorConfig<T> {
  const o = checkObject('options', options, false);
  const batching = checkObject('batching', o.batching);
  const retry = checkObject('retry', o.retry);
  const clock = o.clock ?? systemClock;
  assertClock(clock, 'clock');
  const logger = o.logger ?? silentLogger();
  assertLogger(logger, 'logger');
  const metrics = o.metrics as MetricsPublisher | undefined;
  if (metrics !== undefined) checkFunction('metrics.publish', checkObject('metrics', metrics, false).publish, false);
  const baseDelayMs = checkNumber('retry.baseDelayMs', retry.baseDelayMs, 0) ?? BATCHING_DEFAULTS.baseDelayMs;
  const maxDelayMs = checkNumber('retry.maxDelayMs', retry.maxDelayMs, 0) ?? BATCHING_DEFAULTS.maxDelayMs;
  if (maxDelayMs < baseDelayMs) throw new TypeError(`retry.maxDelayMs must be >= retry.baseDelayMs (${baseDelayMs}), got ${maxDelayMs}`);
  const maxAgeMs = checkNumber('batching.maxAgeMs', batching.maxAgeMs, 1, true) ?? BATCHING_DEFAULTS.maxAgeMs;
  if (Number.isFinite(maxAgeMs) && maxAgeMs > MAX_TIMER_DELAY_MS) {
    throw new TypeError(`batching.maxAgeMs must be at most ${MAX_TIMER_DELAY_MS} ms (or Infinity), got ${maxAgeMs}`);
  }
  return {
    sink: checkSink<T>(o.sink),
    transform: checkFunction<RecordTransform<T>>('transform', o.transform, false)!,
    maxRecords: checkInteger('batching.maxRecords', batching.maxRecords, 1) ?? BATCHING_DEFAULTS.maxRecords,
    maxBytes: checkInteger('batching.maxBytes', batching.maxBytes, 1) ?? BATCHING_DEFAULTS.maxBytes,
    maxAgeMs,
    ageTimer: checkBoolean('batching.ageTimer', batching.ageTimer) ?? BATCHING_DEFAULTS.ageTimer,
    maxRetries: checkInteger('retry.maxRetries', retry.maxRetries, 0, 1_000) ?? BATCHING_DEFAULTS.maxRetries,
    baseDelayMs,
    maxDelayMs,
    random: checkFunction<() => number>('retry.random', retry.random, true) ?? Math.random,
    sizeOf: checkFunction<(item: T, record: KinesisClientRecord) => number>('sizeOf', o.sizeOf, true) ?? ((_item, record) => record.data.byteLength),
    clock,
    logger,
    metrics,
    onFlush: checkFunction<(report: FlushReport) => void>('onFlush', o.onFlush, true),
  };
}
