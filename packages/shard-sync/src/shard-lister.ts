/**
 * The listing surface the syncer, the gate and the cleanup need. {@link ShardDetector}
 * implements it against Kinesis; tests implement it with a fixed list of shards.
 * @module
 */
import type { ShardInfo } from './shard-info.js';

/** Lists the shards of one stream. */
export interface ShardLister {
  /** The stream's name or ARN, for messages. */
  readonly streamLabel: string;
  /** Every shard of the stream: open ones and closed ones still within retention. */
  listShards(signal?: AbortSignal): Promise<ShardInfo[]>;
  /** The children of `parentShardId` (one or two after a split, one after a merge); empty while it is open. */
  listChildShards(parentShardId: string, signal?: AbortSignal): Promise<ShardInfo[]>;
}
