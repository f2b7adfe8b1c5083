/**
 * Shapes shared by the record retrieval components.
 * @module
 */
import type { HashKeyRange } from '@kcl-ts/leases';
import type { ExtendedSequenceNumber, KinesisClientRecord, Logger } from '@kcl-ts/processor';
import type { ChildShard } from '@kcl-ts/shard-sync';

/** Where a fetcher starts reading a shard. */
export interface StartPosition {
  /**
   * The lease's checkpoint: a sequence number (reading resumes right after it, honouring its
   * sub-sequence number), or `TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP` (then
   * {@link StartPosition.initialTimestamp} is required), or `SHARD_END` (the shard is finished:
   * the fetcher yields one empty shard-end batch without calling Kinesis).
   */
  readonly checkpoint: ExtendedSequenceNumber;
  /** The timestamp of an `AT_TIMESTAMP` start. */
  readonly initialTimestamp?: Date;
}

/** What one GetRecords call produced, after deaggregation and filtering. */
export interface RecordsBatch {
  /**
   * User records in shard order (KPL aggregates expanded). Empty only for a shard-end batch,
   * or when the consumer asked for empty batches ({@link RecordSourceRequest.emptyBatches}).
   */
  readonly records: readonly KinesisClientRecord[];
  /** How far the batch was behind the tip of the shard, when Kinesis reported it. */
  readonly millisBehindLatest?: number;
  /** True for the last batch of a closed shard: every record has been read. */
  readonly shardEnded: boolean;
  /**
   * The children of an ended shard (`ChildShards` of the last GetRecords response), when the
   * endpoint reports them: Kinesis and the Kinesis Mock do, kinesalite does not.
   */
  readonly childShards?: readonly ChildShard[];
  /** Bytes of the Kinesis records' data in the response (before deaggregation). */
  readonly bytes: number;
  /**
   * When the records arrived, by the fetcher's clock (`elapsed()`): the GetRecords response, or
   * the SubscribeToShard event. The time from here to `processRecords` is the pipeline's own
   * delivery latency (metric `DeliveryLatency`).
   */
  readonly receivedAt?: number;
}

/** Counters of one fetcher, for metrics and tests. */
export interface RetrievalStats {
  /** GetRecords calls started (including throttled and failed ones). */
  readonly getRecordsCalls: number;
  /** Total time spent in GetRecords calls, in ms of the clock. */
  readonly getRecordsTimeMs: number;
  /** GetRecords calls that failed (throttled ones included). */
  readonly getRecordsFailures: number;
  /** Throttling errors seen (GetRecords and GetShardIterator). */
  readonly throttled: number;
  /** Times the shard iterator expired and was renewed. */
  readonly expiredIterators: number;
  /** User records fetched into batches (after deaggregation and filtering). */
  readonly recordsFetched: number;
  /** Data bytes fetched (Kinesis records, before deaggregation). */
  readonly bytesFetched: number;
  /** `MillisBehindLatest` of the last GetRecords response, including empty ones. */
  readonly lastMillisBehindLatest?: number;
}

/**
 * Where a shard consumer reads its records from: one shard of one stream, from a position,
 * batch by batch. The Worker's record sources are the polling fetcher (GetRecords) and the
 * fan-out fetcher (SubscribeToShard); `recordSourceFactory` replaces them.
 */
export interface RecordSource {
  /** The source's counters (MillisBehindLatest and the retrieval metrics come from here). */
  readonly stats: RetrievalStats;
  /** Starts reading (in the background, ahead of `next`). Called once. */
  start(): void;
  /**
   * The next batch, in shard order. A batch with `shardEnded` is the last one; a source that
   * cannot go on rejects (the consumer reports it and the worker restarts the consumer after
   * a backoff). Rejects with the signal's reason once `signal` aborts.
   */
  next(signal?: AbortSignal): Promise<RecordsBatch>;
  /** Stops reading and releases what the source holds (connections, subscriptions). Idempotent. */
  stop(): Promise<void>;
}

/** What a {@link RecordSourceFactory} is asked for. */
export interface RecordSourceRequest {
  /** The shard to read. */
  readonly shardId: string;
  /** The lease's key: the shard id, or `account:streamName:creationEpoch:shardId` in a multi-stream table. */
  readonly leaseKey: string;
  /** The shard's stream; `streamIdentifier` is the stream name in a single-stream application. */
  readonly stream: { readonly streamName: string; readonly streamIdentifier: string };
  /** The shard's hash key range, when the lease records it (records outside it are dropped). */
  readonly hashKeyRange?: HashKeyRange;
  /** Where to start: the lease's checkpoint (a `LATEST` start has been resolved to `AT_TIMESTAMP` before). */
  readonly start: StartPosition;
  /**
   * True when the consumer hands batches without records to `processRecords` (the Worker's
   * `processing.callProcessRecordsEvenForEmptyList`): the source then yields one for every
   * empty response. When false it yields only batches with records, and the shard-end batch.
   */
  readonly emptyBatches: boolean;
  /** The worker's logger, with the stream's name. */
  readonly logger: Logger;
}

/** Opens the record source of one shard lease; called each time a consumer starts on a lease. */
export type RecordSourceFactory = (request: RecordSourceRequest) => RecordSource;
