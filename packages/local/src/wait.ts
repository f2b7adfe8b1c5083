import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

// This package is development tooling with no dependency on @kcl-ts/processor, so it has
// no injected Clock: readiness polling uses Node's timers and the monotonic performance clock.

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Pause between attempts. */
  readonly intervalMs: number;
  /** What is being waited for, used in the timeout error. */
  readonly what: string;
  /** Aborts the wait early (e.g. the child process exited). */
  readonly signal?: AbortSignal;
}

/**
 * Calls `attempt` until it resolves `true`, with a deadline. Errors thrown by `attempt`
 * count as "not yet"; the last one is attached as the cause of the timeout error.
 */
export async function pollUntil(attempt: () => Promise<boolean>, options: PollOptions): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      if (await attempt()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    options.signal?.throwIfAborted();
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`, { cause: lastError });
    }
    try {
      await delay(options.intervalMs, undefined, { signal: options.signal });
    } catch {
      options.signal?.throwIfAborted();
    }
  }
}
