import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { LEASE_TABLE_OPTION_KEYS, resolveLeaseCoordinatorConfig, type LeaseCoordinatorConfig, type LeaseCoordinatorOptions, type LeaseRefresher, type LeaseTableOptions } from '@kcl-ts/leases';
import { assertClock, assertInitialPosition, assertLogger, booleanOption, describeValue, durationOption, functionOption, numberOption, oneOfOption, optionGroup } from '@kcl-ts/processor';
import { silentLogger, systemClock, type Clock, type InitialPosition, type KinesisClientRecord, type Logger, type ShardRecordProcessorFactory } from '@kcl-ts/processor';
import { parseStreamArn, resolveShardSyncConfig, type ShardLister, type ShardSyncConfig, type ShardSyncOptions } from '@kcl-ts/shard-sync';
import { resolveStreamsOption, type StreamConfig, type StreamReference, type StreamsConfig, type StreamTracker } from './streams/stream-options.js';
import { ALL_METRIC_DIMENSIONS, type MetricDimensionName, type MetricsLevel, type MetricsPublisher } from './metrics.js';
import { resolveRetrievalConfig, type RecordSourceFactory, type RetrievalConfig, type RetrievalOptions } from './retrieval/index.js';
import { defaultWorkerId } from './worker-id.js';

/** What {@link ProcessingOptions.onProcessorError} decides for a batch whose `processRecords` threw. */
export type ProcessorErrorAction = 'retry' | 'skip';

/** Context handed to {@link ProcessingOptions.onProcessorError}. */
export interface ProcessorErrorContext {
  readonly shardId: string;
  /** The shard's stream. */
  readonly streamName?: string;
  readonly records: readonly KinesisClientRecord[];
  /** 1 for the first failure of this batch, 2 for the second, … */
  readonly attempt: number;
}

/**
 * Client settings used when the application does not pass its own AWS clients. A field that
 * is `undefined` counts as not set, so `region: process.env.AWS_REGION` compiles under
 * `exactOptionalPropertyTypes` and falls back to the SDK's default when the variable is unset.
 */
export interface ClientConfig {
  /** AWS region, e.g. `us-east-1` (a non-empty string). Falls back to the SDK's default provider chain. */
  readonly region?: string | undefined;
  /** Credentials (or a provider); falls back to the SDK's default chain. */
  readonly credentials?: KinesisClientConfig['credentials'] | undefined;
  /** Endpoint override for Kinesis (e.g. the local emulator): an `http://` or `https://` URL. */
  readonly kinesisEndpoint?: string | undefined;
  /** Endpoint override for DynamoDB: an `http://` or `https://` URL. */
  readonly dynamoDbEndpoint?: string | undefined;
}

/**
 * How record processors are run (a Worker's `processing` group). Java KCL: `ProcessorConfig`
 * and parts of `CoordinatorConfig`.
 */
export interface ProcessingOptions {
  /** Maximum processor callbacks running at once across all shards. Java KCL: the size of its executor. @default Infinity */
  readonly maxConcurrentProcessors?: number;
  /** Call `processRecords` also when a poll returned no records. Java KCL: `callProcessRecordsEvenForEmptyRecordList`. @default false */
  readonly callProcessRecordsEvenForEmptyList?: boolean;
  /** First delay before a failed batch (or a failed shard consumer) is tried again; doubles up to `retryMaxMs`. Java KCL: none. @default 1_000 */
  readonly retryBaseMs?: number;
  /** Cap of that delay. Java KCL: none. @default 30_000 (or `retryBaseMs`, when that is larger) */
  readonly retryMaxMs?: number;
  /**
   * Bound on a graceful shutdown's wait for processors to checkpoint and finish.
   * Java KCL: `gracefulShutdown`'s caller-chosen timeout. @default 30_000
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * Decides what happens when `processRecords` throws. Default: `'retry'` (the same batch is
   * delivered again after a backoff, forever, while the lease is held). `'skip'` moves on —
   * an explicit decision of the application, logged at `warn`. Java KCL: none (an exception
   * is logged and the batch skipped).
   */
  readonly onProcessorError?: (error: unknown, context: ProcessorErrorContext) => ProcessorErrorAction | Promise<ProcessorErrorAction>;
}

/** {@link ProcessingOptions} with every default applied and validated (`onProcessorError` stays optional). */
export type ProcessingConfig = Required<Omit<ProcessingOptions, 'onProcessorError'>> & Pick<ProcessingOptions, 'onProcessorError'>;

/** Where metrics go and how much of them (a Worker's `metrics` group). Java KCL: `MetricsConfig`. */
export interface MetricsOptions {
  /** Where metrics go; `false` disables them. Java KCL: `metricsFactory`. @default EMF lines through the Worker's `logger` */
  readonly publisher?: MetricsPublisher | false;
  /** How often aggregated metrics are published. Java KCL: `metricsBufferTimeMillis` (10,000). @default 60_000 */
  readonly intervalMs?: number;
  /** How much is published: `NONE`, `SUMMARY` or `DETAILED` (see {@link MetricsLevel}). Java KCL: `metricsLevel`. @default 'DETAILED' */
  readonly level?: MetricsLevel;
  /**
   * Dimensions kept on metrics (`Operation` always is). Dropping `ShardId` turns per-shard
   * metrics into per-worker ones, and cuts the number of CloudWatch metrics accordingly.
   * Java KCL: `metricsEnabledDimensions`.
   * @default all: Operation, ShardId, StreamId, WorkerIdentifier
   */
  readonly enabledDimensions?: readonly MetricDimensionName[];
}

/** {@link MetricsOptions} with every default applied and validated; a `publisher` left `undefined` means the default EMF publisher. */
export type MetricsConfig = Required<Omit<MetricsOptions, 'publisher'>> & Pick<MetricsOptions, 'publisher'>;

/**
 * Options of a {@link Worker}, grouped by concern like the Java KCL's `ConfigsBuilder`. Only
 * `applicationName`, the stream and `processorFactory` are required; every default is listed
 * with its Java KCL equivalent in `docs/configuration.md`. Every duration (`…Ms`) is at most
 * 2^31−1 ms (`MAX_TIMER_DELAY_MS`, about 24.8 days), the longest delay a Node.js timer honours.
 * An unknown key in a group is rejected with a `TypeError` naming its path.
 */
export interface WorkerOptions {
  /** Name of the consuming application; also the lease table's name unless `leaseTable.tableName` is set, so without it at least 3 characters. */
  readonly applicationName: string;
  /** The stream to consume (give this or `streamArn`). */
  readonly streamName?: string;
  /** The stream to consume, as an ARN (give this or `streamName`). */
  readonly streamArn?: string;
  /**
   * A multi-stream application (instead of `streamName`/`streamArn`): a list of streams, or a
   * tracker `{ list, refreshIntervalMs, formerStreamsLeasesDeletion }` asked again while the
   * worker runs. Leases are keyed `account:streamName:creationEpoch:shardId`, like the Java
   * KCL's multi-stream leases. See `docs/configuration.md` (Multi-stream applications).
   * Java KCL: `MultiStreamTracker`.
   */
  readonly streams?: readonly StreamConfig[] | StreamTracker;
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
   * Your own lease store instead of the DynamoDB table built from `dynamoDbClient` and
   * `leaseTable` (e.g. `InMemoryLeaseRefresher` for tests and simulations of a whole fleet in
   * one process). Every worker of a fleet must share the same store. Give this or `leaseTable`,
   * not both. @default a `DynamoDbLeaseRefresher`
   */
  readonly leaseRefresher?: LeaseRefresher;
  /**
   * Lists a stream's shards instead of Kinesis ListShards: called once for each stream the
   * worker consumes, and used by its shard sync, parent gate and lease cleanup (tests, the
   * deterministic simulation, a shard catalogue kept elsewhere). Multi-stream applications
   * still resolve each stream's identity with DescribeStreamSummary on `kinesisClient`.
   * @default a `ShardDetector` (ListShards on `kinesisClient`)
   */
  readonly shardLister?: (stream: ShardListerTarget) => ShardLister;
  /**
   * Opens each shard's record source instead of the Kinesis fetchers; `retrieval.mode` then
   * chooses nothing (no stream consumer is registered) and `retrieval`'s polling and fan-out
   * settings are unused. Every other guarantee stays the Worker's: the source only delivers
   * batches, the consumer checks the holding before each delivery and fences every checkpoint.
   * @default GetRecords polling or SubscribeToShard, as `retrieval.mode` says
   */
  readonly recordSourceFactory?: RecordSourceFactory;
  /** Used to build clients when `kinesisClient`/`dynamoDbClient` are not given (those are destroyed on shutdown). */
  readonly clientConfig?: ClientConfig;
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
  /** Lease taking, renewal and balancing. Java KCL: `LeaseManagementConfig`. */
  readonly leases?: LeaseCoordinatorOptions;
  /** The DynamoDB lease table. Java KCL: the table settings of `LeaseManagementConfig`. */
  readonly leaseTable?: LeaseTableOptions;
  /** How records are read: polling or enhanced fan-out. Java KCL: `RetrievalConfig`. */
  readonly retrieval?: RetrievalOptions;
  /** Keeping the lease table in step with the stream's shards. Java KCL: `CoordinatorConfig`. */
  readonly shardSync?: ShardSyncOptions;
  /** How record processors are run. Java KCL: `ProcessorConfig`. */
  readonly processing?: ProcessingOptions;
  /** Where metrics go. Java KCL: `MetricsConfig`. */
  readonly metrics?: MetricsOptions;
}

/** The stream a {@link WorkerOptions.shardLister} lists. */
export interface ShardListerTarget {
  /** The stream's name (also when it was configured by ARN). */
  readonly streamName: string;
  /** How the stream was configured: by name or by ARN. */
  readonly stream: StreamReference;
}

/** The resolved, validated configuration of a {@link Worker}: every group resolved once. */
export interface WorkerConfig {
  readonly applicationName: string;
  /** The stream of a single-stream application; `undefined` when `streams` is set. */
  readonly stream: { readonly streamName: string } | { readonly streamArn: string } | undefined;
  /** The name or ARN of `stream`; `undefined` when `streams` is set. */
  readonly streamLabel: string | undefined;
  /** The streams of a multi-stream application; `undefined` for a single-stream one. */
  readonly streams: StreamsConfig | undefined;
  readonly processorFactory: ShardRecordProcessorFactory;
  readonly initialPosition: InitialPosition;
  readonly workerId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly leases: LeaseCoordinatorConfig;
  /** The lease-table options with `tableName` filled in; the `DynamoDbLeaseRefresher` validates the rest (`leaseTable.…` errors). */
  readonly leaseTable: LeaseTableOptions & { readonly tableName: string };
  readonly retrieval: RetrievalConfig;
  readonly shardSync: ShardSyncConfig;
  readonly processing: ProcessingConfig;
  readonly metrics: MetricsConfig;
}

/** Defaults of the `processing` and `metrics` groups and of `initialPosition` (the other groups' defaults live with their packages). */
export const WORKER_DEFAULTS = {
  initialPosition: 'LATEST' as InitialPosition,
  processing: { maxConcurrentProcessors: Number.POSITIVE_INFINITY, callProcessRecordsEvenForEmptyList: false, retryBaseMs: 1_000, retryMaxMs: 30_000, shutdownTimeoutMs: 30_000 },
  metrics: { intervalMs: 60_000, level: 'DETAILED' as MetricsLevel },
} as const;

const NAME = /^[a-zA-Z0-9_.-]{1,255}$/;
const TOP_KEYS = ['applicationName', 'streamName', 'streamArn', 'streams', 'processorFactory', 'kinesisClient', 'dynamoDbClient', 'leaseRefresher', 'shardLister', 'recordSourceFactory', 'clientConfig', 'initialPosition', 'workerId', 'logger', 'clock', 'leases', 'leaseTable', 'retrieval', 'shardSync', 'processing', 'metrics'] as const satisfies readonly (keyof WorkerOptions)[];
const PROCESSING_KEYS = ['maxConcurrentProcessors', 'callProcessRecordsEvenForEmptyList', 'retryBaseMs', 'retryMaxMs', 'shutdownTimeoutMs', 'onProcessorError'] as const satisfies readonly (keyof ProcessingOptions)[];
const METRICS_KEYS = ['publisher', 'intervalMs', 'level', 'enabledDimensions'] as const satisfies readonly (keyof MetricsOptions)[];

/**
 * Merges `options` over the defaults and validates them.
 * @param path the option path errors name. @default 'processing'
 * @throws TypeError naming the option path (also of an unknown key) and the bad value.
 */
export function resolveProcessingConfig(options: ProcessingOptions = {}, path = 'processing'): ProcessingConfig {
  const o = optionGroup(options, path, PROCESSING_KEYS);
  const D = WORKER_DEFAULTS.processing;
  const retryBaseMs = durationOption(o.retryBaseMs, `${path}.retryBaseMs`, D.retryBaseMs);
  const retryMaxMs = durationOption(o.retryMaxMs, `${path}.retryMaxMs`, Math.max(D.retryMaxMs, retryBaseMs));
  if (retryMaxMs < retryBaseMs) throw new TypeError(`${path}.retryMaxMs (${retryMaxMs}) must be ≥ ${path}.retryBaseMs (${retryBaseMs})`);
  return {
    maxConcurrentProcessors: numberOption(o.maxConcurrentProcessors, `${path}.maxConcurrentProcessors`, D.maxConcurrentProcessors, { minInclusive: false, infinity: true }),
    callProcessRecordsEvenForEmptyList: booleanOption(o.callProcessRecordsEvenForEmptyList, `${path}.callProcessRecordsEvenForEmptyList`, D.callProcessRecordsEvenForEmptyList),
    retryBaseMs,
    retryMaxMs,
    shutdownTimeoutMs: durationOption(o.shutdownTimeoutMs, `${path}.shutdownTimeoutMs`, D.shutdownTimeoutMs),
    onProcessorError: functionOption<NonNullable<ProcessingOptions['onProcessorError']>>(o.onProcessorError, `${path}.onProcessorError`),
  };
}

/**
 * Merges `options` over the defaults and validates them.
 * @param path the option path errors name. @default 'metrics'
 * @throws TypeError naming the option path (also of an unknown key) and the bad value.
 */
export function resolveMetricsConfig(options: MetricsOptions = {}, path = 'metrics'): MetricsConfig {
  const o = optionGroup(options, path, METRICS_KEYS);
  const publisher = o.publisher;
  if (publisher !== undefined && publisher !== false && typeof (publisher as { publish?: unknown } | null)?.publish !== 'function') {
    throw new TypeError(`${path}.publisher must be a MetricsPublisher (an object with publish()) or false, got ${describeValue(publisher)}`);
  }
  const dimensions = o.enabledDimensions ?? ALL_METRIC_DIMENSIONS;
  if (!Array.isArray(dimensions)) throw new TypeError(`${path}.enabledDimensions must be an array of dimension names, got ${describeValue(dimensions)}`);
  for (const [i, d] of dimensions.entries()) oneOfOption(d, `${path}.enabledDimensions[${i}]`, ALL_METRIC_DIMENSIONS, 'Operation');
  return {
    publisher: publisher as MetricsPublisher | false | undefined,
    intervalMs: durationOption(o.intervalMs, `${path}.intervalMs`, WORKER_DEFAULTS.metrics.intervalMs),
    level: oneOfOption(o.level, `${path}.level`, ['NONE', 'SUMMARY', 'DETAILED'], WORKER_DEFAULTS.metrics.level),
    enabledDimensions: Object.freeze([...(dimensions as MetricDimensionName[])]),
  };
}

/** Merges {@link WorkerOptions} over the defaults and validates them, each group once; throws a `TypeError` naming the bad option's path. */
export function resolveWorkerConfig(options: WorkerOptions): WorkerConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('Worker options must be an object');
  for (const key of Object.keys(options)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) throw new TypeError(`${key} is not a Worker option (known: ${TOP_KEYS.join(', ')})`);
  }
  const o = options as { readonly [K in keyof WorkerOptions]?: unknown };
  if (typeof o.applicationName !== 'string' || !NAME.test(o.applicationName)) {
    throw new TypeError(`applicationName must be 1–255 characters of [a-zA-Z0-9_.-], got ${JSON.stringify(o.applicationName)}`);
  }
  const applicationName = o.applicationName;
  if (typeof o.processorFactory !== 'function') {
    throw new TypeError(`processorFactory must be a function (shardId) => ShardRecordProcessor, got ${typeof o.processorFactory}`);
  }
  const clock = o.clock ?? systemClock;
  assertClock(clock, 'clock');
  const logger = o.logger ?? silentLogger();
  assertLogger(logger, 'logger');
  const initialPosition = o.initialPosition ?? WORKER_DEFAULTS.initialPosition;
  assertInitialPosition(initialPosition, 'initialPosition', clock.now());
  const { stream, streams } = resolveStreams(o, initialPosition, clock.now());
  assertClientConfig(o.clientConfig);
  const workerId = o.workerId ?? defaultWorkerId();
  if (typeof workerId !== 'string' || workerId.length === 0 || workerId.length > 256) {
    throw new TypeError(`workerId must be a non-empty string of at most 256 characters, got ${JSON.stringify(workerId)}`);
  }
  for (const name of ['kinesisClient', 'dynamoDbClient'] as const) {
    const client = o[name];
    if (client !== undefined && typeof (client as { send?: unknown } | null)?.send !== 'function') {
      throw new TypeError(`${name} must be an AWS SDK v3 ${name === 'kinesisClient' ? 'KinesisClient' : 'DynamoDBClient'} (with send()), got ${describeValue(client)}`);
    }
  }
  for (const name of ['shardLister', 'recordSourceFactory'] as const) functionOption(o[name], name);
  if (o.leaseRefresher !== undefined && o.leaseTable !== undefined) throw new TypeError('give either leaseRefresher or leaseTable, not both');
  const leaseTable = optionGroup(o.leaseTable, 'leaseTable', LEASE_TABLE_OPTION_KEYS) as LeaseTableOptions;
  if (leaseTable.tableName === undefined && o.leaseRefresher === undefined && applicationName.length < 3) {
    throw new TypeError(`applicationName ${JSON.stringify(applicationName)} also names the lease table, and a DynamoDB table name has 3–255 characters: use a longer applicationName, or set leaseTable.tableName`);
  }
  const retrieval = resolveRetrievalConfig(o.retrieval as RetrievalOptions | undefined, applicationName, 'retrieval');
  if (streams && retrieval.fanOut.consumerArn !== undefined) {
    throw new TypeError('retrieval.fanOut.consumerArn names the consumer of one stream; with streams, give retrieval.fanOut.consumerName (one consumer is registered per stream)');
  }
  return {
    applicationName,
    stream,
    streamLabel: stream && ('streamName' in stream ? stream.streamName : stream.streamArn),
    streams,
    processorFactory: o.processorFactory as ShardRecordProcessorFactory,
    initialPosition,
    workerId,
    logger,
    clock,
    leases: resolveLeaseCoordinatorConfig(o.leases as LeaseCoordinatorOptions | undefined, 'leases'),
    leaseTable: { ...leaseTable, tableName: leaseTable.tableName ?? applicationName },
    retrieval,
    shardSync: resolveShardSyncConfig(o.shardSync as ShardSyncOptions | undefined, 'shardSync'),
    processing: resolveProcessingConfig(o.processing as ProcessingOptions | undefined, 'processing'),
    metrics: resolveMetricsConfig(o.metrics as MetricsOptions | undefined, 'metrics'),
  };
}

/**
 * The stream options: `streams` (multi-stream, see `streams/stream-options.ts`) or
 * `streamName`/`streamArn` (single-stream, today's lease keys), never both.
 */
function resolveStreams(o: { readonly streams?: unknown; readonly streamName?: unknown; readonly streamArn?: unknown }, initialPosition: InitialPosition, now: number): Pick<WorkerConfig, 'stream' | 'streams'> {
  const streams = resolveStreamsOption(o, initialPosition, now);
  if (streams) return { stream: undefined, streams };
  if (o.streamName !== undefined && o.streamArn !== undefined) throw new TypeError('give either streamName or streamArn, not both');
  if (o.streamArn !== undefined) {
    parseStreamArn(o.streamArn as string);
    return { stream: { streamArn: o.streamArn as string }, streams: undefined };
  }
  if (typeof o.streamName === 'string' && /^[a-zA-Z0-9_.-]{1,128}$/.test(o.streamName)) return { stream: { streamName: o.streamName }, streams: undefined };
  throw new TypeError(`streamName must be 1–128 characters of [a-zA-Z0-9_.-] (or give streamArn, or streams for several streams), got ${JSON.stringify(o.streamName)}`);
}

/** Validates {@link ClientConfig}: an object with a string region and http(s) URL endpoints. */
function assertClientConfig(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`clientConfig must be an object ({ region, credentials, kinesisEndpoint, dynamoDbEndpoint }), got ${describeValue(value)}`);
  }
  const c = value as Record<string, unknown>;
  if (c['region'] !== undefined && (typeof c['region'] !== 'string' || c['region'].length === 0)) {
    throw new TypeError(`clientConfig.region must be a non-empty string such as "us-east-1", got ${describeValue(c['region'])}`);
  }
  const credentials = c['credentials'];
  if (credentials !== undefined && (credentials === null || (typeof credentials !== 'object' && typeof credentials !== 'function'))) {
    throw new TypeError(`clientConfig.credentials must be credentials or a credential provider, got ${describeValue(credentials)}`);
  }
  for (const name of ['kinesisEndpoint', 'dynamoDbEndpoint']) {
    const endpoint = c[name];
    if (endpoint === undefined) continue;
    if (typeof endpoint !== 'string' || !URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
      throw new TypeError(`clientConfig.${name} must be an http:// or https:// URL, got ${describeValue(endpoint)}`);
    }
  }
}

/**
 * Builds the region, credentials and endpoint of each client from {@link ClientConfig} (the
 * Worker adds its own request handler and `maxAttempts: 1`).
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
