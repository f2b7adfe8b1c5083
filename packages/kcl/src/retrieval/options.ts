/**
 * Options of record retrieval (polling or enhanced fan-out), their defaults, and validation.
 * @module
 */
import { describeValue, durationOption, MAX_TIMER_DELAY_MS, numberOption, oneOfOption, optionGroup, optionPath } from '@kcl-ts/processor';

/** How a Worker reads shards: GetRecords polling, or enhanced fan-out (SubscribeToShard). */
export type RetrievalMode = 'polling' | 'fanout';

/**
 * Options of GetRecords polling (`retrieval.polling`). Java KCL: `PollingConfig`.
 * Durations (`…Ms`) are milliseconds of at most 2^31−1 (`MAX_TIMER_DELAY_MS`, about 24.8 days:
 * the longest delay a Node.js timer honours).
 */
export interface PollingOptions {
  /**
   * Maximum records per GetRecords call (the `Limit` parameter), 1..10,000.
   * Java KCL: `maxRecords`.
   * @default 10_000
   */
  readonly maxRecords?: number;
  /**
   * Pause after a GetRecords call that found the shard caught up (an empty batch, or
   * `MillisBehindLatest` 0) before polling again. While the shard is behind, the next call
   * follows at once (subject to {@link PollingOptions.maxGetRecordsPerSecond}). The default
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
}

/**
 * Options of enhanced fan-out (`retrieval.fanOut`, used when `retrieval.mode` is `'fanout'`).
 * Java KCL: `FanOutConfig`.
 */
export interface FanOutOptions {
  /**
   * Name of the stream consumer registered at `Worker.start()` (RegisterStreamConsumer):
   * 1–128 characters of [a-zA-Z0-9_.-]. Every worker of the application uses the same one.
   * Java KCL: `FanOutConfig.consumerName`.
   * @default applicationName (its first 128 characters)
   */
  readonly consumerName?: string;
  /**
   * ARN of a consumer registered beforehand: registration is skipped and this one is used as
   * is. Give this or `consumerName`, not both. Java KCL: `FanOutConfig.consumerArn`.
   */
  readonly consumerArn?: string;
  /**
   * How long `Worker.start()` waits for the consumer to become ACTIVE before it fails with an
   * error that says what to do. Java KCL: `maxDescribeStreamConsumerRetries` (10 tries).
   * @default 120_000
   */
  readonly registrationTimeoutMs?: number;
}

/** {@link FanOutOptions} resolved: the consumer to register (or the given ARN) and the deadline. */
export type FanOutConfig = Required<Omit<FanOutOptions, 'consumerArn'>> & Pick<FanOutOptions, 'consumerArn'>;

/**
 * Options of record retrieval (a Worker's `retrieval` group): the mode, its own options, and
 * the prefetch bounds and call retries both modes share. Every field is optional; see
 * {@link RETRIEVAL_DEFAULTS}. Java KCL: `RetrievalConfig`.
 */
export interface RetrievalOptions {
  /**
   * `'polling'` reads shards with GetRecords; `'fanout'` registers a stream consumer at start
   * and reads each shard through SubscribeToShard (dedicated 2 MiB/s per shard, pushed). See
   * `docs/fan-out.md`. Java KCL: `RetrievalConfig.retrievalSpecificConfig` (fan-out by default).
   * @default 'polling'
   */
  readonly mode?: RetrievalMode;
  /** GetRecords polling settings (used when `mode` is `'polling'`). */
  readonly polling?: PollingOptions;
  /** Enhanced fan-out settings (used when `mode` is `'fanout'`). */
  readonly fanOut?: FanOutOptions;
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
  /**
   * Bytes of records the worker may hold across all its shards: queued batches, the batch
   * being processed and GetRecords pages in flight (the per-shard `prefetchMax*` bounds apply
   * too). Polling sizes each call's `Limit` to the shard's share of it. `Infinity` disables
   * the worker-wide bound. Java KCL: none.
   * @default 16_777_216 (16 MiB)
   */
  readonly prefetchMaxBytesPerWorker?: number;
}

/** {@link RetrievalOptions} with every default applied and validated. */
export type RetrievalConfig = { readonly [K in Exclude<keyof RetrievalOptions, 'mode' | 'polling' | 'fanOut'>]-?: number } & {
  readonly mode: RetrievalMode;
  readonly polling: { readonly [K in keyof PollingOptions]-?: number };
  readonly fanOut: FanOutConfig;
};

/** The defaults of {@link RetrievalOptions} (the fan-out consumer name defaults to the application name). */
export const RETRIEVAL_DEFAULTS = Object.freeze({
  mode: 'polling' as RetrievalMode,
  polling: Object.freeze({ maxRecords: 10_000, idleTimeBetweenReadsMs: 250, maxIdleTimeBetweenReadsMs: 1_000, maxGetRecordsPerSecond: 5 }),
  fanOut: Object.freeze({ registrationTimeoutMs: 120_000 }),
  prefetchMaxBatches: 3,
  prefetchMaxRecords: 30_000,
  prefetchMaxBytes: 32 * 1024 * 1024,
  prefetchMaxBytesPerWorker: 16 * 1024 * 1024,
  maxRetries: 10,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 5_000,
});

const KEYS = ['mode', 'polling', 'fanOut', 'prefetchMaxBatches', 'prefetchMaxRecords', 'prefetchMaxBytes', 'prefetchMaxBytesPerWorker', 'maxRetries', 'retryBaseDelayMs', 'retryMaxDelayMs'] as const satisfies readonly (keyof RetrievalOptions)[];
const POLLING_KEYS = ['maxRecords', 'idleTimeBetweenReadsMs', 'maxIdleTimeBetweenReadsMs', 'maxGetRecordsPerSecond'] as const satisfies readonly (keyof PollingOptions)[];
const FAN_OUT_KEYS = ['consumerName', 'consumerArn', 'registrationTimeoutMs'] as const satisfies readonly (keyof FanOutOptions)[];
const CONSUMER_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const CONSUMER_ARN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[a-zA-Z0-9_.-]{1,128}\/consumer\/[a-zA-Z0-9_.-]{1,128}:\d+$/;

/**
 * Merges `options` over {@link RETRIEVAL_DEFAULTS} and validates the result.
 * @param applicationName the default name of the fan-out consumer (its first 128 characters).
 * @param path the option path errors name, e.g. `retrieval` (the Worker's group).
 * @throws TypeError naming the offending option path (also of an unknown key) and its value.
 */
export function resolveRetrievalConfig(options: RetrievalOptions = {}, applicationName = 'kcl-ts', path = 'retrieval'): RetrievalConfig {
  const o = optionGroup(options, path, KEYS);
  const at = (name: string): string => optionPath(path, name);
  const D = RETRIEVAL_DEFAULTS;
  const p = optionGroup(o.polling, at('polling'), POLLING_KEYS);
  const pat = (name: string): string => optionPath(at('polling'), name);
  const timer = { max: MAX_TIMER_DELAY_MS, integer: false } as const;
  const idleTimeBetweenReadsMs = numberOption(p.idleTimeBetweenReadsMs, pat('idleTimeBetweenReadsMs'), D.polling.idleTimeBetweenReadsMs, timer);
  // An idle time above the default bound (e.g. the Java KCL's 1,500) raises the bound with it.
  const maxIdleTimeBetweenReadsMs = numberOption(p.maxIdleTimeBetweenReadsMs, pat('maxIdleTimeBetweenReadsMs'), Math.max(D.polling.maxIdleTimeBetweenReadsMs, idleTimeBetweenReadsMs), {
    ...timer,
    min: idleTimeBetweenReadsMs,
  });
  const retryBaseDelayMs = numberOption(o.retryBaseDelayMs, at('retryBaseDelayMs'), D.retryBaseDelayMs, timer);
  const positive = { min: 1 } as const;
  return Object.freeze({
    mode: oneOfOption(o.mode, at('mode'), ['polling', 'fanout'], D.mode),
    polling: Object.freeze({
      maxRecords: numberOption(p.maxRecords, pat('maxRecords'), D.polling.maxRecords, { min: 1, max: 10_000 }),
      idleTimeBetweenReadsMs,
      maxIdleTimeBetweenReadsMs,
      maxGetRecordsPerSecond: numberOption(p.maxGetRecordsPerSecond, pat('maxGetRecordsPerSecond'), D.polling.maxGetRecordsPerSecond, { min: 1, max: 5, integer: false }),
    }),
    fanOut: resolveFanOut(o.fanOut, applicationName, at('fanOut')),
    prefetchMaxBatches: numberOption(o.prefetchMaxBatches, at('prefetchMaxBatches'), D.prefetchMaxBatches, positive),
    prefetchMaxRecords: numberOption(o.prefetchMaxRecords, at('prefetchMaxRecords'), D.prefetchMaxRecords, positive),
    prefetchMaxBytes: numberOption(o.prefetchMaxBytes, at('prefetchMaxBytes'), D.prefetchMaxBytes, positive),
    prefetchMaxBytesPerWorker: numberOption(o.prefetchMaxBytesPerWorker, at('prefetchMaxBytesPerWorker'), D.prefetchMaxBytesPerWorker, { ...positive, infinity: true }),
    maxRetries: numberOption(o.maxRetries, at('maxRetries'), D.maxRetries),
    retryBaseDelayMs,
    retryMaxDelayMs: numberOption(o.retryMaxDelayMs, at('retryMaxDelayMs'), Math.max(D.retryMaxDelayMs, retryBaseDelayMs), { ...timer, min: retryBaseDelayMs }),
  });
}

function resolveFanOut(value: unknown, applicationName: string, path: string): FanOutConfig {
  const f = optionGroup(value, path, FAN_OUT_KEYS);
  const { consumerName: name, consumerArn: arn } = f;
  if (name !== undefined && (typeof name !== 'string' || !CONSUMER_NAME.test(name))) {
    throw new TypeError(`${path}.consumerName must be 1–128 characters of [a-zA-Z0-9_.-], got ${describeValue(name)}`);
  }
  if (arn !== undefined && (typeof arn !== 'string' || !CONSUMER_ARN.test(arn))) {
    throw new TypeError(`${path}.consumerArn must be a stream consumer ARN (arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<timestamp>), got ${describeValue(arn)}`);
  }
  if (name !== undefined && arn !== undefined) throw new TypeError(`give either ${path}.consumerName or ${path}.consumerArn, not both`);
  const fromArn = typeof arn === 'string' ? /\/consumer\/([^:]+):/.exec(arn)?.[1] : undefined;
  return {
    consumerName: (name as string | undefined) ?? fromArn ?? applicationName.slice(0, 128),
    consumerArn: arn as string | undefined,
    registrationTimeoutMs: durationOption(f.registrationTimeoutMs, `${path}.registrationTimeoutMs`, RETRIEVAL_DEFAULTS.fanOut.registrationTimeoutMs),
  };
}
