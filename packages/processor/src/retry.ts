/**
 * Generic retry with exponential backoff and full jitter, sleeping on an injected
 * {@link Clock}. Nothing here knows about DynamoDB: the caller decides what is retryable
 * and how a final failure is reported, so the DynamoDB and Kinesis sides share it.
 * @module
 */
import type { Clock } from './clock.js';
import { AbortError, isKclError } from './errors.js';
import type { Logger } from './logger.js';

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Clock whose `sleep` spaces the attempts. */
  readonly clock: Clock;
  /** Cancels the wait between attempts (and is checked before every attempt). */
  readonly signal?: AbortSignal | undefined;
  /** Retries after the first attempt; 0 means a single attempt. */
  readonly maxRetries: number;
  /** True for an error worth another attempt (throttling, 5xx, network). */
  readonly isRetryable: (error: unknown) => boolean;
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
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `fn` until it succeeds, fails with a non-retryable error, or `maxRetries` retries
 * are spent; the last error is rethrown unchanged, so the caller translates it (its own
 * `isRetryable` tells it whether retries were exhausted). `fn` receives the 0-based attempt
 * number, so a caller can tell a first attempt from a repeat (see the conditional-write
 * note in `DynamoDbLeaseRefresher`).
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
  const { clock, signal, maxRetries, isRetryable, logger } = options;
  const base = options.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  const cap = options.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw toAbortError(signal, undefined);
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw toAbortError(signal, error);
      if (attempt >= maxRetries || !isRetryable(error)) throw error;
      const delayMs = backoffDelay(attempt, base, cap, random);
      logger?.debug({ operation, attempt: attempt + 1, delayMs, err: error }, 'retrying after a transient error');
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

const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
const TIMEOUT_ERROR_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/**
 * True for failures of any AWS service call that are transient by nature: a server-side
 * fault (HTTP 5xx or `$fault === 'server'`), an error the SDK itself marks `$retryable`,
 * a timeout, or a dropped/refused connection. Service-specific throttling names are left
 * to the caller.
 */
export function isTransientAwsError(error: unknown): boolean {
  return transient(error, 0);
}

function transient(error: unknown, depth: number): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    $fault?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    cause?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  if (e.$fault === 'server' || e.$retryable) return true;
  if (typeof e.name === 'string' && TIMEOUT_ERROR_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
  // Node wraps some socket errors (e.g. fetch's "TypeError: fetch failed" { cause: ECONNRESET }).
  if (e.cause !== undefined && e.cause !== error) return transient(e.cause, depth + 1);
  return false;
}
