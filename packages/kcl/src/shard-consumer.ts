import type { Lease, LeaseUpdate } from '@kcl-ts/leases';
import {
  AbortError,
  isKclError,
  LeaseLostError,
  type Clock,
  type KinesisClientRecord,
  type Logger,
  type ShardRecordProcessor,
  type ShardRecordProcessorFactory,
} from '@kcl-ts/processor';
import type { ChildShard } from '@kcl-ts/shard-sync';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ShardCheckpointer, type LeaseWriter } from './checkpointer.js';
import type { ProcessingConfig } from './config.js';
import type { WorkerMetrics } from './worker-metrics.js';
import type { RecordsBatch, RetrievalStats } from './retrieval/index.js';

/** Lifecycle states of a {@link ShardConsumer}, in order. */
export type ShardConsumerState = 'WAITING_ON_PARENTS' | 'INITIALIZING' | 'PROCESSING' | 'SHUTTING_DOWN' | 'DONE';

/** Why a consumer shut down. */
export type ShutdownReason = 'SHARD_END' | 'LEASE_LOST' | 'REQUESTED';

/** The record source a consumer reads from (the polling fetcher in production). */
export interface RecordSource {
  readonly stats: RetrievalStats;
  start(): void;
  next(signal?: AbortSignal): Promise<RecordsBatch>;
  stop(): Promise<void>;
}

/** Everything a {@link ShardConsumer} needs from its worker. */
export interface ShardConsumerDeps {
  readonly lease: Lease;
  /** Creates the shard's record processor. */
  readonly processorFactory: ShardRecordProcessorFactory;
  /** The Worker's resolved `processing` group. */
  readonly processing: ProcessingConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * True while this worker's holding of the lease is live by the monotonic clock (held, active,
   * not past its self-fencing deadline). Checked right before every delivery.
   */
  readonly isHoldingLive: () => boolean;
  /** Waits until every parent of the lease has finished. */
  readonly waitForParents: (lease: Lease, signal: AbortSignal) => Promise<void>;
  /** Creates the record source once the start position is known. */
  readonly createSource: (lease: Lease) => RecordSource;
  /** The fenced lease write (the coordinator's `updateLease`). */
  readonly writeLease: LeaseWriter;
  /** Creates child leases at shard end (from ChildShards, or ListShards when absent). */
  readonly createChildLeases: (lease: Lease, childShards: readonly ChildShard[] | undefined) => Promise<readonly string[]>;
  /** Runs a processor callback under the worker's concurrency bound. */
  readonly limit: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The worker's instruments (no-ops when metrics are off). */
  readonly metrics: WorkerMetrics;
  readonly hooks: {
    shardEnded(shardId: string, childShardIds: readonly string[]): void | Promise<void>;
    /** A processor callback (or the factory) threw. */
    processorError(shardId: string, error: unknown): void;
    /** Reading the shard failed for good (e.g. the shard or stream is gone). */
    retrievalError(shardId: string, error: unknown): void;
  };
}

/** Wraps a failure of the record source, to tell it apart from a processor's. */
class RetrievalFailure extends Error {
  constructor(readonly original: unknown) {
    super('record retrieval failed', { cause: original });
  }
}

/** Marks code running inside a processor callback (used to make `Worker.shutdown()` re-entrant). */
export const processorContext = new AsyncLocalStorage<{ shardId: string }>();

/**
 * Drives one shard lease through its life: waits for the parents, creates and initializes
 * the processor, delivers batches one at a time in order, and ends with exactly one of
 * `shardEnded`, `leaseLost` or `shutdownRequested`.
 */
export class ShardConsumer {
  readonly shardId: string;
  private currentState: ShardConsumerState = 'WAITING_ON_PARENTS';
  private stopReason: ShutdownReason | undefined;
  /** Aborted on lease loss or a hard stop: cancels waits and is handed to processRecords. */
  private readonly hard = new AbortController();
  /** Aborted when the consumer should stop waiting for more records (any stop reason). */
  private readonly soft = new AbortController();
  private readonly log: Logger;
  private processor: ShardRecordProcessor | undefined;
  private checkpointer: ShardCheckpointer | undefined;
  private source: RecordSource | undefined;
  private lastStats = { calls: 0, timeMs: 0, failures: 0, throttled: 0, expiredIterators: 0 };
  private runPromise: Promise<ShutdownReason | undefined> | undefined;
  private failure: unknown;
  private writesRevoked = false;

  constructor(private readonly deps: ShardConsumerDeps) {
    this.shardId = deps.lease.leaseKey;
    this.log = deps.logger.child({ component: 'ShardConsumer', shardId: this.shardId });
  }

  /** True if the consumer ended because of an unexpected error (the worker restarts it after a backoff). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** The latest MillisBehindLatest reported by GetRecords for this shard, delivered batch or not. */
  get millisBehindLatest(): number | undefined {
    return this.source?.stats.lastMillisBehindLatest;
  }

  /** Current lifecycle state. */
  get state(): ShardConsumerState {
    return this.currentState;
  }

  /** Starts the consumer (idempotent); resolves with how it ended, once it is DONE. Never rejects. */
  run(): Promise<ShutdownReason | undefined> {
    this.runPromise ??= this.lifecycle().finally(() => {
      this.currentState = 'DONE';
    });
    return this.runPromise;
  }

  /** Graceful stop: after the in-flight batch, `shutdownRequested` is called so the processor can checkpoint. */
  requestShutdown(): void {
    this.stop('REQUESTED');
  }

  /**
   * The holding this consumer was started for has ended (lost, handed off or released): its
   * checkpointer refuses every further write with `LeaseLostError`.
   */
  revokeWrites(): void {
    this.writesRevoked = true;
  }

  /** The lease is gone: stop at once, then call `leaseLost`. */
  leaseLost(): void {
    this.revokeWrites();
    this.stop('LEASE_LOST');
    this.hard.abort(new LeaseLostError(this.shardId));
  }

  /** Abandons the consumer after a shutdown deadline: aborts every wait and the processor's signal. */
  abort(): void {
    this.stop(this.stopReason ?? 'REQUESTED');
    this.hard.abort(new AbortError(`consumer of ${this.shardId} aborted after the shutdown deadline`));
  }

  private stop(reason: ShutdownReason): void {
    if (this.stopReason === undefined || reason === 'LEASE_LOST') this.stopReason = reason;
    this.soft.abort(new AbortError(`consumer of ${this.shardId} is stopping (${reason})`));
  }

  private async lifecycle(): Promise<ShutdownReason | undefined> {
    const { lease } = this.deps;
    try {
      if (lease.parentShardIds.length > 0) {
        await this.deps.waitForParents(lease, this.soft.signal);
      }
      if (this.stopReason) return this.stopReason;

      this.currentState = 'INITIALIZING';
      this.processor = assertProcessor(await this.deps.processorFactory(this.shardId), this.shardId);
      this.checkpointer = new ShardCheckpointer(this.shardId, lease.checkpoint, (key, update) => {
        // Once this consumer's lease is gone, its writes are refused here, even if the worker
        // holds the shard again by now (a new consumer owns that holding): the fence of the
        // lease table alone cannot tell two holdings of the same worker apart.
        if (this.writesRevoked) {
          this.deps.metrics.checkpoint(this.shardId, 0, 'rejected');
          return Promise.reject(new LeaseLostError(key, `the lease of ${key} held by this processor was lost; the checkpoint was not written`));
        }
        return this.timedWrite(key, update);
      });
      await this.callback(() =>
        this.processor!.initialize({
          shardId: this.shardId,
          extendedSequenceNumber: lease.checkpoint,
          ...(lease.pendingCheckpoint && { pendingCheckpointSequenceNumber: lease.pendingCheckpoint }),
          ...(lease.pendingCheckpointState && { pendingCheckpointState: lease.pendingCheckpointState }),
        }),
      );
      if (this.stopReason) return await this.shutdown(this.stopReason);

      this.currentState = 'PROCESSING';
      const start = await this.resolveStart(lease);
      if (this.stopReason) return await this.shutdown(this.stopReason);
      this.source = this.deps.createSource(start);
      this.source.start();
      const end = await this.processLoop();
      return await this.shutdown(end ? 'SHARD_END' : this.stopReason ?? 'REQUESTED', end);
    } catch (error) {
      if (isStop(error) || isKclError(error, 'LEASE_LOST')) {
        return await this.shutdown(isKclError(error, 'LEASE_LOST') ? 'LEASE_LOST' : this.stopReason ?? 'REQUESTED');
      }
      if (error instanceof RetrievalFailure) {
        this.failure = error.original;
        this.log.error({ err: error.original }, 'reading the shard failed');
        this.deps.hooks.retrievalError(this.shardId, error.original);
      } else {
        this.failure = error;
        this.log.error({ err: error }, 'shard consumer failed');
        this.deps.hooks.processorError(this.shardId, error);
      }
      return await this.shutdown(this.stopReason ?? 'REQUESTED');
    } finally {
      // A checkpointer is bound to its holding: once this consumer is done, a processor that
      // kept it cannot write through a later holding of the same shard by this worker.
      this.revokeWrites();
      await this.source?.stop();
    }
  }

  /**
   * A lease still at `LATEST` is resolved once, here, to a concrete position before any read:
   * `AT_TIMESTAMP` of this moment, persisted through the fenced lease write. Every later owner
   * starts there (or at a later checkpoint), never at a new `LATEST`, so records put between
   * two owners' starts are not skipped when the first owner dies before its first checkpoint.
   * This first owner itself reads from `LATEST`, which lies after that moment: what it skips
   * was put before it started reading.
   */
  private async resolveStart(lease: Lease): Promise<Lease> {
    if (lease.checkpoint.sequenceNumber !== 'LATEST') return lease;
    const initialTimestamp = this.deps.clock.now();
    const resolved = await this.deps.writeLease(lease.leaseKey, { checkpoint: { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0 }, initialTimestamp });
    this.log.debug({ initialTimestamp }, 'resolved LATEST to AT_TIMESTAMP for every later owner');
    this.checkpointer!.resolvedStart(resolved.checkpoint);
    return { ...resolved, checkpoint: lease.checkpoint };
  }

  /** Delivers batches until the shard ends (returns the final batch) or a stop is requested (returns undefined). */
  private async processLoop(): Promise<RecordsBatch | undefined> {
    const source = this.source!;
    for (;;) {
      if (this.stopReason) return undefined;
      let batch: RecordsBatch;
      try {
        batch = await source.next(this.soft.signal);
      } catch (error) {
        if (this.stopReason) return undefined;
        throw new RetrievalFailure(error);
      }
      this.recordFetchMetrics(batch);
      if (batch.records.length > 0 || this.deps.processing.callProcessRecordsEvenForEmptyList) {
        await this.deliver(batch);
      }
      if (batch.shardEnded) return batch;
    }
  }

  private async deliver(batch: RecordsBatch): Promise<void> {
    const checkpointer = this.checkpointer!;
    const last = batch.records.at(-1);
    const started = this.deps.clock.elapsed();
    let processorMs = 0;
    for (let attempt = 1; ; attempt++) {
      const attemptStarted = this.deps.clock.elapsed();
      try {
        await this.callback(() => {
          // Checked at the last moment, by the monotonic clock: after a synchronous stall longer
          // than the lease, batches prefetched before it are handed over in one burst of
          // microtasks, before any timer (the self-fencing one included) can run.
          this.assertHoldingLive();
          if (last) checkpointer.markDelivered(last);
          return this.processor!.processRecords({
            records: batch.records,
            checkpointer,
            shardId: this.shardId,
            signal: this.hard.signal,
            ...(batch.millisBehindLatest !== undefined && { millisBehindLatest: batch.millisBehindLatest }),
          });
        });
        checkpointer.markProcessed();
        processorMs = this.deps.clock.elapsed() - attemptStarted;
        break;
      } catch (error) {
        checkpointer.markFailed();
        if (isKclError(error, 'LEASE_LOST') || this.hard.signal.aborted) throw error instanceof Error ? error : new LeaseLostError(this.shardId);
        const action = await this.onProcessorError(error, batch.records, attempt);
        if (action === 'skip') {
          checkpointer.markSkipped(batch.records.at(-1));
          this.log.warn({ first: batch.records[0]?.sequenceNumber, last: last?.sequenceNumber, records: batch.records.length }, 'onProcessorError chose to skip a failed batch');
          break;
        }
        // A graceful stop ends the retries without skipping: the batch is not checkpointed, so
        // the next owner delivers it again.
        if (this.stopReason) throw new AbortError('stopping while a failed batch was being retried');
        const delay = Math.min(this.deps.processing.retryMaxMs, this.deps.processing.retryBaseMs * 2 ** Math.min(attempt - 1, 20));
        await this.deps.clock.sleep(delay, this.soft.signal);
      }
    }
    this.deps.metrics.batchProcessed(this.shardId, batch.records.length, batch.records.reduce((n, r) => n + r.data.byteLength, 0), processorMs, this.deps.clock.elapsed() - started);
  }

  /** A fenced lease write of the checkpointer, measured. */
  private async timedWrite(key: string, update: LeaseUpdate): Promise<Lease> {
    const started = this.deps.clock.elapsed();
    try {
      const lease = await this.deps.writeLease(key, update);
      this.deps.metrics.checkpoint(this.shardId, this.deps.clock.elapsed() - started, 'ok');
      return lease;
    } catch (error) {
      this.deps.metrics.checkpoint(this.shardId, this.deps.clock.elapsed() - started, isKclError(error, 'LEASE_LOST') ? 'rejected' : 'failed');
      throw error;
    }
  }

  /** Throws `LeaseLostError` (and aborts the processor's signal) if the holding is no longer live. */
  private assertHoldingLive(): void {
    if (!this.writesRevoked && this.deps.isHoldingLive()) return;
    const error = new LeaseLostError(this.shardId, `the lease of ${this.shardId} is no longer held by this worker (its renewal deadline passed); the batch was not delivered`);
    this.revokeWrites();
    this.stop('LEASE_LOST');
    this.hard.abort(error);
    throw error;
  }

  private async onProcessorError(error: unknown, records: readonly KinesisClientRecord[], attempt: number): Promise<'retry' | 'skip'> {
    this.log.error(
      { err: error, attempt, records: records.length, firstSequenceNumber: records[0]?.sequenceNumber, lastSequenceNumber: records.at(-1)?.sequenceNumber },
      'processRecords threw; the batch will not be skipped unless onProcessorError says so',
    );
    this.deps.hooks.processorError(this.shardId, error);
    const hook = this.deps.processing.onProcessorError;
    if (!hook) return 'retry';
    try {
      return (await hook(error, { shardId: this.shardId, records, attempt })) === 'skip' ? 'skip' : 'retry';
    } catch (hookError) {
      this.log.error({ err: hookError }, 'onProcessorError threw; retrying the batch');
      return 'retry';
    }
  }

  private async shutdown(reason: ShutdownReason, finalBatch?: RecordsBatch): Promise<ShutdownReason> {
    this.currentState = 'SHUTTING_DOWN';
    const processor = this.processor;
    const checkpointer = this.checkpointer;
    if (!processor || !checkpointer) return reason;
    try {
      if (reason === 'SHARD_END') {
        await this.endShard(finalBatch?.childShards);
      } else if (reason === 'LEASE_LOST') {
        if (processor.leaseLost) await this.callback(() => processor.leaseLost!({ shardId: this.shardId }));
      } else if (processor.shutdownRequested) {
        await this.callback(() => processor.shutdownRequested!({ shardId: this.shardId, checkpointer }));
      }
    } catch (error) {
      if (isKclError(error, 'LEASE_LOST')) {
        this.log.warn('lease lost during shutdown');
        if (processor.leaseLost && reason !== 'LEASE_LOST') {
          await this.callback(() => processor.leaseLost!({ shardId: this.shardId })).catch(() => undefined);
        }
        return 'LEASE_LOST';
      }
      this.log.error({ err: error, reason }, 'processor shutdown callback failed');
      this.deps.hooks.processorError(this.shardId, error);
      // Let the worker start a new consumer for the lease if it still holds it.
      this.failure ??= error;
    }
    return reason;
  }

  /** Creates the children, lets the processor checkpoint SHARD_END (retrying until it does), then reports it. */
  private async endShard(childShards: readonly ChildShard[] | undefined): Promise<void> {
    const processor = this.processor!;
    const checkpointer = this.checkpointer!;
    checkpointer.markShardEnd();
    let children: readonly string[] = childShards?.map((c) => c.shardId) ?? [];
    // A worker that lost the parent's lease (a stall past its renewal deadline) must not create
    // children: the owner that took the lease over may have finished them, and lease cleanup
    // deleted their leases since; created again, they would restart at TRIM_HORIZON.
    this.assertHoldingLive();
    try {
      children = await this.deps.createChildLeases(this.deps.lease, childShards);
    } catch (error) {
      // Shard sync creates them later; the parent's SHARD_END still gates them correctly.
      this.log.warn({ err: error }, 'creating child leases at shard end failed; shard sync will retry');
    }
    for (let attempt = 1; ; attempt++) {
      try {
        if (processor.shardEnded) {
          await this.callback(() => processor.shardEnded!({ shardId: this.shardId, checkpointer, childShardIds: children }));
        } else {
          await checkpointer.checkpoint();
        }
      } catch (error) {
        if (isKclError(error, 'LEASE_LOST')) throw error;
        // A failing shardEnded (its sink is down, a checkpoint write failed) is called again:
        // the children cannot start before SHARD_END is checkpointed.
        this.log.error({ err: error, attempt }, 'shardEnded failed; calling it again after a backoff');
        this.deps.hooks.processorError(this.shardId, error);
      }
      if (checkpointer.shardEndCheckpointed) break;
      this.log.error({ attempt }, 'SHARD_END is not checkpointed yet; children cannot start until it is');
      if (this.stopReason) return;
      await this.deps.clock.sleep(Math.min(this.deps.processing.retryMaxMs, this.deps.processing.retryBaseMs * 2 ** Math.min(attempt - 1, 20)), this.soft.signal);
    }
    await this.deps.hooks.shardEnded(this.shardId, children);
  }

  private callback<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.deps.limit(() => processorContext.run({ shardId: this.shardId }, async () => fn()));
  }

  private recordFetchMetrics(batch: RecordsBatch): void {
    if (!this.source) return;
    const { getRecordsCalls, getRecordsTimeMs, getRecordsFailures, throttled, expiredIterators } = this.source.stats;
    const last = this.lastStats;
    this.deps.metrics.retrieval(this.shardId, {
      calls: getRecordsCalls - last.calls,
      timeMs: getRecordsTimeMs - last.timeMs,
      failures: getRecordsFailures - last.failures,
      throttled: throttled - last.throttled,
      expiredIterators: expiredIterators - last.expiredIterators,
    });
    this.lastStats = { calls: getRecordsCalls, timeMs: getRecordsTimeMs, failures: getRecordsFailures, throttled, expiredIterators };
  }
}

/** Checks what a processor factory returned, so a wrong one fails with an error that says so. */
function assertProcessor(processor: unknown, shardId: string): ShardRecordProcessor {
  const p = processor as Partial<Record<keyof ShardRecordProcessor, unknown>> | null | undefined;
  if (typeof p !== 'object' || p === null) {
    throw new TypeError(`processorFactory returned ${p === null ? 'null' : typeof p} for ${shardId}; it must return a ShardRecordProcessor (an object with initialize and processRecords methods)`);
  }
  for (const method of ['initialize', 'processRecords'] as const) {
    if (typeof p[method] !== 'function') throw new TypeError(`the processor created by processorFactory for ${shardId} has no ${method}() method`);
  }
  for (const method of ['leaseLost', 'shardEnded', 'shutdownRequested'] as const) {
    if (p[method] !== undefined && typeof p[method] !== 'function') throw new TypeError(`the processor created by processorFactory for ${shardId} has a ${method} that is not a function`);
  }
  return processor as ShardRecordProcessor;
}

function isStop(error: unknown): boolean {
  return isKclError(error, 'ABORTED') || (error instanceof Error && error.name === 'AbortError');
}
