/**
 * The batching variant of a simulated worker's processor: a real `BatchingProcessor` from
 * `@kcl-ts/sinks`, on the worker's simulated clock, writing to an in-memory sink that
 * journals every record it writes as processed. A thin wrapper around it journals the epoch's
 * start, its deliveries and how its checkpoints fare (as {@link SimProcessor} does), stalls
 * the worker at the end of a callback when the schedule says so, and reports what only a
 * batching processor promises: that a graceful handoff leaves nothing delivered unwritten or
 * uncheckpointed.
 *
 * The schedule's faults map onto the sink: a `sink-outage` makes `write` throw (the
 * processor retries, then `processRecords` throws and the Worker redelivers), a `hang` makes
 * the instance's next write slow (honouring the processor's signal), `writeMs` is every
 * write's latency.
 * @module
 */
import {
  isKclError,
  type InitializationInput,
  type KinesisClientRecord,
  type LeaseLostInput,
  type PreparedCheckpointer,
  type ProcessRecordsInput,
  type RecordProcessorCheckpointer,
  type ShardEndedInput,
  type ShardRecordProcessor,
  type ShutdownRequestedInput,
} from '@kcl-ts/kcl';
import { BatchingProcessor, type BatchingProcessorOptions, type Sink, type SinkBatch, type SinkWriteContext } from '@kcl-ts/sinks';
import { comparePositions, type CheckpointPhase } from '@kcl-ts/fleet';
import { journalCheckpointCall, parsePayload, type ProcessorContext } from './recording-processor.js';
import type { BatchingSettings } from './schedule.js';

type Position = { readonly seq: string; readonly sub: number };

/** Builds the processor under test from its options (the real `BatchingProcessor` unless a test swaps it). */
export type BatchingProcessorMaker = (options: BatchingProcessorOptions<KinesisClientRecord>) => ShardRecordProcessor;

/** The default {@link BatchingProcessorMaker}: the library's `BatchingProcessor`. */
export const realBatchingProcessor: BatchingProcessorMaker = (options) => new BatchingProcessor(options);

/**
 * A graceful end (`shutdownRequested` returned normally; no `leaseLost` and no checkpoint
 * rejected for a lost lease before) that left records
 * of returned `processRecords` calls unwritten or past the epoch's last applied checkpoint.
 */
export interface UnflushedHandoff {
  readonly worker: string;
  readonly shard: string;
  readonly epoch: string;
  /** Journal stamp of the return. */
  readonly at: number;
  /** The last record of the epoch's last returned `processRecords`. */
  readonly delivered: Position;
  /** The last record the sink wrote for the epoch (undefined: none). */
  readonly written: Position | undefined;
  /** The furthest checkpoint the table applied for the epoch (undefined: none). */
  readonly checkpointed: Position | undefined;
}

/** What a batching processor needs beyond a {@link ProcessorContext}. */
export interface BatchingContext extends ProcessorContext {
  readonly settings: BatchingSettings;
  /** Jitter of the processor's flush retries (seeded). */
  readonly random: () => number;
  readonly make: BatchingProcessorMaker;
  readonly onUnflushedHandoff: (u: UnflushedHandoff) => void;
}

const positionOf = (r: Pick<KinesisClientRecord, 'sequenceNumber' | 'subSequenceNumber'>): Position => ({ seq: r.sequenceNumber, sub: r.subSequenceNumber ?? 0 });
const isRecord = (v: unknown): v is KinesisClientRecord => typeof v === 'object' && v !== null && 'sequenceNumber' in v;

/** One epoch (a shard lease held by one worker instance) processed by a `BatchingProcessor`. */
export class SimBatchingProcessor implements ShardRecordProcessor {
  /** This epoch's id: `worker/shard/n`. */
  readonly epoch: string;
  private readonly inner: ShardRecordProcessor;
  private start: Position = { seq: 'TRIM_HORIZON', sub: 0 };
  /** The last record the sink wrote for this epoch (what a checkpoint may cover). */
  private written: Position | undefined;
  /** The last record of a `processRecords` call that returned. */
  private returned: Position | undefined;
  /** The furthest position the table applied from this epoch's checkpoints. */
  private checkpointed: Position | undefined;
  private checkpointer: RecordProcessorCheckpointer | undefined;
  /** The lease was lost: `leaseLost` was called, or a checkpoint was rejected for it. */
  private lost = false;
  private ended = false;

  /** @param ctx the worker instance's context; @param shardId the shard of this epoch. */
  constructor(
    private readonly ctx: BatchingContext,
    private readonly shardId: string,
  ) {
    this.epoch = `${ctx.worker}/${shardId}/${ctx.nextEpoch()}`;
    const s = ctx.settings;
    const sink: Sink<KinesisClientRecord> = { name: 'sim-sink', write: (batch, context) => this.write(batch, context) };
    this.inner = ctx.make({
      sink,
      transform: (record) => record,
      batching: { maxRecords: s.maxRecords, maxAgeMs: s.maxAgeMs, ageTimer: s.ageTimer },
      retry: { maxRetries: s.maxRetries, baseDelayMs: s.baseDelayMs, maxDelayMs: s.maxDelayMs, random: ctx.random },
      clock: ctx.clock,
    });
  }

  /** The sink: slow when asked, throws during an outage, else journals every record as processed by this epoch. */
  private async write(batch: SinkBatch<KinesisClientRecord>, { signal }: SinkWriteContext): Promise<void> {
    const { clock, behaviour, journal, worker } = this.ctx;
    const hang = behaviour.hangNextMs;
    behaviour.hangNextMs = undefined;
    const ms = (hang ?? 0) + this.ctx.settings.writeMs;
    if (ms > 0) await clock.sleep(ms, signal); // an aborted write writes nothing
    const at = journal.stamp();
    if (at < behaviour.outageUntil || this.ctx.globalOutage()) throw new Error(`sink outage (injected) on ${worker}`);
    for (const { record } of batch.entries) {
      const { k, n } = parsePayload(record.data);
      journal.write(worker, { type: 'record', shard: this.shardId, epoch: this.epoch, key: k, n, seq: record.sequenceNumber, sub: record.subSequenceNumber ?? 0 }, at);
    }
    const last = batch.entries.at(-1);
    if (last !== undefined) this.written = positionOf(last.record);
  }

  /** Journals the epoch's start position. */
  initialize(input: InitializationInput): void | Promise<void> {
    this.start = { seq: input.extendedSequenceNumber.sequenceNumber, sub: input.extendedSequenceNumber.subSequenceNumber };
    this.ctx.journal.write(this.ctx.worker, { type: 'init', shard: this.shardId, epoch: this.epoch, checkpoint: this.start.seq, sub: this.start.sub });
    return this.inner.initialize(input);
  }

  /** Reports the delivery, hands the batch to the processor under test, maybe stalls. */
  async processRecords(input: ProcessRecordsInput): Promise<void> {
    const { records } = input;
    const deliveredAt = this.ctx.journal.stamp();
    this.checkpointer = input.checkpointer;
    if (records.length > 0) {
      this.ctx.onDelivery({
        worker: this.ctx.worker,
        shard: this.shardId,
        epoch: this.epoch,
        at: deliveredAt,
        records: records.length,
        firstSequenceNumber: records[0]!.sequenceNumber,
        lastSequenceNumber: records.at(-1)!.sequenceNumber,
      });
    }
    await this.inner.processRecords({ ...input, checkpointer: this.journaled(input.checkpointer, false) });
    if (records.length > 0) this.returned = positionOf(records.at(-1)!);
    const behaviour = this.ctx.behaviour;
    if (behaviour.stallNextMs !== undefined) {
      const ms = behaviour.stallNextMs;
      behaviour.stallNextMs = undefined;
      await this.ctx.clock.stall(ms, 'in-callback');
    }
  }

  /**
   * Lets the processor flush and checkpoint. If it returns (a graceful handoff), every record
   * of a returned batch must be written and checkpointed: otherwise it is reported.
   */
  async shutdownRequested(input: ShutdownRequestedInput): Promise<void> {
    this.checkpointer = input.checkpointer;
    this.ctx.journal.write(this.ctx.worker, { type: 'shutdown-requested', shard: this.shardId, epoch: this.epoch });
    try {
      await this.inner.shutdownRequested?.({ ...input, checkpointer: this.journaled(input.checkpointer, false) });
      const delivered = this.returned;
      if (!this.lost && delivered !== undefined && !(this.checkpointed !== undefined && comparePositions(this.checkpointed, delivered) >= 0)) {
        this.ctx.onUnflushedHandoff({
          worker: this.ctx.worker,
          shard: this.shardId,
          epoch: this.epoch,
          at: this.ctx.journal.stamp(),
          delivered,
          written: this.written,
          checkpointed: this.checkpointed,
        });
      }
    } finally {
      this.end();
    }
  }

  /** Lets the processor flush and checkpoint `SHARD_END`. */
  async shardEnded(input: ShardEndedInput): Promise<void> {
    this.checkpointer = input.checkpointer;
    this.ctx.journal.write(this.ctx.worker, { type: 'shard-ended', shard: this.shardId, epoch: this.epoch });
    try {
      const checkpointer = this.journaled(input.checkpointer, true);
      if (this.inner.shardEnded) await this.inner.shardEnded({ ...input, checkpointer });
      else await checkpointer.checkpoint();
    } finally {
      this.end();
    }
  }

  /** Journals the loss; the processor drops its buffer. */
  leaseLost(input: LeaseLostInput): void | Promise<void> {
    this.lost = true;
    this.ctx.journal.write(this.ctx.worker, { type: 'lease-lost', shard: this.shardId, epoch: this.epoch });
    try {
      return this.inner.leaseLost?.(input);
    } finally {
      this.end();
    }
  }

  /** After the epoch's last callback: a stale processor checkpoints once more, later, at what it wrote. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    const delay = this.ctx.behaviour.staleCheckpointDelayMs;
    const checkpointer = this.checkpointer;
    if (delay === undefined || checkpointer === undefined) return;
    this.ctx.clock.after(delay, () => {
      const at = this.written ?? this.start;
      void this.checkpoint(checkpointer, false, [at.seq, at.sub]).catch(() => undefined);
    });
  }

  /** A checkpointer that journals every `checkpoint` call of the processor under test (and rethrows its failures). */
  private journaled(real: RecordProcessorCheckpointer, shardEnd: boolean): RecordProcessorCheckpointer {
    const checkpoint = (...args: unknown[]): Promise<void> => this.checkpoint(real, shardEnd, args);
    const prepareCheckpoint = (...args: unknown[]): Promise<PreparedCheckpointer> =>
      (real.prepareCheckpoint as (...a: unknown[]) => Promise<PreparedCheckpointer>).apply(real, args);
    return {
      checkpoint: checkpoint as RecordProcessorCheckpointer['checkpoint'],
      prepareCheckpoint: prepareCheckpoint as RecordProcessorCheckpointer['prepareCheckpoint'],
      get shardId() {
        return real.shardId;
      },
      get lastCheckpoint() {
        return real.lastCheckpoint;
      },
    };
  }

  /**
   * Checkpoints and journals what the table did (like {@link SimProcessor}): `checkpoint` when
   * a write was applied, else `checkpoint-rejected` (lost lease) or `checkpoint-failed`. An
   * applied position past the last record the sink wrote for this epoch is an overreach (a
   * no-argument `checkpoint()` in `shardEnded` is `SHARD_END`, checked by the parent/child
   * and no-loss rules instead). Failures are rethrown: the processor under test handles them.
   */
  private async checkpoint(real: RecordProcessorCheckpointer, shardEnd: boolean, args: readonly unknown[]): Promise<void> {
    const { worker } = this.ctx;
    const bound = this.written ?? this.start;
    const endOfShard = shardEnd && args.length === 0;
    const phase: CheckpointPhase = endOfShard ? 'shard-end' : 'batch';
    const first = args[0];
    const intended: Position = endOfShard
      ? { seq: 'SHARD_END', sub: 0 }
      : isRecord(first)
        ? positionOf(first)
        : typeof first === 'string'
          ? { seq: first, sub: typeof args[1] === 'number' ? args[1] : 0 }
          : bound;
    const { sentAt, written, failure } = await journalCheckpointCall(this.ctx, { shard: this.shardId, epoch: this.epoch, phase, seq: intended.seq, sub: intended.sub }, () =>
      (real.checkpoint as (...a: unknown[]) => Promise<void>).apply(real, args as unknown[]),
    );
    if (written !== undefined && !endOfShard) {
      if (this.checkpointed === undefined || comparePositions(written, this.checkpointed) > 0) this.checkpointed = written;
      if (comparePositions(written, bound) > 0) {
        this.ctx.onOverreach({ worker, shard: this.shardId, epoch: this.epoch, phase, at: sentAt, processed: bound, written });
      }
    }
    if (failure !== undefined) {
      // The lease is gone (the processor may have learnt it here and dropped its buffer):
      // nothing can be checkpointed any more, so a later shutdown is no graceful handoff.
      if (isKclError(failure.error, 'LEASE_LOST')) this.lost = true;
      throw failure.error;
    }
  }
}
