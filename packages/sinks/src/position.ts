/**
 * Record identity and positions: what makes a sink write idempotent. A record is identified
 * in its stream by its shard, its sequence number and its sub-sequence number (the index of
 * a user record inside a KPL aggregate); a redelivered record has the same three.
 * @module
 */
import { compareSequenceNumbers, type KinesisClientRecord } from '@kcl-ts/processor';

/** The part of a record that fixes its position in its shard. */
export type RecordPosition = Pick<KinesisClientRecord, 'sequenceNumber' | 'subSequenceNumber'>;

/**
 * A record's identity in the stream, `<shardId>:<sequenceNumber>:<subSequenceNumber>` (the
 * sub-sequence number is 0 for records that were not aggregated). Use it as the key of an
 * item or row that stands for one record: a redelivered record gets the same id, so its write
 * overwrites itself instead of adding a duplicate.
 */
export function recordId(shardId: string, record: RecordPosition): string {
  return `${shardId}:${record.sequenceNumber}:${record.subSequenceNumber ?? 0}`;
}

/** The identity fields of a record, to store next to its data (e.g. for dedup when loading S3 objects). */
export interface RecordIdentity {
  /** The shard the record was read from. */
  readonly shardId: string;
  /** Its Kinesis sequence number (a decimal string; compare as BigInt). */
  readonly sequenceNumber: string;
  /** Its index inside a KPL aggregate; 0 for plain records. */
  readonly subSequenceNumber: number;
}

/** The {@link RecordIdentity} of `record` read from `shardId`. */
export function recordIdentity(shardId: string, record: RecordPosition): RecordIdentity {
  return { shardId, sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber ?? 0 };
}

/**
 * A string that sorts (as a plain string) like the record's position:
 * `<digits of the sequence number, 3 wide>:<sequence number>:<sub-sequence number, 10 wide>`,
 * e.g. `056:49590338271490256608559692538361571095921575989136588898:0000000003`. Kinesis
 * sequence numbers have up to 129 digits, beyond the 38 digits of a DynamoDB number, so a
 * "newest version wins" condition compares these strings instead.
 *
 * Within a shard this order is exact. Across shards (after a split or merge) it relies on
 * Kinesis giving later records of a partition key larger sequence numbers, which Kinesis
 * documents as "generally" true; supply your own version when that is not good enough.
 */
export function sortablePosition(record: RecordPosition): string {
  const seq = record.sequenceNumber;
  return `${String(seq.length).padStart(3, '0')}:${seq}:${String(record.subSequenceNumber ?? 0).padStart(10, '0')}`;
}

/** Orders two positions of one shard: sequence number as BigInt, then sub-sequence number. */
export function comparePositions(a: RecordPosition, b: RecordPosition): number {
  return compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber) || (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0);
}
