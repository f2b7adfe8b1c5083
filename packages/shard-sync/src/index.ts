/**
 * `@kcl-ts/shard-sync`: keeps the lease table in step with a stream's shards —
 * {@link ShardDetector} (ListShards), {@link ShardSyncer} (a lease per shard with its
 * lineage, hole detection, child leases at shard end), {@link ShardHierarchyGate}
 * (parents before children), {@link LeaseCleanup} and {@link PeriodicShardSync}.
 * @packageDocumentation
 */
export type { ChildShard, HashKeyRange, ShardInfo } from './shard-info.js';
export { isValidStreamName, parseStreamArn, type ParsedStreamArn, type StreamIdentifier } from './stream-identifier.js';
export type { ShardLister } from './shard-lister.js';
export { ShardDetector, type ShardDetectorConfig, type ShardDetectorOptions } from './shard-detector.js';
export { ShardSyncer, type ShardSyncerOptions, type ShardSyncResult } from './shard-syncer.js';
export { ShardHierarchyGate, type ShardHierarchyGateOptions, type WaitUntilCanStartOptions } from './shard-hierarchy-gate.js';
export { LeaseCleanup, LEASE_CLEANUP_DEFAULTS, type LeaseCleanupOptions, type LeaseCleanupResult } from './lease-cleanup.js';
export { PeriodicShardSync, type PeriodicShardSyncConfig, type PeriodicShardSyncOptions } from './periodic-shard-sync.js';
export {
  resolveShardSyncConfig,
  SHARD_SYNC_DEFAULTS,
  type ListShardsConfig,
  type ListShardsOptions,
  type ShardSyncConfig,
  type ShardSyncOptions,
} from './shard-sync-options.js';
