// The contract between the orchestrator and its worker processes: the configuration a
// worker process receives (as JSON in an environment variable) and the IPC messages it sends.

/** Name of the environment variable carrying a {@link WorkerProcessConfig} as JSON. */
export const WORKER_CONFIG_ENV = 'KCL_DEMO_WORKER_CONFIG';

/** What a worker process needs to know. */
export interface WorkerProcessConfig {
  readonly workerId: string;
  readonly applicationName: string;
  readonly streamName: string;
  readonly kinesisEndpoint: string;
  readonly dynamoDbEndpoint: string;
  readonly region: string;
  /** Directory of the journals; this worker writes `<workerId>.jsonl` in it. */
  readonly journalDir: string;
  /** pino level of the worker's log (written to its stderr, which the orchestrator sends to a file). */
  readonly logLevel: string;
  readonly leaseDurationMs: number;
  readonly takerIntervalMs: number;
  readonly idleTimeBetweenReadsMs: number;
  readonly shardSyncIntervalMs: number;
  readonly parentShardPollIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  /** How often progress is reported. */
  readonly progressIntervalMs: number;
}

/** Per-shard progress of one worker. */
export interface ShardProgress {
  readonly shardId: string;
  /** Records this worker processed on the shard since it started. */
  readonly records: number;
  /** `millisBehindLatest` of the last batch. */
  readonly lagMs: number | undefined;
}

/** Lifecycle and lease events a worker process reports as they happen. */
export type WorkerEventName = 'leaseAcquired' | 'leaseLost' | 'shardEnded' | 'processorError' | 'error' | 'checkpointFailed';

/** Messages from a worker process to the orchestrator. */
export type WorkerMessage =
  | { readonly type: 'started'; readonly workerId: string; readonly at: number }
  | { readonly type: 'stopped'; readonly workerId: string; readonly at: number }
  | {
      readonly type: 'event';
      readonly workerId: string;
      readonly at: number;
      readonly event: WorkerEventName;
      readonly shardId?: string;
      readonly detail?: string;
    }
  | {
      readonly type: 'progress';
      readonly workerId: string;
      readonly at: number;
      /** Shards whose leases the worker holds right now. */
      readonly held: readonly string[];
      readonly shards: readonly ShardProgress[];
    }
  | { readonly type: 'fatal'; readonly workerId: string; readonly at: number; readonly detail: string };

/** Narrows an IPC message of unknown shape. */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { type, workerId } = value as { type?: unknown; workerId?: unknown };
  return typeof workerId === 'string' && (type === 'started' || type === 'stopped' || type === 'event' || type === 'progress' || type === 'fatal');
}
