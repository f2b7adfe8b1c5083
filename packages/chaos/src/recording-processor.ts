/**
 * The record processor of a chaos worker: it "processes" each batch by appending one journal
 * line per record (synchronously, before checkpointing), then checkpoints the batch and
 * journals the outcome. Each processor instance is one *epoch* of its shard.
 * @module
 */
import { appendFileSync } from 'node:fs';
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
import type { CheckpointPhase, JournalLine } from './journal.js';

/** Distributive Omit, so each line type keeps its own fields. */
type LineBody = JournalLine extends infer L ? (L extends JournalLine ? Omit<L, 'worker' | 'at' | 'pid'> : never) : never;

/** Appends journal lines of one worker to its file. */
export class JournalWriter {
  constructor(
    readonly path: string,
    readonly worker: string,
  ) {}

  /** Appends lines in one synchronous write. */
  write(...bodies: LineBody[]): void {
    if (bodies.length === 0) return;
    const at = Date.now();
    const text = bodies.map((b) => JSON.stringify({ worker: this.worker, at, pid: process.pid, ...b })).join('\n') + '\n';
    appendFileSync(this.path, text);
  }
}

/** Text of an error, for the journal. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The payload the chaos producer writes: a partition key and its per-key sequence number. */
export function parsePayload(data: Uint8Array): { key: string; n: number } {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as { k?: unknown; n?: unknown };
    if (typeof v.k === 'string' && typeof v.n === 'number') return { key: v.k, n: v.n };
  } catch {
    // fall through: not a chaos record
  }
  return { key: '?', n: -1 };
}

let epochs = 0;
/** shardEnded calls that failed on purpose, per shard (see `failShardEndedTimes`). */
const shardEndedFailures = new Map<string, number>();

/** One epoch: a journaling processor for one shard lease held by one worker. */
export class RecordingProcessor implements ShardRecordProcessor {
  readonly epoch: string;
  private lastDelivered: { seq: string; sub: number } | undefined;

  /**
   * @param recordDelayMs simulated work per record
   * @param naiveShardEnd when true, `shardEnded` lets a failed checkpoint's error escape (as a
   *   processor that simply `await`s `checkpoint()` does) instead of swallowing it
   * @param failShardEndedTimes `shardEnded` throws (before checkpointing) this many times per
   *   shard in this process — an application whose flush at shard end fails
   */
  constructor(
    private readonly journal: JournalWriter,
    private readonly shardId: string,
    private readonly recordDelayMs = 0,
    private readonly naiveShardEnd = false,
    private readonly failShardEndedTimes = 0,
  ) {
    epochs += 1;
    this.epoch = `${journal.worker}/${shardId}/${epochs}`;
  }

  initialize(input: InitializationInput): void {
    this.journal.write({ type: 'init', shard: this.shardId, epoch: this.epoch, checkpoint: input.extendedSequenceNumber.sequenceNumber, sub: input.extendedSequenceNumber.subSequenceNumber });
  }

  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    if (records.length === 0) return;
    const lineOf = (r: (typeof records)[number]) => {
      const { key, n } = parsePayload(r.data);
      return { type: 'record' as const, shard: this.shardId, epoch: this.epoch, key, n, seq: r.sequenceNumber, sub: r.subSequenceNumber ?? 0 };
    };
    if (this.recordDelayMs > 0) {
      // A slow processor: each record takes time and is journaled once done, so a kill or a
      // pause usually lands between processed-but-not-checkpointed records.
      for (const r of records) {
        await delay(this.recordDelayMs);
        this.journal.write(lineOf(r));
      }
    } else {
      this.journal.write(...records.map(lineOf));
    }
    const last = records.at(-1)!;
    this.lastDelivered = { seq: last.sequenceNumber, sub: last.subSequenceNumber ?? 0 };
    await this.checkpoint(checkpointer, 'batch', this.lastDelivered);
  }

  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    this.journal.write({ type: 'shard-ended', shard: this.shardId, epoch: this.epoch });
    const failed = shardEndedFailures.get(this.shardId) ?? 0;
    if (failed < this.failShardEndedTimes) {
      shardEndedFailures.set(this.shardId, failed + 1);
      throw new Error(`injected shardEnded failure ${failed + 1}/${this.failShardEndedTimes} on ${this.shardId}`);
    }
    // A failed SHARD_END checkpoint is not rethrown: the worker calls shardEnded again until
    // SHARD_END is written (a LeaseLostError is rethrown so the worker sees the loss).
    await this.checkpoint(checkpointer, 'shard-end', { seq: 'SHARD_END', sub: 0 }, this.naiveShardEnd);
  }

  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    this.journal.write({ type: 'shutdown-requested', shard: this.shardId, epoch: this.epoch });
    // Nothing delivered in this epoch: checkpoint() would write nothing.
    if (this.lastDelivered) await this.checkpoint(checkpointer, 'shutdown', this.lastDelivered);
  }

  leaseLost(): void {
    this.journal.write({ type: 'lease-lost', shard: this.shardId, epoch: this.epoch });
  }

  /**
   * Checkpoints at the last delivered record (or SHARD_END) and journals the outcome:
   * `checkpoint` once the write was accepted, `checkpoint-rejected` for a `LeaseLostError`
   * (rethrown), `checkpoint-failed` for anything else (swallowed: the next batch's
   * checkpoint covers this one, and the worker's retry of a thrown batch would redeliver it).
   */
  private async checkpoint(checkpointer: RecordProcessorCheckpointer, phase: CheckpointPhase, position: { seq: string; sub: number }, rethrow = false): Promise<void> {
    const base = { shard: this.shardId, epoch: this.epoch, phase, seq: position.seq, sub: position.sub };
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
