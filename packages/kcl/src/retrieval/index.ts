/**
 * Record retrieval: polling a shard with GetRecords into a bounded prefetch queue, and KPL
 * deaggregation.
 * @module
 */
export * from './types.js';
export { RETRIEVAL_DEFAULTS, resolveRetrievalConfig, type RetrievalConfig, type RetrievalOptions } from './options.js';
export { PollingRecordsFetcher, type PollingRecordsFetcherDeps } from './polling-fetcher.js';
export { PrefetchBudget } from './prefetch-budget.js';
export * from './aggregation/index.js';
