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
  type PollingOptions,
  type RetrievalConfig,
  type RetrievalOptions,
} from './options.js';
export { PollingRecordsFetcher } from './polling-fetcher.js';
export { PrefetchBudget } from './prefetch-budget.js';
export * from './aggregation/index.js';
export {
  FanOutRecordsFetcher,
  MAX_EVENT_SILENCE_MS,
  MIN_SUBSCRIBE_SPACING_MS,
  type FanOutRecordsFetcherDeps,
  type SubscriptionReason,
} from './fanout-fetcher.js';
export {
  registerStreamConsumer,
} from './stream-consumer-registration.js';
