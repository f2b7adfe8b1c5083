/**
 * One user record as delivered to a {@link ShardRecordProcessor}. For KPL-aggregated
 * Kinesis records, every user record inside the aggregate is delivered on its own, with the
 * Kinesis record's sequence number and its own `subSequenceNumber`.
 */
export interface KinesisClientRecord {
  /**
   * The data blob, exactly as the producer wrote it (after deaggregation). A view: its
   * `buffer` is shared with other records (a KPL aggregate's bytes, or a buffer of 8 KiB that
   * small records are decoded into), so read it through `byteOffset`/`byteLength` (as
   * `Buffer.from(data)` does), and copy it to keep a few records long after processing or
   * to transfer the bytes to another thread (the shared buffer cannot be transferred).
   */
  readonly data: Uint8Array;
  /** The partition key of this (user) record. */
  readonly partitionKey: string;
  /** Sequence number of the Kinesis record that carried it (decimal string of up to 129 digits; compare as BigInt, never lexically). */
  readonly sequenceNumber: string;
  /** Position within a KPL aggregate (0..n-1); `undefined` for records that were not aggregated. */
  readonly subSequenceNumber?: number;
  /** When Kinesis accepted the record. */
  readonly approximateArrivalTimestamp: Date;
  /** Explicit hash key, when the producer set one. */
  readonly explicitHashKey?: string;
  /** True if this record came out of a KPL aggregate. */
  readonly aggregated?: boolean;
  /** Server-side encryption type reported by Kinesis, if any. */
  readonly encryptionType?: string;
}
