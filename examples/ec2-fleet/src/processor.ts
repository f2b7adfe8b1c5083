import type { InitializationInput, Logger, ProcessRecordsInput, ShardEndedInput, ShardRecordProcessor, ShutdownRequestedInput } from '@kcl-ts/kcl';

/** Totals over every shard this process handled (for the final log line). */
export interface Totals {
  records: number;
  amount: number;
}

/** Checkpoint at most this often while records flow (plus at shutdown and shard end). */
const CHECKPOINT_INTERVAL_MS = 10_000;

/**
 * Sums the `amount` of JSON order records. Checkpoints every 10 s while records flow, and
 * always in `shutdownRequested` — that last checkpoint is what makes a scale-in, a
 * deployment or a Spot interruption re-deliver nothing to the next owner.
 */
export class FleetProcessor implements ShardRecordProcessor {
  private lastCheckpointAt = 0;
  private pending = 0;

  constructor(
    private readonly log: Logger,
    private readonly totals: Totals,
  ) {}

  initialize({ extendedSequenceNumber }: InitializationInput): void {
    this.lastCheckpointAt = performance.now();
    this.log.info({ from: extendedSequenceNumber.sequenceNumber }, 'processor initialized');
  }

  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    for (const record of records) {
      try {
        const order = JSON.parse(Buffer.from(record.data).toString('utf8')) as { amount?: unknown };
        if (typeof order.amount === 'number') this.totals.amount += order.amount;
      } catch {
        this.log.warn({ sequenceNumber: record.sequenceNumber }, 'skipping a record that is not JSON');
      }
    }
    this.totals.records += records.length;
    this.pending += records.length;
    if (this.pending > 0 && performance.now() - this.lastCheckpointAt >= CHECKPOINT_INTERVAL_MS) {
      await checkpointer.checkpoint();
      this.pending = 0;
      this.lastCheckpointAt = performance.now();
    }
  }

  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    if (this.pending > 0) await checkpointer.checkpoint();
    this.log.info({ checkpoint: checkpointer.lastCheckpoint.sequenceNumber }, 'checkpointed for shutdown');
  }

  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    await checkpointer.checkpoint(); // SHARD_END: the children may start
  }
}
