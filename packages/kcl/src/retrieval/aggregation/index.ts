/**
 * KPL aggregation support: deaggregation of Kinesis records and hash-key helpers.
 * @module
 */
export { deaggregate, isAggregated, KPL_MAGIC, type DeaggregationInput } from './deaggregate.js';
export { hashKeyForPartitionKey } from './hash-key.js';
