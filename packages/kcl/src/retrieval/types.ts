/**
 * Shapes shared by the record retrieval components.
 * @module
 */
import type { ExtendedSequenceNumber, KinesisClientRecord } from '@kcl-ts/processor';
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
  /** User records in shard order (KPL aggregates expanded). Empty only for a shard-end batch. */
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
