/**
 * The IPC messages a fleet worker process sends its parent. The journal is the evidence the
 * oracle reads; these messages are the live view (demo table, benchmark timings).
 * @module
 */

/** Per-shard progress of one worker. */
export interface ShardProgress {
  /** Records this worker processed on the shard since it started. */
  readonly records: number;
  /** `millisBehindLatest` of the last batch. */
  readonly lagMs: number | undefined;
}

/** Lifecycle and lease events a worker process reports as they happen. */
export type WorkerEventName = 'leaseAcquired' | 'leaseLost' | 'shardEnded' | 'processorError' | 'error';

/** One processed record in a `batch` message: [partition key, n, put time (epoch ms)]. */
export type SeenRecord = readonly [key: string, n: number, putAt: number];

/** Messages from a worker process. Times are the child's `Date.now()`. */
export type WorkerMessage =
  | { readonly type: 'started'; readonly at: number }
  | { readonly type: 'stopped'; readonly at: number }
  | { readonly type: 'fatal'; readonly at: number; readonly detail: string }
  | { readonly type: 'event'; readonly at: number; readonly event: WorkerEventName; readonly shardId?: string; readonly detail?: string }
  | { readonly type: 'batch'; readonly at: number; readonly shardId: string; readonly records: readonly SeenRecord[] }
  | {
      readonly type: 'progress';
      readonly at: number;
      /** Shards whose leases the worker holds right now. */
      readonly held: readonly string[];
      readonly shards: Readonly<Record<string, ShardProgress>>;
      /** Records processed since start, all shards. */
      readonly processed: number;
      /** Kinesis and DynamoDB requests since start, per operation name. */
      readonly requests: Readonly<Record<string, number>>;
      readonly rss: number;
      readonly heapUsed: number;
      /** CPU time (user + system) since start, µs. */
      readonly cpuUs: number;
    };

const TYPES = new Set(['started', 'stopped', 'fatal', 'event', 'batch', 'progress']);

/** Narrows an IPC message of unknown shape. */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && TYPES.has((value as { type?: unknown }).type as string);
}
