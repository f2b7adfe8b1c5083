import type {
  ExtendedSequenceNumber,
  InitializationInput,
  KinesisClientRecord,
  ProcessRecordsInput,
  ShardEndedInput,
  ShardRecordProcessor,
  ShutdownRequestedInput,
} from '@kcl-ts/kcl';

/** Shared between the processors of a run. */
export interface RunState {
  processed: number;
  aggregated: number;
  /** Phase 1 only: set by the first processor that stops in the middle of an aggregate. */
  stoppedAt?: ExtendedSequenceNumber;
  /** Phase 1: set synchronously by the one processor that plays the failure (shards run concurrently). */
  stopClaimed?: boolean;
  onStopped?: () => void;
  /** Phase 2: the checkpoint phase 1 left in the middle of an aggregate. */
  expectResumeFrom?: ExtendedSequenceNumber;
  /** Phase 2: the first record delivered after resuming from `expectResumeFrom`. */
  resumedWith?: ExtendedSequenceNumber;
}

/** `sequence/sub` with the sequence number shortened, for the log. */
export function show(position: { sequenceNumber: string; subSequenceNumber?: number | undefined }): string {
  const seq = /^\d+$/.test(position.sequenceNumber) ? `…${position.sequenceNumber.slice(-8)}` : position.sequenceNumber;
  return position.subSequenceNumber === undefined ? seq : `${seq}/${position.subSequenceNumber}`;
}

/**
 * Prints the user records it receives — each user record of a KPL aggregate arrives on its
 * own, with the aggregate's sequence number and its own `subSequenceNumber` — and
 * checkpoints with `checkpoint(record)`, which stores both numbers.
 *
 * With `stopMidAggregate`, it plays a worker that fails half-way through an aggregate: it
 * checkpoints at the user record with sub-sequence number 4 and processes nothing after it.
 * The next worker then resumes at sub-sequence number 5 of the same aggregate: nothing is
 * skipped and nothing before the checkpoint is delivered again.
 */
export class AggregateProcessor implements ShardRecordProcessor {
  private shardId = '';
  private resumeFrom: ExtendedSequenceNumber | undefined;
  private stopped = false;

  constructor(
    private readonly state: RunState,
    private readonly stopMidAggregate: boolean,
  ) {}

  initialize({ shardId, extendedSequenceNumber }: InitializationInput): void {
    this.shardId = shardId;
    if (extendedSequenceNumber.subSequenceNumber > 0) this.resumeFrom = extendedSequenceNumber;
    console.log(`[${shardId}] initialize at checkpoint ${show(extendedSequenceNumber)}`);
  }

  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    if (this.stopped) return; // phase 1, after the simulated failure: process nothing more
    if (this.resumeFrom && records[0]) {
      const expected = this.state.expectResumeFrom;
      if (expected?.sequenceNumber === this.resumeFrom.sequenceNumber && expected.subSequenceNumber === this.resumeFrom.subSequenceNumber) {
        this.state.resumedWith = { sequenceNumber: records[0].sequenceNumber, subSequenceNumber: records[0].subSequenceNumber ?? 0 };
      }
      console.log(`[${this.shardId}] resumed inside an aggregate: checkpoint ${show(this.resumeFrom)}, first record delivered ${show(records[0])}`);
      this.resumeFrom = undefined;
    }
    let last: KinesisClientRecord | undefined;
    for (const record of records) {
      this.handle(record);
      last = record;
      if (this.stopMidAggregate && record.aggregated && record.subSequenceNumber === 4 && !this.state.stopClaimed) {
        this.state.stopClaimed = true;
        await checkpointer.checkpoint(record); // stores sequence number AND sub-sequence number 4
        this.stopped = true;
        this.state.stoppedAt = checkpointer.lastCheckpoint;
        console.log(`[${this.shardId}] checkpointed ${show(record)} and stops here (simulated failure)`);
        this.state.onStopped?.();
        return;
      }
    }
    if (last) await checkpointer.checkpoint(last); // same as checkpoint(): the last record of the batch
  }

  shutdownRequested(_input: ShutdownRequestedInput): void {
    // Every processed batch was checkpointed already. (The "failed" processor must not
    // checkpoint here: checkpoint() would cover the records it skipped.)
  }

  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    await checkpointer.checkpoint();
  }

  private handle(record: KinesisClientRecord): void {
    this.state.processed++;
    if (record.aggregated) this.state.aggregated++;
    if (this.state.processed <= 12) {
      const kind = record.aggregated ? `aggregated, sub-sequence ${record.subSequenceNumber}` : 'plain record';
      console.log(`[${this.shardId}] ${show(record)} key=${record.partitionKey} (${kind}): ${Buffer.from(record.data).toString('utf8')}`);
    }
  }
}
