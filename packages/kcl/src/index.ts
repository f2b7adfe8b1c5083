/**
 * `@kcl-ts/kcl`: the Kinesis Client Library for TypeScript. Implement a
 * {@link ShardRecordProcessor}, start a {@link Worker}, and the fleet shares the stream's shards
 * through a DynamoDB lease table — fault tolerant and following resharding.
 * @packageDocumentation
 */
export * from '@kcl-ts/processor';
export { Worker, type WorkerState } from './worker.js';
export {
  resolveMetricsConfig,
  resolveProcessingConfig,
  resolveWorkerConfig,
  WORKER_DEFAULTS,
  type MetricsConfig,
  type MetricsOptions,
  type ProcessingConfig,
  type ProcessingOptions,
  type WorkerOptions,
  type WorkerConfig,
  type ClientConfig,
  type ProcessorErrorAction,
  type ProcessorErrorContext,
} from './config.js';
export type { WorkerEvents } from './events.js';
export { shutdownOnSignals, type ShutdownOnSignalsOptions } from './signals.js';
export {
  ALL_METRIC_DIMENSIONS,
  EmfMetricsPublisher,
  type MetricDatum,
  type MetricDimensionName,
  type MetricKind,
  type MetricSample,
  type MetricsLevel,
  type MetricsPublisher,
  type MetricUnit,
} from './metrics.js';
export { ShardCheckpointer } from './checkpointer.js';
export { ShardConsumer, type ShardConsumerState, type ShutdownReason } from './shard-consumer.js';
export { defaultWorkerId } from './worker-id.js';
export * from './retrieval/index.js';
