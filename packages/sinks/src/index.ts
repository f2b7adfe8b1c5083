/**
 * `@kcl-ts/sinks`: checkpoint-safe sinks for kcl-ts. A {@link BatchingProcessor} buffers
 * records by count, bytes and age, writes them through a {@link Sink} and checkpoints exactly
 * the last record of every successful flush. The sinks live in subpath exports, so each one
 * loads only its own client library:
 *
 * - `@kcl-ts/sinks/dynamodb` — `DynamoDbSink` (BatchWriteItem, or conditional puts that keep the newest version);
 * - `@kcl-ts/sinks/s3` — `S3Sink` (one NDJSON object per flush, deterministic keys, gzip, multipart);
 * - `@kcl-ts/sinks/postgres` — `PostgresSink` (`INSERT … ON CONFLICT` upserts through `pg`);
 * - `@kcl-ts/sinks/lambda` — `toLambdaHandler`: the same processor on Lambda's Kinesis event source.
 * @packageDocumentation
 */
export { BatchingProcessor, batchingProcessorFactory, defaultSinkErrorKind } from './batching-processor.js';
export {
  resolveBatchingProcessorConfig,
  BATCHING_DEFAULTS,
  type BatchingProcessorOptions,
  type BatchingProcessorConfig,
  type BatchingOptions,
  type FlushRetryOptions,
  type RecordTransform,
  type TransformContext,
} from './options.js';
export type { Sink, SinkBatch, SinkEntry, SinkWriteContext, SinkWriteResult, SinkErrorKind } from './sink.js';
export { flushDatums, flushSamples, publishFlush, type FlushReport, type FlushTrigger } from './metrics.js';
export { SinkWriteError, IncompleteWriteError } from './errors.js';
export { recordId, recordIdentity, sortablePosition, comparePositions, type RecordIdentity, type RecordPosition } from './position.js';
