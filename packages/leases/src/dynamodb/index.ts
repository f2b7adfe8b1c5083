/**
 * The DynamoDB side of `@kcl-ts/leases`: {@link DynamoDbLeaseRefresher}, its options, the
 * Java-KCL-compatible item (de)serializer (its retries use `withRetries` from `@kcl-ts/processor`).
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
export type { LeaseTableBillingMode } from './lease-table.js';
export {
  ENTITY_TYPE_ATTRIBUTE,
  InvalidLeaseItemError,
  LEASE_ATTRIBUTES,
  itemToLease,
  leaseToItem,
  parseLeaseItem,
  type LeaseItem,
  type ParsedLeaseItem,
} from './lease-serializer.js';
export { isConditionalCheckFailed } from './errors.js';
