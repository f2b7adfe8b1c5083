/**
 * Configuration of one chaos worker process, handed from the test to the child through the
 * `KCL_CHAOS_WORKER` environment variable as JSON.
 * @module
 */
import type { WorkerOptions } from '@kcl-ts/kcl';

/** Name of the environment variable that carries a {@link WorkerProcessConfig}. */
export const WORKER_CONFIG_ENV = 'KCL_CHAOS_WORKER';

/** The JSON-safe Worker option groups a scenario may tune. */
export type WorkerTuning = {
  readonly leases?: NonNullable<WorkerOptions['leases']>;
  readonly retrieval?: Omit<NonNullable<WorkerOptions['retrieval']>, 'fanOut'>;
  readonly shardSync?: NonNullable<WorkerOptions['shardSync']>;
  readonly processing?: Omit<NonNullable<WorkerOptions['processing']>, 'onProcessorError'>;
};

/** `over` on top of `base`, group by group (and `retrieval.polling` key by key). */
export function mergeTuning(base: WorkerTuning = {}, over: WorkerTuning = {}): WorkerTuning {
  return {
    leases: { ...base.leases, ...over.leases },
    retrieval: { ...base.retrieval, ...over.retrieval, polling: { ...base.retrieval?.polling, ...over.retrieval?.polling } },
    shardSync: { ...base.shardSync, ...over.shardSync },
    processing: { ...base.processing, ...over.processing },
  };
}

/** Everything a chaos worker process needs. */
export interface WorkerProcessConfig {
  readonly workerId: string;
  readonly applicationName: string;
  readonly streamName: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Kinesis endpoint: the emulator, or a fault proxy in front of it. */
  readonly kinesisEndpoint: string;
  /** DynamoDB endpoint: dynalite, or a fault proxy in front of it. */
  readonly dynamoDbEndpoint: string;
  /** The journal file this process appends to (its own; never shared). */
  readonly journalPath: string;
  /** pino log file (written synchronously, so a `kill -9` loses nothing). */
  readonly logPath?: string;
  /** pino level. @default 'info' */
  readonly logLevel?: string;
  /** Simulated work per record, making a slow processor. @default 0 */
  readonly recordDelayMs?: number;
  /** `shardEnded` rethrows a failed (non lease-lost) checkpoint, like a processor without error handling. @default false */
  readonly naiveShardEnd?: boolean;
  /** `shardEnded` throws this many times per shard before it checkpoints. @default 0 */
  readonly failShardEndedTimes?: number;
  /** @default 'TRIM_HORIZON' */
  readonly initialPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Worker options. */
  readonly worker?: WorkerTuning;
}

/** Reads and checks the configuration from the environment (throws a `TypeError` if absent or bad). */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerProcessConfig {
  const raw = env[WORKER_CONFIG_ENV];
  if (!raw) throw new TypeError(`${WORKER_CONFIG_ENV} is not set: this module is started by the chaos Fleet`);
  const config = JSON.parse(raw) as WorkerProcessConfig;
  for (const key of ['workerId', 'applicationName', 'streamName', 'region', 'kinesisEndpoint', 'dynamoDbEndpoint', 'journalPath'] as const) {
    if (typeof config[key] !== 'string' || config[key].length === 0) throw new TypeError(`${WORKER_CONFIG_ENV}.${key} must be a non-empty string`);
  }
  return config;
}
