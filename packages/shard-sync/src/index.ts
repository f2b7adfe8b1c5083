/**
 * `@kcl-ts/shard-sync`: keeps the lease table in step with a stream's shards —
 * {@link ShardDetector} (ListShards), {@link ShardSyncer} (a lease per shard with its
 * lineage, hole detection, child leases at shard end), {@link ShardHierarchyGate}
 * (parents before children), {@link LeaseCleanup} and {@link PeriodicShardSync}.
 * @packageDocumentation
 */
export * from './shard-info.js';
export * from './stream-identifier.js';
export * from './hash-key-space.js';
export * from './shard-lister.js';
export * from './shard-detector.js';
export * from './shard-graph.js';
export * from './lease-plan.js';
export * from './shard-syncer.js';
export * from './shard-hierarchy-gate.js';
export * from './lease-cleanup.js';
export * from './periodic-shard-sync.js';
export * from './shard-sync-options.js';
