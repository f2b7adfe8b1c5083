import { onAbort } from './abort-listeners.js';
import { AbortError } from './errors.js';

/**
 * The source of time for everything in kcl-ts. Library code never calls `Date.now()` or
 * `setTimeout` directly, so lease expiry, balancing and backoff can be driven by a fake
 * clock in tests.
 */
export interface Clock {
  /** Wall-clock time in epoch milliseconds (used only for logging and `AT_TIMESTAMP`). */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin; use for every duration and expiry. */
  elapsed(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time (any length: `Infinity` resolves
   * never, so only `signal` ends it). Rejects with an {@link AbortError} as soon as `signal`
   * aborts (and at once if it already has).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The longest delay one Node.js timer honours: 2^31−1 ms (about 24.8 days). `setTimeout`
 * with a longer delay fires after 1 ms instead, so durations in options are capped at this
 * value and {@link systemClock} chains timers for longer sleeps.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()`, `performance.now()` and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  elapsed: () => performance.now(),
  sleep: (ms, signal) => abortableTimer(ms, signal, longTimeout),
};

/**
 * Arms a timer for any `ms`, including more than {@link MAX_TIMER_DELAY_MS} and `Infinity`:
 * it arms one timer of at most that length and re-arms it until the full time has passed
 * (forever for `Infinity`), so no sleep ever ends early. Returns the canceller.
 */
function longTimeout(fire: () => void, ms: number): () => void {
  let remaining = ms;
  let timer: ReturnType<typeof setTimeout>;
  const arm = (): void => {
    const chunk = Math.min(remaining, MAX_TIMER_DELAY_MS);
    timer = setTimeout(() => {
      remaining -= chunk;
      if (remaining > 0) arm();
      else fire();
    }, chunk);
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Validates a {@link Clock}: an object with `now`, `elapsed` and `sleep` functions.
 * @param optionName the option path the error names, e.g. `clock`.
 * @throws TypeError naming `optionName`, what it got and the missing functions.
 */
export function assertClock(value: unknown, optionName = 'clock'): asserts value is Clock {
  const isObject = (typeof value === 'object' || typeof value === 'function') && value !== null;
  const missing = ['now', 'elapsed', 'sleep'].filter((n) => !isObject || typeof (value as Record<string, unknown>)[n] !== 'function');
  if (missing.length === 0) return;
  const got = isObject ? `an object without ${missing.map((n) => `${n}()`).join(', ')}` : typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new TypeError(`${optionName} must be a Clock (an object with now(), elapsed() and sleep(ms, signal) functions), got ${got}`);
}

/**
 * Shared body of an abortable sleep: `schedule` arms a timer and returns its canceller.
 * The wait on the signal is always removed, whichever side wins (see {@link onAbort}).
 */
export function abortableTimer(
  ms: number,
  signal: AbortSignal | undefined,
  schedule: (fire: () => void, ms: number) => () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let cancel = (): void => undefined;
    const unwatch = signal
      ? onAbort(signal, () => {
          cancel();
          reject(abortReason(signal));
        })
      : undefined;
    cancel = schedule(() => {
      unwatch?.();
      resolve();
    }, ms > 0 ? ms : 0); // NaN and negative durations sleep for 0 ms
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof AbortError ? signal.reason : new AbortError(undefined, { cause: signal.reason });
}
