/**
 * The `Sink` interface: where a {@link BatchingProcessor} writes a flush.
 * @module
 */
import type { Clock, KinesisClientRecord } from '@kcl-ts/processor';

/** One item of a flush, with the record it was made from. */
export interface SinkEntry<T> {
  /** What `transform` returned for the record. */
  readonly item: T;
  /** The record (its sequence and sub-sequence numbers identify it in the shard). */
  readonly record: KinesisClientRecord;
}

/**
 * One flush: the items of consecutive records of one shard, in shard order. Records that
 * `transform` skipped are not in `entries` but are covered by the checkpoint that follows a
 * successful write.
 */
export interface SinkBatch<T> {
  /** The shard the records were read from. */
  readonly shardId: string;
  /** The items, in shard order; never empty. */
  readonly entries: readonly SinkEntry<T>[];
  /** Sum of the sizes of the items (see `sizeOf`), in bytes. */
  readonly bytes: number;
}

/** Passed to {@link Sink.write} with every attempt. */
export interface SinkWriteContext {
  /**
   * Aborts when the lease is lost or a shutdown's deadline passes: stop writing and reject.
   * The processor stops waiting for the write as soon as it aborts, whatever the sink does.
   */
  readonly signal: AbortSignal | undefined;
  /** 0 for the first attempt of this flush, then 1, 2, … */
  readonly attempt: number;
  /** The processor's clock: sleep on it (with `signal`) when the sink waits between its own calls. */
  readonly clock: Clock;
}

/** What a write reports back (optional). */
export interface SinkWriteResult {
  /**
   * Items the sink left unapplied on purpose because the destination already holds a newer
   * version of their key (a "newest version wins" condition). They count as written.
   */
  readonly stale?: number;
}

/**
 * How the processor treats a failed write:
 * - `throttled` and `transient`: retried with backoff, up to the retry budget;
 * - `fatal`: not retried here; `processRecords` throws at once and the Worker delivers the
 *   batch again after its own backoff (a fatal error is still never a lost record).
 */
export type SinkErrorKind = 'throttled' | 'transient' | 'fatal';

/**
 * A destination for records. Implementations must be **idempotent under redelivery**: kcl-ts
 * delivers at least once, so the same records (the same shard, sequence and sub-sequence
 * numbers) may be written again — after a failed attempt, after a failover, or in a batch
 * with different boundaries. Writing them again must not add duplicates.
 *
 * A write resolves only when its items are durable. It may be called again with the same or
 * an overlapping batch after it rejected (or after its result was lost).
 */
export interface Sink<T> {
  /** A short name for logs and metrics, e.g. `dynamodb:orders`. */
  readonly name: string;
  /** Writes `batch`; resolves once it is durable. */
  write(batch: SinkBatch<T>, context: SinkWriteContext): Promise<SinkWriteResult | void>;
  /** Sorts a write error into a {@link SinkErrorKind}. @default every error is `transient` except throttling (`throttled`) */
  classifyError?(error: unknown): SinkErrorKind;
}
