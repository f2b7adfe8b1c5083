/**
 * The identity of a stream in a multi-stream lease table: account id and creation epoch from
 * DescribeStreamSummary (Java KCL: `StreamIdentifier.multiStreamInstance`).
 * @module
 */
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { serializeStreamIdentifier, type MultiStreamIdentifier } from '@kcl-ts/leases';
import { awsErrorName, DependencyError, isRetryableAwsError, raceAbort, ResourceNotFoundError, withRetries, type Clock, type Logger } from '@kcl-ts/processor';
import { parseStreamArn } from '@kcl-ts/shard-sync';
import type { ResolvedStreamConfig } from './stream-options.js';

/** A stream of a multi-stream application, identified the Java KCL's way. */
export interface StreamIdentity extends MultiStreamIdentifier {
  /** `account:streamName:creationEpoch`: the `streamName` attribute and the prefix of every lease key. */
  readonly streamIdentifier: string;
  /** The stream's ARN, as DescribeStreamSummary returned it. */
  readonly streamArn: string;
}

/**
 * Describes the stream once: the account id comes from its ARN (the Kinesis Mock and
 * kinesalite answer `000000000000`), the creation epoch from `StreamCreationTimestamp`, in
 * whole seconds as the Java KCL takes it (`getEpochSecond()`; the Kinesis Mock sends
 * milliseconds, kinesalite whole seconds).
 * @throws ResourceNotFoundError naming the stream when it does not exist;
 *   DependencyError when the call fails or the answer lacks the ARN or the timestamp.
 */
export async function describeStreamIdentity(
  kinesisClient: KinesisClient,
  stream: ResolvedStreamConfig,
  options: { readonly clock: Clock; readonly logger: Logger; readonly signal?: AbortSignal },
): Promise<StreamIdentity> {
  const input = 'streamArn' in stream.stream ? { StreamARN: stream.stream.streamArn } : { StreamName: stream.stream.streamName };
  let summary;
  try {
    const out = await withRetries('DescribeStreamSummary', () => raceAbort(kinesisClient.send(new DescribeStreamSummaryCommand(input)), options.signal), {
      clock: options.clock,
      logger: options.logger,
      maxRetries: 8,
      signal: options.signal,
    });
    summary = out.StreamDescriptionSummary;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (awsErrorName(error) === 'ResourceNotFoundException') {
      throw new ResourceNotFoundError('stream', stream.label, `stream "${stream.label}" does not exist: its shards are not consumed until it is created (the other streams go on)`, { cause: error });
    }
    throw new DependencyError('kinesis', 'DescribeStreamSummary', `DescribeStreamSummary of stream "${stream.label}" failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
      retryable: isRetryableAwsError(error),
    });
  }
  const streamArn = summary?.StreamARN ?? ('streamArn' in stream.stream ? stream.stream.streamArn : undefined);
  const created = summary?.StreamCreationTimestamp;
  if (streamArn === undefined || !(created instanceof Date) || Number.isNaN(created.getTime())) {
    throw new DependencyError('kinesis', 'DescribeStreamSummary', `DescribeStreamSummary of stream "${stream.label}" returned no StreamARN or StreamCreationTimestamp; a multi-stream lease key needs both`);
  }
  const { accountId, streamName } = parseStreamArn(streamArn);
  const identity = { accountId, streamName, creationEpoch: Math.floor(created.getTime() / 1000) };
  return { ...identity, streamIdentifier: serializeStreamIdentifier(identity), streamArn };
}
