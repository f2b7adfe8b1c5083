/**
 * `@kcl-ts/shard-sync`: keeps the lease table in step with a stream's shards —
 * {@link ShardDetector} (ListShards), {@link ShardSyncer} (a lease per shard with its
 * lineage, hole detection, child leases at shard end), {@link ShardHierarchyGate}
 * (parents before children), {@link LeaseCleanup} and {@link PeriodicShardSync}.
 * @packageDocumentation
 */
export type { ChildShard, HashKeyRange, ShardInfo } from './shard-info.js';
export { parseStreamArn, type ParsedStreamArn, type StreamIdentifier } from './stream-identifier.js';
export type { ShardLister } from './shard-lister.js';
export {
  ShardDetector,
  SHARD_DETECTOR_DEFAULTS,
  resolveShardDetectorConfig,
  type ShardDetectorConfig,
  type ShardDetectorOptions,
} from './shard-detector.js';
export { ShardSyncer, type ShardSyncerOptions, type ShardSyncResult } from './shard-syncer.js';
export {
  ShardHierarchyGate,
  SHARD_HIERARCHY_GATE_DEFAULTS,
  type ShardHierarchyGateOptions,
  type WaitUntilCanStartOptions,
} from './shard-hierarchy-gate.js';
export { LeaseCleanup, LEASE_CLEANUP_DEFAULTS, type LeaseCleanupOptions, type LeaseCleanupResult } from './lease-cleanup.js';
export {
  PeriodicShardSync,
  PERIODIC_SHARD_SYNC_DEFAULTS,
  resolvePeriodicShardSyncConfig,
  type PeriodicShardSyncConfig,
  type PeriodicShardSyncOptions,
} from './periodic-shard-sync.js';
