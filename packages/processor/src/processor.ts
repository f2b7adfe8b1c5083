import type { RecordProcessorCheckpointer } from './checkpointer.js';
import type { KinesisClientRecord } from './record.js';
import type { ExtendedSequenceNumber } from './sequence.js';

/** Passed to {@link ShardRecordProcessor.initialize}. */
export interface InitializationInput {
  /** The shard this processor is bound to. */
  readonly shardId: string;
  /** The stream's name (always set by the Worker; optional so hand-built inputs in tests stay short). */
  readonly streamName?: string;
  /**
   * The serialized stream identifier: `account:streamName:creationEpoch` in a multi-stream
   * application, the stream name in a single-stream one (always set by the Worker).
   */
  readonly streamIdentifier?: string;
  /** Where processing resumes: the lease's checkpoint (a sequence number or a sentinel). */
  readonly extendedSequenceNumber: ExtendedSequenceNumber;
  /** A pending checkpoint left by `prepareCheckpoint` before a failover, if any. */
  readonly pendingCheckpointSequenceNumber?: ExtendedSequenceNumber;
  /** Application state stored with the pending checkpoint, if any. */
  readonly pendingCheckpointState?: Uint8Array;
}

/** Passed to {@link ShardRecordProcessor.processRecords}. */
export interface ProcessRecordsInput {
  /** The records of this batch, in shard order. May be empty only if `callProcessRecordsEvenForEmptyList` is set. */
  readonly records: readonly KinesisClientRecord[];
  /** Checkpointer of this shard. */
  readonly checkpointer: RecordProcessorCheckpointer;
  /** How far behind the tip of the shard this batch was, in ms (from GetRecords). */
  readonly millisBehindLatest?: number;
  /** The shard id, for convenience. */
  readonly shardId: string;
  /** The stream's name (always set by the Worker; optional so hand-built inputs in tests stay short). */
  readonly streamName?: string;
  /**
   * The serialized stream identifier: `account:streamName:creationEpoch` in a multi-stream
   * application, the stream name in a single-stream one (always set by the Worker).
   */
  readonly streamIdentifier?: string;
  /** Aborts when the lease is lost or a shutdown's deadline passes; pass it to long calls. */
  readonly signal: AbortSignal;
}

/** Passed to {@link ShardRecordProcessor.leaseLost}. There is no checkpointer: the lease is gone. */
export interface LeaseLostInput {
  readonly shardId: string;
  /** The stream's name (always set by the Worker; optional so hand-built inputs in tests stay short). */
  readonly streamName?: string;
  /**
   * The serialized stream identifier: `account:streamName:creationEpoch` in a multi-stream
   * application, the stream name in a single-stream one (always set by the Worker).
   */
  readonly streamIdentifier?: string;
}

/** Passed to {@link ShardRecordProcessor.shardEnded}. */
export interface ShardEndedInput {
  readonly shardId: string;
  /** The stream's name (always set by the Worker; optional so hand-built inputs in tests stay short). */
  readonly streamName?: string;
  /**
   * The serialized stream identifier: `account:streamName:creationEpoch` in a multi-stream
   * application, the stream name in a single-stream one (always set by the Worker).
   */
  readonly streamIdentifier?: string;
  /** Call `checkpoint()` (no arguments) to record `SHARD_END`; children start only after it. */
  readonly checkpointer: RecordProcessorCheckpointer;
  /** Child shard ids, when known. */
  readonly childShardIds: readonly string[];
}

/** Passed to {@link ShardRecordProcessor.shutdownRequested}. */
export interface ShutdownRequestedInput {
  readonly shardId: string;
  /** The stream's name (always set by the Worker; optional so hand-built inputs in tests stay short). */
  readonly streamName?: string;
  /**
   * The serialized stream identifier: `account:streamName:creationEpoch` in a multi-stream
   * application, the stream name in a single-stream one (always set by the Worker).
   */
  readonly streamIdentifier?: string;
  /** Checkpoint here to make the graceful handoff duplicate-free. */
  readonly checkpointer: RecordProcessorCheckpointer;
}

/**
 * What an application implements: one instance per shard lease, created by the worker's
 * `processorFactory`. Calls on one instance never overlap and follow this order:
 * `initialize` → `processRecords`* → exactly one of `leaseLost` | `shardEnded` | `shutdownRequested`.
 */
export interface ShardRecordProcessor {
  /** Called once before any record, with the position processing resumes from. */
  initialize(input: InitializationInput): Promise<void> | void;
  /**
   * Called with each batch, in order. If it throws, the same batch is delivered again after
   * a backoff (or handed to `onProcessorError`): records are never skipped silently.
   */
  processRecords(input: ProcessRecordsInput): Promise<void> | void;
  /**
   * The lease was taken by another worker or could not be renewed. Do not checkpoint.
   * Optional; the default does nothing.
   */
  leaseLost?(input: LeaseLostInput): Promise<void> | void;
  /**
   * Every record of the shard has been delivered. Call `checkpointer.checkpoint()` so the
   * children can start. Optional; when absent the worker checkpoints `SHARD_END` itself.
   */
  shardEnded?(input: ShardEndedInput): Promise<void> | void;
  /**
   * The worker is shutting down gracefully; checkpoint what you have processed. Optional;
   * the default does nothing (the next owner then resumes from the last checkpoint).
   */
  shutdownRequested?(input: ShutdownRequestedInput): Promise<void> | void;
}

/** The shard a processor is created for, and its stream: the second argument of a {@link ShardRecordProcessorFactory}. */
export interface StreamShard {
  readonly shardId: string;
  /** The stream's name. */
  readonly streamName: string;
  /** `account:streamName:creationEpoch` in a multi-stream application, the stream name in a single-stream one. */
  readonly streamIdentifier: string;
}

/**
 * Creates a processor for a shard. May be async. A single-stream application can ignore the
 * second argument; a multi-stream one learns the stream from it:
 * `processorFactory: (shardId, { streamName }) => new OrdersProcessor(streamName)`.
 */
export type ShardRecordProcessorFactory = (shardId: string, shard: StreamShard) => ShardRecordProcessor | Promise<ShardRecordProcessor>;
