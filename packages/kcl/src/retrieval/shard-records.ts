/**
 * What every record source of a shard shares, whatever transport brings the Kinesis records
 * (GetRecords pages or SubscribeToShard events): the start position rules, the drop filter
 * that resumes in the middle of a KPL aggregate, deaggregation with hash-key-range filtering,
 * and the translation of `ChildShards`.
 * @module
 */
import type { ChildShard as KinesisChildShard, _Record } from '@aws-sdk/client-kinesis';
import type { HashKeyRange } from '@kcl-ts/leases';
import type { Clock, KinesisClientRecord, Logger } from '@kcl-ts/processor';
import type { ChildShard } from '@kcl-ts/shard-sync';
import { deaggregate, type DeaggregationOptions } from './aggregation/deaggregate.js';
import { compileHashKeyRange } from './aggregation/hash-key.js';
import type { StartPosition } from './types.js';

/** Drop every user record at or before this position (sequence number, then sub-sequence number). */
export interface DropFilter {
  readonly sequenceNumber: bigint;
  readonly subSequenceNumber: number;
}

/**
 * A resolved start position, independent of the transport: the shard iterator type (or
 * `StartingPosition.Type`), its parameter, and the user records to drop from what it returns.
 */
export type ShardStart =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST'; readonly drop?: undefined }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date; readonly drop?: undefined }
  | { readonly type: 'AT_SEQUENCE_NUMBER'; readonly sequenceNumber: string; readonly drop: DropFilter };

/**
 * Kinesis' own pattern for sequence numbers (`0|([1-9]\d{0,128})`). Real ones have 56 digits
 * (about 186 bits), so a 128-bit bound would reject them.
 */
const SEQUENCE_NUMBER = /^(0|[1-9]\d{0,128})$/;

const EMPTY = new Uint8Array(0);

/**
 * The start of a shard read for `start`; `undefined` for a `SHARD_END` checkpoint (nothing to
 * read). A sequence-number checkpoint starts `AT_SEQUENCE_NUMBER` and drops every user record
 * up to and including it: a checkpoint `(seq, 0)` may be the first sub-record of a KPL
 * aggregate whose later sub-records are still pending, so `AFTER_SEQUENCE_NUMBER` could skip them.
 * @throws TypeError for a malformed sequence number or a missing `AT_TIMESTAMP` timestamp.
 */
export function resolveShardStart(start: StartPosition): ShardStart | undefined {
  const { checkpoint, initialTimestamp } = start;
  const seq = checkpoint.sequenceNumber;
  switch (seq) {
    case 'TRIM_HORIZON':
    case 'LATEST':
      return { type: seq };
    case 'AT_TIMESTAMP':
      if (!(initialTimestamp instanceof Date) || Number.isNaN(initialTimestamp.getTime())) {
        throw new TypeError(`start.initialTimestamp must be a valid Date for an AT_TIMESTAMP start, got ${String(initialTimestamp)}`);
      }
      return { type: 'AT_TIMESTAMP', timestamp: initialTimestamp };
    case 'SHARD_END':
      return undefined;
    default:
      if (!SEQUENCE_NUMBER.test(seq)) throw new TypeError(`start.checkpoint.sequenceNumber must be a sequence number or a sentinel, got ${JSON.stringify(seq)}`);
      return atSequence(seq, checkpoint.subSequenceNumber);
  }
}

/** `AT_SEQUENCE_NUMBER` at `sequenceNumber`, dropping user records up to `(sequenceNumber, subSequenceNumber)`. */
export function atSequence(sequenceNumber: string, subSequenceNumber: number): ShardStart {
  return { type: 'AT_SEQUENCE_NUMBER', sequenceNumber, drop: { sequenceNumber: BigInt(sequenceNumber), subSequenceNumber } };
}

/**
 * Turns Kinesis records of one shard into user records: deaggregates KPL aggregates, drops
 * aggregated user records outside the shard's hash-key range, and drops what lies at or before
 * the current {@link DropFilter} (cleared once a later sequence number is seen).
 */
export class UserRecordConverter {
  private readonly deaggregation: DeaggregationOptions;
  /** Records at or before this position are dropped; cleared once passed. */
  drop: DropFilter | undefined;

  /**
   * @param hashKeyRange the shard's range; a malformed one throws a `TypeError` here.
   * @param clock supplies the arrival time of a record that has none.
   */
  constructor(
    hashKeyRange: HashKeyRange | undefined,
    logger: Logger,
    private readonly clock: Clock,
  ) {
    if (hashKeyRange !== undefined) compileHashKeyRange(hashKeyRange); // validates early
    this.deaggregation = { ...(hashKeyRange !== undefined && { hashKeyRange }), logger };
  }

  /** The user records of `records` (in order) and the data bytes of the Kinesis records. */
  convert(records: readonly _Record[]): { userRecords: KinesisClientRecord[]; bytes: number } {
    const userRecords: KinesisClientRecord[] = [];
    let bytes = 0;
    for (const record of records) {
      const data = record.Data ?? EMPTY;
      bytes += data.byteLength;
      let minSub = -1; // deliver user records whose sub-sequence number is greater than this
      const drop = this.drop;
      if (drop !== undefined) {
        const seq = BigInt(record.SequenceNumber ?? '0');
        if (seq < drop.sequenceNumber) continue;
        if (seq === drop.sequenceNumber) minSub = drop.subSequenceNumber;
        else this.drop = undefined; // sequence numbers only grow: nothing further can be at or before it
      }
      this.append(record, data, minSub, userRecords);
    }
    return { userRecords, bytes };
  }

  /** Deaggregates `record` into `out`, skipping user records with a sub-sequence number ≤ `minSub`. */
  private append(record: _Record, data: Uint8Array, minSub: number, out: KinesisClientRecord[]): void {
    const users = deaggregate(
      {
        data,
        partitionKey: record.PartitionKey ?? '',
        sequenceNumber: record.SequenceNumber ?? '',
        approximateArrivalTimestamp: record.ApproximateArrivalTimestamp ?? new Date(this.clock.now()),
        ...(record.EncryptionType !== undefined && { encryptionType: record.EncryptionType }),
      },
      this.deaggregation,
    );
    for (const user of users) {
      // A plain record at the drop position counts as sub-sequence 0 and is always dropped.
      if (minSub >= 0 && (user.subSequenceNumber ?? 0) <= minSub) continue;
      out.push(user);
    }
  }
}

/** `ChildShards` of a GetRecords response or SubscribeToShard event, in kcl-ts' shape. */
export function toChildShards(childShards: readonly KinesisChildShard[] | undefined): ChildShard[] | undefined {
  if (childShards === undefined) return undefined;
  return childShards.map((c) => ({
    shardId: c.ShardId ?? '',
    parentShards: c.ParentShards ?? [],
    hashKeyRange: { startingHashKey: c.HashKeyRange?.StartingHashKey ?? '0', endingHashKey: c.HashKeyRange?.EndingHashKey ?? '0' },
  }));
}

/** `Name: message` of an error, for error messages. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
