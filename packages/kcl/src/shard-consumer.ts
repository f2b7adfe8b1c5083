import { parseMultiStreamLeaseKey, shardIdOf, type Lease, type LeaseUpdate } from '@kcl-ts/leases';
import {
  AbortError,
  exponentialDelay,
  isKclError,
  LeaseLostError,
  type Clock,
  type KinesisClientRecord,
  type Logger,
  type ShardRecordProcessor,
  type ShardRecordProcessorFactory,
} from '@kcl-ts/processor';
import type { ChildShard, ShardHierarchyGate, ShardSyncer } from '@kcl-ts/shard-sync';
import { ShardCheckpointer } from './checkpointer.js';
import { runProcessorCallback } from './processor-context.js';
import type { ProcessingConfig } from './config.js';
import type { WorkerMetrics } from './worker-metrics.js';
import type { RecordSource, RecordSourceFactory, RecordSourceRequest, RecordsBatch } from './retrieval/index.js';

/** Lifecycle states of a {@link ShardConsumer}, in order. */
export type ShardConsumerState = 'WAITING_ON_PARENTS' | 'INITIALIZING' | 'PROCESSING' | 'SHUTTING_DOWN' | 'DONE';

/** Why a consumer shut down. */
export type ShutdownReason = 'SHARD_END' | 'LEASE_LOST' | 'REQUESTED';

/** The lease side of a consumer: the worker's lease coordinator. */
export interface ConsumerLeases {
  /**
   * True while this worker's holding of the lease is live by the monotonic clock (held, active,
   * not past its self-fencing deadline). Checked right before every delivery.
   */
  holds(leaseKey: string): boolean;
  /** The fenced lease write (checkpoints, the resolved start). */
  updateLease(leaseKey: string, update: LeaseUpdate): Promise<Lease>;
}

/** The shard-sync side of a consumer: its stream's parent gate and syncer. */
export interface ConsumerShardSync {
  /** Waits until every parent of the lease has finished. */
  readonly gate: Pick<ShardHierarchyGate, 'waitUntilCanStart'>;
  /** Creates child leases at shard end (from ChildShards, or ListShards when absent); answers lease keys. */
  readonly syncer: Pick<ShardSyncer, 'createChildLeases'>;
}

/** What a consumer tells its worker. */
export interface ShardConsumerListener {
  /** `SHARD_END` was checkpointed; the children may start. */
  shardEnded(childShardIds: readonly string[]): void | Promise<void>;
  /** A processor callback (or the factory) threw. */
  processorError(error: unknown): void;
  /** Reading the shard failed for good (e.g. the shard or stream is gone). */
  retrievalError(error: unknown): void;
}

/** The parts a {@link ShardConsumer} is built from. */
export interface ShardConsumerDeps {
  readonly lease: Lease;
  /** The lease's stream, named in every processor input and log line. */
  readonly stream: RecordSourceRequest['stream'] & {
    /** The stream's `AT_TIMESTAMP` initial position, for a lease that has no `initialTimestamp` of its own. */
    readonly initialTimestamp?: Date;
  };
  /** Creates the shard's record processor. */
  readonly processorFactory: ShardRecordProcessorFactory;
  /** The Worker's resolved `processing` group. */
  readonly processing: ProcessingConfig;
  readonly clock: Clock;
  /** The stream's logger (its lines name the stream); the consumer adds its component and shard. */
  readonly logger: Logger;
  readonly leases: ConsumerLeases;
  readonly shardSync: ConsumerShardSync;
  /** Opens the shard's record source once the start position is known. */
  readonly recordSources: RecordSourceFactory;
  /** Runs a processor callback under the worker's concurrency bound. */
  readonly limit: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The worker's instruments (no-ops when metrics are off). */
  readonly metrics: WorkerMetrics;
  readonly listener: ShardConsumerListener;
}

/** Wraps a failure of the record source, to tell it apart from a processor's. */
class RetrievalFailure extends Error {
  constructor(readonly original: unknown) {
    super('record retrieval failed', { cause: original });
  }
}

/**
 * Drives one shard lease through its life: waits for the parents, creates and initializes
 * the processor, delivers batches one at a time in order, and ends with exactly one of
 * `shardEnded`, `leaseLost` or `shutdownRequested`.
 */
export class ShardConsumer {
  readonly shardId: string;
  /** The lease's key: the shard id, or `account:streamName:creationEpoch:shardId` in a multi-stream table. */
  readonly leaseKey: string;
  /** The stream fields every processor input carries. */
  private readonly streamFields: { readonly streamName: string; readonly streamIdentifier: string };
  private currentState: ShardConsumerState = 'WAITING_ON_PARENTS';
  private stopReason: ShutdownReason | undefined;
  /** Aborted on lease loss or a hard stop: cancels waits and is handed to processRecords. */
  private readonly hard = new AbortController();
  /** Aborted when the consumer should stop waiting for more records (any stop reason). */
  private readonly soft = new AbortController();
  private readonly log: Logger;
  private processor: ShardRecordProcessor | undefined;
  /** Bound to this consumer's holding of the lease: revoked when it ends. */
  private readonly checkpointer: ShardCheckpointer;
  private source: RecordSource | undefined;
  private lastStats = { calls: 0, timeMs: 0, failures: 0, throttled: 0, expiredIterators: 0 };
  private runPromise: Promise<ShutdownReason | undefined> | undefined;
  private failure: unknown;

  constructor(private readonly deps: ShardConsumerDeps) {
    this.leaseKey = deps.lease.leaseKey;
    this.shardId = shardIdOf(deps.lease);
    this.streamFields = { streamName: deps.stream.streamName, streamIdentifier: deps.stream.streamIdentifier };
    this.log = deps.logger.child({ component: 'ShardConsumer', shardId: this.shardId });
    this.checkpointer = new ShardCheckpointer({
      shardId: this.shardId,
      leaseKey: this.leaseKey,
      initialCheckpoint: deps.lease.checkpoint,
      write: (key, update) => deps.leases.updateLease(key, update),
      clock: deps.clock,
      observe: (outcome, ms) => deps.metrics.checkpoint(this.shardId, ms, outcome),
    });
  }

  /** The lease this consumer was started with. */
  get lease(): Lease {
    return this.deps.lease;
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
    this.checkpointer.revoke();
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
    // Stop reading now, not when a batch still in processRecords returns: no further batch is
    // delivered after a stop, and a fan-out subscription left open would go on receiving for a
    // processor that lost its lease (and hold the shard's subscription against the next owner).
    void this.source?.stop();
  }

  private async lifecycle(): Promise<ShutdownReason | undefined> {
    const { lease } = this.deps;
    try {
      if (lease.parentShardIds.length > 0) {
        await this.deps.shardSync.gate.waitUntilCanStart(lease, { signal: this.soft.signal });
      }
      if (this.stopReason) return this.stopReason;

      this.currentState = 'INITIALIZING';
      this.processor = assertProcessor(await this.deps.processorFactory(this.shardId, { shardId: this.shardId, ...this.streamFields }), this.shardId);
      await this.callback(() =>
        this.processor!.initialize({
          shardId: this.shardId,
          ...this.streamFields,
          extendedSequenceNumber: lease.checkpoint,
          ...(lease.pendingCheckpoint && { pendingCheckpointSequenceNumber: lease.pendingCheckpoint }),
          ...(lease.pendingCheckpointState && { pendingCheckpointState: lease.pendingCheckpointState }),
        }),
      );
      if (this.stopReason) return await this.shutdown(this.stopReason);

      this.currentState = 'PROCESSING';
      const start = await this.resolveStart(lease);
      if (this.stopReason) return await this.shutdown(this.stopReason);
      this.source = this.openSource(start);
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
        this.deps.listener.retrievalError(error.original);
      } else {
        this.failure = error;
        this.log.error({ err: error }, 'shard consumer failed');
        this.deps.listener.processorError(error);
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
    const resolved = await this.checkpointer.resolveLatestStart(initialTimestamp);
    this.log.debug({ initialTimestamp }, 'resolved LATEST to AT_TIMESTAMP for every later owner');
    return { ...resolved, checkpoint: lease.checkpoint };
  }

  /** Opens the record source at the lease's position (`AT_TIMESTAMP`: the lease's own timestamp, else the stream's). */
  private openSource(lease: Lease): RecordSource {
    const { stream } = this.deps;
    const initialTimestamp = lease.initialTimestamp !== undefined ? new Date(lease.initialTimestamp) : stream.initialTimestamp;
    return this.deps.recordSources({
      shardId: this.shardId,
      leaseKey: this.leaseKey,
      stream: { streamName: stream.streamName, streamIdentifier: stream.streamIdentifier },
      ...(lease.hashKeyRange && { hashKeyRange: lease.hashKeyRange }),
      start: { checkpoint: lease.checkpoint, ...(initialTimestamp !== undefined && { initialTimestamp }) },
      emptyBatches: this.deps.processing.callProcessRecordsEvenForEmptyList,
      logger: this.deps.logger,
    });
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
      this.recordFetchMetrics();
      // Empty batches come only when asked for (`emptyBatches`), and the shard-end batch.
      if (batch.records.length > 0 || this.deps.processing.callProcessRecordsEvenForEmptyList) {
        await this.deliver(batch);
      }
      if (batch.shardEnded) return batch;
    }
  }

  private async deliver(batch: RecordsBatch): Promise<void> {
    const checkpointer = this.checkpointer;
    const last = batch.records.at(-1);
    const started = this.deps.clock.elapsed();
    let processorMs = 0;
    for (let attempt = 1; ; attempt++) {
      const attemptStarted = this.deps.clock.elapsed();
      if (attempt === 1 && batch.receivedAt !== undefined) this.deps.metrics.deliveryLatency(this.shardId, attemptStarted - batch.receivedAt);
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
            ...this.streamFields,
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
        await this.deps.clock.sleep(this.retryDelay(attempt), this.soft.signal);
      }
    }
    this.deps.metrics.batchProcessed(this.shardId, batch.records.length, batch.records.reduce((n, r) => n + r.data.byteLength, 0), processorMs, this.deps.clock.elapsed() - started);
  }

  /** Throws `LeaseLostError` (and aborts the processor's signal) if the holding is no longer live. */
  private assertHoldingLive(): void {
    if (!this.checkpointer.revoked && this.deps.leases.holds(this.leaseKey)) return;
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
    this.deps.listener.processorError(error);
    const hook = this.deps.processing.onProcessorError;
    if (!hook) return 'retry';
    try {
      return (await hook(error, { shardId: this.shardId, ...(this.streamFields.streamName !== undefined && { streamName: this.streamFields.streamName }), records, attempt })) === 'skip' ? 'skip' : 'retry';
    } catch (hookError) {
      this.log.error({ err: hookError }, 'onProcessorError threw; retrying the batch');
      return 'retry';
    }
  }

  private async shutdown(reason: ShutdownReason, finalBatch?: RecordsBatch): Promise<ShutdownReason> {
    this.currentState = 'SHUTTING_DOWN';
    const processor = this.processor;
    const checkpointer = this.checkpointer;
    if (!processor) return reason;
    try {
      if (reason === 'SHARD_END') {
        await this.endShard(finalBatch?.childShards);
      } else if (reason === 'LEASE_LOST') {
        if (processor.leaseLost) await this.callback(() => processor.leaseLost!({ shardId: this.shardId, ...this.streamFields }));
      } else if (processor.shutdownRequested) {
        await this.callback(() => processor.shutdownRequested!({ shardId: this.shardId, ...this.streamFields, checkpointer }));
      }
    } catch (error) {
      if (isKclError(error, 'LEASE_LOST')) {
        this.log.warn('lease lost during shutdown');
        if (processor.leaseLost && reason !== 'LEASE_LOST') {
          await this.callback(() => processor.leaseLost!({ shardId: this.shardId, ...this.streamFields })).catch(() => undefined);
        }
        return 'LEASE_LOST';
      }
      this.log.error({ err: error, reason }, 'processor shutdown callback failed');
      this.deps.listener.processorError(error);
      // Let the worker start a new consumer for the lease if it still holds it.
      this.failure ??= error;
    }
    return reason;
  }

  /** Creates the children, lets the processor checkpoint SHARD_END (retrying until it does), then reports it. */
  private async endShard(childShards: readonly ChildShard[] | undefined): Promise<void> {
    const processor = this.processor!;
    const checkpointer = this.checkpointer;
    checkpointer.markShardEnd();
    let children: readonly string[] = childShards?.map((c) => c.shardId) ?? [];
    // A worker that lost the parent's lease (a stall past its renewal deadline) must not create
    // children: the owner that took the lease over may have finished them, and lease cleanup
    // deleted their leases since; created again, they would restart at TRIM_HORIZON.
    this.assertHoldingLive();
    try {
      // The processor is told shard ids; the syncer answers lease keys.
      const keys = await this.deps.shardSync.syncer.createChildLeases(this.deps.lease, childShards);
      children = keys.map((key) => parseMultiStreamLeaseKey(key)?.shardId ?? key);
    } catch (error) {
      // Shard sync creates them later; the parent's SHARD_END still gates them correctly.
      this.log.warn({ err: error }, 'creating child leases at shard end failed; shard sync will retry');
    }
    for (let attempt = 1; ; attempt++) {
      try {
        if (processor.shardEnded) {
          await this.callback(() => processor.shardEnded!({ shardId: this.shardId, ...this.streamFields, checkpointer, childShardIds: children }));
        } else {
          await checkpointer.checkpoint();
        }
      } catch (error) {
        if (isKclError(error, 'LEASE_LOST')) throw error;
        // A failing shardEnded (its sink is down, a checkpoint write failed) is called again:
        // the children cannot start before SHARD_END is checkpointed.
        this.log.error({ err: error, attempt }, 'shardEnded failed; calling it again after a backoff');
        this.deps.listener.processorError(error);
      }
      if (checkpointer.shardEndCheckpointed) break;
      this.log.error({ attempt }, 'SHARD_END is not checkpointed yet; children cannot start until it is');
      if (this.stopReason) return;
      await this.deps.clock.sleep(this.retryDelay(attempt), this.soft.signal);
    }
    await this.deps.listener.shardEnded(children);
  }

  /** The pause before calling a failed callback again (attempt 1 = the first failure). */
  private retryDelay(attempt: number): number {
    return exponentialDelay(attempt - 1, this.deps.processing.retryBaseMs, this.deps.processing.retryMaxMs);
  }

  private callback<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.deps.limit(() => runProcessorCallback(this.shardId, fn));
  }

  private recordFetchMetrics(): void {
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
