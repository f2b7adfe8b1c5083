/**
 * The DynamoDB side of `@kcl-ts/leases`: {@link DynamoDbLeaseRefresher}, its options, the
 * Java-KCL-compatible item format (its retries use `withRetries` from `@kcl-ts/processor`).
 * @module
 */
export { DynamoDbLeaseRefresher } from './dynamodb-lease-refresher.js';
export {
  DYNAMODB_LEASE_REFRESHER_DEFAULTS,
  LEASE_TABLE_OPTION_KEYS,
  resolveDynamoDbLeaseRefresherConfig,
  type LeaseTableOptions,
  type DynamoDbLeaseRefresherConfig,
  type DynamoDbLeaseRefresherOptions,
} from './refresher-options.js';
export { LEASE_OWNER_INDEX, type LeaseTableBillingMode } from './lease-table.js';
export { InvalidLeaseItemError, leaseToItem, type LeaseItem } from './lease-serializer.js';
