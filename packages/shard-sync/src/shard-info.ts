/**
 * The shard model of `@kcl-ts/shard-sync`: what ListShards tells us about one shard, and
 * what a GetRecords response at the end of a shard tells us about its children.
 * @module
 */
import type { Shard } from '@aws-sdk/client-kinesis';
import type { HashKeyRange } from '@kcl-ts/leases';

export type { HashKeyRange } from '@kcl-ts/leases';

/** One shard as ListShards describes it, in the library's spelling. */
export interface ShardInfo {
  /** The shard id, e.g. `shardId-000000000003`. */
  readonly shardId: string;
  /** The shard this one was split from, or the first parent of a merge. */
  readonly parentShardId?: string;
  /** The second parent of a merge. */
  readonly adjacentParentShardId?: string;
  /** The hash keys this shard owns (inclusive, decimal 128-bit integers). */
  readonly hashKeyRange: HashKeyRange;
  /** Sequence number of the shard's first record slot. */
  readonly startingSequenceNumber: string;
  /** Set once the shard is closed (by a split or a merge); absent while it is open. */
  readonly endingSequenceNumber?: string;
}

/**
 * A child shard as listed in the `ChildShards` of the last GetRecords response of a closed
 * shard (same shape as the Kinesis API's `ChildShard`, in the library's spelling).
 */
export interface ChildShard {
  /** The child's shard id. */
  readonly shardId: string;
  /** Every parent of the child: one after a split, two after a merge. */
  readonly parentShards: readonly string[];
  /** The hash keys the child owns. */
  readonly hashKeyRange: HashKeyRange;
}

/** True while the shard accepts writes (ListShards gives it no ending sequence number). */
export function isOpenShard(shard: ShardInfo): boolean {
  return shard.endingSequenceNumber === undefined;
}

/**
 * The parents of a shard as a lease records them: `parentShardId` and
 * `adjacentParentShardId`, without the missing ones, sorted and without duplicates.
 */
export function parentShardIdsOf(shard: ShardInfo): string[] {
  const ids = [shard.parentShardId, shard.adjacentParentShardId].filter((id): id is string => id !== undefined && id !== '');
  return [...new Set(ids)].sort();
}

/** The {@link ChildShard} form of a shard listed by ListShards. */
export function toChildShard(shard: ShardInfo): ChildShard {
  return { shardId: shard.shardId, parentShards: parentShardIdsOf(shard), hashKeyRange: shard.hashKeyRange };
}

/**
 * Converts an AWS SDK `Shard` (ListShards output) to a {@link ShardInfo}.
 * @throws TypeError when the endpoint returned a shard without id, hash-key range or starting sequence number.
 */
export function shardFromSdk(shard: Shard): ShardInfo {
  const start = shard.HashKeyRange?.StartingHashKey;
  const end = shard.HashKeyRange?.EndingHashKey;
  const startingSequenceNumber = shard.SequenceNumberRange?.StartingSequenceNumber;
  if (!shard.ShardId || start === undefined || end === undefined || startingSequenceNumber === undefined) {
    throw new TypeError(`ListShards returned an incomplete shard: ${JSON.stringify(shard)}`);
  }
  const ending = shard.SequenceNumberRange?.EndingSequenceNumber;
  return {
    shardId: shard.ShardId,
    ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
    ...(shard.AdjacentParentShardId ? { adjacentParentShardId: shard.AdjacentParentShardId } : {}),
    hashKeyRange: { startingHashKey: start, endingHashKey: end },
    startingSequenceNumber,
    ...(ending !== undefined && ending !== null ? { endingSequenceNumber: ending } : {}),
  };
}

/**
 * Converts the `ChildShards` entries of a GetRecords response (AWS SDK shape) to
 * {@link ChildShard}s, so a consumer can pass them to `ShardSyncer.createChildLeases`.
 * @throws TypeError on an entry without shard id, parents or hash-key range.
 */
export function childShardsFromSdk(
  children: readonly { ShardId?: string | undefined; ParentShards?: string[] | undefined; HashKeyRange?: { StartingHashKey?: string | undefined; EndingHashKey?: string | undefined } | undefined }[],
): ChildShard[] {
  return children.map((child) => {
    const start = child.HashKeyRange?.StartingHashKey;
    const end = child.HashKeyRange?.EndingHashKey;
    if (!child.ShardId || !child.ParentShards || child.ParentShards.length === 0 || start === undefined || end === undefined) {
      throw new TypeError(`GetRecords returned an incomplete child shard: ${JSON.stringify(child)}`);
    }
    return { shardId: child.ShardId, parentShards: [...new Set(child.ParentShards)].sort(), hashKeyRange: { startingHashKey: start, endingHashKey: end } };
  });
}
