/**
 * The record processor of a simulated worker: it journals what it processes and how its
 * checkpoints fare, checkpoints like a typical application, and misbehaves when the
 * schedule says so (a sink outage, a hung batch, a stall inside a callback, a stale
 * checkpointer kept after the lease ended).
 * @module
 */
import {
  isKclError,
  type InitializationInput,
  type KinesisClientRecord,
  type ProcessRecordsInput,
  type RecordProcessorCheckpointer,
  type ShardEndedInput,
  type ShardRecordProcessor,
  type ShutdownRequestedInput,
} from '@kcl-ts/kcl';
import { comparePositions, type CheckpointPhase } from '@kcl-ts/fleet';
import type { SimJournal } from './journal.js';
import { checkpointProbe, type CheckpointProbe } from './lease-store.js';
import type { SimClock } from './timeline.js';

/** The payload the simulated producer writes: partition key and per-key counter. */
export interface Payload {
  readonly k: string;
  readonly n: number;
}

const decoder = new TextDecoder();

/** Reads a record's {@link Payload} (`{ k: '?', n: -1 }` if it is not one). */
export function parsePayload(data: Uint8Array): Payload {
  try {
    const v = JSON.parse(decoder.decode(data)) as Partial<Payload>;
    if (typeof v.k === 'string' && typeof v.n === 'number') return { k: v.k, n: v.n };
  } catch {
    // not a simulation record
  }
  return { k: '?', n: -1 };
}

/**
 * What the schedule currently asks of one worker instance's processors (mutated by the
 * simulation as events happen; read by every processor of the instance).
 */
export interface ProcessorBehaviour {
  /** `processRecords` throws (the sink is down) while the simulated time is before this. */
  outageUntil: number;
  /** The next `processRecords` hangs this long (then it is cleared). */
  hangNextMs: number | undefined;
  /** The next `processRecords` stalls the whole worker this long (then it is cleared). */
  stallNextMs: number | undefined;
  /** When set, processors checkpoint again this long after their lease ended (a stale checkpointer). */
  staleCheckpointDelayMs: number | undefined;
  /** Checkpoint after every this many successful batches. */
  readonly checkpointEvery: number;
  /** Simulated time one batch takes. */
  readonly batchWorkMs: number;
}

/** Shared context of the processors of one worker instance. */
export interface ProcessorContext {
  /** The instance's name (`worker` of its journal lines). */
  readonly worker: string;
  readonly clock: SimClock;
  readonly journal: SimJournal;
  readonly behaviour: ProcessorBehaviour;
  /** Issues epoch ids (unique within the simulation). */
  readonly nextEpoch: () => number;
  /** True while the whole fleet's sink is down. */
  readonly globalOutage: () => boolean;
  /** Called when a checkpoint wrote a position past what the processor had processed. */
  readonly onOverreach: (overreach: CheckpointOverreach) => void;
  /** Called at the start of every `processRecords` call with records (whatever its outcome). */
  readonly onDelivery: (delivery: Delivery) => void;
}

/** One `processRecords` call with records: the moment a processor received them. */
export interface Delivery {
  readonly worker: string;
  readonly shard: string;
  readonly epoch: string;
  /** Journal stamp of the call. */
  readonly at: number;
  readonly records: number;
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
}

/** A checkpoint the table accepted at a position past the last record the epoch processed. */
export interface CheckpointOverreach {
  readonly worker: string;
  readonly shard: string;
  readonly epoch: string;
  readonly phase: CheckpointPhase;
  /** Journal stamp of the call. */
  readonly at: number;
  /** The last record the epoch processed (or where it started), as `seq/sub`. */
  readonly processed: { readonly seq: string; readonly sub: number };
  /** What the table received. */
  readonly written: { readonly seq: string; readonly sub: number };
}

/**
 * One *epoch*: the processor of one shard lease held by one worker instance. It writes
 * every record of a batch to the journal once the batch succeeded (stamped with the time
 * the batch was delivered), checkpoints every `checkpointEvery` batches at the batch's last
 * record, and calls `checkpointer.checkpoint()` with no argument in `shutdownRequested` and
 * `shardEnded`. Journal positions of checkpoints are what the processor means to record:
 * the last record it processed (a no-argument checkpoint must not cover more).
 * Checkpoint failures other than a lost lease are journaled and swallowed.
 */
export class SimProcessor implements ShardRecordProcessor {
  /** This epoch's id: `worker/shard/n`. */
  readonly epoch: string;
  private start = { seq: 'TRIM_HORIZON', sub: 0 };
  private lastProcessed: { seq: string; sub: number } | undefined;
  private batches = 0;
  private checkpointer: RecordProcessorCheckpointer | undefined;
  private ended = false;

  /** @param ctx the worker instance's context; @param shardId the shard of this epoch. */
  constructor(
    private readonly ctx: ProcessorContext,
    private readonly shardId: string,
  ) {
    this.epoch = `${ctx.worker}/${shardId}/${ctx.nextEpoch()}`;
  }

  /** Journals the epoch's start position. */
  initialize(input: InitializationInput): void {
    this.start = { seq: input.extendedSequenceNumber.sequenceNumber, sub: input.extendedSequenceNumber.subSequenceNumber };
    this.ctx.journal.write(this.ctx.worker, { type: 'init', shard: this.shardId, epoch: this.epoch, checkpoint: this.start.seq, sub: this.start.sub });
  }

  /** Reports the delivery, fails during a sink outage, works (hangs), journals, checkpoints, maybe stalls. */
  async processRecords({ records, checkpointer, signal }: ProcessRecordsInput): Promise<void> {
    const { clock, behaviour } = this.ctx;
    const deliveredAt = this.ctx.journal.stamp();
    this.checkpointer = checkpointer;
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
    if (deliveredAt < behaviour.outageUntil || this.ctx.globalOutage()) {
      throw new Error(`sink outage (injected) on ${this.ctx.worker}`);
    }
    const hang = behaviour.hangNextMs;
    behaviour.hangNextMs = undefined;
    const work = (hang ?? 0) + behaviour.batchWorkMs;
    if (work > 0) await clock.sleep(work, signal); // rejects when the worker aborts the batch
    await this.processed(records, deliveredAt, checkpointer);
    if (behaviour.stallNextMs !== undefined) {
      const ms = behaviour.stallNextMs;
      behaviour.stallNextMs = undefined;
      // A synchronous stall at the end of the callback (a GC pause, a blocking call): nothing
      // of this worker runs until it ends; then the callback returns at once, so the worker's
      // microtasks (the delivery of a prefetched batch) run before its timers that came due.
      await clock.stall(ms, 'in-callback');
    }
  }

  /** The batch's work is done: journal its records, and checkpoint every `checkpointEvery` batches. */
  private async processed(records: readonly KinesisClientRecord[], deliveredAt: number, checkpointer: RecordProcessorCheckpointer): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) {
      const { k, n } = parsePayload(r.data);
      this.ctx.journal.write(this.ctx.worker, { type: 'record', shard: this.shardId, epoch: this.epoch, key: k, n, seq: r.sequenceNumber, sub: r.subSequenceNumber ?? 0 }, deliveredAt);
    }
    const last = records.at(-1)!;
    this.lastProcessed = { seq: last.sequenceNumber, sub: last.subSequenceNumber ?? 0 };
    this.batches++;
    if (this.batches % this.ctx.behaviour.checkpointEvery === 0) {
      await this.checkpoint(checkpointer, 'batch', this.lastProcessed, last);
    }
  }

  /** Checkpoints with no argument, as a typical application does. */
  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    this.checkpointer = checkpointer;
    this.ctx.journal.write(this.ctx.worker, { type: 'shutdown-requested', shard: this.shardId, epoch: this.epoch });
    try {
      await this.checkpoint(checkpointer, 'shutdown', this.lastProcessed ?? this.start);
    } finally {
      this.end();
    }
  }

  /** Checkpoints `SHARD_END` (no argument). */
  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    this.checkpointer = checkpointer;
    this.ctx.journal.write(this.ctx.worker, { type: 'shard-ended', shard: this.shardId, epoch: this.epoch });
    try {
      await this.checkpoint(checkpointer, 'shard-end', { seq: 'SHARD_END', sub: 0 });
    } finally {
      this.end();
    }
  }

  /** Journals the loss; a stale processor will still try to checkpoint later. */
  leaseLost(): void {
    this.ctx.journal.write(this.ctx.worker, { type: 'lease-lost', shard: this.shardId, epoch: this.epoch });
    this.end();
  }

  /** After the epoch's last callback: a stale processor checkpoints once more, later. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    const delay = this.ctx.behaviour.staleCheckpointDelayMs;
    const checkpointer = this.checkpointer;
    if (delay === undefined || checkpointer === undefined) return;
    this.ctx.clock.after(delay, () => {
      void this.checkpoint(checkpointer, 'batch', this.lastProcessed ?? this.start).catch(() => undefined);
    });
  }

  /**
   * Checkpoints (at `record`, or with no argument) and journals what the lease table did:
   * `checkpoint` when a checkpoint write was applied (even if its response was lost), else
   * `checkpoint-rejected` for a lost lease (rethrown, as the worker expects) and
   * `checkpoint-failed` for anything else, including a call that wrote nothing (swallowed: a
   * later checkpoint covers it). A write past what the epoch processed is reported.
   */
  private async checkpoint(checkpointer: RecordProcessorCheckpointer, phase: CheckpointPhase, intended: { seq: string; sub: number }, record?: KinesisClientRecord): Promise<void> {
    const { sentAt, written, failure } = await journalCheckpointCall(this.ctx, { shard: this.shardId, epoch: this.epoch, phase, seq: intended.seq, sub: intended.sub }, () =>
      record !== undefined ? checkpointer.checkpoint(record) : checkpointer.checkpoint(),
    );
    if (written !== undefined && comparePositions(written, intended) > 0) {
      this.ctx.onOverreach({ worker: this.ctx.worker, shard: this.shardId, epoch: this.epoch, phase, at: sentAt, processed: intended, written });
    }
    if (failure !== undefined && isKclError(failure.error, 'LEASE_LOST')) throw failure.error;
  }
}

/** What {@link journalCheckpointCall} saw: when the call began, the position of its first applied write, its failure. */
export interface CheckpointCallOutcome {
  readonly sentAt: number;
  readonly written?: { readonly seq: string; readonly sub: number };
  readonly failure?: { readonly error: unknown };
}

/**
 * Runs one `checkpoint` call of a processor under test and journals what the lease table did:
 * `checkpoint-begin`; `checkpoint` the moment the table applies a write (not when its response
 * arrives: it may never); else `checkpoint-rejected` for a lost lease and `checkpoint-failed`
 * for anything else, including a call that wrote nothing. The caller decides what to rethrow.
 */
export async function journalCheckpointCall(
  ctx: Pick<ProcessorContext, 'journal' | 'worker'>,
  base: { readonly shard: string; readonly epoch: string; readonly phase: CheckpointPhase; readonly seq: string; readonly sub: number },
  call: () => Promise<void>,
): Promise<CheckpointCallOutcome> {
  const { journal, worker } = ctx;
  const sentAt = journal.write(worker, { type: 'checkpoint-begin', ...base });
  const probe: CheckpointProbe = { writes: [], onApplied: () => journal.write(worker, { type: 'checkpoint', ...base, sentAt }) };
  let failure: { error: unknown } | undefined;
  try {
    await checkpointProbe.run(probe, call);
  } catch (error) {
    failure = { error };
  }
  const applied = probe.writes.find((w) => w.applied);
  if (applied !== undefined) {
    return { sentAt, written: { seq: applied.position.sequenceNumber, sub: applied.position.subSequenceNumber }, ...(failure && { failure }) };
  }
  if (failure === undefined) {
    journal.write(worker, { type: 'checkpoint-failed', ...base, sentAt, error: 'no write: nothing new to checkpoint' });
    return { sentAt };
  }
  const text = failure.error instanceof Error ? `${failure.error.name}: ${failure.error.message}` : String(failure.error);
  journal.write(worker, { type: isKclError(failure.error, 'LEASE_LOST') ? 'checkpoint-rejected' : 'checkpoint-failed', ...base, sentAt, error: text });
  return { sentAt, failure };
}
