/**
 * S3 object keys of the S3 sink: deterministic in (stream, shard, first record of the flush).
 * @module
 */
import type { KinesisClientRecord } from '@kcl-ts/processor';

/** What an object key is made from. */
export interface ObjectKeyContext {
  /** `S3SinkOptions.prefix`. */
  readonly prefix: string;
  /** `S3SinkOptions.streamName`. */
  readonly streamName: string;
  /** The shard of the flush. */
  readonly shardId: string;
  /** The first record written in the flush. */
  readonly first: KinesisClientRecord;
  /** `.ndjson` or `.ndjson.gz`. */
  readonly extension: string;
}

/** Real sequence numbers have 56 digits; shorter ones (emulators) are zero-padded so keys list in order. */
const SEQUENCE_WIDTH = 56;

/**
 * The default key: `<prefix><stream>/<shard>/<first sequence number>-<first sub-sequence
 * number>.ndjson[.gz]`, e.g.
 * `raw/orders/shardId-000000000001/49590338271490256608559692538361571095921575989136588898-0000000000.ndjson.gz`.
 *
 * It names only the FIRST record on purpose. A flush starts right after the last checkpoint
 * (the processor never writes a second flush before the first one's checkpoint), and after a
 * failover the next owner resumes right after that checkpoint too, so its first flush starts
 * at the same record and overwrites the object the previous owner may have written — even if
 * it ends elsewhere. The next object starts right after it. Keys that named the last record
 * as well would leave both objects behind when the batch boundaries differ.
 */
export function defaultObjectKey({ prefix, streamName, shardId, first, extension }: ObjectKeyContext): string {
  const seq = first.sequenceNumber.padStart(SEQUENCE_WIDTH, '0');
  const sub = String(first.subSequenceNumber ?? 0).padStart(10, '0');
  return `${prefix}${streamName}/${shardId}/${seq}-${sub}${extension}`;
}
