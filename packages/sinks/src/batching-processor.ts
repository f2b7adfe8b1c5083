/**
 * The batching processor: a {@link ShardRecordProcessor} that buffers records, writes them
 * through a {@link Sink} and checkpoints exactly the last record of each successful flush.
 *
 * The rules it keeps, whatever fails:
 * - **Write, then checkpoint.** A checkpoint only ever names the last record of a flush that
 *   the sink confirmed, so it never covers a record that is not durably written.
 * - **A returned batch is never lost.** When `processRecords` returns, the batch's records are
 *   written or buffered, and a buffered record is written before any checkpoint can cover it
 *   (checkpoints are explicit positions, never the no-argument "everything delivered"). If the
 *   worker dies first, the next owner gets the records again from the last checkpoint.
 * - **A failed batch is not half-kept.** If the flush a batch triggers keeps failing,
 *   `processRecords` throws and takes that batch's unwritten records out of the buffer again:
 *   the Worker delivers the batch again (records already written are recognised and not
 *   buffered twice).
 * - **One unacknowledged flush at most.** If a checkpoint fails after a write, the next flush
 *   first writes that checkpoint, so at most one flush exists past the checkpoint — which is
 *   what makes deterministic object keys (S3) overwrite themselves after a failover.
 * - **Flush on the way out.** `shutdownRequested` and `shardEnded` flush everything first
 *   (then `shardEnded` checkpoints `SHARD_END`); `leaseLost` drops the buffer and writes
 *   nothing more.
 * @module
 */
import {
  backoffDelay,
  classifyAwsError,
  isKclError,
  LeaseLostError,
  raceAbort,
  withRetries,
  type InitializationInput,
  type KinesisClientRecord,
  type LeaseLostInput,
  type Logger,
  type ProcessRecordsInput,
  type RecordProcessorCheckpointer,
  type ShardEndedInput,
  type ShardRecordProcessor,
  type ShardRecordProcessorFactory,
  type ShutdownRequestedInput,
} from '@kcl-ts/processor';
import { RecordBuffer, type Chunk } from './buffer.js';
import { errorSummary, SinkWriteError } from './errors.js';
import { publishFlush, type FlushReport, type FlushTrigger } from './metrics.js';
import { resolveBatchingProcessorConfig, type BatchingProcessorConfig, type BatchingProcessorOptions } from './options.js';
import { comparePositions } from './position.js';
import { SerialQueue } from './serial.js';
import type { SinkErrorKind, SinkWriteResult } from './sink.js';

const resolved = new WeakMap<object, BatchingProcessorConfig<never>>();

/** Resolves `options` once per options object (the factory's processors share the result). */
function configOf<T>(options: BatchingProcessorOptions<T>): BatchingProcessorConfig<T> {
  if (typeof options === 'object' && options !== null) {
    const cached = resolved.get(options);
    if (cached) return cached as unknown as BatchingProcessorConfig<T>;
  }
  const config = resolveBatchingProcessorConfig(options);
  resolved.set(options, config as unknown as BatchingProcessorConfig<never>);
  return config;
}

/** The default error classification: AWS throttling is `throttled`, a non-retryable kcl-ts error `fatal`, anything else `transient`. */
export function defaultSinkErrorKind(error: unknown): SinkErrorKind {
  if (isKclError(error)) return error.retryable ? 'transient' : 'fatal';
  return classifyAwsError(error) === 'throttled' ? 'throttled' : 'transient';
}

type State = 'active' | 'closing' | 'lost';

/**
 * A {@link ShardRecordProcessor} that writes records to a {@link Sink} in batches and
 * checkpoints after every successful flush. One instance per shard lease: create them with
 * {@link batchingProcessorFactory}.
 *
 * ```ts
 * const worker = new Worker({
 *   applicationName: 'orders-to-dynamodb',
 *   streamName: 'orders',
 *   processorFactory: batchingProcessorFactory({
 *     sink: new DynamoDbSink({ client, tableName: 'orders', keyAttributes: ['pk'] }),
 *     transform: (record, { shardId }) => ({ pk: recordId(shardId, record), ...JSON.parse(Buffer.from(record.data).toString()) }),
 *     batching: { maxRecords: 500, maxAgeMs: 5_000 },
 *   }),
 * });
 * ```
 */
export class BatchingProcessor<T> implements ShardRecordProcessor {
  private readonly config: BatchingProcessorConfig<T>;
  private readonly buffer = new RecordBuffer<T>();
  private readonly serial = new SerialQueue();
  private shardId = '';
  private log: Logger;
  private state: State = 'active';
  /** The last record durably written by this processor (everything before it too). */
  private writtenThrough: KinesisClientRecord | undefined;
  /** A written position whose checkpoint has not succeeded yet. */
  private pendingCheckpoint: KinesisClientRecord | undefined;
  private checkpointer: RecordProcessorCheckpointer | undefined;
  private signal: AbortSignal | undefined;
  private timer: AbortController | undefined;
  private timerFailures = 0;
  /** The signal whose abort listener is installed. */
  private watched: AbortSignal | undefined;

  /** @throws TypeError naming the bad option (see {@link resolveBatchingProcessorConfig}). */
  constructor(options: BatchingProcessorOptions<T>) {
    this.config = configOf(options);
    this.log = this.config.logger;
  }

  /** Items currently buffered (not yet written). */
  get bufferedItems(): number {
    return this.buffer.items;
  }

  /** Binds the processor to its shard (for logs and the `transform` context). */
  initialize({ shardId }: InitializationInput): void {
    this.shardId = shardId;
    this.log = this.config.logger.child({ component: 'batching-processor', shardId, sink: this.config.sink.name });
  }

  /**
   * Buffers the batch's records (after `transform`) and flushes while a threshold is reached.
   * Throws (after the flush retries) if a flush fails; the batch's unwritten records are then
   * dropped from the buffer, and the Worker delivers the batch again.
   */
  processRecords({ records, checkpointer, signal, shardId }: ProcessRecordsInput): Promise<void> {
    return this.serial.run(async () => {
      if (this.shardId === '') this.shardId = shardId;
      this.checkpointer = checkpointer;
      this.adoptSignal(signal);
      if (this.state === 'lost') throw new LeaseLostError(this.shardId);
      const { transform, sizeOf, clock } = this.config;
      // Records this processor wrote or buffered already come again only when the Worker
      // redelivers a batch whose processRecords threw: they are not buffered twice.
      const seen = this.buffer.last ?? this.writtenThrough;
      const fresh = seen === undefined ? records : records.filter((r) => comparePositions(r, seen) > 0);
      const context = { shardId: this.shardId };
      const items = fresh.map((record) => transform(record, context)); // a throwing transform leaves the buffer as it was
      const at = clock.elapsed();
      this.buffer.mark();
      fresh.forEach((record, i) => {
        const item = items[i];
        if (item === undefined) this.buffer.skip(record, at);
        else this.buffer.push(item, record, sizeOf(item, record), at);
      });
      try {
        await this.writePendingCheckpoint(); // left by a failed checkpoint: written even when nothing is due
        await this.flushWhile(() => this.dueTrigger());
      } catch (error) {
        this.buffer.rollback();
        throw error;
      }
      this.armTimer();
    });
  }

  /** Flushes everything and checkpoints the last record, so the next owner starts right after it. */
  shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    this.close();
    return this.serial.run(async () => {
      this.checkpointer = checkpointer;
      await this.flushWhile(() => (this.buffer.isEmpty && !this.pendingCheckpoint ? undefined : 'shutdown'));
    });
  }

  /** Flushes everything, then checkpoints `SHARD_END` (children start only after it). */
  shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    this.close();
    return this.serial.run(async () => {
      this.checkpointer = checkpointer;
      await this.flushWhile(() => (this.buffer.isEmpty ? undefined : 'shard-end'));
      await checkpointer.checkpoint();
      this.pendingCheckpoint = undefined;
    });
  }

  /** Drops the buffer: the lease is gone, the next owner writes these records. Nothing is written after this. */
  leaseLost(_input?: LeaseLostInput): void {
    this.state = 'lost';
    this.stopTimer();
    this.unwatchSignal();
    const dropped = this.buffer.items;
    this.buffer.clear();
    this.pendingCheckpoint = undefined;
    if (dropped > 0) this.log.info({ dropped }, 'lease lost: dropped the unwritten buffer; the next owner processes these records again');
  }

  private close(): void {
    if (this.state === 'active') this.state = 'closing';
    this.stopTimer();
    this.unwatchSignal();
  }

  /** Keeps the batch's signal (the Worker hands the same one for the whole holding) and stops the timer when it aborts. */
  private adoptSignal(signal: AbortSignal): void {
    this.signal = signal;
    if (this.watched === signal) return;
    this.unwatchSignal();
    this.watched = signal;
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private unwatchSignal(): void {
    this.watched?.removeEventListener('abort', this.onAbort);
    this.watched = undefined;
  }

  private readonly onAbort = (): void => this.stopTimer();

  private dueTrigger(): FlushTrigger | undefined {
    const { maxRecords, maxBytes, maxAgeMs, clock } = this.config;
    if (this.buffer.items >= maxRecords) return 'count';
    if (this.buffer.bytes >= maxBytes) return 'bytes';
    const oldest = this.buffer.oldestAt;
    if (oldest !== undefined && clock.elapsed() - oldest >= maxAgeMs) return 'age';
    return undefined;
  }

  private async flushWhile(trigger: () => FlushTrigger | undefined): Promise<void> {
    for (let why = trigger(); why !== undefined; why = trigger()) {
      await this.flushChunk(why);
    }
  }

  /** Writes the front of the buffer, then checkpoints its last record. */
  private async flushChunk(trigger: FlushTrigger): Promise<void> {
    // A checkpoint that failed after the previous write goes first: never two unacknowledged flushes.
    await this.writePendingCheckpoint();
    const chunk = this.buffer.peekChunk(this.config.maxRecords, this.config.maxBytes);
    if (chunk === undefined) return;
    if (chunk.entries.length > 0) await this.write(chunk, trigger);
    this.assertHeld();
    this.buffer.commit(chunk.slots);
    this.writtenThrough = chunk.end;
    this.pendingCheckpoint = chunk.end;
    await this.writePendingCheckpoint();
  }

  private async write(chunk: Chunk<T>, trigger: FlushTrigger): Promise<void> {
    const { sink, clock, maxRetries, baseDelayMs, maxDelayMs, random } = this.config;
    const signal = this.signal;
    const started = clock.elapsed();
    let retries = 0;
    const batch = { shardId: this.shardId, entries: chunk.entries, bytes: chunk.bytes };
    const report = (ok: boolean, result?: SinkWriteResult | void): void =>
      this.report({
        sink: sink.name,
        shardId: this.shardId,
        trigger,
        items: chunk.entries.length,
        skipped: chunk.skipped,
        bytes: chunk.bytes,
        latencyMs: clock.elapsed() - started,
        retries,
        stale: result?.stale ?? 0,
        ok,
      });
    let result: SinkWriteResult | void;
    try {
      result = await withRetries(
        `${sink.name} write`,
        (attempt) => {
          this.assertHeld();
          return raceAbort(sink.write(batch, { signal, attempt, clock }), signal);
        },
        {
          clock,
          signal,
          maxRetries,
          baseDelayMs,
          maxDelayMs,
          random,
          logger: this.log,
          classify: (error) => (isKclError(error, 'LEASE_LOST') ? 'fatal' : (sink.classifyError ?? defaultSinkErrorKind)(error)),
          onRetry: (kind, error) => {
            retries++;
            this.log.warn({ error: errorSummary(error), kind, attempt: retries, items: chunk.entries.length }, 'sink write failed; retrying after a backoff');
            this.log.debug({ err: error }, 'the sink error in full');
          },
        },
      );
    } catch (error) {
      report(false);
      if (isKclError(error, 'LEASE_LOST') || isKclError(error, 'ABORTED')) throw error;
      const kind = (sink.classifyError ?? defaultSinkErrorKind)(error);
      this.log.debug({ err: error }, 'the sink error in full');
      this.log.error(
        { error: errorSummary(error), items: chunk.entries.length, attempts: retries + 1, first: chunk.entries[0]!.record.sequenceNumber, last: chunk.end.sequenceNumber },
        'sink write failed; nothing past the last successful flush is checkpointed',
      );
      throw new SinkWriteError(sink.name, this.shardId, chunk.entries.length, retries + 1, `${sink.name}: writing ${chunk.entries.length} items of ${this.shardId} failed after ${retries + 1} attempt(s)`, {
        cause: error,
        retryable: kind !== 'fatal',
      });
    }
    report(true, result);
    this.log.debug({ items: chunk.entries.length, skipped: chunk.skipped, bytes: chunk.bytes, retries, trigger }, 'flushed');
  }

  private async writePendingCheckpoint(): Promise<void> {
    const position = this.pendingCheckpoint;
    if (position === undefined || this.checkpointer === undefined) return;
    this.assertHeld();
    await this.checkpointer.checkpoint(position);
    if (this.pendingCheckpoint === position) this.pendingCheckpoint = undefined;
  }

  private assertHeld(): void {
    if (this.state === 'lost') throw new LeaseLostError(this.shardId, `the lease of ${this.shardId} was lost; the flush was abandoned`);
  }

  private report(report: FlushReport): void {
    const { onFlush, metrics } = this.config;
    try {
      onFlush?.(report);
    } catch (error) {
      this.log.warn({ error: errorSummary(error) }, 'onFlush threw; ignored');
    }
    if (metrics) {
      Promise.resolve()
        .then(() => publishFlush(metrics, report))
        .catch((error: unknown) => this.log.warn({ error: errorSummary(error) }, 'metrics publisher failed; the metrics of this flush are dropped'));
    }
  }

  /** Arms the age timer for the oldest buffered record, unless one is armed. */
  private armTimer(): void {
    const { ageTimer, maxAgeMs, clock, baseDelayMs, maxDelayMs, random } = this.config;
    if (!ageTimer || !Number.isFinite(maxAgeMs) || this.state !== 'active' || this.timer || this.signal?.aborted) return;
    const oldest = this.buffer.oldestAt;
    if (oldest === undefined) return;
    const backoff = this.timerFailures === 0 ? 0 : Math.max(baseDelayMs, backoffDelay(this.timerFailures - 1, baseDelayMs, maxDelayMs, random));
    const delay = Math.max(0, oldest + maxAgeMs - clock.elapsed()) + backoff;
    const controller = new AbortController();
    this.timer = controller;
    clock.sleep(delay, controller.signal).then(
      () => this.onTimer(controller),
      () => {
        if (this.timer === controller) this.timer = undefined;
      },
    );
  }

  private onTimer(controller: AbortController): void {
    this.serial
      .run(async () => {
        if (this.timer !== controller) return;
        this.timer = undefined;
        if (this.state !== 'active') return;
        try {
          await this.flushWhile(() => this.dueTrigger());
          this.timerFailures = 0;
        } catch (error) {
          if (isKclError(error, 'LEASE_LOST')) {
            this.leaseLost();
            return;
          }
          this.timerFailures++;
          this.log.warn({ error: errorSummary(error), failures: this.timerFailures }, 'age flush failed; the records stay buffered and are written before any checkpoint covers them');
        }
        this.armTimer();
      })
      .catch((error: unknown) => this.log.warn({ error: errorSummary(error) }, 'age timer failed'));
  }

  private stopTimer(): void {
    this.timer?.abort();
    this.timer = undefined;
  }
}

/**
 * A `processorFactory` for a Worker (or `toLambdaHandler`): one {@link BatchingProcessor} per
 * shard lease, all sharing `options` (and so the sink). Validates the options at once.
 * @throws TypeError naming the bad option.
 */
export function batchingProcessorFactory<T>(options: BatchingProcessorOptions<T>): ShardRecordProcessorFactory {
  configOf(options);
  return () => new BatchingProcessor(options);
}
