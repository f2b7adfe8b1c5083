/**
 * The one retry layer of kcl-ts: exponential backoff with full jitter, sleeping on an
 * injected {@link Clock}, retrying what `classifyAwsError` calls throttled or transient.
 * Every Kinesis and DynamoDB call goes through it; the caller decides how a final failure
 * is reported.
 * @module
 */
import { classifyAwsError, type AwsErrorKind } from './aws-errors.js';
import type { Clock } from './clock.js';
import { AbortError, isKclError } from './errors.js';
import type { Logger } from './logger.js';

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Clock whose `sleep` spaces the attempts. */
  readonly clock: Clock;
  /** Cancels the wait between attempts (and is checked before every attempt). */
  readonly signal?: AbortSignal | undefined;
  /** Retries of `transient` failures (in a row) after the first attempt; 0 means a single attempt. */
  readonly maxRetries: number;
  /** Retries of `throttled` failures; `Infinity` retries throttling without limit. @default maxRetries */
  readonly maxThrottleRetries?: number;
  /** Sorts an error into an {@link AwsErrorKind}; only `throttled` and `transient` are retried. @default classifyAwsError */
  readonly classify?: (error: unknown) => AwsErrorKind;
  /** Called before each retry (e.g. to count throttling). */
  readonly onRetry?: (kind: 'throttled' | 'transient', error: unknown) => void;
  /** Receives one `debug` line per retry. */
  readonly logger?: Logger | undefined;
  /** Backoff base in ms: the delay before retry `n` (0-based) is at most `baseDelayMs × 2^n`. @default 50 */
  readonly baseDelayMs?: number;
  /** Upper bound of one delay in ms. @default 2000 */
  readonly maxDelayMs?: number;
  /** Source of randomness in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
}

/** Default backoff base of {@link withRetries}, in ms. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 50;
/** Default cap of one backoff delay of {@link withRetries}, in ms. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 2_000;

/**
 * Delay before retry number `attempt` (0 for the first retry): "full jitter", a uniform
 * draw in `[0, min(capMs, baseMs × 2^attempt))`, which spreads out workers that were
 * throttled together better than a fixed or equal-jitter backoff.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * exponentialDelay(attempt, baseMs, capMs));
}

/**
 * `min(capMs, baseMs × 2^attempt)`: the ceiling of {@link backoffDelay}, and the delay itself
 * where one party waits alone and jitter spreads nothing (a processor's failed batch, a
 * consumer restart, a shard sync that failed).
 */
export function exponentialDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, 52));
}

/**
 * The one retry loop of kcl-ts: runs `fn` until it succeeds, fails with an error that
 * {@link RetryOptions.classify} does not call `throttled` or `transient`, or the retries of
 * that kind are spent (throttling and transient failures have separate budgets, each
 * counting its own backoff). The last error is rethrown unchanged, so the caller translates
 * it. `fn` receives the 0-based attempt number, so a caller can tell a first attempt from a
 * repeat (see the conditional-write note in `DynamoDbLeaseRefresher`).
 *
 * Aborting `signal` stops at once with an {@link AbortError}, whether it fires during an
 * attempt or during a backoff sleep.
 *
 * @param operation name used in log lines, e.g. `UpdateItem`.
 */
export async function withRetries<T>(
  operation: string,
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { clock, signal, maxRetries, logger } = options;
  const maxThrottleRetries = options.maxThrottleRetries ?? maxRetries;
  const classify = options.classify ?? classifyAwsError;
  const base = options.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  const cap = options.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const random = options.random ?? Math.random;
  let throttles = 0;
  let failures = 0;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw toAbortError(signal, undefined);
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw toAbortError(signal, error);
      const kind = classify(error);
      let delayMs: number;
      if (kind === 'throttled' && throttles < maxThrottleRetries) delayMs = backoffDelay(throttles++, base, cap, random);
      else if (kind === 'transient' && failures < maxRetries) delayMs = backoffDelay(failures++, base, cap, random);
      else throw error;
      options.onRetry?.(kind, error);
      logger?.debug({ operation, attempt: attempt + 1, kind, delayMs, err: error }, 'retrying after a transient error');
      await clock.sleep(delayMs, signal);
    }
  }
}

/**
 * Settles like `promise`, or rejects with an {@link AbortError} as soon as `signal` aborts; the
 * work behind `promise` then runs to its end and its outcome is ignored. Used for AWS SDK
 * calls instead of a per-call `{ abortSignal }`, which makes the SDK rebuild its middleware
 * stack on every call (its handler cache works only for calls without options).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(toAbortError(signal, undefined));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(toAbortError(signal, undefined));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The {@link AbortError} to throw for an aborted `signal` (keeps an `AbortError` already thrown). */
export function toAbortError(signal: AbortSignal, error: unknown): AbortError {
  if (isKclError(error, 'ABORTED')) return error as AbortError;
  if (signal.reason instanceof AbortError) return signal.reason;
  return new AbortError(undefined, { cause: error ?? signal.reason });
}
