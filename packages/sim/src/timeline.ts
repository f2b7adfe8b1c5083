/**
 * Simulated time: one shared timeline, and a {@link SimClock} view of it per worker that can
 * be *stalled* (a synchronous pause of that worker) or *killed*.
 *
 * ## The model
 * Every worker of the fleet runs in this one process and event loop. A worker's code only
 * ever runs because one of its own timers fired: its `Clock.sleep`s, and the responses of
 * its calls to Kinesis and the lease table, which the simulated services deliver through
 * the caller's clock (see `MemoryKinesis.connect` and `SimLeaseTable.connect`). So holding
 * back a worker's timers holds back the worker, and nothing else.
 *
 * The timeline pops timers in (time, creation) order. After each one it lets every
 * microtask run to completion (one `setImmediate` hop: Node runs all microtasks before the
 * next macrotask; no real time is involved), so each wake-up's promise chain runs before the
 * next timer fires, as on a real event loop.
 *
 * A **stall** of worker W from T0 to T1 (a GC pause, a blocking call, a CPU-bound batch)
 * reproduces what a real synchronous stall does:
 * - during [T0, T1) none of W's timers fire: when one comes due it is set aside; the other
 *   workers and the services go on normally (requests W sent before T0 are still applied by
 *   the service; only their responses wait);
 * - at T1 W wakes in one burst (timers of others due in that same millisecond run before or
 *   after it, in creation order), uninterrupted: first the continuation of
 *   the code that stalled (see {@link SimClock.stall}: a processor that stalls inside
 *   `processRecords` resumes, and the microtasks it unblocks — e.g. the delivery of the next
 *   prefetched batch — run at once), then every timer that came due during the stall, in
 *   due order, each followed by its microtasks. W's clock reads T1 throughout the burst.
 *   A watchdog timer that fires late therefore runs AFTER a delivery chain already queued,
 *   exactly as on Node, where expired timers run only after the microtask queue drained.
 * Simplification: microtasks W had already queued when the stall began run at T0 rather
 * than after it (the stall starts between two of W's callbacks, or inside the processor).
 *
 * A **kill** (kill -9) drops every timer of W, now and later: W's promises never settle.
 * @module
 */
import { abortableTimer, type Clock } from '@kcl-ts/processor';
import { MinHeap } from '@kcl-ts/processor/testing';

/** A timer of the {@link SimTimeline} (internal bookkeeping, exported for typing only). */
export interface TimerEvent {
  readonly at: number;
  readonly seq: number;
  readonly owner: SimClock | undefined;
  readonly fire: () => void | Promise<void>;
  cancelled: boolean;
}

function before(a: TimerEvent, b: TimerEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Lets every queued microtask (and `process.nextTick`) run to completion. */
export function drainMicrotasks(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** The shared simulated timeline (milliseconds, starting at 0). */
export class SimTimeline {
  /** Epoch milliseconds that {@link SimClock.now} reports at time 0. */
  readonly wallOrigin: number;
  private time = 0;
  private seq = 0;
  private readonly heap = new MinHeap<TimerEvent>(before);
  private firedCount = 0;

  /** @param wallOrigin epoch ms reported by `now()` at time 0 (default 2026-01-01). */
  constructor(wallOrigin = Date.UTC(2026, 0, 1)) {
    this.wallOrigin = wallOrigin;
  }

  /** Current simulated time in ms. */
  now(): number {
    return this.time;
  }

  /** Timers fired so far (a cost measure). */
  get fired(): number {
    return this.firedCount;
  }

  /**
   * Schedules `fire` at time `at` (not before now). `owner` makes it one of that worker's
   * timers: held during its stalls, dropped once it is killed. Returns a canceller.
   */
  schedule(at: number, fire: () => void | Promise<void>, owner?: SimClock): () => void {
    const event: TimerEvent = { at: Math.max(at, this.time), seq: this.seq++, owner, fire, cancelled: false };
    this.heap.push(event);
    return () => {
      event.cancelled = true;
    };
  }

  /** A clock view for one worker (or component) of the simulation. */
  clock(name: string): SimClock {
    return new SimClock(this, name);
  }

  /**
   * Runs timers in order until time `target`, or until `stop()` returns true (checked
   * after every timer). Time ends at `target` unless stopped earlier.
   */
  async runUntil(target: number, stop?: () => boolean): Promise<void> {
    for (;;) {
      await drainMicrotasks();
      if (stop?.()) return;
      const next = this.heap.peek();
      if (next === undefined || next.at > target) break;
      this.heap.pop();
      if (next.cancelled) continue;
      const owner = next.owner;
      if (owner !== undefined) {
        if (owner.killed) continue;
        if (owner.isStalledAt(next.at)) {
          owner.hold(next);
          continue;
        }
      }
      this.time = Math.max(this.time, next.at);
      this.firedCount++;
      const result = next.fire();
      if (result !== undefined) await result;
    }
    this.time = Math.max(this.time, target);
    await drainMicrotasks();
  }

  /** Fires set-aside timers of a waking worker (see {@link SimClock}), each followed by its microtasks. */
  async fireHeld(events: readonly TimerEvent[]): Promise<void> {
    for (const event of [...events].sort((a, b) => (before(a, b) ? -1 : 1))) {
      if (event.cancelled || event.owner?.killed) continue;
      this.firedCount++;
      const result = event.fire();
      if (result !== undefined) await result;
      await drainMicrotasks();
    }
  }
}

/** One declared stall of a worker. */
export interface StallWindow {
  /** The stalled clock's name (the worker instance). */
  readonly worker: string;
  /** Start (inclusive) and end (exclusive) in simulated ms. */
  readonly from: number;
  readonly to: number;
  /** Whether the stall began inside a processor callback or between two callbacks. */
  readonly mode: 'in-callback' | 'idle';
}

/**
 * A worker's view of the {@link SimTimeline}: a `Clock` (`now`, monotonic `elapsed`,
 * abortable `sleep`) whose timers can be held back by a stall or dropped by a kill.
 */
export class SimClock implements Clock {
  /** The worker (instance) this clock belongs to. */
  readonly name: string;
  private dead = false;
  private stalledUntil: number | undefined;
  private held: TimerEvent[] = [];
  private resumeStalledCode: (() => void) | undefined;
  private readonly stallLog: StallWindow[] = [];

  /** Use {@link SimTimeline.clock}. */
  constructor(
    private readonly timeline: SimTimeline,
    name: string,
  ) {
    this.name = name;
  }

  /** Wall-clock epoch ms: the timeline's origin plus simulated time. */
  now(): number {
    return this.timeline.wallOrigin + this.timeline.now();
  }

  /** Simulated ms since the start (the same for every worker: stalls hold timers, not time). */
  elapsed(): number {
    return this.timeline.now();
  }

  /** Resolves after `ms` of simulated time, as one of this worker's timers; rejects when `signal` aborts. Never settles once killed. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.dead) return new Promise<void>(() => undefined);
    return abortableTimer(ms, signal, (fire, delay) => this.timeline.schedule(this.timeline.now() + delay, fire, this));
  }

  /** Schedules `fire` on this clock after `ms` (held by stalls, dropped by a kill). */
  after(ms: number, fire: () => void): void {
    if (this.dead) return;
    this.timeline.schedule(this.timeline.now() + ms, fire, this);
  }

  /** True once {@link kill} was called. */
  get killed(): boolean {
    return this.dead;
  }

  /** True while a stall is in progress. */
  get stalled(): boolean {
    return this.stalledUntil !== undefined;
  }

  /** Every stall this clock went through (or is in). */
  get stalls(): readonly StallWindow[] {
    return this.stallLog;
  }

  /** @internal True if a timer due at `at` must wait for the end of a stall. */
  isStalledAt(at: number): boolean {
    return this.stalledUntil !== undefined && at < this.stalledUntil;
  }

  /** @internal Sets a due timer aside until the stall ends. */
  hold(event: TimerEvent): void {
    this.held.push(event);
  }

  /**
   * Stalls this worker for `durationMs` from now (ignored while a stall is in progress or
   * after a kill). The returned promise resolves first thing when the worker wakes: code
   * that awaits it (a processor "blocking" inside a callback) resumes before any timer of
   * the worker that came due meanwhile.
   */
  stall(durationMs: number, mode: StallWindow['mode']): Promise<void> {
    if (this.dead || this.stalledUntil !== undefined) return Promise.resolve();
    const from = this.timeline.now();
    const to = from + Math.max(1, durationMs);
    this.stalledUntil = to;
    this.stallLog.push({ worker: this.name, from, to, mode });
    const resumed = new Promise<void>((resolve) => {
      this.resumeStalledCode = resolve;
    });
    this.timeline.schedule(to, () => this.wake());
    return resumed;
  }

  /** kill -9: every timer of this worker is dropped, now and later; its promises never settle. */
  kill(): void {
    this.dead = true;
    this.held = [];
    this.stalledUntil = undefined;
    this.resumeStalledCode = undefined;
  }

  private async wake(): Promise<void> {
    if (this.dead) return;
    this.stalledUntil = undefined;
    const resume = this.resumeStalledCode;
    this.resumeStalledCode = undefined;
    resume?.();
    await drainMicrotasks();
    const held = this.held;
    this.held = [];
    await this.timeline.fireHeld(held);
  }
}
