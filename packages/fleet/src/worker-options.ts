/**
 * The ONE place where the tools' configuration meets the Worker's option groups (`leases`,
 * `retrieval`, `shardSync`, `processing`, `metrics`): every Worker
 * the demo, the chaos suite and the benchmarks run (fleet worker processes and the
 * benchmarks' kcl-ts peer) gets its options from {@link workerOptions}.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ShardRecordProcessorFactory, WorkerOptions } from '@kcl-ts/kcl';
import type { Logger } from 'pino';
import type { RetrievalMode, WorkerTuning } from './config.js';

export type { RetrievalMode, WorkerTuning } from './config.js';

/** What {@link workerOptions} builds the Worker's options from. */
export interface WorkerOptionsInput {
  readonly applicationName: string;
  /** The streams to consume: one is a single-stream Worker (`streamName`), several a multi-stream one (`streams`). */
  readonly streams: readonly string[];
  readonly workerId?: string;
  /** @default 'polling' */
  readonly retrieval?: RetrievalMode;
  /** @default 'TRIM_HORIZON' */
  readonly initialPosition?: 'TRIM_HORIZON' | 'LATEST';
  readonly processorFactory: ShardRecordProcessorFactory;
  /** The caller's own clients, or the endpoints for clients the Worker builds. */
  readonly clients:
    | { readonly kinesisClient: KinesisClient; readonly dynamoDbClient: DynamoDBClient }
    | { readonly region: string; readonly kinesisEndpoint: string; readonly dynamoDbEndpoint: string; readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } };
  readonly logger?: Logger;
  /** Turn CloudWatch metrics off. @default the Worker's default */
  readonly metricsOff?: boolean;
  /** The option groups to tune. */
  readonly tuning?: WorkerTuning;
}

/** The Worker's options for one of the tools' Workers. */
export function workerOptions(input: WorkerOptionsInput): WorkerOptions {
  const { clients } = input;
  const t = input.tuning ?? {};
  return {
    applicationName: input.applicationName,
    ...(input.streams.length === 1 ? { streamName: input.streams[0]! } : { streams: input.streams.map((streamName) => ({ streamName })) }),
    ...(input.workerId !== undefined && { workerId: input.workerId }),
    ...('kinesisClient' in clients
      ? { kinesisClient: clients.kinesisClient, dynamoDbClient: clients.dynamoDbClient }
      : { clientConfig: { region: clients.region, kinesisEndpoint: clients.kinesisEndpoint, dynamoDbEndpoint: clients.dynamoDbEndpoint, credentials: { ...clients.credentials } } }),
    initialPosition: input.initialPosition ?? 'TRIM_HORIZON',
    processorFactory: input.processorFactory,
    ...(input.logger && { logger: input.logger }),
    ...(input.metricsOff && { metrics: { publisher: false } }),
    leases: { ...t.leases },
    retrieval: { ...t.retrieval, mode: input.retrieval ?? 'polling', polling: { ...t.retrieval?.polling } },
    shardSync: { ...t.shardSync },
    processing: { ...t.processing },
  };
}
