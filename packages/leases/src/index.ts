/**
 * `@kcl-ts/leases`: the lease table (DynamoDB, Java-KCL-compatible attribute names), the
 * {@link LeaseRefresher} storage interface with DynamoDB and in-memory implementations, and
 * the {@link LeaseCoordinator} that renews, takes and balances leases.
 * @packageDocumentation
 */
export { applyLeaseUpdate, type HashKeyRange, type Lease, type LeaseOwner, type LeaseUpdate, type NewLease } from './lease.js';
export * from './multi-stream.js';
export * from './refresher.js';
export * from './in-memory-refresher.js';
export * from './dynamodb/index.js';
export * from './coordinator/index.js';
