/**
 * The checkpointer a processor gets on Lambda. There is no lease table: a checkpoint is kept
 * in memory for the invocation and becomes the partial batch response — Lambda resumes the
 * shard right after the checkpointed record (or redelivers the whole batch when nothing was
 * checkpointed).
 * @module
 */
import {
  assertSequenceNumber,
  compareExtended,
  extended,
  InvalidCheckpointError,
  LeaseLostError,
  type ExtendedSequenceNumber,
  type KinesisClientRecord,
  type PreparedCheckpointer,
  type RecordProcessorCheckpointer,
} from '@kcl-ts/processor';

const START: ExtendedSequenceNumber = extended('TRIM_HORIZON');

function positionOf(record: KinesisClientRecord): ExtendedSequenceNumber {
  return extended(record.sequenceNumber, record.subSequenceNumber ?? 0);
}

/**
 * A {@link RecordProcessorCheckpointer} for one shard of one invocation. It enforces the
 * Worker's rules (no checkpoint backwards or past the last delivered record; a no-argument
 * checkpoint covers the batch in `processRecords`, and afterwards only a batch whose
 * `processRecords` returned) and refuses every call once the invocation is over.
 */
export class LambdaCheckpointer implements RecordProcessorCheckpointer {
  /** The shard of the records. */
  readonly shardId: string;
  private checkpointed: ExtendedSequenceNumber = START;
  private readonly last: KinesisClientRecord | undefined;
  private processing = false;
  private processed = false;
  private ended = false;

  /** @param records the batch's records, in order. */
  constructor(shardId: string, records: readonly KinesisClientRecord[]) {
    this.shardId = shardId;
    this.last = records.at(-1);
  }

  /** The last checkpoint of this invocation (`TRIM_HORIZON` when there was none). */
  get lastCheckpoint(): ExtendedSequenceNumber {
    return this.checkpointed;
  }

  /** Called by the adapter around `processRecords`. */
  beginProcessing(): void {
    this.processing = true;
  }

  /** Called by the adapter when `processRecords` returned (`true`) or threw (`false`). */
  endProcessing(returned: boolean): void {
    this.processing = false;
    this.processed = returned;
  }

  /** The invocation is over: every later call throws `LeaseLostError`. */
  revoke(): void {
    this.ended = true;
  }

  /** Records a checkpoint for this invocation (see {@link RecordProcessorCheckpointer.checkpoint}); validated like a Worker's. */
  checkpoint(): Promise<void>;
  checkpoint(record: KinesisClientRecord): Promise<void>;
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;
  async checkpoint(target?: KinesisClientRecord | string, subSequenceNumber?: number): Promise<void> {
    const position = this.resolve(target, subSequenceNumber);
    if (position !== undefined) this.checkpointed = position;
  }

  /** See the implementation's note: nothing is stored between the two phases on Lambda. */
  prepareCheckpoint(applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(record: KinesisClientRecord, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(sequenceNumber: string, subSequenceNumber?: number, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  /**
   * Validates the position and returns its second phase. On Lambda nothing is stored between
   * the two phases: there is no lease table to hand a pending checkpoint (or its state) to
   * the next invocation.
   */
  async prepareCheckpoint(target?: Uint8Array | KinesisClientRecord | string, subSequenceNumber?: number | Uint8Array): Promise<PreparedCheckpointer> {
    const position = target instanceof Uint8Array ? this.resolve(undefined, undefined) : this.resolve(target, typeof subSequenceNumber === 'number' ? subSequenceNumber : undefined);
    const pending = position ?? this.checkpointed;
    return {
      pendingCheckpoint: pending,
      checkpoint: async () => {
        this.assertOpen();
        if (compareExtended(pending, this.checkpointed) > 0) this.checkpointed = pending;
      },
    };
  }

  /** The position a call names, validated; `undefined` for a no-argument call with nothing to cover. */
  private resolve(target: KinesisClientRecord | string | undefined, subSequenceNumber: number | undefined): ExtendedSequenceNumber | undefined {
    this.assertOpen();
    let position: ExtendedSequenceNumber;
    if (target === undefined) {
      if (!(this.processing || this.processed) || this.last === undefined) return undefined;
      position = positionOf(this.last);
    } else if (typeof target === 'string') {
      assertSequenceNumber(target);
      if (subSequenceNumber !== undefined && (!Number.isInteger(subSequenceNumber) || subSequenceNumber < 0)) {
        throw new InvalidCheckpointError(`subSequenceNumber must be an integer >= 0, got ${subSequenceNumber}`);
      }
      position = extended(target, subSequenceNumber ?? 0);
    } else {
      assertSequenceNumber(target.sequenceNumber);
      position = positionOf(target);
    }
    if (compareExtended(position, this.checkpointed) < 0) {
      throw new InvalidCheckpointError(`checkpoint ${position.sequenceNumber}/${position.subSequenceNumber} is before the last checkpoint ${this.checkpointed.sequenceNumber}/${this.checkpointed.subSequenceNumber}`);
    }
    if (this.last === undefined || compareExtended(position, positionOf(this.last)) > 0) {
      throw new InvalidCheckpointError(`checkpoint ${position.sequenceNumber}/${position.subSequenceNumber} is past the last record delivered to ${this.shardId}`);
    }
    return position;
  }

  private assertOpen(): void {
    if (this.ended) throw new LeaseLostError(this.shardId, `the Lambda invocation that delivered these records of ${this.shardId} is over; the checkpoint was not recorded`);
  }
}
