/**
 * {@link ShardGraph}: the lineage of a stream's shards (parents, children, depth) as
 * ListShards reports it, plus the lease predicates the syncer and the cleanup share.
 * @module
 */
import type { Lease } from '@kcl-ts/leases';
import { isSentinel } from '@kcl-ts/processor';
import { isOpenShard, parentShardIdsOf, type ShardInfo } from './shard-info.js';

/**
 * True once a lease's processor got past the start of its shard: its checkpoint is a
 * sequence number or `SHARD_END` (not `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP`).
 */
export function hasProgressed(lease: Lease): boolean {
  const seq = lease.checkpoint.sequenceNumber;
  return seq === 'SHARD_END' || !isSentinel(seq);
}

/** The parent/child relations of a set of shards. Shards outside the set (past retention) are simply absent. */
export class ShardGraph {
  private readonly byId = new Map<string, ShardInfo>();
  private readonly children = new Map<string, ShardInfo[]>();
  private readonly depths = new Map<string, number>();

  constructor(shards: Iterable<ShardInfo>) {
    for (const shard of shards) this.byId.set(shard.shardId, shard);
    for (const shard of this.byId.values()) {
      for (const parent of parentShardIdsOf(shard)) {
        const list = this.children.get(parent) ?? [];
        list.push(shard);
        this.children.set(parent, list);
      }
    }
  }

  /** Every shard, parents before children (by depth, then shard id). */
  get shardsParentsFirst(): ShardInfo[] {
    return [...this.byId.values()].sort((a, b) => this.depth(a.shardId) - this.depth(b.shardId) || (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0));
  }

  /** The shard with this id, if listed. */
  get(shardId: string): ShardInfo | undefined {
    return this.byId.get(shardId);
  }

  /** True if the shard is listed. */
  has(shardId: string): boolean {
    return this.byId.has(shardId);
  }

  /** Number of listed shards. */
  get size(): number {
    return this.byId.size;
  }

  /** The listed children of a shard (one or two after a split, one after a merge). */
  childrenOf(shardId: string): readonly ShardInfo[] {
    return this.children.get(shardId) ?? [];
  }

  /** 0 for a shard with no listed parent, else 1 + the deepest listed parent's depth. */
  depth(shardId: string, visiting: Set<string> = new Set()): number {
    const known = this.depths.get(shardId);
    if (known !== undefined) return known;
    const shard = this.byId.get(shardId);
    if (!shard || visiting.has(shardId)) return 0; // unknown, or a cycle in a broken listing
    visiting.add(shardId);
    let depth = 0;
    for (const parent of parentShardIdsOf(shard)) {
      if (this.byId.has(parent)) depth = Math.max(depth, this.depth(parent, visiting) + 1);
    }
    visiting.delete(shardId);
    this.depths.set(shardId, depth);
    return depth;
  }

  /** Every listed descendant of a shard (children, their children, ...), each once. */
  descendantsOf(shardId: string): ShardInfo[] {
    const seen = new Set<string>();
    const out: ShardInfo[] = [];
    const stack = [...this.childrenOf(shardId)];
    while (stack.length > 0) {
      const shard = stack.pop()!;
      if (seen.has(shard.shardId) || shard.shardId === shardId) continue;
      seen.add(shard.shardId);
      out.push(shard);
      stack.push(...this.childrenOf(shard.shardId));
    }
    return out;
  }

  /**
   * True if the shard is closed and some descendant has a lease that progressed past its
   * start: the shard itself was read to its end and its lease deleted afterwards (a parent
   * lease is only deleted once all its children progressed), so it must not be re-created.
   */
  isCompletedAncestor(shardId: string, leases: ReadonlyMap<string, Lease>): boolean {
    const shard = this.byId.get(shardId);
    if (!shard || isOpenShard(shard)) return false;
    return this.descendantsOf(shardId).some((d) => {
      const lease = leases.get(d.shardId);
      return lease !== undefined && hasProgressed(lease);
    });
  }
}
