/**
 * Exponential backoff with full jitter, on an injected clock.
 * @module
 */
import type { Clock } from '@kcl-ts/processor';

/** Parameters of {@link backoffDelay}. */
export interface BackoffPolicy {
  /** Delay cap of the first retry, in ms; doubles with every further attempt. */
  readonly baseDelayMs: number;
  /** Upper bound of any delay, in ms. */
  readonly maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (0-based): uniform in
 * `[0, min(maxDelayMs, baseDelayMs × 2^attempt))` ("full jitter"), so that many clients
 * throttled together do not retry in lockstep.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(0, attempt), 40));
  return Math.floor(random() * ceiling);
}

/** Sleeps for {@link backoffDelay} on `clock`; rejects with an `AbortError` when `signal` aborts. */
export function sleepBackoff(clock: Clock, attempt: number, policy: BackoffPolicy, signal?: AbortSignal, random?: () => number): Promise<void> {
  return clock.sleep(backoffDelay(attempt, policy, random), signal);
}
