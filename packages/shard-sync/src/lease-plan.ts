/**
 * Which shards get a new lease, and where each starts: the pure core of shard sync.
 * @module
 */
import type { Lease, NewLease } from '@kcl-ts/leases';
import { extended, type InitialPosition } from '@kcl-ts/processor';
import { isOpenShard, parentShardIdsOf, type ShardInfo } from './shard-info.js';
import { ShardGraph } from './shard-graph.js';

/** New leases to create, level by level: every parent in a level before its children's. */
export interface LeasePlan {
  /** Levels of new leases; create one level fully before the next. */
  readonly levels: readonly (readonly NewLease[])[];
  /** Closed shards deliberately left without a lease, with the reason. */
  readonly skipped: readonly { readonly shardId: string; readonly reason: 'completed' | 'latest' }[];
}

/**
 * Plans the leases a sync creates. For each listed shard without a lease, parents first:
 *
 * 1. A closed shard with a descendant whose lease progressed past its start (a sequence
 *    number or `SHARD_END`) was read and cleaned up before: skipped (`completed`).
 * 2. If a parent has a lease, or had one (rule 1), the shard descends from a shard we read:
 *    it starts at `TRIM_HORIZON`, so nothing between parent and child is skipped.
 * 3. If a parent gets a lease in this same plan, the shard starts where that lineage
 *    starts: `TRIM_HORIZON`, or `AT_TIMESTAMP` (same timestamp) when every planned parent
 *    starts at `AT_TIMESTAMP` — a child's records are all newer than its parents', so that
 *    skips nothing the position asked for.
 * 4. Otherwise no ancestor is known to the table and the initial position applies:
 *    `TRIM_HORIZON` and `{ timestamp }` create the lease (closed shards too: parents are
 *    read first, then children); `LATEST` creates it only for an open shard — reading a
 *    closed shard from its tip yields nothing, so it is skipped (`latest`).
 *
 * Every new lease records its parents (`parentShardId` and `adjacentParentShardId`,
 * sorted) and its hash-key range.
 */
export function planNewLeases(shards: readonly ShardInfo[], existing: readonly Lease[], initialPosition: InitialPosition): LeasePlan {
  const graph = new ShardGraph(shards);
  const leases = new Map(existing.map((l) => [l.leaseKey, l] as const));
  const planned = new Map<string, NewLease>();
  const levels: NewLease[][] = [];
  const levelByKey = new Map<string, number>();
  const skipped: { shardId: string; reason: 'completed' | 'latest' }[] = [];

  for (const shard of graph.shardsParentsFirst) {
    if (leases.has(shard.shardId)) continue;
    if (graph.isCompletedAncestor(shard.shardId, leases)) {
      skipped.push({ shardId: shard.shardId, reason: 'completed' });
      continue;
    }
    const parents = parentShardIdsOf(shard);
    const readParent = parents.some((p) => leases.has(p) || graph.isCompletedAncestor(p, leases));
    const plannedParents = parents.flatMap((p) => planned.get(p) ?? []);
    let start: Pick<NewLease, 'checkpoint' | 'initialTimestamp'>;
    if (readParent) {
      start = { checkpoint: extended('TRIM_HORIZON') };
    } else if (plannedParents.length > 0) {
      const first = plannedParents[0]!;
      const allAtTimestamp = plannedParents.every((p) => p.checkpoint.sequenceNumber === 'AT_TIMESTAMP' && p.initialTimestamp === first.initialTimestamp);
      start = allAtTimestamp && first.initialTimestamp !== undefined
        ? { checkpoint: extended('AT_TIMESTAMP'), initialTimestamp: first.initialTimestamp }
        : { checkpoint: extended('TRIM_HORIZON') };
    } else if (initialPosition === 'LATEST') {
      if (!isOpenShard(shard)) {
        skipped.push({ shardId: shard.shardId, reason: 'latest' });
        continue;
      }
      start = { checkpoint: extended('LATEST') };
    } else if (initialPosition === 'TRIM_HORIZON') {
      start = { checkpoint: extended('TRIM_HORIZON') };
    } else {
      start = { checkpoint: extended('AT_TIMESTAMP'), initialTimestamp: initialPosition.timestamp.getTime() };
    }
    const lease: NewLease = { leaseKey: shard.shardId, parentShardIds: parents, hashKeyRange: shard.hashKeyRange, ...start };
    planned.set(shard.shardId, lease);
    const level = Math.max(0, ...parents.map((p) => (levelByKey.get(p) ?? -1) + 1));
    levelByKey.set(shard.shardId, level);
    (levels[level] ??= []).push(lease);
  }
  return { levels: levels.filter((l) => l.length > 0), skipped };
}
