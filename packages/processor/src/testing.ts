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
 * A binary min-heap: {@link MinHeap.peek} is the item that `before` orders first. The timer
 * queue of {@link FakeClock}, and of simulations that drive their own time.
 */
export class MinHeap<T> {
  private items: T[] = [];

  /** @param before true if `a` comes out before `b` (a strict order). */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  /** Items held. */
  get size(): number {
    return this.items.length;
  }

  /** The first item, or `undefined` when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds `item`. */
  push(item: T): void {
    const heap = this.items;
    let i = heap.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Removes and returns the first item, or `undefined` when empty. */
  pop(): T | undefined {
    const heap = this.items;
    const first = heap[0];
    const last = heap.pop();
    if (heap.length === 0) return first;
    heap[0] = last!;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let next = i;
      if (left < heap.length && this.before(heap[left]!, heap[next]!)) next = left;
      if (right < heap.length && this.before(heap[right]!, heap[next]!)) next = right;
      if (next === i) return first;
      [heap[i], heap[next]] = [heap[next]!, heap[i]!];
      i = next;
    }
  }

  /** Keeps only the items `keep` accepts. */
  retain(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep);
    this.items = [];
    for (const item of kept) this.push(item);
  }
}

/**
 * A manually driven clock for tests and simulations. Time moves only through
 * {@link FakeClock.advance} / {@link FakeClock.advanceTo}; sleepers wake in time order.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly wallOrigin: number;
  /** A cancelled sleep stays in the heap until it reaches the top, or until a {@link MinHeap.retain}. */
  private readonly timers = new MinHeap<Timer>(before);
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
      this.timers.push(timer);
      this.live++;
      return () => {
        if (timer.cancelled) return;
        timer.cancelled = true;
        this.live--;
        // Aborted long sleeps would otherwise stay until time reaches them: rebuild once they dominate.
        if (this.timers.size > 64 && this.timers.size > 2 * this.live) this.timers.retain((t) => !t.cancelled);
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
      const next = this.nextLive();
      if (next === undefined || next.at > target) break;
      this.timers.pop();
      next.cancelled = true; // fired: a later cancel of this sleep is a no-op
      this.live--;
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
    this.current = Math.max(this.current, target);
    await flushMicrotasks();
  }

  /** The next sleep to fire, after dropping cancelled ones from the top. */
  private nextLive(): Timer | undefined {
    while (this.timers.peek()?.cancelled) this.timers.pop();
    return this.timers.peek();
  }
}

/** Lets pending promise continuations run (several turns, for chained awaits). */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
