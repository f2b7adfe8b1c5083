/**
 * Retry of Kinesis control-plane calls (ListShards): exponential backoff with full jitter,
 * on the injected clock, abortable. Which errors are worth a retry is decided here; how a
 * final failure is reported is left to the caller.
 * @module
 */
import { AbortError, isKclError, type Clock, type Logger } from '@kcl-ts/processor';

/** Kinesis error names that mean "slow down and try again". */
const THROTTLING_ERRORS = new Set(['LimitExceededException', 'ProvisionedThroughputExceededException', 'KMSThrottlingException', 'ThrottlingException']);
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENOTFOUND']);
const TIMEOUT_ERROR_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** Shape of the AWS SDK errors we look at. */
interface AwsErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly cause?: unknown;
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
export function isRetryableKinesisError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const e = error as AwsErrorLike;
  if (typeof e.name === 'string' && (THROTTLING_ERRORS.has(e.name) || TIMEOUT_ERROR_NAMES.has(e.name))) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  if (e.$fault === 'server') return true;
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
  return e.cause !== undefined && e.cause !== error && isRetryableKinesisError(e.cause, depth + 1);
}

/**
 * Delay before retry `attempt` (0-based): full jitter, a uniform draw in
 * `[0, min(capMs, baseMs × 2^attempt))`.
 */
export function fullJitterDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 52)));
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
 * Runs `fn` until it succeeds, fails with a non-retryable error, or `maxRetries` retries are
 * spent; the last error is rethrown as is. An abort (during a call or a backoff sleep)
 * becomes an {@link AbortError} at once.
 */
export async function retryKinesisCall<T>(operation: string, fn: () => Promise<T>, options: KinesisRetryOptions): Promise<T> {
  const { clock, logger, maxRetries, signal } = options;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw toAbortError(signal, undefined);
    try {
      return await fn();
    } catch (error) {
      if (signal?.aborted) throw toAbortError(signal, error);
      if (attempt >= maxRetries || !isRetryableKinesisError(error)) throw error;
      const delayMs = fullJitterDelay(attempt, options.baseDelayMs, options.maxDelayMs, options.random);
      logger.debug({ operation, attempt: attempt + 1, delayMs, err: error }, 'retrying a Kinesis call after a transient error');
      await clock.sleep(delayMs, signal);
    }
  }
}

/** The {@link AbortError} to throw for an aborted signal. */
export function toAbortError(signal: AbortSignal, error: unknown): AbortError {
  if (isKclError(error, 'ABORTED')) return error as AbortError;
  if (signal.reason instanceof AbortError) return signal.reason;
  return new AbortError(undefined, { cause: error ?? signal.reason });
}
