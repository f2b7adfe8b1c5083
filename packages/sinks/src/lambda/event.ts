/**
 * The Kinesis event of Lambda's event source mapping, as the adapter reads it. The types are
 * the subset of `@types/aws-lambda`'s `KinesisStreamEvent` that is used, so the official
 * types are assignable to them and this package needs no dependency on `@types/aws-lambda`.
 * @module
 */
import { deaggregate } from '@kcl-ts/kcl';
import type { KinesisClientRecord, Logger } from '@kcl-ts/processor';

/** `Records[].kinesis` of a Kinesis event. */
export interface LambdaKinesisPayload {
  /** The data blob, base64. */
  readonly data: string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  /** Epoch seconds (with a fraction). */
  readonly approximateArrivalTimestamp: number;
}

/** One record of a Kinesis event. */
export interface LambdaKinesisRecord {
  /** `<shardId>:<sequenceNumber>`. */
  readonly eventID: string;
  readonly eventSourceARN?: string;
  readonly kinesis: LambdaKinesisPayload;
}

/** A Kinesis event (`KinesisStreamEvent` of `@types/aws-lambda` is assignable to it). */
export interface LambdaKinesisEvent {
  readonly Records: readonly LambdaKinesisRecord[];
}

/** A partial batch response (assignable to `KinesisStreamBatchResponse` of `@types/aws-lambda`). */
export interface LambdaBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** The records of one shard in an event, decoded and deaggregated. */
export interface ShardRecords {
  readonly shardId: string;
  /** The stream's name, from `eventSourceARN` (empty when the event does not carry it). */
  readonly streamName: string;
  /** User records in order (several per Kinesis record when KPL-aggregated). */
  readonly records: KinesisClientRecord[];
  /** The Kinesis sequence numbers of the event's records, in order (what `itemIdentifier` names). */
  readonly sequenceNumbers: string[];
}

/** The shard id of an event record: the part of `eventID` before the colon. */
export function shardIdOf(record: LambdaKinesisRecord): string {
  const colon = record.eventID.indexOf(':');
  if (colon <= 0) throw new TypeError(`event record has an eventID without a shard id: ${JSON.stringify(record.eventID)}`);
  return record.eventID.slice(0, colon);
}

/**
 * Groups an event's records by shard (in event order), decodes the base64 data and
 * deaggregates KPL aggregates with kcl-ts's own decoder. Lambda does not tell the shard's
 * hash-key range, so no sub-record is dropped for lying outside it.
 */
export function decodeEvent(event: LambdaKinesisEvent, logger?: Logger): ShardRecords[] {
  if (typeof event !== 'object' || event === null || !Array.isArray(event.Records)) {
    throw new TypeError('the Lambda event has no Records array: is this a Kinesis event source mapping?');
  }
  const shards = new Map<string, ShardRecords>();
  for (const record of event.Records) {
    const shardId = shardIdOf(record);
    let group = shards.get(shardId);
    if (!group) {
      const arn = record.eventSourceARN;
      group = { shardId, streamName: arn === undefined ? '' : arn.slice(arn.lastIndexOf('/') + 1), records: [], sequenceNumbers: [] };
      shards.set(shardId, group);
    }
    const { data, partitionKey, sequenceNumber, approximateArrivalTimestamp } = record.kinesis;
    group.sequenceNumbers.push(sequenceNumber);
    const decoded = Buffer.from(data, 'base64');
    group.records.push(
      ...deaggregate(
        {
          data: new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength),
          partitionKey,
          sequenceNumber,
          approximateArrivalTimestamp: new Date(Math.round(approximateArrivalTimestamp * 1000)),
        },
        logger === undefined ? undefined : { logger },
      ),
    );
  }
  return [...shards.values()];
}

/** A Kinesis record as GetRecords returns it (the fields {@link kinesisEventFromRecords} reads). */
export interface GetRecordsRecord {
  readonly Data?: Uint8Array;
  readonly PartitionKey?: string;
  readonly SequenceNumber?: string;
  readonly ApproximateArrivalTimestamp?: Date;
}

/** What {@link kinesisEventFromRecords} needs besides the records. */
export interface EventSource {
  readonly shardId: string;
  /** The stream's ARN (`eventSourceARN`). */
  readonly streamArn: string;
  /** @default 'us-east-1' */
  readonly region?: string;
}

/** A Kinesis event with every field of `KinesisStreamEvent` in `@types/aws-lambda` (what {@link kinesisEventFromRecords} builds). */
export interface FullKinesisEvent {
  Records: Array<{
    awsRegion: string;
    eventID: string;
    eventName: string;
    eventSource: string;
    eventSourceARN: string;
    eventVersion: string;
    invokeIdentityArn: string;
    kinesis: { approximateArrivalTimestamp: number; data: string; kinesisSchemaVersion: string; partitionKey: string; sequenceNumber: string };
  }>;
}

/**
 * Builds the Kinesis event Lambda's event source mapping would send for `records` (as read
 * with GetRecords): for tests and local runs of a handler. Each record has every field of
 * `KinesisStreamRecord` in `@types/aws-lambda`.
 */
export function kinesisEventFromRecords(records: readonly GetRecordsRecord[], source: EventSource): FullKinesisEvent {
  const region = source.region ?? 'us-east-1';
  return {
    Records: records.map((r) => ({
      awsRegion: region,
      eventID: `${source.shardId}:${r.SequenceNumber ?? ''}`,
      eventName: 'aws:kinesis:record',
      eventSource: 'aws:kinesis',
      eventSourceARN: source.streamArn,
      eventVersion: '1.0',
      invokeIdentityArn: `arn:aws:iam::000000000000:role/kcl-ts-local`,
      kinesis: {
        approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000,
        data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey ?? '',
        sequenceNumber: r.SequenceNumber ?? '',
      },
    })),
  };
}
