/**
 * The record processor of a fleet worker: it "processes" each batch by appending one journal
 * line per record (synchronously, before checkpointing), then checkpoints the batch and
 * journals the outcome. Each processor instance is one *epoch* of its shard.
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  isKclError,
  type InitializationInput,
  type ProcessRecordsInput,
  type RecordProcessorCheckpointer,
  type ShardEndedInput,
  type ShardRecordProcessor,
  type ShutdownRequestedInput,
} from '@kcl-ts/kcl';
import type { WorkerProcessConfig } from './config.js';
import { errorText, shardKey, type CheckpointPhase, type JournalWriter } from './journal.js';
import type { ShardProgress } from './messages.js';
import { decodePayload } from './payload.js';
import type { Position } from './positions.js';

/** Counters the processors of one process share (reported as progress). */
export interface ProcessorStats {
  processed: number;
  readonly shards: Record<string, ShardProgress>;
}

/** How a {@link RecordingProcessor} behaves: the processor settings of its worker process, the shard's stream on a multi-stream worker (written on every line), and the counters to update. */
export type RecordingOptions = Pick<WorkerProcessConfig, 'recordDelayMs' | 'naiveShardEnd' | 'failShardEndedTimes'> & { readonly stream?: string; readonly stats?: ProcessorStats };

let epochs = 0;
/** shardEnded calls that failed on purpose, per shard key (see `failShardEndedTimes`). */
const shardEndedFailures = new Map<string, number>();

/** One epoch: a journaling processor for one shard lease held by one worker. */
export class RecordingProcessor implements ShardRecordProcessor {
  readonly epoch: string;
  /** The shard's {@link shardKey}. */
  private readonly key: string;
  /** Written on every line: the shard, and its stream on a multi-stream worker. */
  private readonly where: { readonly shard: string; readonly stream?: string };
  private lastDelivered: Position | undefined;

  constructor(
    private readonly journal: JournalWriter,
    shardId: string,
    private readonly options: RecordingOptions = {},
  ) {
    epochs += 1;
    const { stream } = options;
    this.key = shardKey(stream, shardId);
    this.where = stream === undefined ? { shard: shardId } : { shard: shardId, stream };
    this.epoch = `${journal.worker}/${process.pid}/${this.key}/${epochs}`;
  }

  initialize(input: InitializationInput): void {
    this.journal.write({ type: 'init', ...this.where, epoch: this.epoch, checkpoint: input.extendedSequenceNumber.sequenceNumber, sub: input.extendedSequenceNumber.subSequenceNumber });
  }

  async processRecords({ records, checkpointer, millisBehindLatest }: ProcessRecordsInput): Promise<void> {
    if (records.length === 0) return;
    const { recordDelayMs = 0, stats } = this.options;
    const lineOf = (r: (typeof records)[number]) => {
      const p = decodePayload(r.data);
      return { type: 'record' as const, ...this.where, epoch: this.epoch, key: p?.k ?? '?', n: p?.n ?? -1, putAt: p?.t ?? r.approximateArrivalTimestamp.getTime(), seq: r.sequenceNumber, sub: r.subSequenceNumber ?? 0 };
    };
    const lines = records.map(lineOf);
    if (recordDelayMs > 0) {
      // A slow processor: each record takes time and is journaled once done, so a kill or a
      // pause usually lands between processed-but-not-checkpointed records.
      for (const line of lines) {
        await delay(recordDelayMs);
        this.journal.write(line);
      }
    } else {
      this.journal.write(...lines);
    }
    if (stats) {
      stats.processed += records.length;
      stats.shards[this.key] = { records: (stats.shards[this.key]?.records ?? 0) + records.length, lagMs: millisBehindLatest };
    }
    const last = records.at(-1)!;
    this.lastDelivered = { seq: last.sequenceNumber, sub: last.subSequenceNumber ?? 0 };
    await this.checkpoint(checkpointer, 'batch', this.lastDelivered);
  }

  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    this.journal.write({ type: 'shard-ended', ...this.where, epoch: this.epoch });
    const failed = shardEndedFailures.get(this.key) ?? 0;
    if (failed < (this.options.failShardEndedTimes ?? 0)) {
      shardEndedFailures.set(this.key, failed + 1);
      throw new Error(`injected shardEnded failure ${failed + 1}/${this.options.failShardEndedTimes} on ${this.key}`);
    }
    // A failed SHARD_END checkpoint is not rethrown: the worker calls shardEnded again until
    // SHARD_END is written (a LeaseLostError is rethrown so the worker sees the loss).
    await this.checkpoint(checkpointer, 'shard-end', { seq: 'SHARD_END', sub: 0 }, this.options.naiveShardEnd ?? false);
  }

  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    this.journal.write({ type: 'shutdown-requested', ...this.where, epoch: this.epoch });
    // Nothing delivered in this epoch: checkpoint() would write nothing.
    if (this.lastDelivered) await this.checkpoint(checkpointer, 'shutdown', this.lastDelivered);
  }

  leaseLost(): void {
    this.journal.write({ type: 'lease-lost', ...this.where, epoch: this.epoch });
  }

  /**
   * Checkpoints at the last delivered record (or SHARD_END) and journals the outcome:
   * `checkpoint` once the write was accepted, `checkpoint-rejected` for a `LeaseLostError`
   * (rethrown), `checkpoint-failed` for anything else (swallowed: the next batch's
   * checkpoint covers this one, and the worker's retry of a thrown batch would redeliver it).
   */
  private async checkpoint(checkpointer: RecordProcessorCheckpointer, phase: CheckpointPhase, position: Position, rethrow = false): Promise<void> {
    const base = { ...this.where, epoch: this.epoch, phase, seq: position.seq, sub: position.sub };
    const sentAt = Date.now();
    this.journal.write({ type: 'checkpoint-begin', ...base });
    try {
      await checkpointer.checkpoint();
    } catch (error) {
      if (isKclError(error, 'LEASE_LOST')) {
        this.journal.write({ type: 'checkpoint-rejected', ...base, sentAt, error: errorText(error) });
        throw error;
      }
      this.journal.write({ type: 'checkpoint-failed', ...base, sentAt, error: errorText(error) });
      if (rethrow) throw error;
      return;
    }
    this.journal.write({ type: 'checkpoint', ...base, sentAt });
  }
}
