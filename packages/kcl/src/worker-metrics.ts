import type { LeaseLostReason, RenewerRunSummary, TakerRunSummary } from '@kcl-ts/leases';
import type { ShardSyncResult } from '@kcl-ts/shard-sync';
import type { MetricsCollector } from './metrics.js';
import type { SubscriptionReason } from './retrieval/index.js';

/**
 * The instruments of a Worker, one method per event, with the Java KCL's operation and metric
 * names where one exists (`ProcessTask`/`RecordsProcessed`, `RenewAllLeases`/`CurrentLeases`,
 * `TakeLeases`/`TakenLeases`, `ShardSyncTask`, `KinesisDataFetcher.getRecords.Time`, ...).
 * Every method is a no-op without a collector.
 * @internal
 */
export class WorkerMetrics {
  constructor(
    private readonly collector: MetricsCollector | undefined,
    private readonly workerId: string,
    /** The `StreamId` dimension; `undefined` for the worker-wide metrics of a multi-stream application, which span streams. */
    private readonly streamId: string | undefined,
  ) {}

  /** The same instruments with `StreamId` = `streamId` (the per-shard metrics of one stream of a multi-stream worker). */
  forStream(streamId: string): WorkerMetrics {
    return new WorkerMetrics(this.collector, this.workerId, streamId);
  }

  private stream(): { StreamId?: string } {
    return this.streamId === undefined ? {} : { StreamId: this.streamId };
  }

  private shard(shardId: string): { Operation: string; ShardId: string; StreamId?: string; WorkerIdentifier: string } {
    return { Operation: 'ProcessTask', ShardId: shardId, ...this.stream(), WorkerIdentifier: this.workerId };
  }

  private worker(operation: string): { Operation: string; StreamId?: string; WorkerIdentifier: string } {
    return { Operation: operation, ...this.stream(), WorkerIdentifier: this.workerId };
  }

  /** A batch whose `processRecords` returned. */
  batchProcessed(shardId: string, records: number, bytes: number, processorMs: number, totalMs: number): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.shard(shardId);
    c.record('SUMMARY', 'counter', 'RecordsProcessed', records, 'Count', dims);
    c.record('SUMMARY', 'counter', 'DataBytesProcessed', bytes, 'Bytes', dims);
    c.record('SUMMARY', 'timer', 'RecordProcessor.processRecords.Time', processorMs, 'Milliseconds', dims);
    c.record('SUMMARY', 'timer', 'Time', totalMs, 'Milliseconds', dims);
    c.record('SUMMARY', 'counter', 'Success', 1, 'Count', dims);
  }

  /**
   * The pipeline's own latency for a batch: from its arrival (the GetRecords response, or the
   * SubscribeToShard event in fan-out) to the `processRecords` call, queueing behind earlier
   * batches included. Recorded once per batch, before its first attempt.
   */
  deliveryLatency(shardId: string, ms: number): void {
    this.collector?.record('SUMMARY', 'timer', 'DeliveryLatency', ms, 'Milliseconds', this.shard(shardId));
  }

  /** A processor callback (or the factory) threw. */
  processorError(shardId: string): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.shard(shardId);
    c.record('SUMMARY', 'counter', 'ProcessorErrors', 1, 'Count', dims);
    c.record('SUMMARY', 'counter', 'Success', 0, 'Count', dims);
  }

  /** The lag of a shard, from its latest GetRecords (delivered or not), sampled every interval. */
  millisBehindLatest(shardId: string, ms: number): void {
    this.collector?.record('SUMMARY', 'gauge', 'MillisBehindLatest', ms, 'Milliseconds', this.shard(shardId));
  }

  /**
   * The largest lag over the shards this worker holds, without `ShardId` or `WorkerIdentifier`
   * (operation `ApplicationTracker`): the Maximum statistic of this one metric over the whole
   * fleet is what a single lag alarm watches.
   */
  maxMillisBehindLatest(ms: number): void {
    this.collector?.record('SUMMARY', 'gauge', 'MillisBehindLatest', ms, 'Milliseconds', { Operation: 'ApplicationTracker', ...this.stream() });
  }

  /** Retrieval counters since the last report of a shard's record source. */
  retrieval(shardId: string, delta: { calls: number; timeMs: number; failures: number; throttled: number; expiredIterators: number }): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.shard(shardId);
    if (delta.calls > 0) {
      c.record('DETAILED', 'timer', 'KinesisDataFetcher.getRecords.Time', delta.timeMs / delta.calls, 'Milliseconds', dims);
      c.record('DETAILED', 'counter', 'KinesisDataFetcher.getRecords.Success', delta.calls - delta.failures, 'Count', dims);
    }
    if (delta.throttled > 0) c.record('DETAILED', 'counter', 'ThrottledRequests', delta.throttled, 'Count', dims);
    if (delta.expiredIterators > 0) c.record('SUMMARY', 'counter', 'ExpiredIterator', delta.expiredIterators, 'Count', dims);
  }

  /**
   * An enhanced fan-out event stream opened (SubscribeToShard succeeded), by why it was
   * (re)started: `initial`, `stream-ended` (Kinesis ends each stream after ~5 minutes),
   * `stream-failed`, `stream-silent` (no event for 60 s) or `resumed`.
   */
  subscribed(shardId: string, reason: SubscriptionReason): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.shard(shardId);
    c.record('DETAILED', 'counter', 'SubscribeToShard.Success', 1, 'Count', dims);
    c.record('DETAILED', 'counter', `SubscribeToShard.Reason.${reason}`, 1, 'Count', dims);
  }

  /** SubscribeToShard answered `ResourceInUseException` (a previous subscription is still open). */
  subscribeResourceInUse(shardId: string): void {
    this.collector?.record('DETAILED', 'counter', 'SubscribeToShard.ResourceInUse', 1, 'Count', this.shard(shardId));
  }

  /** SubscribeToShard was throttled (`LimitExceededException`). */
  subscribeLimitExceeded(shardId: string): void {
    this.collector?.record('DETAILED', 'counter', 'SubscribeToShard.LimitExceeded', 1, 'Count', this.shard(shardId));
  }

  /** A checkpoint write: accepted, rejected by the lease fence, or failed. */
  checkpoint(shardId: string, ms: number, outcome: 'ok' | 'rejected' | 'failed'): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.shard(shardId);
    c.record('DETAILED', 'timer', 'UpdateLease.Time', ms, 'Milliseconds', dims);
    c.record('DETAILED', 'counter', 'UpdateLease.Success', outcome === 'ok' ? 1 : 0, 'Count', dims);
    if (outcome === 'rejected') c.record('SUMMARY', 'counter', 'CheckpointRejected', 1, 'Count', dims);
  }

  /** One renewal round of the lease coordinator. */
  renewRound(summary: RenewerRunSummary): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.worker('RenewAllLeases');
    c.record('SUMMARY', 'timer', 'Time', summary.durationMs, 'Milliseconds', dims);
    c.record('SUMMARY', 'counter', 'Success', summary.failed === 0 ? 1 : 0, 'Count', dims);
    c.record('SUMMARY', 'gauge', 'CurrentLeases', summary.held, 'Count', dims);
    c.record('DETAILED', 'counter', 'RenewLease.Success', summary.renewed, 'Count', dims);
  }

  /** One taker round of the lease coordinator. */
  takerRound(summary: TakerRunSummary): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.worker('TakeLeases');
    c.record('SUMMARY', 'timer', 'Time', summary.durationMs, 'Milliseconds', dims);
    c.record('SUMMARY', 'counter', 'Success', 1, 'Count', dims);
    c.record('SUMMARY', 'counter', 'TakenLeases', summary.taken.length + summary.adopted.length, 'Count', dims);
    c.record('SUMMARY', 'counter', 'StolenLeases', summary.stolen.length, 'Count', dims);
    c.record('DETAILED', 'counter', 'HandoffsRequested', summary.handoffsRequested.length, 'Count', dims);
    c.record('DETAILED', 'gauge', 'TotalLeases', summary.leasesSeen, 'Count', dims);
    c.record('DETAILED', 'gauge', 'NumWorkers', summary.liveWorkers, 'Count', dims);
    c.record('DETAILED', 'gauge', 'NeededLeases', Math.max(0, summary.target - summary.held), 'Count', dims);
  }

  /** A taker round whose scan failed. */
  takerRoundFailed(): void {
    this.collector?.record('SUMMARY', 'counter', 'Success', 0, 'Count', this.worker('TakeLeases'));
  }

  /** A lease this worker stopped holding, by reason. */
  leaseLost(reason: LeaseLostReason): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.worker('RenewAllLeases');
    c.record('SUMMARY', 'counter', 'LostLeases', 1, 'Count', dims);
    c.record('DETAILED', 'counter', `LostLeases.${reason}`, 1, 'Count', dims);
  }

  /** A graceful handoff this worker performed as the owner (drain, checkpoint, transfer). */
  handoff(ms: number): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.worker('RenewAllLeases');
    c.record('SUMMARY', 'counter', 'HandedOffLeases', 1, 'Count', dims);
    c.record('DETAILED', 'timer', 'Handoff.Time', ms, 'Milliseconds', dims);
  }

  /** Leases held right now (sampled every interval). */
  leasesHeld(n: number): void {
    this.collector?.record('SUMMARY', 'gauge', 'LeasesHeld', n, 'Count', this.worker('RenewAllLeases'));
  }

  /** Lease-table items that are not valid leases, each counted once. */
  invalidLeaseItem(): void {
    this.collector?.record('SUMMARY', 'counter', 'InvalidLeaseItems', 1, 'Count', this.worker('TakeLeases'));
  }

  /** One shard sync run (by the leader, or requested). */
  shardSync(result: ShardSyncResult | undefined, ms: number): void {
    const c = this.collector;
    if (!c) return;
    const dims = this.worker('ShardSyncTask');
    c.record('SUMMARY', 'timer', 'Time', ms, 'Milliseconds', dims);
    c.record('SUMMARY', 'counter', 'Success', result ? 1 : 0, 'Count', dims);
    if (!result) return;
    c.record('SUMMARY', 'counter', 'HolesFound', result.repairedHoles.length + result.holes.length, 'Count', dims);
    c.record('DETAILED', 'counter', 'LeasesCreated', result.leasesCreated.length, 'Count', dims);
  }
}
