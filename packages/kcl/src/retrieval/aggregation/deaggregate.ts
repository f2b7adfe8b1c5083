/**
 * KPL deaggregation: turns one Kinesis record into the user records it carries.
 *
 * Format (KPL "aggregated record"): the 4 magic bytes `F3 89 9A C2`, a protobuf
 * `AggregatedRecord` message, and the 16-byte MD5 of the protobuf bytes.
 *
 * ```proto
 * message AggregatedRecord {
 *   repeated string partition_key_table     = 1;
 *   repeated string explicit_hash_key_table = 2;
 *   repeated Record records                 = 3;
 * }
 * message Record {
 *   required uint64 partition_key_index     = 1;
 *   optional uint64 explicit_hash_key_index = 2;
 *   required bytes  data                    = 3;
 *   repeated Tag    tags                    = 4;   // ignored
 * }
 * ```
 * @module
 */
import * as crypto from 'node:crypto';
import type { HashKeyRange } from '@kcl-ts/leases';
import type { KinesisClientRecord, Logger } from '@kcl-ts/processor';
import { compileHashKeyRange, isDigestInRange, isHashKeyInRange, parseHashKey, type CompiledHashKeyRange } from './hash-key.js';
import { md5Into } from './md5.js';
import { ProtoDecodeError, ProtoReader, WireType } from './proto-reader.js';

/** The four bytes every KPL aggregated record starts with. */
export const KPL_MAGIC: Uint8Array = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
const DIGEST_LENGTH = 16;
const OVERHEAD = KPL_MAGIC.length + DIGEST_LENGTH;

/** A Kinesis record as GetRecords returns it, in the shape {@link deaggregate} reads. */
export interface DeaggregationInput {
  /** The record's data blob. */
  readonly data: Uint8Array;
  /** The Kinesis record's partition key (for an aggregate, the producer's routing key). */
  readonly partitionKey: string;
  /** The Kinesis sequence number. */
  readonly sequenceNumber: string;
  /** When Kinesis accepted the record. */
  readonly approximateArrivalTimestamp: Date;
  /** Explicit hash key of the Kinesis record, if known. */
  readonly explicitHashKey?: string;
  /** Server-side encryption type, if any. */
  readonly encryptionType?: string;
}

/** Options of {@link deaggregate}. */
export interface DeaggregationOptions {
  /**
   * The hash-key range of the shard the record was read from. When given, user records whose
   * effective hash key (explicit hash key, or MD5 of the partition key) lies outside it are
   * dropped: after a split they belong to a sibling shard. Other records keep their
   * sub-sequence numbers.
   */
  readonly hashKeyRange?: HashKeyRange;
  /**
   * Receives a warning for every record that looked aggregated but could not be decoded. The
   * warning carries the sequence number and the reason only (the shard id comes from the
   * logger's bindings); record content — data, partition and hash keys — is logged at `debug`
   * only.
   */
  readonly logger?: Logger;
}

const checksum: (data: Uint8Array) => Uint8Array =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('md5', data, 'buffer')
    : (data) => crypto.createHash('md5').update(data).digest();

/** True if `data` starts with the KPL magic bytes and is long enough to hold a checksum. */
export function isAggregated(data: Uint8Array): boolean {
  return data.length >= OVERHEAD && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2;
}

/** The record delivered as is: not aggregated, no sub-sequence number. */
function passthrough(record: DeaggregationInput): KinesisClientRecord {
  return {
    data: record.data,
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: undefined,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp,
    explicitHashKey: record.explicitHashKey,
    aggregated: false,
    encryptionType: record.encryptionType,
  };
}

/**
 * Extracts the user records of one Kinesis record.
 *
 * - Not aggregated (no magic bytes) → one record, `subSequenceNumber` undefined.
 * - Aggregated → one record per user record, `subSequenceNumber` 0..n−1, `aggregated: true`,
 *   partition key and explicit hash key from the aggregate's tables; the data blobs are views
 *   into `record.data` (no copy). An aggregate with no user records yields none.
 * - Checksum mismatch, malformed protobuf, or a table index out of range → the original
 *   record as is (`aggregated: false`), with a warning logged.
 *
 * With `options.hashKeyRange`, user records that belong to another shard are dropped (see
 * {@link DeaggregationOptions.hashKeyRange}).
 */
export function deaggregate(record: DeaggregationInput, options?: DeaggregationOptions): KinesisClientRecord[] {
  const data = record.data;
  if (!isAggregated(data)) return [passthrough(record)];
  const protoEnd = data.length - DIGEST_LENGTH;
  const digest = checksum(data.subarray(KPL_MAGIC.length, protoEnd));
  for (let i = 0; i < DIGEST_LENGTH; i++) {
    if (digest[i] !== data[protoEnd + i]) {
      warn(options, record, 'checksum mismatch');
      return [passthrough(record)];
    }
  }
  try {
    const range = options?.hashKeyRange === undefined ? undefined : compileHashKeyRange(options.hashKeyRange);
    return decode(record, protoEnd, range);
  } catch (err) {
    if (!(err instanceof ProtoDecodeError)) throw err;
    warn(options, record, err.message);
    return [passthrough(record)];
  }
}

function warn(options: DeaggregationOptions | undefined, record: DeaggregationInput, reason: string): void {
  const logger = options?.logger;
  if (logger === undefined) return;
  // Record content (partition key, explicit hash key) never goes above debug: logs are often
  // kept longer and read more widely than the stream's data.
  logger.warn(
    { sequenceNumber: record.sequenceNumber, reason },
    'record starts with the KPL magic bytes but is not a valid aggregate; delivering it as is',
  );
  // `?.`: a partial logger (a test double with only `warn`) must not turn a bad record into a crash.
  logger.debug?.(
    { sequenceNumber: record.sequenceNumber, partitionKey: record.partitionKey, explicitHashKey: record.explicitHashKey },
    'keys of the record that is not a valid aggregate',
  );
}

/** Scratch space for one partition-key digest (decoding is synchronous, so one is enough). */
const digestScratch = new Uint8Array(16);

function decode(record: DeaggregationInput, protoEnd: number, range: CompiledHashKeyRange | undefined): KinesisClientRecord[] {
  // A plain Uint8Array view: subarray() on it is cheaper than on a Buffer (no species lookup).
  const data = new Uint8Array(record.data.buffer, record.data.byteOffset, record.data.byteLength);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const reader = new ProtoReader(data, KPL_MAGIC.length, protoEnd);
  // Partition-key table entries as [start, end) byte offsets; strings are decoded lazily.
  const pkOffsets: number[] = [];
  const ehkTable: string[] = [];
  // Four numbers per user record: partition key index, explicit hash key index (-1), data start, data end.
  const entries: number[] = [];

  while (!reader.done) {
    const tag = reader.varint();
    const wireType = tag % 8;
    const field = (tag - wireType) / 8;
    if (field === 1 || field === 2 || field === 3) {
      if (wireType !== WireType.LengthDelimited) throw new ProtoDecodeError(`field ${field} has wire type ${wireType}`);
      const end = reader.delimitedEnd();
      const start = reader.pos;
      if (field === 1) pkOffsets.push(start, end);
      else if (field === 2) ehkTable.push(buf.toString('utf8', start, end));
      else readRecord(reader, end, entries);
      reader.pos = end;
    } else {
      reader.skip(wireType);
    }
  }

  const pkTable = decodeKeyTable(buf, pkOffsets);
  const pkCount = pkTable.length;

  // Membership of each distinct key in the range, computed on first use: 0 unknown, 1 in, 2 out.
  let pkMembership: Uint8Array | undefined;
  let ehkMembership: Uint8Array | undefined;
  if (range !== undefined) {
    pkMembership = new Uint8Array(pkCount);
    ehkMembership = new Uint8Array(ehkTable.length);
  }

  const count = entries.length / 4;
  const out: KinesisClientRecord[] = [];
  const { sequenceNumber, approximateArrivalTimestamp, encryptionType } = record;
  for (let i = 0; i < count; i++) {
    const e = i * 4;
    const pkIndex = entries[e]!;
    const ehkIndex = entries[e + 1]!;
    if (pkIndex >= pkCount) throw new ProtoDecodeError(`partition key index ${pkIndex} out of range (table has ${pkCount})`);
    if (ehkIndex >= ehkTable.length) throw new ProtoDecodeError(`explicit hash key index ${ehkIndex} out of range (table has ${ehkTable.length})`);
    const explicitHashKey = ehkIndex >= 0 ? ehkTable[ehkIndex] : undefined;
    if (range !== undefined) {
      let member: number;
      if (ehkIndex >= 0) {
        member = ehkMembership![ehkIndex]!;
        if (member === 0) {
          const hashKey = parseHashKey(explicitHashKey!);
          // The reason is logged at warn: it names the table index, not the key (record content).
          if (hashKey === undefined) throw new ProtoDecodeError(`explicit hash key at index ${ehkIndex} is not a 128-bit decimal`);
          member = isHashKeyInRange(hashKey, range) ? 1 : 2;
          ehkMembership![ehkIndex] = member;
        }
      } else {
        member = pkMembership![pkIndex]!;
        if (member === 0) {
          md5Into(data, pkOffsets[2 * pkIndex]!, pkOffsets[2 * pkIndex + 1]!, digestScratch, 0);
          member = isDigestInRange(digestScratch, 0, range) ? 1 : 2;
          pkMembership![pkIndex] = member;
        }
      }
      if (member === 2) continue;
    }
    out.push({
      data: data.subarray(entries[e + 2]!, entries[e + 3]!),
      partitionKey: pkTable[pkIndex]!,
      sequenceNumber,
      subSequenceNumber: i,
      approximateArrivalTimestamp,
      explicitHashKey,
      aggregated: true,
      encryptionType,
    });
  }
  return out;
}

/**
 * Decodes the partition-key table. Fast path: the KPL writes the table as one contiguous run of
 * fields; when that run is pure ASCII (tags and short lengths are ASCII bytes too), it is
 * decoded once and every key is a substring of it, instead of one UTF-8 decode per key.
 */
function decodeKeyTable(buf: Buffer, offsets: readonly number[]): string[] {
  const count = offsets.length / 2;
  const keys = new Array<string>(count);
  if (count === 0) return keys;
  const spanStart = offsets[0]!;
  const spanEnd = offsets[offsets.length - 1]!;
  let keyBytes = 0;
  for (let i = 0; i < count; i++) keyBytes += offsets[2 * i + 1]! - offsets[2 * i]!;
  let ascii = spanEnd >= spanStart && spanEnd - spanStart <= keyBytes + 3 * count;
  for (let p = spanStart; ascii && p < spanEnd; p++) if (buf[p]! >= 0x80) ascii = false;
  if (ascii) {
    const span = buf.toString('latin1', spanStart, spanEnd);
    for (let i = 0; i < count; i++) keys[i] = span.substring(offsets[2 * i]! - spanStart, offsets[2 * i + 1]! - spanStart);
  } else {
    for (let i = 0; i < count; i++) keys[i] = buf.toString('utf8', offsets[2 * i]!, offsets[2 * i + 1]!);
  }
  return keys;
}

/** Reads one `Record` message occupying `reader.pos..end` and appends its four numbers to `entries`. */
function readRecord(reader: ProtoReader, end: number, entries: number[]): void {
  const outerEnd = reader.end;
  reader.end = end;
  let pkIndex = -1;
  let ehkIndex = -1;
  let dataStart = 0;
  let dataEnd = 0;
  while (!reader.done) {
    const tag = reader.varint();
    const wireType = tag % 8;
    const field = (tag - wireType) / 8;
    if (field === 1 || field === 2) {
      if (wireType !== WireType.Varint) throw new ProtoDecodeError(`record field ${field} has wire type ${wireType}`);
      if (field === 1) pkIndex = reader.varint();
      else ehkIndex = reader.varint();
    } else if (field === 3) {
      if (wireType !== WireType.LengthDelimited) throw new ProtoDecodeError(`record data has wire type ${wireType}`);
      dataEnd = reader.delimitedEnd();
      dataStart = reader.pos;
      reader.pos = dataEnd;
    } else {
      reader.skip(wireType);
    }
  }
  reader.end = outerEnd;
  if (pkIndex < 0) throw new ProtoDecodeError('record without a partition key index');
  entries.push(pkIndex, ehkIndex, dataStart, dataEnd);
}
