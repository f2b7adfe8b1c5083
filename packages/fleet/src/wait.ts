/**
 * Bounded polling, for waiting on a condition of the fleet with a deadline.
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves once `fn` returns a truthy value, or throws after `timeoutMs` (an error thrown by `fn` counts as "not yet"). */
export async function waitUntil<T>(
  fn: () => T | Promise<T>,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly message: string | (() => string); readonly signal?: AbortSignal },
): Promise<NonNullable<T>> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    options.signal?.throwIfAborted();
    if (performance.now() >= deadline) {
      const message = typeof options.message === 'function' ? options.message() : options.message;
      throw new Error(`timed out after ${options.timeoutMs} ms: ${message}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await delay(options.intervalMs ?? 200, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/** {@link waitUntil} that resolves true once `fn` holds, false at the deadline. */
export function waitFor(fn: () => unknown, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  return waitUntil(fn, { timeoutMs, intervalMs, message: '' }).then(
    () => true,
    () => false,
  );
}
