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
   * Resolves after `ms` milliseconds of this clock's time. Rejects with an {@link AbortError}
   * as soon as `signal` aborts (and at once if it already has).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now()`, `performance.now()` and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  elapsed: () => performance.now(),
  sleep: (ms, signal) => abortableTimer(ms, signal, (fn, delay) => {
    const t = setTimeout(fn, delay);
    return () => clearTimeout(t);
  }),
};

/**
 * Shared body of an abortable sleep: `schedule` arms a timer and returns its canceller.
 * The abort listener is always removed, whichever side wins.
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
    const onAbort = (): void => {
      cancel();
      reject(abortReason(signal!));
    };
    const cancel = schedule(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof AbortError ? signal.reason : new AbortError(undefined, { cause: signal.reason });
}

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * A manually driven clock for tests and simulations. Time moves only through
 * {@link FakeClock.advance} / {@link FakeClock.advanceTo}; sleepers wake in time order.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly wallOrigin: number;
  private timers: Timer[] = [];
  private seq = 0;

  /** @param start initial monotonic time in ms; @param wallOrigin epoch ms that `now()` reports at time 0. */
  constructor(start = 0, wallOrigin = Date.UTC(2026, 0, 1)) {
    this.current = start;
    this.wallOrigin = wallOrigin;
  }

  now(): number {
    return this.wallOrigin + this.current;
  }

  elapsed(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableTimer(ms, signal, (fire, delay) => {
      const timer: Timer = { at: this.current + delay, seq: this.seq++, fire };
      this.timers.push(timer);
      return () => {
        this.timers = this.timers.filter((t) => t !== timer);
      };
    });
  }

  /** Number of sleepers currently waiting. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, waking every sleeper whose deadline passes, in order, and
   * letting the microtasks each wake-up schedules run before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  /** Moves time forward to `target` (monotonic ms); see {@link FakeClock.advance}. */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await flushMicrotasks();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
    this.current = Math.max(this.current, target);
    await flushMicrotasks();
  }
}

/** Lets pending promise continuations run (several turns, for chained awaits). */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
