/**
 * `@kcl-ts/processor/testing`: test helpers — {@link FakeClock}, a clock that moves only when a
 * test says so, and {@link flushMicrotasks}. Not for production code.
 * @packageDocumentation
 */
import { abortableTimer, type Clock } from './clock.js';

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
