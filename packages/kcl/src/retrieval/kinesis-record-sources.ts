/**
 * The Worker's default {@link RecordSourceFactory}: polling (GetRecords) or enhanced fan-out
 * (SubscribeToShard), as `retrieval.mode` says, all sharing the worker's prefetch budget.
 * @module
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvalidStateError, type Clock } from '@kcl-ts/processor';
import type { StreamReference } from '../streams/stream-options.js';
import type { WorkerMetrics } from '../worker-metrics.js';
import { FanOutRecordsFetcher } from './fanout-fetcher.js';
import type { RetrievalConfig } from './options.js';
import { PollingRecordsFetcher } from './polling-fetcher.js';
import type { PrefetchBudget } from './prefetch-budget.js';
import type { RecordSource, RecordSourceFactory, RecordSourceRequest } from './types.js';

/** What the Kinesis record sources need to know of a stream. */
export interface KinesisSourceStream {
  /** How Kinesis calls name the stream. */
  readonly stream: StreamReference;
  /** Fan-out mode: the stream's ACTIVE consumer. */
  readonly consumerArn?: string;
  /** The worker's metrics for this stream. */
  readonly metrics: WorkerMetrics;
}

/** The parts of {@link kinesisRecordSources}. */
export interface KinesisRecordSourcesDeps {
  readonly config: RetrievalConfig;
  /** The client of every call but SubscribeToShard. */
  readonly kinesisClient: KinesisClient;
  /** Fan-out mode: the client of SubscribeToShard (HTTP/2 on AWS). */
  readonly subscribeClient?: KinesisClient;
  readonly clock: Clock;
  readonly budget: PrefetchBudget;
  /** The stream of a request, by its identifier; `undefined` when the worker no longer consumes it. */
  readonly streamOf: (streamIdentifier: string) => KinesisSourceStream | undefined;
}

/** Builds the record sources of a Worker that reads from Kinesis. */
export function kinesisRecordSources(deps: KinesisRecordSourcesDeps): RecordSourceFactory {
  return (request: RecordSourceRequest): RecordSource => {
    const target = deps.streamOf(request.stream.streamIdentifier);
    if (target === undefined) throw new InvalidStateError(`no stream ${request.stream.streamIdentifier} is consumed by this worker`);
    const common = {
      shardId: request.shardId,
      ...(request.hashKeyRange && { hashKeyRange: request.hashKeyRange }),
      start: request.start,
      config: deps.config,
      clock: deps.clock,
      logger: request.logger,
      budget: deps.budget,
      deliverEmptyBatches: request.emptyBatches,
    };
    if (deps.config.mode === 'polling') return new PollingRecordsFetcher({ kinesisClient: deps.kinesisClient, stream: target.stream, ...common });
    const { metrics } = target;
    const shardId = request.shardId;
    return new FanOutRecordsFetcher({
      kinesisClient: deps.subscribeClient ?? deps.kinesisClient,
      consumerArn: target.consumerArn!,
      ...common,
      // A safety net for endpoints that never send the final ChildShards event (the Kinesis Mock).
      shardEndProbe: { kinesisClient: deps.kinesisClient, stream: target.stream },
      listener: {
        subscribed: (reason) => metrics.subscribed(shardId, reason),
        resourceInUse: () => metrics.subscribeResourceInUse(shardId),
        limitExceeded: () => metrics.subscribeLimitExceeded(shardId),
      },
    });
  };
}
