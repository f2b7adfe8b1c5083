/**
 * {@link ShardHierarchyGate}: a child shard is not processed before every one of its
 * parents is finished, so per-partition-key order survives splits and merges.
 * @module
 */
import type { Lease, LeaseRefresher } from '@kcl-ts/leases';
import { isKclError, isSequenceNumber, silentLogger, systemClock, type Clock, type Logger, toAbortError } from '@kcl-ts/processor';
import { isOpenShard, type ShardInfo } from './shard-info.js';
import type { ShardLister } from './shard-lister.js';
import { SHARD_SYNC_DEFAULTS, type ShardSyncConfig } from './shard-sync-options.js';

/** Options of {@link ShardHierarchyGate}. */
export interface ShardHierarchyGateOptions {
  /** The lease table (parents are read with strongly consistent `getLease`). */
  readonly refresher: LeaseRefresher;
  /**
   * Confirms, when a parent's lease is missing, that the parent shard is not still open.
   * Without it a missing parent lease counts as finished.
   */
  readonly detector?: ShardLister;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
  /** `shardListMaxAgeMs` (a cached shard list younger than this is reused) and `parentPollIntervalMs`, resolved by {@link resolveShardSyncConfig}. @default SHARD_SYNC_DEFAULTS */
  readonly config?: Pick<ShardSyncConfig, 'shardListMaxAgeMs' | 'parentPollIntervalMs'>;
}

/** Options of {@link ShardHierarchyGate.waitUntilCanStart}. */
export interface WaitUntilCanStartOptions {
  /** Aborts the wait with an `AbortError`. */
  readonly signal?: AbortSignal;
  /**
   * Re-check interval. A parent ending in this process (see
   * {@link ShardHierarchyGate.notifyShardEnded}) wakes the wait at once, so this only
   * bounds the delay for parents finished by other workers.
   * Java KCL: `parentShardPollIntervalMillis` (10,000).
   * @default the gate's `config.parentPollIntervalMs` (1000)
   */
  readonly pollIntervalMs?: number;
}

/** How many recently ended shards the gate remembers (to catch a notification that races a check). */
const REMEMBERED_ENDS = 1024;

/**
 * Decides when a lease's shard may be processed.
 *
 * **The rule.** `canStart(lease)` is true iff, for EVERY id in `lease.parentShardIds`
 * (both parents of a merge):
 * - the parent's lease exists and its checkpoint is `SHARD_END`; or
 * - the parent's lease does not exist (deleted after the parent was read to its end and
 *   all its children progressed, never created because the parent was past retention, or
 *   skipped under `LATEST`) AND — when a detector is configured — ListShards does not show
 *   the parent as an OPEN shard (it is closed, or no longer listed). The shard list is
 *   cached and refreshed only when it is older than `shardListMaxAgeMs` and the missing
 *   parent looks open.
 * A lease without parents can always start.
 */
export class ShardHierarchyGate {
  private readonly refresher: LeaseRefresher;
  private readonly detector: ShardLister | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly config: Pick<ShardSyncConfig, 'shardListMaxAgeMs' | 'parentPollIntervalMs'>;
  private cache: { readonly shards: ReadonlyMap<string, ShardInfo>; readonly at: number } | undefined;
  private refreshing: Promise<ReadonlyMap<string, ShardInfo>> | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private notifications = 0;
  private readonly endedAt = new Map<string, number>();

  /** @throws TypeError naming an invalid option. */
  constructor(options: ShardHierarchyGateOptions) {
    if (typeof options?.refresher?.getLease !== 'function') throw new TypeError(`refresher must be a LeaseRefresher, got ${String(options?.refresher)}`);
    if (options.detector !== undefined && typeof options.detector.listShards !== 'function') {
      throw new TypeError(`detector must be a ShardDetector (ShardLister), got ${String(options.detector)}`);
    }
    this.refresher = options.refresher;
    this.detector = options.detector;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'shard-hierarchy-gate' });
    this.config = options.config ?? SHARD_SYNC_DEFAULTS;
  }

  /** True iff every parent of the lease's shard is finished; see the class comment for the exact rule. */
  async canStart(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    // A child that has progressed was let through once, when its parents were finished (and
    // their leases may since have been cleaned up).
    if (isSequenceNumber(lease.checkpoint.sequenceNumber) || lease.checkpoint.sequenceNumber === 'SHARD_END') return true;
    const verdicts = await Promise.all(lease.parentShardIds.map((parent) => this.parentFinished(parent, signal)));
    return verdicts.every(Boolean);
  }

  /**
   * Resolves once {@link canStart} is true: re-checks every `pollIntervalMs` on the clock,
   * and at once when {@link notifyShardEnded} names one of the parents. Retryable store or
   * listing errors are logged and the wait goes on; others are thrown.
   * @throws AbortError when `signal` aborts.
   */
  async waitUntilCanStart(lease: Lease, options: WaitUntilCanStartOptions = {}): Promise<void> {
    const { signal } = options;
    const pollIntervalMs = options.pollIntervalMs ?? this.config.parentPollIntervalMs;
    if (typeof pollIntervalMs !== 'number' || !Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) {
      throw new TypeError(`pollIntervalMs must be a number > 0, got ${JSON.stringify(pollIntervalMs)}`);
    }
    for (;;) {
      if (signal?.aborted) throw toAbortError(signal, undefined);
      const seen = this.notifications;
      try {
        if (await this.canStart(lease, signal)) return;
      } catch (error) {
        if (signal?.aborted) throw toAbortError(signal, error);
        if (!isKclError(error) || !error.retryable) throw error;
        this.logger.warn({ shardId: lease.leaseKey, err: error }, 'could not check the parent shards; retrying');
      }
      // A parent that ended while we were checking: look again at once.
      if (lease.parentShardIds.some((p) => (this.endedAt.get(p) ?? -1) > seen)) continue;
      await this.sleepUntilNotified(lease.parentShardIds, pollIntervalMs, signal);
    }
  }

  /**
   * The in-process signal that this worker checkpointed `SHARD_END` for `shardId`: wakes
   * every {@link waitUntilCanStart} waiting on it, so a child starts without waiting for the
   * next poll.
   */
  notifyShardEnded(shardId: string): void {
    this.notifications += 1;
    this.endedAt.delete(shardId);
    this.endedAt.set(shardId, this.notifications);
    if (this.endedAt.size > REMEMBERED_ENDS) this.endedAt.delete(this.endedAt.keys().next().value as string);
    for (const wake of [...(this.waiters.get(shardId) ?? [])]) wake();
  }

  private async parentFinished(parentId: string, signal: AbortSignal | undefined): Promise<boolean> {
    const parent = await this.refresher.getLease(parentId, signal);
    if (parent) return parent.checkpoint.sequenceNumber === 'SHARD_END';
    if (!this.detector) return true;
    let shards = await this.shardList(false, signal);
    let shard = shards.get(parentId);
    if (shard && isOpenShard(shard)) {
      shards = await this.shardList(true, signal);
      shard = shards.get(parentId);
    }
    if (shard === undefined) return true; // past retention
    if (isOpenShard(shard)) {
      this.logger.warn({ parentShardId: parentId }, 'a parent shard is open but has no lease; the child waits for a shard sync');
      return false;
    }
    // Closed, still listed, and no lease. Cleanup cannot have deleted it (it waits for the
    // children to progress, and this child has not). If it descends from a shard that has a
    // lease, it is part of the history this application reads and its lease is yet to be
    // created (by the next shard sync): wait. Otherwise the initial position skipped it.
    if (await this.hasLeasedAncestor(shard, shards, signal)) {
      this.logger.warn({ parentShardId: parentId }, 'a closed parent shard has no lease yet; the child waits for a shard sync');
      return false;
    }
    return true;
  }

  /** True if an ancestor of `shard` (by ListShards' lineage) has a lease. */
  private async hasLeasedAncestor(shard: ShardInfo, shards: ReadonlyMap<string, ShardInfo>, signal: AbortSignal | undefined): Promise<boolean> {
    const seen = new Set<string>();
    const queue = [shard.parentShardId, shard.adjacentParentShardId].filter((id): id is string => id !== undefined);
    while (queue.length > 0 && seen.size < 1_000) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if ((await this.refresher.getLease(id, signal)) !== undefined) return true;
      const info = shards.get(id);
      if (info?.parentShardId !== undefined) queue.push(info.parentShardId);
      if (info?.adjacentParentShardId !== undefined) queue.push(info.adjacentParentShardId);
    }
    return false;
  }

  /** The cached shard list; with `refresh`, a new one if the cache is older than the max age. */
  private async shardList(refresh: boolean, signal: AbortSignal | undefined): Promise<ReadonlyMap<string, ShardInfo>> {
    const cache = this.cache;
    if (cache && (!refresh || this.clock.elapsed() - cache.at < this.config.shardListMaxAgeMs)) return cache.shards;
    if (!this.refreshing) {
      const detector = this.detector!;
      this.refreshing = detector
        .listShards(signal)
        .then((list) => {
          const shards = new Map(list.map((s) => [s.shardId, s] as const));
          this.cache = { shards, at: this.clock.elapsed() };
          return shards;
        })
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    return this.refreshing;
  }

  private sleepUntilNotified(parents: readonly string[], ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = new AbortController();
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        for (const p of parents) {
          const set = this.waiters.get(p);
          set?.delete(wake);
          if (set?.size === 0) this.waiters.delete(p);
        }
        signal?.removeEventListener('abort', onAbort);
        timer.abort();
        if (error) reject(error);
        else resolve();
      };
      const wake = (): void => finish();
      const onAbort = (): void => finish(toAbortError(signal!, undefined));
      for (const p of parents) {
        const set = this.waiters.get(p) ?? new Set();
        set.add(wake);
        this.waiters.set(p, set);
      }
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.clock.sleep(ms, timer.signal).then(
        () => finish(),
        () => undefined, // cancelled by finish()
      );
    });
  }
}
