/**
 * `@kcl-ts/processor/testing`: test helpers — {@link FakeClock}, a clock that moves only when a
 * test says so, and {@link flushMicrotasks}. Not for production code.
 * @packageDocumentation
 */
import { abortableTimer, type Clock } from './clock.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** True if `a` fires before `b`: earlier deadline, then the order the sleeps began. */
const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * A manually driven clock for tests and simulations. Time moves only through
 * {@link FakeClock.advance} / {@link FakeClock.advanceTo}; sleepers wake in time order.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly wallOrigin: number;
  /** A binary min-heap by {@link before}; a cancelled sleep stays in it until it reaches the top. */
  private timers: Timer[] = [];
  private live = 0;
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
      const timer: Timer = { at: this.current + delay, seq: this.seq++, fire, cancelled: false };
      this.push(timer);
      return () => {
        if (timer.cancelled) return;
        timer.cancelled = true;
        this.live--;
        // Aborted long sleeps would otherwise stay until time reaches them: rebuild once they dominate.
        if (this.timers.length > 64 && this.timers.length > 2 * this.live) this.compact();
      };
    });
  }

  /** Number of sleepers currently waiting. */
  get pendingTimers(): number {
    return this.live;
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
      const next = this.peek();
      if (next === undefined || next.at > target) break;
      this.pop();
      next.cancelled = true; // fired: a later cancel of this sleep is a no-op
      this.live--;
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
    this.current = Math.max(this.current, target);
    await flushMicrotasks();
  }

  /** The next sleep to fire, after dropping cancelled ones from the top. */
  private peek(): Timer | undefined {
    while (this.timers.length > 0 && this.timers[0]!.cancelled) this.pop();
    return this.timers[0];
  }

  /** Drops every cancelled sleep and restores the heap order. */
  private compact(): void {
    const live = this.timers.filter((t) => !t.cancelled);
    this.timers = [];
    this.live = 0;
    for (const timer of live) this.push(timer);
  }

  private push(timer: Timer): void {
    const heap = this.timers;
    this.live++;
    let i = heap.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Removes the top of the heap. */
  private pop(): void {
    const heap = this.timers;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < heap.length && before(heap[left]!, heap[first]!)) first = left;
      if (right < heap.length && before(heap[right]!, heap[first]!)) first = right;
      if (first === i) return;
      [heap[i], heap[first]] = [heap[first]!, heap[i]!];
      i = first;
    }
  }
}

/** Lets pending promise continuations run (several turns, for chained awaits). */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
