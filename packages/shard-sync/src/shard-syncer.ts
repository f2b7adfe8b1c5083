/**
 * {@link ShardSyncer}: keeps the lease table in step with the stream — a lease for every
 * shard, with its lineage — and creates child leases when a shard ends.
 * @module
 */
import type { HashKeyRange, Lease, LeaseRefresher, NewLease } from '@kcl-ts/leases';
import { assertInitialPosition, extended, silentLogger, type Clock, type InitialPosition, type Logger } from '@kcl-ts/processor';
import { findHashKeyHoles } from './hash-key-space.js';
import { planNewLeases } from './lease-plan.js';
import { isOpenShard, toChildShard, type ChildShard, type ShardInfo } from './shard-info.js';
import type { ShardLister } from './shard-lister.js';

/** Options of {@link ShardSyncer}. */
export interface ShardSyncerOptions {
  /** The lease table. */
  readonly refresher: LeaseRefresher;
  /** Lists the stream's shards (a {@link ShardDetector}). */
  readonly detector: ShardLister;
  /**
   * Where shards with no ancestor known to the lease table start.
   * Java KCL: `initialPositionInStream`.
   */
  readonly initialPosition: InitialPosition;
  /** Accepted like every component's clock; a sync itself never waits, so it is unused today. @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
}

/** What one {@link ShardSyncer.syncShards} run found and did. */
export interface ShardSyncResult {
  /** Number of shards ListShards returned. */
  readonly shards: number;
  /** Lease keys this run created (a lease a peer created first is not listed). */
  readonly leasesCreated: readonly string[];
  /**
   * Parts of the hash-key space no open shard's lease covers AFTER this run's repairs (an
   * open lease is one whose checkpoint is not `SHARD_END`, for a shard ListShards lists as
   * open). Empty when the table is consistent; logged as a warning otherwise.
   */
  readonly holes: readonly HashKeyRange[];
  /**
   * Holes found BEFORE this run created leases, i.e. repaired by it (a missed or new
   * reshard, or a lease deleted by hand). Empty on a table that had no lease at all.
   */
  readonly repairedHoles: readonly HashKeyRange[];
  /** Lease keys of shards ListShards no longer returns (past retention). Deleting them is {@link LeaseCleanup}'s job. */
  readonly garbageLeases: readonly string[];
}

/** Conditional creates in flight at once within one level. */
const CREATE_CONCURRENCY = 16;

/**
 * Creates leases for shards that have none, with their lineage, parents before children,
 * every create conditional — so any number of workers may sync at once and the table ends
 * the same as after one sync. See `planNewLeases` for which shards get a lease and where
 * each starts, and the package README for the rules.
 */
export class ShardSyncer {
  private readonly refresher: LeaseRefresher;
  private readonly detector: ShardLister;
  private readonly initialPosition: InitialPosition;
  private readonly logger: Logger;

  /** @throws TypeError naming an invalid option. */
  constructor(options: ShardSyncerOptions) {
    if (typeof options?.refresher?.createLeaseIfNotExists !== 'function') throw new TypeError(`refresher must be a LeaseRefresher, got ${String(options?.refresher)}`);
    if (typeof options.detector?.listShards !== 'function') throw new TypeError(`detector must be a ShardDetector (ShardLister), got ${String(options.detector)}`);
    assertInitialPosition(options.initialPosition, 'initialPosition');
    this.refresher = options.refresher;
    this.detector = options.detector;
    this.initialPosition = options.initialPosition;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'shard-syncer', stream: options.detector.streamLabel });
  }

  /**
   * One sync: list shards and leases, create the missing leases (parents first), then check
   * that the open shards' leases cover the whole hash-key space and report holes and
   * garbage leases. Safe to run on several workers at once.
   */
  async syncShards(signal?: AbortSignal): Promise<ShardSyncResult> {
    const shards = await this.detector.listShards(signal);
    const leases = await this.refresher.listLeases(signal);
    const present = new Map<string, Lease | NewLease>(leases.map((l) => [l.leaseKey, l] as const));
    const repairedHoles = leases.length > 0 ? openLeaseHoles(shards, present) : [];

    const plan = planNewLeases(shards, leases, this.initialPosition);
    const created: string[] = [];
    for (const level of plan.levels) {
      for (let i = 0; i < level.length; i += CREATE_CONCURRENCY) {
        const batch = level.slice(i, i + CREATE_CONCURRENCY);
        const results = await Promise.all(batch.map((lease) => this.refresher.createLeaseIfNotExists(lease, signal)));
        batch.forEach((lease, j) => {
          // Created here or by a peer in the meantime: either way the lease exists now.
          present.set(lease.leaseKey, lease);
          if (results[j]) created.push(lease.leaseKey);
        });
      }
    }

    const holes = openLeaseHoles(shards, present);
    const shardIds = new Set(shards.map((s) => s.shardId));
    const garbageLeases = leases.filter((l) => !shardIds.has(l.leaseKey)).map((l) => l.leaseKey).sort();
    if (created.length > 0) this.logger.info({ leasesCreated: created, skipped: plan.skipped }, 'created leases for new shards');
    if (repairedHoles.length > 0 && holes.length === 0) this.logger.info({ repairedHoles }, 'repaired holes in the hash-key coverage of the open leases');
    if (holes.length > 0) {
      this.logger.warn({ holes, shards: shards.length }, 'the open leases do not cover the whole hash-key space: records in these ranges are not being processed');
    }
    if (garbageLeases.length > 0) this.logger.debug({ garbageLeases }, 'leases of shards no longer listed (past retention)');
    return { shards: shards.length, leasesCreated: created, holes, repairedHoles, garbageLeases };
  }

  /**
   * At `SHARD_END` of `parentLease`'s shard: creates the children's leases at
   * `TRIM_HORIZON` (a descendant of a shard we read), each recording ALL its parents (both
   * parents of a merge) and its hash-key range, and adds the children to each parent
   * lease's `childShardIds`. The children come from `childShards` (the last GetRecords
   * response's `ChildShards`) or, when that is missing or empty, from ListShards.
   * Conditional creates make a repeat, or two workers doing it at once, harmless.
   *
   * @returns the lease keys this call created (a child a peer created first is not listed).
   */
  async createChildLeases(parentLease: Lease, childShards?: readonly ChildShard[], signal?: AbortSignal): Promise<string[]> {
    const parentId = parentLease.leaseKey;
    let children: readonly ChildShard[] = childShards ?? [];
    if (children.length === 0) {
      children = (await this.detector.listChildShards(parentId, signal)).map(toChildShard);
    }
    if (children.length === 0) {
      this.logger.warn({ shardId: parentId }, 'no child shards found for a shard at SHARD_END; the next shard sync will create them');
      return [];
    }
    const results = await Promise.all(
      children.map((child) =>
        this.refresher.createLeaseIfNotExists(
          {
            leaseKey: child.shardId,
            checkpoint: extended('TRIM_HORIZON'),
            parentShardIds: [...new Set(child.parentShards)].sort(),
            hashKeyRange: child.hashKeyRange,
          },
          signal,
        ),
      ),
    );
    const created = children.filter((_, i) => results[i]).map((c) => c.shardId);

    const childrenByParent = new Map<string, string[]>();
    for (const child of children) {
      for (const parent of new Set([...child.parentShards])) {
        childrenByParent.set(parent, [...(childrenByParent.get(parent) ?? []), child.shardId]);
      }
    }
    for (const [parent, ids] of childrenByParent) {
      const recorded = await this.refresher.addChildShardIds(parent, [...ids].sort(), signal);
      if (!recorded) this.logger.debug({ shardId: parent, childShardIds: ids }, 'parent lease not found while recording child shard ids');
    }
    this.logger.info({ shardId: parentId, childShardIds: children.map((c) => c.shardId), created }, 'created child leases at shard end');
    return created;
  }
}

/**
 * Holes in the coverage of the open leases: leases (or planned leases) whose checkpoint is
 * not `SHARD_END`, for shards ListShards reports open, measured with their ListShards range.
 */
function openLeaseHoles(shards: readonly ShardInfo[], leases: ReadonlyMap<string, Lease | NewLease>): HashKeyRange[] {
  const ranges = shards
    .filter((s) => {
      const lease = leases.get(s.shardId);
      return isOpenShard(s) && lease !== undefined && lease.checkpoint.sequenceNumber !== 'SHARD_END';
    })
    .map((s) => s.hashKeyRange);
  return findHashKeyHoles(ranges);
}
