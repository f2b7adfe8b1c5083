import type { Lease, LeaseUpdate } from '@kcl-ts/leases';
import {
  InvalidCheckpointError,
  isKclError,
  LeaseLostError,
  type Clock,
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

/** How a checkpoint write ended: written, refused (the lease is not held: nothing written), or failed otherwise. */
export type CheckpointOutcome = 'ok' | 'rejected' | 'failed';

/** What a {@link ShardCheckpointer} writes through, and who hears of each write. */
export interface CheckpointerDeps {
  readonly shardId: string;
  /** The key of the lease written (differs from the shard id in a multi-stream table). @default shardId */
  readonly leaseKey?: string;
  /** Where processing starts: the lease's checkpoint. */
  readonly initialCheckpoint: ExtendedSequenceNumber;
  /** The coordinator's fenced write. */
  readonly write: LeaseWriter;
  /** Times each write (with `observe`). */
  readonly clock?: Pick<Clock, 'elapsed'>;
  /** Told of every write (checkpoint and pending checkpoint) and how long it took. */
  readonly observe?: (outcome: CheckpointOutcome, ms: number) => void;
}

const SHARD_END = extended('SHARD_END');

/**
 * The checkpointer of one shard consumer, bound to one holding of the lease. It validates
 * every checkpoint against what was delivered and last written, and writes it through the
 * lease coordinator. Fencing has two halves, and this class plus the coordinator are where
 * both live:
 * - the coordinator fences the write on lease owner and counter in the table (a lease this
 *   worker does not hold, or whose counter moved, throws `LeaseLostError`; nothing is written);
 * - {@link ShardCheckpointer.revoke} ends this holding: every later write is refused here,
 *   even if the same worker holds the shard again by then (a new consumer owns that holding,
 *   and the table's fence alone cannot tell two holdings of one worker apart).
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
  private revokedAt = false;
  readonly shardId: string;
  private readonly leaseKey: string;

  constructor(private readonly deps: CheckpointerDeps) {
    this.shardId = deps.shardId;
    this.leaseKey = deps.leaseKey ?? deps.shardId;
    this.last = deps.initialCheckpoint;
  }

  /** Ends the holding this checkpointer was made for: every later write throws `LeaseLostError`. Idempotent. */
  revoke(): void {
    this.revokedAt = true;
  }

  /** True once {@link ShardCheckpointer.revoke} was called. */
  get revoked(): boolean {
    return this.revokedAt;
  }

  /** The one path of every write: refused once revoked, fenced by the coordinator, observed. */
  private async write(update: LeaseUpdate): Promise<Lease> {
    const { clock, observe } = this.deps;
    if (this.revokedAt) {
      observe?.('rejected', 0);
      throw new LeaseLostError(this.leaseKey, `the lease of ${this.leaseKey} held by this processor was lost; the checkpoint was not written`);
    }
    const started = clock?.elapsed() ?? 0;
    try {
      const lease = await this.deps.write(this.leaseKey, update);
      observe?.('ok', (clock?.elapsed() ?? 0) - started);
      return lease;
    } catch (error) {
      observe?.(isKclError(error, 'LEASE_LOST') ? 'rejected' : 'failed', (clock?.elapsed() ?? 0) - started);
      throw error;
    }
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

  /**
   * Called by the consumer before its first read of a lease still at `LATEST`: stores
   * `AT_TIMESTAMP` of `initialTimestamp` (epoch ms) through the fenced write, so every later
   * owner starts there, and returns the lease as written.
   */
  async resolveLatestStart(initialTimestamp: number): Promise<Lease> {
    const resolved = await this.serialised(() => this.write({ checkpoint: extended('AT_TIMESTAMP'), initialTimestamp }));
    if (this.largestDelivered === undefined) this.last = resolved.checkpoint;
    return resolved;
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
      this.write({
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
      await this.write({ checkpoint: target });
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
