import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { resolveLeaseCoordinatorConfig, type LeaseCoordinatorConfig, type LeaseCoordinatorOptions, type LeaseRefresher } from '@kcl-ts/leases';
import {
  assertClock,
  assertInitialPosition,
  assertLogger,
  MAX_TIMER_DELAY_MS,
  silentLogger,
  systemClock,
  type Clock,
  type InitialPosition,
  type KinesisClientRecord,
  type Logger,
  type ShardRecordProcessorFactory,
} from '@kcl-ts/processor';
import { parseStreamArn } from '@kcl-ts/shard-sync';
import { ALL_METRIC_DIMENSIONS, type MetricDimensionName, type MetricsLevel, type MetricsPublisher } from './metrics.js';
import { RETRIEVAL_DEFAULTS, resolveRetrievalConfig, type RetrievalConfig, type RetrievalOptions } from './retrieval/index.js';
import { defaultWorkerId } from './worker-id.js';

/** What {@link WorkerOptions.onProcessorError} decides for a batch whose `processRecords` threw. */
export type ProcessorErrorAction = 'retry' | 'skip';

/** Context handed to {@link WorkerOptions.onProcessorError}. */
export interface ProcessorErrorContext {
  readonly shardId: string;
  readonly records: readonly KinesisClientRecord[];
  /** 1 for the first failure of this batch, 2 for the second, … */
  readonly attempt: number;
}

/** Client settings used when the application does not pass its own AWS clients. */
export interface ClientConfig {
  /** AWS region, e.g. `us-east-1` (a non-empty string). Falls back to the SDK's default provider chain. */
  readonly region?: string;
  /** Credentials (or a provider); falls back to the SDK's default chain. */
  readonly credentials?: KinesisClientConfig['credentials'];
  /** Endpoint override for Kinesis (e.g. the local emulator): an `http://` or `https://` URL. */
  readonly kinesisEndpoint?: string;
  /** Endpoint override for DynamoDB: an `http://` or `https://` URL. */
  readonly dynamoDbEndpoint?: string;
}

/** How a Worker reads shards: GetRecords polling, or enhanced fan-out (SubscribeToShard). */
export type RetrievalMode = 'polling' | 'fanout';

/**
 * Options of enhanced fan-out ({@link WorkerOptions.retrievalMode} `'fanout'`); ignored in
 * polling mode. Java KCL: `FanOutConfig`.
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
export interface FanOutConfig {
  readonly consumerName: string;
  readonly consumerArn: string | undefined;
  readonly registrationTimeoutMs: number;
}

/**
 * Options of a {@link Worker}. Only `applicationName`, the stream and `processorFactory` are
 * required; every default is listed with its Java KCL equivalent in `docs/configuration.md`.
 * Every duration (`…Ms`) is at most 2^31−1 ms ({@link MAX_TIMER_DELAY_MS}, about 24.8 days),
 * the longest delay a Node.js timer honours.
 */
export interface WorkerOptions extends LeaseCoordinatorOptions, RetrievalOptions {
  /** Name of the consuming application; also the lease table's name unless `tableName` is set. */
  readonly applicationName: string;
  /** The stream to consume (give this or `streamArn`). */
  readonly streamName?: string;
  /** The stream to consume, as an ARN (give this or `streamName`). */
  readonly streamArn?: string;
  /** Creates one processor per shard lease. */
  readonly processorFactory: ShardRecordProcessorFactory;
  /**
   * Your Kinesis client (never destroyed by the worker). Use `NodeHttpHandler` against HTTP/1.1
   * emulators. In fan-out mode against AWS it must speak HTTP/2 (the SDK's default, or
   * `requestHandler: new NodeHttp2Handler()`): SubscribeToShard needs it, and `start()` fails
   * when the client is known to use `NodeHttpHandler` without an endpoint override.
   */
  readonly kinesisClient?: KinesisClient;
  /** Your DynamoDB client (never destroyed by the worker). */
  readonly dynamoDbClient?: DynamoDBClient;
  /**
   * Your own lease store instead of the DynamoDB table built from `dynamoDbClient`/`tableName`
   * (e.g. `InMemoryLeaseRefresher` for tests and simulations of a whole fleet in one process).
   * Every worker of a fleet must share the same store. @default a `DynamoDbLeaseRefresher`
   */
  readonly leaseRefresher?: LeaseRefresher;
  /** Used to build clients when `kinesisClient`/`dynamoDbClient` are not given (those are destroyed on shutdown). */
  readonly clientConfig?: ClientConfig;
  /** Lease table name. @default applicationName */
  readonly tableName?: string;
  /**
   * Where shards with no checkpointed ancestor start. A `timestamp` must be a valid `Date` no
   * later than `clock.now()` when the worker is built. @default 'LATEST' (KCL initialPositionInStream)
   */
  readonly initialPosition?: InitialPosition;
  /** Unique id of this worker in the fleet. @default `hostname:pid:random` */
  readonly workerId?: string;
  /** pino logger (or any object with pino's `child`, `trace`, `debug`, `info`, `warn`, `error`). @default silent */
  readonly logger?: Logger;
  /** Time source (tests inject a fake one): `now()`, `elapsed()`, `sleep(ms, signal)`. @default the system clock */
  readonly clock?: Clock;
  /** Where metrics go. `false` disables them. @default EMF lines through `logger` */
  readonly metrics?: MetricsPublisher | false;
  /** How often aggregated metrics are published. @default 60_000 */
  readonly metricsIntervalMs?: number;
  /** How much is published: `NONE`, `SUMMARY` or `DETAILED` (see {@link MetricsLevel}). @default 'DETAILED' (KCL metricsLevel) */
  readonly metricsLevel?: MetricsLevel;
  /**
   * Dimensions kept on metrics (`Operation` always is). Dropping `ShardId` turns per-shard
   * metrics into per-worker ones, and cuts the number of CloudWatch metrics accordingly.
   * @default all: Operation, ShardId, StreamId, WorkerIdentifier (KCL metricsEnabledDimensions)
   */
  readonly metricsEnabledDimensions?: readonly MetricDimensionName[];
  /** How often the leader lists shards and repairs the lease table. @default 60_000 (KCL shardSyncIntervalMillis) */
  readonly shardSyncIntervalMs?: number;
  /** Fallback poll of parent leases while a child waits; the worker is also woken at once when it ends a parent itself. @default 1_000 (KCL parentShardPollIntervalMillis = 10_000) */
  readonly parentShardPollIntervalMs?: number;
  /** Bound on a graceful shutdown's wait for processors to checkpoint and finish. @default 30_000 */
  readonly shutdownTimeoutMs?: number;
  /** Maximum processor callbacks running at once across all shards. @default Infinity */
  readonly maxConcurrentProcessors?: number;
  /**
   * Bytes of prefetched, undelivered records the worker may hold across all its shards (the
   * per-shard `prefetchMax*` bounds apply too). Each shard may always hold one batch, so no
   * shard starves. `Infinity` disables the worker-wide bound. @default 67_108_864 (64 MiB)
   */
  readonly prefetchMaxBytesPerWorker?: number;
  /** Call `processRecords` also when a poll returned no records. @default false (KCL callProcessRecordsEvenForEmptyRecordList) */
  readonly callProcessRecordsEvenForEmptyList?: boolean;
  /** First delay before a failed batch is delivered again; doubles up to `processorRetryMaxMs`. @default 1_000 */
  readonly processorRetryBaseMs?: number;
  /** @default 30_000 */
  readonly processorRetryMaxMs?: number;
  /**
   * Decides what happens when `processRecords` throws. Default: `'retry'` (the same batch is
   * delivered again after a backoff, forever, while the lease is held). `'skip'` moves on —
   * an explicit decision of the application, logged at `warn`.
   */
  readonly onProcessorError?: (error: unknown, context: ProcessorErrorContext) => ProcessorErrorAction | Promise<ProcessorErrorAction>;
  /**
   * `'polling'` reads shards with GetRecords; `'fanout'` registers a stream consumer at start
   * and reads each shard through SubscribeToShard (dedicated 2 MiB/s per shard, pushed). See
   * `docs/fan-out.md`. Java KCL: `RetrievalConfig.retrievalSpecificConfig` (fan-out by default).
   * @default 'polling'
   */
  readonly retrievalMode?: RetrievalMode;
  /** Enhanced fan-out settings (used when `retrievalMode` is `'fanout'`). */
  readonly fanOut?: FanOutOptions;
}

/** The resolved, validated configuration of a {@link Worker}. */
export interface WorkerConfig {
  readonly applicationName: string;
  readonly stream: { readonly streamName: string } | { readonly streamArn: string };
  readonly streamLabel: string;
  readonly processorFactory: ShardRecordProcessorFactory;
  readonly tableName: string;
  readonly initialPosition: InitialPosition;
  readonly workerId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: MetricsPublisher | false | undefined;
  readonly metricsIntervalMs: number;
  readonly metricsLevel: MetricsLevel;
  readonly metricsEnabledDimensions: readonly MetricDimensionName[];
  readonly shardSyncIntervalMs: number;
  readonly parentShardPollIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  readonly maxConcurrentProcessors: number;
  readonly prefetchMaxBytesPerWorker: number;
  readonly callProcessRecordsEvenForEmptyList: boolean;
  readonly processorRetryBaseMs: number;
  readonly processorRetryMaxMs: number;
  readonly onProcessorError: WorkerOptions['onProcessorError'];
  readonly lease: LeaseCoordinatorConfig;
  readonly leaseOptions: LeaseCoordinatorOptions;
  readonly retrieval: RetrievalConfig;
  readonly retrievalMode: RetrievalMode;
  readonly fanOut: FanOutConfig;
}

/** Defaults of the worker-level options (lease and retrieval defaults live with their packages). */
export const WORKER_DEFAULTS = {
  initialPosition: 'LATEST' as InitialPosition,
  metricsIntervalMs: 60_000,
  shardSyncIntervalMs: 60_000,
  parentShardPollIntervalMs: 1_000,
  shutdownTimeoutMs: 30_000,
  maxConcurrentProcessors: Number.POSITIVE_INFINITY,
  prefetchMaxBytesPerWorker: 16 * 1024 * 1024,
  callProcessRecordsEvenForEmptyList: false,
  processorRetryBaseMs: 1_000,
  processorRetryMaxMs: 30_000,
} as const;

const NAME = /^[a-zA-Z0-9_.-]{1,255}$/;

/** The options a Worker hands on to its LeaseCoordinator. */
const LEASE_OPTION_NAMES: readonly (keyof LeaseCoordinatorOptions)[] = [
  'leaseDurationMs',
  'renewIntervalMs',
  'takerIntervalMs',
  'maxLeasesForWorker',
  'maxLeasesToStealAtOneTime',
  'gracefulHandoff',
  'handoffTimeoutMs',
  'releaseLeasesOnStop',
  'selfFencingMarginMs',
];

/** Copies the named options that are set. */
function pick<T>(options: Record<string, unknown>, names: readonly string[]): T {
  return Object.fromEntries(names.filter((n) => options[n] !== undefined).map((n) => [n, options[n]])) as T;
}

function positive(options: Record<string, unknown>, name: string, fallback: number, allowInfinity = false): number {
  const value = options[name];
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && value > 0 && (Number.isFinite(value) ? Number.isInteger(value) : allowInfinity && value === Number.POSITIVE_INFINITY);
  if (!ok) throw new TypeError(`${name} must be a positive integer${allowInfinity ? ' or Infinity' : ''}, got ${describe(value)}`);
  return value as number;
}

/** A positive integer number of milliseconds that one timer can wait (at most 2^31−1). */
function duration(options: Record<string, unknown>, name: string, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_TIMER_DELAY_MS) {
    throw new TypeError(`${name} must be a positive integer of milliseconds, at most ${MAX_TIMER_DELAY_MS} (2^31−1), got ${describe(value)}`);
  }
  return value;
}

function boolean(options: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean (true or false), got ${describe(value)}`);
  return value;
}

/** Validates {@link ClientConfig}: an object with a string region and http(s) URL endpoints. */
function assertClientConfig(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`clientConfig must be an object ({ region, credentials, kinesisEndpoint, dynamoDbEndpoint }), got ${describe(value)}`);
  }
  const c = value as Record<string, unknown>;
  if (c['region'] !== undefined && (typeof c['region'] !== 'string' || c['region'].length === 0)) {
    throw new TypeError(`clientConfig.region must be a non-empty string such as "us-east-1", got ${describe(c['region'])}`);
  }
  const credentials = c['credentials'];
  if (credentials !== undefined && (credentials === null || (typeof credentials !== 'object' && typeof credentials !== 'function'))) {
    throw new TypeError(`clientConfig.credentials must be credentials or a credential provider, got ${describe(credentials)}`);
  }
  for (const name of ['kinesisEndpoint', 'dynamoDbEndpoint']) {
    const endpoint = c[name];
    if (endpoint === undefined) continue;
    if (typeof endpoint !== 'string' || !URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
      throw new TypeError(`clientConfig.${name} must be an http:// or https:// URL, got ${describe(endpoint)}`);
    }
  }
}

/** The bad value, for an error message: JSON where possible, at most 200 characters. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object' || value === null) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = `an object (${(value as { constructor?: { name?: string } }).constructor?.name ?? 'Object'})`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Merges {@link WorkerOptions} over the defaults and validates them; throws a `TypeError` naming the bad option. */
export function resolveWorkerConfig(options: WorkerOptions): WorkerConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('Worker options must be an object');
  const o = options as unknown as Record<string, unknown>;
  if (typeof options.applicationName !== 'string' || !NAME.test(options.applicationName)) {
    throw new TypeError(`applicationName must be 1–255 characters of [a-zA-Z0-9_.-], got ${JSON.stringify(options.applicationName)}`);
  }
  if (options.streamName !== undefined && options.streamArn !== undefined) {
    throw new TypeError('give either streamName or streamArn, not both');
  }
  let stream: WorkerConfig['stream'];
  if (options.streamArn !== undefined) {
    parseStreamArn(options.streamArn);
    stream = { streamArn: options.streamArn };
  } else if (typeof options.streamName === 'string' && /^[a-zA-Z0-9_.-]{1,128}$/.test(options.streamName)) {
    stream = { streamName: options.streamName };
  } else {
    throw new TypeError(`streamName must be 1–128 characters of [a-zA-Z0-9_.-] (or give streamArn), got ${JSON.stringify(options.streamName)}`);
  }
  if (typeof options.processorFactory !== 'function') {
    throw new TypeError(`processorFactory must be a function (shardId) => ShardRecordProcessor, got ${typeof options.processorFactory}`);
  }
  const tableName = options.tableName ?? options.applicationName;
  if (typeof tableName !== 'string' || !/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
    throw new TypeError(`tableName must be 3–255 characters of [a-zA-Z0-9_.-] (it defaults to applicationName), got ${JSON.stringify(tableName)}`);
  }
  const clock = options.clock ?? systemClock;
  assertClock(clock, 'clock');
  const logger = options.logger ?? silentLogger();
  assertLogger(logger, 'logger');
  const initialPosition = options.initialPosition ?? WORKER_DEFAULTS.initialPosition;
  assertInitialPosition(initialPosition, 'initialPosition', clock.now());
  assertClientConfig(options.clientConfig);
  const workerId = options.workerId ?? defaultWorkerId();
  if (typeof workerId !== 'string' || workerId.length === 0 || workerId.length > 256) {
    throw new TypeError(`workerId must be a non-empty string of at most 256 characters, got ${JSON.stringify(workerId)}`);
  }
  if (options.kinesisClient !== undefined && typeof (options.kinesisClient as { send?: unknown }).send !== 'function') {
    throw new TypeError(`kinesisClient must be an AWS SDK v3 KinesisClient (with send()), got ${describe(options.kinesisClient)}`);
  }
  if (options.dynamoDbClient !== undefined && typeof (options.dynamoDbClient as { send?: unknown }).send !== 'function') {
    throw new TypeError(`dynamoDbClient must be an AWS SDK v3 DynamoDBClient (with send()), got ${describe(options.dynamoDbClient)}`);
  }
  if (options.metrics !== undefined && options.metrics !== false && typeof (options.metrics as { publish?: unknown } | null)?.publish !== 'function') {
    throw new TypeError(`metrics must be a MetricsPublisher (an object with publish()) or false, got ${describe(options.metrics)}`);
  }
  if (options.onProcessorError !== undefined && typeof options.onProcessorError !== 'function') {
    throw new TypeError(`onProcessorError must be a function, got ${describe(options.onProcessorError)}`);
  }
  const processorRetryBaseMs = duration(o, 'processorRetryBaseMs', WORKER_DEFAULTS.processorRetryBaseMs);
  const processorRetryMaxMs = duration(o, 'processorRetryMaxMs', Math.max(WORKER_DEFAULTS.processorRetryMaxMs, processorRetryBaseMs));
  if (processorRetryMaxMs < processorRetryBaseMs) {
    throw new TypeError(`processorRetryMaxMs (${processorRetryMaxMs}) must be ≥ processorRetryBaseMs (${processorRetryBaseMs})`);
  }
  const leaseOptions = pick<LeaseCoordinatorOptions>(o, LEASE_OPTION_NAMES);
  const retrievalOptions = pick<RetrievalOptions>(o, Object.keys(RETRIEVAL_DEFAULTS));
  return {
    applicationName: options.applicationName,
    stream,
    streamLabel: 'streamName' in stream ? stream.streamName : stream.streamArn,
    processorFactory: options.processorFactory,
    tableName,
    initialPosition,
    workerId,
    logger,
    clock,
    metrics: options.metrics,
    metricsIntervalMs: duration(o, 'metricsIntervalMs', WORKER_DEFAULTS.metricsIntervalMs),
    metricsLevel: resolveMetricsLevel(options.metricsLevel),
    metricsEnabledDimensions: resolveMetricDimensions(options.metricsEnabledDimensions),
    shardSyncIntervalMs: duration(o, 'shardSyncIntervalMs', WORKER_DEFAULTS.shardSyncIntervalMs),
    parentShardPollIntervalMs: duration(o, 'parentShardPollIntervalMs', WORKER_DEFAULTS.parentShardPollIntervalMs),
    shutdownTimeoutMs: duration(o, 'shutdownTimeoutMs', WORKER_DEFAULTS.shutdownTimeoutMs),
    maxConcurrentProcessors: positive(o, 'maxConcurrentProcessors', WORKER_DEFAULTS.maxConcurrentProcessors, true),
    prefetchMaxBytesPerWorker: positive(o, 'prefetchMaxBytesPerWorker', WORKER_DEFAULTS.prefetchMaxBytesPerWorker, true),
    callProcessRecordsEvenForEmptyList: boolean(o, 'callProcessRecordsEvenForEmptyList', WORKER_DEFAULTS.callProcessRecordsEvenForEmptyList),
    processorRetryBaseMs,
    processorRetryMaxMs,
    onProcessorError: options.onProcessorError,
    lease: resolveLeaseCoordinatorConfig(leaseOptions),
    leaseOptions,
    retrieval: resolveRetrievalConfig(retrievalOptions),
    retrievalMode: resolveRetrievalMode(options.retrievalMode),
    fanOut: resolveFanOut(options.fanOut, options.applicationName),
  };
}

/** Default of {@link FanOutOptions.registrationTimeoutMs}. */
export const FAN_OUT_DEFAULTS = { registrationTimeoutMs: 120_000 } as const;

const CONSUMER_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const CONSUMER_ARN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[a-zA-Z0-9_.-]{1,128}\/consumer\/[a-zA-Z0-9_.-]{1,128}:\d+$/;

function resolveRetrievalMode(mode: unknown): RetrievalMode {
  if (mode === undefined) return 'polling';
  if (mode !== 'polling' && mode !== 'fanout') throw new TypeError(`retrievalMode must be 'polling' or 'fanout', got ${describe(mode)}`);
  return mode;
}

function resolveFanOut(value: unknown, applicationName: string): FanOutConfig {
  if (value === undefined) return { consumerName: applicationName.slice(0, 128), consumerArn: undefined, registrationTimeoutMs: FAN_OUT_DEFAULTS.registrationTimeoutMs };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`fanOut must be an object ({ consumerName, consumerArn, registrationTimeoutMs }), got ${describe(value)}`);
  }
  const f = value as Record<string, unknown>;
  const name = f['consumerName'];
  if (name !== undefined && (typeof name !== 'string' || !CONSUMER_NAME.test(name))) {
    throw new TypeError(`fanOut.consumerName must be 1–128 characters of [a-zA-Z0-9_.-], got ${describe(name)}`);
  }
  const arn = f['consumerArn'];
  if (arn !== undefined && (typeof arn !== 'string' || !CONSUMER_ARN.test(arn))) {
    throw new TypeError(`fanOut.consumerArn must be a stream consumer ARN (arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<timestamp>), got ${describe(arn)}`);
  }
  if (name !== undefined && arn !== undefined) throw new TypeError('give either fanOut.consumerName or fanOut.consumerArn, not both');
  const timeout = f['registrationTimeoutMs'];
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0 || timeout > MAX_TIMER_DELAY_MS)) {
    throw new TypeError(`fanOut.registrationTimeoutMs must be a positive integer of milliseconds, at most ${MAX_TIMER_DELAY_MS} (2^31−1), got ${describe(timeout)}`);
  }
  const fromArn = typeof arn === 'string' ? /\/consumer\/([^:]+):/.exec(arn)?.[1] : undefined;
  const consumerName = (name as string | undefined) ?? fromArn ?? applicationName.slice(0, 128);
  return { consumerName, consumerArn: arn as string | undefined, registrationTimeoutMs: (timeout as number | undefined) ?? FAN_OUT_DEFAULTS.registrationTimeoutMs };
}

/**
 * Builds client configs from {@link ClientConfig}; the Kinesis one uses HTTP/1.1 when an endpoint is overridden.
 *
 * A credentials object is copied for each client: the AWS SDK tags the object it is given
 * (`$source`), which fails on a frozen object and would otherwise write into the caller's.
 * A credential provider (a function) is passed as is.
 */
export function clientConfigs(config: ClientConfig | undefined): { kinesis: KinesisClientConfig; dynamoDb: DynamoDBClientConfig } {
  const credentials = config?.credentials;
  const base = (): Pick<KinesisClientConfig, 'region' | 'credentials'> => ({
    ...(config?.region !== undefined && { region: config.region }),
    ...(credentials !== undefined && { credentials: typeof credentials === 'function' ? credentials : { ...credentials } }),
  });
  return {
    kinesis: { ...base(), ...(config?.kinesisEndpoint !== undefined && { endpoint: config.kinesisEndpoint }) },
    dynamoDb: { ...base(), ...(config?.dynamoDbEndpoint !== undefined && { endpoint: config.dynamoDbEndpoint }) },
  };
}

const METRICS_LEVELS: readonly MetricsLevel[] = ['NONE', 'SUMMARY', 'DETAILED'];

function resolveMetricsLevel(level: unknown): MetricsLevel {
  if (level === undefined) return 'DETAILED';
  if (typeof level !== 'string' || !METRICS_LEVELS.includes(level as MetricsLevel)) {
    throw new TypeError(`metricsLevel must be one of ${METRICS_LEVELS.join(', ')}, got ${describe(level)}`);
  }
  return level as MetricsLevel;
}

function resolveMetricDimensions(dimensions: unknown): readonly MetricDimensionName[] {
  if (dimensions === undefined) return ALL_METRIC_DIMENSIONS;
  if (!Array.isArray(dimensions)) throw new TypeError(`metricsEnabledDimensions must be an array of dimension names, got ${describe(dimensions)}`);
  for (const [i, d] of dimensions.entries()) {
    if (!ALL_METRIC_DIMENSIONS.includes(d as MetricDimensionName)) {
      throw new TypeError(`metricsEnabledDimensions[${i}] must be one of ${ALL_METRIC_DIMENSIONS.join(', ')}, got ${describe(d)}`);
    }
  }
  return Object.freeze([...(dimensions as MetricDimensionName[])]);
}
