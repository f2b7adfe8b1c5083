/**
 * {@link LeaseCleanup}: deletes the leases of finished parents once their children are
 * under way, and the leases of shards past retention.
 * @module
 */
import type { Lease, LeaseRefresher } from '@kcl-ts/leases';
import { numberOption, silentLogger, systemClock, type Clock, type Logger } from '@kcl-ts/processor';
import { ShardGraph, hasProgressed } from './shard-graph.js';
import type { ShardLister } from './shard-lister.js';

/** Options of {@link LeaseCleanup}. */
export interface LeaseCleanupOptions {
  /** The lease table. */
  readonly refresher: LeaseRefresher;
  /** Lists the stream's shards (a {@link ShardDetector}). */
  readonly detector: ShardLister;
  /** Measures `garbageRetentionMs` (monotonic). @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
  /**
   * A garbage lease (shard no longer listed) that is NOT at `SHARD_END` is deleted only when
   * its shard was missing from ListShards in two consecutive runs at least this far apart,
   * so one incomplete listing cannot delete a live lease.
   * Java KCL: `garbageLeaseCleanupIntervalMillis` is the (30 min) interval of its check.
   * @default 60000
   */
  readonly garbageRetentionMs?: number;
}

/** Defaults of {@link LeaseCleanupOptions}. */
export const LEASE_CLEANUP_DEFAULTS = Object.freeze({ garbageRetentionMs: 60_000 });

/** What one {@link LeaseCleanup.run} deleted. */
export interface LeaseCleanupResult {
  /** Lease keys deleted by this run. */
  readonly deleted: string[];
}

/**
 * One cleanup pass over the lease table. Rules:
 *
 * - A lease at `SHARD_END` whose shard is still listed is deleted (conditionally on
 *   `SHARD_END`) only when it has at least one child and EVERY child progressed past its
 *   start: the child's lease has a sequence-number or `SHARD_END` checkpoint (not
 *   `TRIM_HORIZON`/`LATEST`/`AT_TIMESTAMP`), or the child's own lease is already gone after
 *   completion (a descendant of it progressed). Until then the parent lease is what tells
 *   a shard sync not to start the children from the initial position.
 * - A garbage lease (its shard no longer listed: past retention) at `SHARD_END` is deleted
 *   (conditionally on `SHARD_END`).
 * - A garbage lease NOT at `SHARD_END` is deleted only if its shard was missing in this
 *   run and in the previous run of this instance, at least `garbageRetentionMs` earlier.
 */
export class LeaseCleanup {
  private readonly refresher: LeaseRefresher;
  private readonly detector: ShardLister;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly garbageRetentionMs: number;
  /** Unfinished garbage leases seen in the previous run, with when they were first seen missing. */
  private suspects = new Map<string, number>();

  /** @throws TypeError naming an invalid option. */
  constructor(options: LeaseCleanupOptions) {
    if (typeof options?.refresher?.deleteLease !== 'function') throw new TypeError(`refresher must be a LeaseRefresher, got ${String(options?.refresher)}`);
    if (typeof options.detector?.listShards !== 'function') throw new TypeError(`detector must be a ShardDetector (ShardLister), got ${String(options.detector)}`);
    const retention = numberOption(options.garbageRetentionMs, 'garbageRetentionMs', LEASE_CLEANUP_DEFAULTS.garbageRetentionMs, { integer: false });
    this.refresher = options.refresher;
    this.detector = options.detector;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'lease-cleanup', stream: options.detector.streamLabel });
    this.garbageRetentionMs = retention;
  }

  /** One pass: see the class comment for what is deleted. */
  async run(signal?: AbortSignal): Promise<LeaseCleanupResult> {
    const shards = await this.detector.listShards(signal);
    const leases = await this.refresher.listLeases(signal);
    const graph = new ShardGraph(shards);
    const byKey = new Map(leases.map((l) => [l.leaseKey, l] as const));
    const now = this.clock.elapsed();
    const suspects = new Map<string, number>();
    const deleted: string[] = [];

    for (const lease of leases) {
      const ended = lease.checkpoint.sequenceNumber === 'SHARD_END';
      if (!graph.has(lease.leaseKey)) {
        if (ended) {
          if (await this.refresher.deleteLease(lease.leaseKey, { onlyIfShardEnded: true, ...(signal ? { signal } : {}) })) deleted.push(lease.leaseKey);
          continue;
        }
        const firstMissing = this.suspects.get(lease.leaseKey);
        if (firstMissing !== undefined && now - firstMissing >= this.garbageRetentionMs) {
          if (await this.refresher.deleteLease(lease.leaseKey, signal ? { signal } : {})) deleted.push(lease.leaseKey);
        } else {
          suspects.set(lease.leaseKey, firstMissing ?? now);
        }
        continue;
      }
      if (ended && this.childrenProgressed(lease, graph, byKey)) {
        if (await this.refresher.deleteLease(lease.leaseKey, { onlyIfShardEnded: true, ...(signal ? { signal } : {}) })) deleted.push(lease.leaseKey);
      }
    }
    this.suspects = suspects;
    if (deleted.length > 0) this.logger.info({ deleted }, 'deleted finished and garbage leases');
    if (suspects.size > 0) this.logger.debug({ garbageLeases: [...suspects.keys()] }, 'unfinished leases of unlisted shards; deleted if still unlisted next run');
    return { deleted };
  }

  private childrenProgressed(lease: Lease, graph: ShardGraph, leases: ReadonlyMap<string, Lease>): boolean {
    const children = new Set([...graph.childrenOf(lease.leaseKey).map((c) => c.shardId), ...lease.childShardIds]);
    if (children.size === 0) return false;
    for (const child of children) {
      const childLease = leases.get(child);
      const done = childLease ? hasProgressed(childLease) : graph.isCompletedAncestor(child, leases);
      if (!done) return false;
    }
    return true;
  }
}
