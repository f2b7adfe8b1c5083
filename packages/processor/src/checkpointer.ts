import type { KinesisClientRecord } from './record.js';

/**
 * Writes checkpoints for one shard. Every checkpoint is a conditional write fenced on the
 * lease owner and lease counter: if this worker lost the lease, it throws `LeaseLostError`
 * and nothing is written.
 *
 * Rules: a checkpoint may not move backwards, may not pass the last record delivered to the
 * processor (`InvalidCheckpointError`), and `SHARD_END` may be checkpointed only once the
 * shard has been read to its end. Calls are written one at a time, in call order. Once the
 * processor's consumer has finished, every call throws `LeaseLostError`.
 */
export interface RecordProcessorCheckpointer {
  /**
   * Checkpoints the last record processed: inside `processRecords`, the end of the batch being
   * processed; elsewhere (e.g. `shutdownRequested`), the end of the last batch whose
   * `processRecords` returned — never a batch that threw. `SHARD_END` inside `shardEnded`.
   */
  checkpoint(): Promise<void>;
  /** Checkpoints at `record` (its sequence and sub-sequence number). */
  checkpoint(record: KinesisClientRecord): Promise<void>;
  /** Checkpoints at an explicit sequence number (and sub-sequence number, default 0). */
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;

  /**
   * First phase of a two-phase checkpoint: records a *pending* checkpoint (and optional
   * application state) without moving the real one. If the worker fails before the returned
   * checkpointer's `checkpoint()` is called, the next owner receives the pending checkpoint
   * and state in `initialize`. With no argument, prepares at the last delivered record.
   */
  prepareCheckpoint(applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(record: KinesisClientRecord, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(sequenceNumber: string, subSequenceNumber?: number, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;

  /** The shard this checkpointer writes for. */
  readonly shardId: string;
  /** The last checkpoint successfully written by or for this processor. */
  readonly lastCheckpoint: import('./sequence.js').ExtendedSequenceNumber;
}

/** Second phase of a two-phase checkpoint; see {@link RecordProcessorCheckpointer.prepareCheckpoint}. */
export interface PreparedCheckpointer {
  /** The position that was prepared. */
  readonly pendingCheckpoint: import('./sequence.js').ExtendedSequenceNumber;
  /** Turns the pending checkpoint into the real checkpoint (fenced like any checkpoint). */
  checkpoint(): Promise<void>;
}
