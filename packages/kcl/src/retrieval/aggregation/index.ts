/**
 * KPL aggregation support: deaggregation of Kinesis records and hash-key helpers.
 * @module
 */
export { deaggregate, isAggregated, KPL_MAGIC, type DeaggregationInput, type DeaggregationOptions } from './deaggregate.js';
export { hashKeyForPartitionKey, parseHashKey } from './hash-key.js';
