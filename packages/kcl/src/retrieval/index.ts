/**
 * Record retrieval: polling a shard with GetRecords, or enhanced fan-out (SubscribeToShard),
 * into a bounded prefetch queue, and KPL
 * deaggregation.
 * @module
 */
export * from './types.js';
export {
  RETRIEVAL_DEFAULTS,
  resolveRetrievalConfig,
  type FanOutConfig,
  type FanOutOptions,
  type PollingOptions,
  type RetrievalConfig,
  type RetrievalMode,
  type RetrievalOptions,
} from './options.js';
export { PollingRecordsFetcher, type PollingRecordsFetcherDeps } from './polling-fetcher.js';
export { PrefetchBudget } from './prefetch-budget.js';
export * from './aggregation/index.js';
export {
  FanOutRecordsFetcher,
  MIN_SUBSCRIBE_SPACING_MS,
  type FanOutListener,
  type FanOutRecordsFetcherDeps,
  type FanOutStats,
  type SubscribeToShardClient,
  type SubscriptionReason,
} from './fanout-fetcher.js';
export {
  registerStreamConsumer,
  type RegisteredStreamConsumer,
  type StreamConsumerClient,
  type StreamConsumerRegistrationOptions,
} from './stream-consumer-registration.js';
