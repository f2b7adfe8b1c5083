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

/** Messages from a worker process. Times are the child's `Date.now()`. */
export type WorkerMessage =
  | { readonly type: 'starting' | 'started' | 'stopped'; readonly at: number }
  | { readonly type: 'fatal'; readonly at: number; readonly detail: string }
  /** `shardId` of an event, `held` and `shards` of a progress message: shard ids, or `stream/shard` keys (`shardKey`) for a multi-stream worker. */
  | { readonly type: 'event'; readonly at: number; readonly event: WorkerEventName; readonly shardId?: string; readonly detail?: string }
  | { readonly type: 'role'; readonly at: number; readonly role: string; readonly holder: string | undefined }
  | {
      readonly type: 'progress';
      readonly at: number;
      /** Shards whose leases the worker holds right now. */
      readonly held: readonly string[];
      readonly shards: Readonly<Record<string, ShardProgress>>;
      /** The coordinator role as this worker last saw it (`coordinatorRole()`); absent without one (`coordination: 'every-worker'`). */
      readonly role?: { readonly role: string; readonly holder: string | undefined; readonly heldByMe: boolean };
      /** Records processed since start, all shards. */
      readonly processed: number;
      /** Requests since start, per client and command name (e.g. `dynamoDb.ScanCommand`). */
      readonly requests: { readonly kinesis: Readonly<Record<string, number>>; readonly dynamoDb: Readonly<Record<string, number>> };
      readonly rss: number;
      readonly heapUsed: number;
      /** CPU time (user + system) since start, µs. */
      readonly cpuUs: number;
    };

const TYPES = new Set(['starting', 'started', 'stopped', 'fatal', 'event', 'role', 'progress']);

/** Narrows an IPC message of unknown shape. */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && TYPES.has((value as { type?: unknown }).type as string);
}
