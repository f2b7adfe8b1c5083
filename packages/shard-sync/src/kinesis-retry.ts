/**
 * Retry of Kinesis control-plane calls (ListShards): exponential backoff with full jitter,
 * on the injected clock, abortable. Which errors are worth a retry is decided here; how a
 * final failure is reported is left to the caller.
 * @module
 */
import { isTransientAwsError, withRetries, type Clock, type Logger } from '@kcl-ts/processor';

/** Kinesis error names that mean "slow down and try again". */
const THROTTLING_ERRORS = new Set(['LimitExceededException', 'ProvisionedThroughputExceededException', 'KMSThrottlingException', 'ThrottlingException']);
/** Shape of the AWS SDK errors we look at. */
interface AwsErrorLike {
  readonly name?: unknown;
}

/** The AWS error name (`ResourceNotFoundException`, ...) of an error, if it has one. */
export function awsErrorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && typeof (error as AwsErrorLike).name === 'string' ? ((error as AwsErrorLike).name as string) : undefined;
}

/**
 * True for a Kinesis failure worth another attempt: throttling (`LimitExceededException`,
 * `ProvisionedThroughputExceededException`, ...), a server fault (HTTP 5xx), a timeout, or a
 * dropped/refused connection.
 */
export function isRetryableKinesisError(error: unknown): boolean {
  const name = awsErrorName(error);
  return (name !== undefined && THROTTLING_ERRORS.has(name)) || isTransientAwsError(error);
}

/** Options of {@link retryKinesisCall}. */
export interface KinesisRetryOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly random?: () => number;
}

/**
 * Runs `fn` with {@link withRetries}, retrying what {@link isRetryableKinesisError} accepts;
 * the last error is rethrown as is, and an abort becomes an `AbortError` at once.
 */
export function retryKinesisCall<T>(operation: string, fn: () => Promise<T>, options: KinesisRetryOptions): Promise<T> {
  return withRetries(operation, () => fn(), { ...options, isRetryable: isRetryableKinesisError });
}
