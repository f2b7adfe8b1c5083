/**
 * `@kcl-ts/kcl`: the Kinesis Client Library for TypeScript. Implement a
 * {@link ShardRecordProcessor}, start a {@link Worker}, and the fleet shares the stream's shards
 * through a DynamoDB lease table — fault tolerant and following resharding.
 *
 * This entry point holds what an application needs: the Worker and its options, the processor
 * contract and the errors, and the metrics publishers. The building blocks (lease coordinator,
 * shard sync) are in `@kcl-ts/leases` and `@kcl-ts/shard-sync`; test helpers in
 * `@kcl-ts/kcl/testing`.
 * @packageDocumentation
 */

// The processor contract, the records, the errors, and the clock and logger the options take.
export {
  AbortError,
  compareSequenceNumbers,
  DependencyError,
  DuplicateWorkerIdError,
  InvalidCheckpointError,
  InvalidStateError,
  isKclError,
  KclError,
  LeaseLostError,
  ResourceNotFoundError,
  ShutdownError,
  type Clock,
  type ExtendedSequenceNumber,
  type InitialPosition,
  type InitializationInput,
  type KclErrorCode,
  type KclErrorOptions,
  type KinesisClientRecord,
  type LeaseLostInput,
  type Logger,
  type PreparedCheckpointer,
  type ProcessRecordsInput,
  type RecordProcessorCheckpointer,
  type SentinelCheckpoint,
  type ShardEndedInput,
  type ShardRecordProcessor,
  type ShardRecordProcessorFactory,
  type ShutdownRequestedInput,
} from '@kcl-ts/processor';

// The Worker, its options and events.
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
  type ShardListerTarget,
} from './config.js';
// The parts a Worker can be given instead of Kinesis: a shard lister and a record source.
export type { RecordSource, RecordSourceFactory, RecordSourceRequest, RecordsBatch, RetrievalStats, StartPosition } from './retrieval/types.js';
export type { ChildShard, ShardInfo, ShardLister } from '@kcl-ts/shard-sync';
export type { HashKeyRange } from '@kcl-ts/leases';
export {
  RETRIEVAL_DEFAULTS,
  resolveRetrievalConfig,
  type FanOutConfig,
  type FanOutOptions,
  type PollingOptions,
  type RetrievalConfig,
  type RetrievalMode,
  type RetrievalOptions,
} from './retrieval/options.js';
export type { StreamFields, WorkerEvents } from './events.js';
export {
  resolveStreamsOption,
  STREAM_TRACKER_DEFAULTS,
  type FormerStreamsLeasesDeletion,
  type ResolvedStreamConfig,
  type StreamConfig,
  type StreamReference,
  type StreamsConfig,
  type StreamTracker,
} from './streams/stream-options.js';
export { shutdownOnSignals, type ShutdownOnSignalsOptions } from './signals.js';

// Metrics: the publisher interface and the default (EMF) publisher; CloudWatch and
// OpenTelemetry publishers are in the `@kcl-ts/kcl/cloudwatch` and `/opentelemetry` subpaths.
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

// KPL deaggregation, for records that reach the application another way (Lambda).
export { deaggregate, type DeaggregationInput, type DeaggregationOptions } from './retrieval/aggregation/deaggregate.js';
