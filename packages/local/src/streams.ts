import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { pollUntil } from './wait.js';

// Small conveniences for scripts and tests that seed a local stream. They are not part of
// the consumer library, which never creates streams or writes records.

/** Options of {@link createStreamAndWait}. */
export interface CreateStreamOptions {
  /** Give up waiting for ACTIVE after this long. @default 30000 */
  readonly timeoutMs?: number;
  /** Poll interval of DescribeStreamSummary. @default 100 */
  readonly intervalMs?: number;
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { name?: string }).name : undefined;
}

/**
 * Creates a provisioned stream with `shardCount` shards and waits until it is ACTIVE.
 * A stream that already exists is only waited for. `LimitExceededException` (too many
 * streams CREATING at once) is retried until the deadline.
 */
export async function createStreamAndWait(
  client: KinesisClient,
  streamName: string,
  shardCount: number,
  options: CreateStreamOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
      break;
    } catch (err) {
      if (errorName(err) === 'ResourceInUseException') break; // exists already: wait for it
      if (errorName(err) !== 'LimitExceededException' || performance.now() >= deadline) throw err;
      await delay(Math.min(intervalMs * attempt, 1_000));
    }
  }
  await pollUntil(
    async () => {
      const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      return out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    },
    { timeoutMs, intervalMs, what: `stream ${streamName} to become ACTIVE` },
  );
}

/** One record for {@link putRecordsBatched}. */
export interface RecordToPut {
  readonly partitionKey: string;
  /** The payload; a string is UTF-8 encoded. */
  readonly data: Uint8Array | string;
  /** Optional explicit hash key (decimal 128-bit integer). */
  readonly explicitHashKey?: string;
}

/** Where one record landed. */
export interface PutRecordResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Options of {@link putRecordsBatched}. */
export interface PutRecordsOptions {
  /** Attempts per batch before giving up on its failed entries. @default 10 */
  readonly maxAttempts?: number;
  /**
   * Also retry a call that failed with `ResourceInUseException` (a stream being resharded on
   * some emulators), like throttling: the call was refused, so nothing of it was stored.
   * @default false
   */
  readonly retryResourceInUse?: boolean;
}

const MAX_PUT_RECORDS = 500;

/**
 * Writes `records` with PutRecords, at most 500 per call and batches in order, retrying
 * entries that failed (throttling) with a growing pause. Resolves the shard and sequence
 * number of every record, in input order.
 */
export async function putRecordsBatched(
  client: KinesisClient,
  streamName: string,
  records: readonly RecordToPut[],
  options: PutRecordsOptions = {},
): Promise<PutRecordResult[]> {
  const maxAttempts = options.maxAttempts ?? 10;
  const results: PutRecordResult[] = new Array<PutRecordResult>(records.length);
  const encoder = new TextEncoder();
  for (let start = 0; start < records.length; start += MAX_PUT_RECORDS) {
    let pending = records.slice(start, start + MAX_PUT_RECORDS).map((record, i) => ({ index: start + i, record }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) {
        throw new Error(`PutRecords to ${streamName}: ${pending.length} records still failing after ${maxAttempts} attempts`);
      }
      if (attempt > 1) await delay(Math.min(50 * 2 ** (attempt - 2), 1_000));
      const entries: PutRecordsRequestEntry[] = pending.map(({ record }) => ({
        PartitionKey: record.partitionKey,
        Data: typeof record.data === 'string' ? encoder.encode(record.data) : record.data,
        ...(record.explicitHashKey !== undefined ? { ExplicitHashKey: record.explicitHashKey } : {}),
      }));
      let out;
      try {
        out = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
      } catch (err) {
        const name = errorName(err);
        if (name === 'ProvisionedThroughputExceededException' || name === 'LimitExceededException') continue;
        if (name === 'ResourceInUseException' && options.retryResourceInUse) continue;
        throw err;
      }
      const failed: typeof pending = [];
      (out.Records ?? []).forEach((entry, i) => {
        const item = pending[i];
        if (item === undefined) return;
        if (entry.ErrorCode || entry.SequenceNumber === undefined || entry.ShardId === undefined) failed.push(item);
        else results[item.index] = { shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber };
      });
      pending = failed;
    }
  }
  return results;
}
