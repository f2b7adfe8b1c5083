import type { Lease, LeaseUpdate } from '@kcl-ts/leases';
import {
  InvalidCheckpointError,
  assertSequenceNumber,
  compareExtended,
  extended,
  type ExtendedSequenceNumber,
  type KinesisClientRecord,
  type PreparedCheckpointer,
  type RecordProcessorCheckpointer,
} from '@kcl-ts/processor';

/** The fenced write a checkpointer goes through (the lease coordinator's `updateLease`). */
export type LeaseWriter = (leaseKey: string, update: LeaseUpdate) => Promise<Lease>;

const SHARD_END = extended('SHARD_END');

/**
 * The checkpointer of one shard consumer. It validates every checkpoint against what was
 * delivered and last written, and writes it through the lease coordinator, which fences the
 * write on lease owner and counter (a lost lease throws `LeaseLostError`, nothing is written).
 */
export class ShardCheckpointer implements RecordProcessorCheckpointer {
  /** The newest record handed to the processor: no checkpoint may go past it. */
  private largestDelivered: ExtendedSequenceNumber | undefined;
  /** The last record of the newest batch whose `processRecords` returned (or was skipped). */
  private largestProcessed: ExtendedSequenceNumber | undefined;
  /** The last record of the batch whose `processRecords` is running now. */
  private inFlight: ExtendedSequenceNumber | undefined;
  private last: ExtendedSequenceNumber;
  private shardEndReached = false;
  /** Checkpoint writes run one at a time, each validated against the previous one's outcome. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly shardId: string,
    initialCheckpoint: ExtendedSequenceNumber,
    private readonly write: LeaseWriter,
    /** The key of the lease written (differs from the shard id in a multi-stream table). @default shardId */
    private readonly leaseKey: string = shardId,
  ) {
    this.last = initialCheckpoint;
  }

  /** The last checkpoint written (or the one processing started from). */
  get lastCheckpoint(): ExtendedSequenceNumber {
    return this.last;
  }

  /**
   * Called by the consumer before each delivery: the newest record handed to the processor.
   * Until {@link markProcessed} or {@link markFailed}, a no-argument checkpoint (from inside
   * `processRecords`) covers this batch.
   */
  markDelivered(record: KinesisClientRecord): void {
    this.largestDelivered = positionOf(record);
    this.inFlight = this.largestDelivered;
  }

  /** Called by the consumer when `processRecords` returned. */
  markProcessed(): void {
    if (this.inFlight !== undefined) this.largestProcessed = this.inFlight;
    this.inFlight = undefined;
  }

  /** Called by the consumer when the application chose to skip a failed batch (`onProcessorError` → `'skip'`). */
  markSkipped(last: KinesisClientRecord | undefined): void {
    if (last !== undefined) this.largestProcessed = positionOf(last);
    this.inFlight = undefined;
  }

  /**
   * Called by the consumer when `processRecords` threw: the batch is not processed, so a
   * no-argument checkpoint (e.g. in `shutdownRequested`) no longer covers it. An explicit
   * position inside it can still be checkpointed: that is the processor's own statement.
   */
  markFailed(): void {
    this.inFlight = undefined;
  }

  /** Called by the consumer when it resolved a `LATEST` start to a concrete `AT_TIMESTAMP` and stored it. */
  resolvedStart(position: ExtendedSequenceNumber): void {
    if (this.largestDelivered === undefined) this.last = position;
  }

  /** Called by the consumer once the shard has been read to its end: `SHARD_END` becomes valid. */
  markShardEnd(): void {
    this.shardEndReached = true;
  }

  /** True once `SHARD_END` has been checkpointed. */
  get shardEndCheckpointed(): boolean {
    return this.last.sequenceNumber === 'SHARD_END';
  }

  checkpoint(): Promise<void>;
  checkpoint(record: KinesisClientRecord): Promise<void>;
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;
  async checkpoint(arg?: KinesisClientRecord | string, subSequenceNumber?: number): Promise<void> {
    const target = this.resolveTarget(arg, subSequenceNumber);
    if (target === undefined) return;
    await this.commit(target);
  }

  /**
   * Runs `write` after every earlier checkpoint write has settled, so the not-backwards check
   * sees the outcome of the writes before it (two concurrent calls cannot move it backwards).
   */
  private serialised<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writes.then(write);
    this.writes = next.catch(() => undefined);
    return next;
  }

  prepareCheckpoint(applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(record: KinesisClientRecord, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(sequenceNumber: string, subSequenceNumber?: number, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  async prepareCheckpoint(
    a?: Uint8Array | KinesisClientRecord | string,
    b?: number | Uint8Array,
    c?: Uint8Array,
  ): Promise<PreparedCheckpointer> {
    let target: ExtendedSequenceNumber | undefined;
    let state: Uint8Array | undefined;
    if (a === undefined || a instanceof Uint8Array) {
      target = this.resolveTarget(undefined, undefined) ?? this.last;
      state = a;
    } else if (typeof a === 'string') {
      target = this.resolveTarget(a, typeof b === 'number' ? b : undefined);
      state = b instanceof Uint8Array ? b : c;
    } else {
      target = this.resolveTarget(a, undefined);
      state = b instanceof Uint8Array ? b : undefined;
    }
    const pending = target ?? this.last;
    await this.serialised(() =>
      this.write(this.leaseKey, {
        pendingCheckpoint: pending,
        ...(state !== undefined && { pendingCheckpointState: state }),
      }),
    );
    return {
      pendingCheckpoint: pending,
      checkpoint: () => this.commit(pending),
    };
  }

  private commit(target: ExtendedSequenceNumber): Promise<void> {
    return this.serialised(async () => {
      this.assertNotBackwards(target);
      await this.write(this.leaseKey, { checkpoint: target });
      this.last = target;
    });
  }

  /** Resolves the checkpoint arguments to a position, validating it; `undefined` = nothing to write. */
  private resolveTarget(arg: KinesisClientRecord | string | undefined, subSequenceNumber: number | undefined): ExtendedSequenceNumber | undefined {
    if (arg === undefined) {
      if (this.shardEndReached) return SHARD_END;
      // Only batches whose processRecords returned, plus the one running now (a call from
      // inside processRecords): never a batch that threw.
      const target = this.inFlight ?? this.largestProcessed;
      // An explicit checkpoint may already be past it (inside a batch that later threw).
      return target !== undefined && compareExtended(target, this.last) >= 0 ? target : undefined;
    }
    let target: ExtendedSequenceNumber;
    if (typeof arg === 'string') {
      if (arg === 'SHARD_END') {
        if (!this.shardEndReached) {
          throw new InvalidCheckpointError(`cannot checkpoint SHARD_END on ${this.shardId}: the shard has not been read to its end`);
        }
        return SHARD_END;
      }
      assertSequenceNumber(arg);
      if (subSequenceNumber !== undefined && (!Number.isInteger(subSequenceNumber) || subSequenceNumber < 0)) {
        throw new InvalidCheckpointError(`subSequenceNumber must be a non-negative integer, got ${subSequenceNumber}`);
      }
      target = extended(arg, subSequenceNumber ?? 0);
    } else if (typeof arg === 'object' && arg !== null && typeof arg.sequenceNumber === 'string') {
      assertSequenceNumber(arg.sequenceNumber);
      target = positionOf(arg);
    } else {
      throw new InvalidCheckpointError(`checkpoint() takes nothing, a record, or a sequence number string; got ${typeof arg}`);
    }
    this.assertNotBackwards(target);
    if (this.largestDelivered === undefined || compareExtended(target, this.largestDelivered) > 0) {
      const delivered = this.largestDelivered ? describe(this.largestDelivered) : 'nothing yet';
      throw new InvalidCheckpointError(
        `checkpoint ${describe(target)} on ${this.shardId} is past the last record delivered to the processor (${delivered})`,
      );
    }
    return target;
  }

  private assertNotBackwards(target: ExtendedSequenceNumber): void {
    if (this.last.sequenceNumber === 'SHARD_END') {
      throw new InvalidCheckpointError(`${this.shardId} is already checkpointed at SHARD_END`);
    }
    if (compareExtended(target, this.last) < 0) {
      throw new InvalidCheckpointError(
        `checkpoint ${describe(target)} on ${this.shardId} is before the last checkpoint ${describe(this.last)}`,
      );
    }
  }
}

function positionOf(record: KinesisClientRecord): ExtendedSequenceNumber {
  return extended(record.sequenceNumber, record.subSequenceNumber ?? 0);
}

function describe(position: ExtendedSequenceNumber): string {
  return position.subSequenceNumber ? `${position.sequenceNumber}/${position.subSequenceNumber}` : position.sequenceNumber;
}
