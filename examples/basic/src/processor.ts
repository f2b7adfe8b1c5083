import type {
  InitializationInput,
  KinesisClientRecord,
  LeaseLostInput,
  ProcessRecordsInput,
  RecordProcessorCheckpointer,
  ShardEndedInput,
  ShardRecordProcessor,
  ShutdownRequestedInput,
} from '@kcl-ts/kcl';

/** Counters shared by every processor of the worker (for the final summary). */
export interface Stats {
  processed: number;
  checkpoints: number;
}

/** When to checkpoint: after `everyRecords` records or `everyMs` milliseconds, whichever comes first. */
export interface CheckpointPolicy {
  readonly everyRecords: number;
  readonly everyMs: number;
}

/**
 * A processor that handles each record, then checkpoints every N records or T seconds
 * (whichever first), and once more when the worker shuts down (`shutdownRequested`) or the
 * shard ends (`shardEnded`).
 *
 * Why batch the checkpoints: each checkpoint is one conditional DynamoDB write. Why bound
 * them by time too: after a crash, the next owner re-delivers everything after the last
 * checkpoint, so the time bound caps how much a failover replays on a quiet shard.
 */
export class CheckpointingProcessor implements ShardRecordProcessor {
  private shardId = '';
  private sinceCheckpoint = 0;
  private lastCheckpointAt = 0;

  constructor(
    private readonly policy: CheckpointPolicy,
    private readonly stats: Stats,
    private readonly log: (line: string) => void = console.log,
  ) {}

  initialize({ shardId, extendedSequenceNumber }: InitializationInput): void {
    this.shardId = shardId;
    this.lastCheckpointAt = performance.now();
    this.log(`[${shardId}] initialize: starting from ${extendedSequenceNumber.sequenceNumber}`);
  }

  async processRecords({ records, checkpointer, millisBehindLatest }: ProcessRecordsInput): Promise<void> {
    for (const record of records) this.handle(record);
    this.stats.processed += records.length;
    this.sinceCheckpoint += records.length;
    if (records.length > 0) {
      this.log(`[${this.shardId}] ${records.length} records, ${records[0]!.sequenceNumber.slice(-6)}…${records.at(-1)!.sequenceNumber.slice(-6)}, ${millisBehindLatest ?? '?'} ms behind`);
    }
    // Called for empty polls too (callProcessRecordsEvenForEmptyList), so the time bound
    // also fires on a shard that has gone quiet.
    const elapsed = performance.now() - this.lastCheckpointAt;
    if (this.sinceCheckpoint >= this.policy.everyRecords) {
      await this.checkpoint(checkpointer, `${this.sinceCheckpoint} records`);
    } else if (this.sinceCheckpoint > 0 && elapsed >= this.policy.everyMs) {
      await this.checkpoint(checkpointer, `${Math.round(elapsed / 1000)} s`);
    }
    // A LeaseLostError thrown by checkpoint() is left to propagate: the worker then stops
    // this processor and calls leaseLost. Nothing was written; the new owner re-delivers.
  }

  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    // Graceful shutdown or handoff: every delivered batch has been processed, so
    // checkpointing now makes the next owner start exactly after it (no duplicates).
    if (this.sinceCheckpoint > 0) await this.checkpoint(checkpointer, 'shutdown');
  }

  async shardEnded({ checkpointer, childShardIds }: ShardEndedInput): Promise<void> {
    // Required: checkpoint() here records SHARD_END, which lets the child shards start.
    await checkpointer.checkpoint();
    this.stats.checkpoints++;
    this.log(`[${this.shardId}] shard ended; checkpointed SHARD_END (children: ${childShardIds.join(', ') || 'unknown'})`);
  }

  leaseLost(_input: LeaseLostInput): void {
    // Another worker owns the shard now; do not checkpoint (it would throw LeaseLostError).
    this.log(`[${this.shardId}] lease lost`);
  }

  /** The application's work. Here: decode the record. */
  private handle(record: KinesisClientRecord): void {
    Buffer.from(record.data).toString('utf8');
  }

  private async checkpoint(checkpointer: RecordProcessorCheckpointer, reason: string): Promise<void> {
    await checkpointer.checkpoint(); // the last record delivered, i.e. the end of the batch just processed
    this.stats.checkpoints++;
    this.sinceCheckpoint = 0;
    this.lastCheckpointAt = performance.now();
    this.log(`[${this.shardId}] checkpoint at ${checkpointer.lastCheckpoint.sequenceNumber.slice(-6)} (after ${reason})`);
  }
}
