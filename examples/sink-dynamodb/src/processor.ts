import type { InitializationInput, ProcessRecordsInput, ShardEndedInput, ShardRecordProcessor, ShutdownRequestedInput } from '@kcl-ts/kcl';
import type { ResultSink } from './sink.js';

/** Counters of one phase. */
export interface SinkStats {
  processed: number;
  applied: number;
  duplicates: number;
}

/**
 * Writes each record's result through the {@link ResultSink}, one record at a time, in
 * order; then checkpoints the batch. With `checkpoint: false` it plays a worker that
 * crashes before checkpointing: its results are stored, but the records will be delivered
 * again to the next owner — and the conditional writes turn them into no-ops.
 */
export class SinkProcessor implements ShardRecordProcessor {
  private shardId = '';

  constructor(
    private readonly sink: ResultSink,
    private readonly stats: SinkStats,
    private readonly checkpoint: boolean,
  ) {}

  initialize({ shardId }: InitializationInput): void {
    this.shardId = shardId;
  }

  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    for (const record of records) {
      const { event, total } = await this.sink.write(this.shardId, record);
      this.stats.processed++;
      if (event === 'applied') this.stats.applied++;
      if (event === 'duplicate' && total === 'duplicate') this.stats.duplicates++;
    }
    // Checkpoint only after the results are stored: a crash in between re-delivers them,
    // which the conditional writes absorb. (The reverse order could lose results.)
    if (this.checkpoint) await checkpointer.checkpoint();
  }

  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    if (this.checkpoint) await checkpointer.checkpoint();
  }

  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    await checkpointer.checkpoint();
  }
}
