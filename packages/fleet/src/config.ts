/**
 * What a fleet worker process is told: the configuration the spawner hands its child as JSON
 * in `KCL_FLEET_WORKER`, and the retrieval modes and stream lists every scenario is
 * parameterised by.
 * @module
 */

import type { WorkerOptions } from '@kcl-ts/kcl';

/** Name of the environment variable that carries a {@link WorkerProcessConfig}. */
export const WORKER_CONFIG_ENV = 'KCL_FLEET_WORKER';

/** How the workers read the stream: GetRecords polling or enhanced fan-out (SubscribeToShard). */
export type RetrievalMode = 'polling' | 'fanout';

/** The retrieval modes, in the order the tools list them. */
export const RETRIEVAL_MODES: readonly RetrievalMode[] = ['polling', 'fanout'];

/**
 * The Worker option groups a scenario may tune, as the Worker takes them, less what cannot
 * travel to the worker process as JSON; the retrieval mode is the scenario's own parameter.
 */
export interface WorkerTuning {
  readonly leases?: NonNullable<WorkerOptions['leases']>;
  readonly retrieval?: Omit<NonNullable<WorkerOptions['retrieval']>, 'mode'>;
  readonly shardSync?: NonNullable<WorkerOptions['shardSync']>;
  readonly processing?: Omit<NonNullable<WorkerOptions['processing']>, 'onProcessorError'>;
}

/** `over` on top of `base`, group by group (and `retrieval.polling` setting by setting). */
export function mergeTuning(base: WorkerTuning = {}, over: WorkerTuning = {}): WorkerTuning {
  return {
    leases: { ...base.leases, ...over.leases },
    retrieval: { ...base.retrieval, ...over.retrieval, polling: { ...base.retrieval?.polling, ...over.retrieval?.polling } },
    shardSync: { ...base.shardSync, ...over.shardSync },
    processing: { ...base.processing, ...over.processing },
  };
}

/** Everything a fleet worker process needs. */
export interface WorkerProcessConfig {
  readonly workerId: string;
  readonly applicationName: string;
  /**
   * The streams to consume, with one Worker: one entry is a single-stream Worker
   * (`streamName`), several a multi-stream one (`streams`), whose journal lines carry `stream`.
   */
  readonly streams: readonly string[];
  /** @default 'polling' */
  readonly retrieval?: RetrievalMode;
  readonly region: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Kinesis endpoint: the emulator, or a fault proxy in front of it. */
  readonly kinesisEndpoint: string;
  /** DynamoDB endpoint: dynalite, or a fault proxy in front of it. */
  readonly dynamoDbEndpoint: string;
  /** The journal file this process appends to (its own; never shared). */
  readonly journalPath: string;
  /** pino log file (written synchronously, so a `kill -9` loses nothing). Absent: no log. */
  readonly logPath?: string;
  /** pino level. @default 'info' */
  readonly logLevel?: string;
  /** Simulated work per record, making a slow processor. @default 0 */
  readonly recordDelayMs?: number;
  /** `shardEnded` rethrows a failed (non lease-lost) checkpoint, like a processor without error handling. @default false */
  readonly naiveShardEnd?: boolean;
  /** `shardEnded` throws this many times per shard before it checkpoints. @default 0 */
  readonly failShardEndedTimes?: number;
  /**
   * The process builds the Worker's clients itself and counts their requests per command (the
   * `progress` messages' `requests`). Otherwise the Worker builds its own from the endpoints,
   * as an application's `clientConfig` does, and `requests` stay empty. @default false
   */
  readonly countRequests?: boolean;
  /** Interval of the `progress` messages (held leases, per-shard counts, request counts, memory). @default 500 */
  readonly progressIntervalMs?: number;
  /** Worker option groups. */
  readonly worker?: WorkerTuning;
}

/** Reads and checks the configuration from the environment (throws a `TypeError` if absent or bad). */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerProcessConfig {
  const raw = env[WORKER_CONFIG_ENV];
  if (!raw) throw new TypeError(`${WORKER_CONFIG_ENV} is not set: this module is started by the fleet spawner`);
  const config = JSON.parse(raw) as WorkerProcessConfig;
  for (const key of ['workerId', 'applicationName', 'region', 'kinesisEndpoint', 'dynamoDbEndpoint', 'journalPath'] as const) {
    if (typeof config[key] !== 'string' || config[key].length === 0) throw new TypeError(`${WORKER_CONFIG_ENV}.${key} must be a non-empty string`);
  }
  checkStreams(config.streams, `${WORKER_CONFIG_ENV}.streams`);
  checkRetrieval(config.retrieval ?? 'polling', `${WORKER_CONFIG_ENV}.retrieval`);
  return config;
}

/** Throws a `TypeError` naming `path` unless `streams` is a non-empty list of distinct stream names. */
export function checkStreams(streams: unknown, path = 'streams'): asserts streams is readonly string[] {
  if (!Array.isArray(streams) || streams.length === 0 || !streams.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new TypeError(`${path} must be a non-empty list of stream names, got ${JSON.stringify(streams)}`);
  }
  const repeated = streams.find((s, i) => streams.indexOf(s) !== i);
  if (repeated !== undefined) throw new TypeError(`${path} names ${repeated} twice`);
}

/** Throws a `TypeError` naming `path` unless `mode` is a {@link RetrievalMode}. */
export function checkRetrieval(mode: unknown, path = 'retrieval'): asserts mode is RetrievalMode {
  if (!RETRIEVAL_MODES.includes(mode as RetrievalMode)) throw new TypeError(`${path} must be one of ${RETRIEVAL_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
}
