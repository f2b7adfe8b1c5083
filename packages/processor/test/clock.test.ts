import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, assertClock, MAX_TIMER_DELAY_MS, systemClock } from '../src/index.js';
import { FakeClock } from '../src/testing.js';

// Vitest's fake timers emulate Node's overflow: a delay above 2^31−1 ms fires after 1 ms.
// So these tests see exactly the bug a real timer would show, without waiting.
describe('systemClock.sleep beyond the longest timer delay', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Tracks whether `promise` has settled, and how. */
  function track(promise: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
    const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
    promise.then(
      () => (t.state = 'resolved'),
      (error: unknown) => Object.assign(t, { state: 'rejected', error }),
    );
    return t;
  }

  it('a sleep of 2^31 ms does not end after 1 ms, and ends once 2^31 ms have passed', async () => {
    const sleep = track(systemClock.sleep(2 ** 31));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sleep.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS - 1_000);
    expect(sleep.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(sleep.state).toBe('resolved');
  });

  it('chains timers of at most 2^31−1 ms that add up to the full sleep', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const ms = 9e9; // the leaseDurationMs of the bug report
    const sleep = track(systemClock.sleep(ms));
    await vi.advanceTimersByTimeAsync(ms - 1);
    expect(sleep.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(sleep.state).toBe('resolved');
    const delays = spy.mock.calls.map((call) => call[1] as number);
    expect(delays.every((d) => d <= MAX_TIMER_DELAY_MS)).toBe(true);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(ms);
    expect(delays).toHaveLength(Math.ceil(ms / MAX_TIMER_DELAY_MS));
  });

  it('an Infinity sleep waits until aborted, then clears its timer', async () => {
    const controller = new AbortController();
    const sleep = track(systemClock.sleep(Number.POSITIVE_INFINITY, controller.signal));
    await vi.advanceTimersByTimeAsync(10 * MAX_TIMER_DELAY_MS);
    expect(sleep.state).toBe('pending');
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(sleep.state).toBe('rejected');
    expect(sleep.error).toBeInstanceOf(AbortError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborting a long sleep during a later chunk clears the re-armed timer', async () => {
    const controller = new AbortController();
    const sleep = track(systemClock.sleep(3 * MAX_TIMER_DELAY_MS, controller.signal));
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS + 5);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(sleep.state).toBe('rejected');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('short sleeps still use one timer of the given length', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const sleep = track(systemClock.sleep(250));
    await vi.advanceTimersByTimeAsync(249);
    expect(sleep.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(sleep.state).toBe('resolved');
    expect(spy.mock.calls.map((call) => call[1])).toEqual([250]);
  });
});

describe('assertClock', () => {
  it('accepts the system clock and a FakeClock', () => {
    expect(() => assertClock(systemClock)).not.toThrow();
    expect(() => assertClock(new FakeClock())).not.toThrow();
  });

  it.each([
    [{}, /clock must be a Clock .*got an object without now\(\), elapsed\(\), sleep\(\)/],
    [{ now: () => 0, elapsed: () => 0 }, /got an object without sleep\(\)$/],
    [null, /got null/],
    ['system', /got "system"/],
  ])('rejects %j with a TypeError naming the option and what is missing', (value, message) => {
    expect(() => assertClock(value)).toThrow(TypeError);
    expect(() => assertClock(value)).toThrow(message);
  });

  it('names the option path it is given', () => {
    expect(() => assertClock({}, 'deps.clock')).toThrow(/^deps\.clock must be/);
  });
});

describe('FakeClock', () => {
  it('wakes sleepers in deadline order, ties in the order they began, skipping aborted ones', async () => {
    const clock = new FakeClock();
    // A fixed pseudo-random sequence: many deadlines, many ties, every fifth sleep aborted.
    let x = 12_345;
    const random = (n: number): number => {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
      return x % n;
    };
    const woke: number[] = [];
    const expected: { at: number; i: number }[] = [];
    const aborted: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      const ms = random(50) * 10;
      const controller = new AbortController();
      const sleep = clock.sleep(ms, controller.signal).then(() => woke.push(i));
      if (i % 5 === 0) {
        controller.abort();
        aborted.push(sleep.catch((e: unknown) => e));
      } else expected.push({ at: ms, i });
    }
    expect(clock.pendingTimers).toBe(320);
    expect((await Promise.all(aborted)).every((e) => e instanceof AbortError)).toBe(true);
    await clock.advance(245);
    expect(clock.pendingTimers).toBe(expected.filter((e) => e.at > 245).length);
    // A sleep begun now, due at 250, wakes after every earlier sleep due by then.
    void clock.sleep(5).then(() => woke.push(1_000));
    await clock.advance(1_000);
    const order = [...expected].sort((a, b) => a.at - b.at || a.i - b.i).map((e) => e.i);
    const dueBy250 = expected.filter((e) => e.at <= 250).length;
    order.splice(dueBy250, 0, 1_000);
    expect(woke).toEqual(order);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('FakeClock, aborted sleeps', () => {
  it('does not keep aborted sleeps until their deadline (a long sleep aborted again and again)', async () => {
    const clock = new FakeClock();
    const internals = clock as unknown as { timers: { size: number } };
    for (let i = 0; i < 10_000; i++) {
      const controller = new AbortController();
      const sleep = clock.sleep(3_600_000, controller.signal).catch(() => undefined);
      controller.abort();
      await sleep;
    }
    expect(clock.pendingTimers).toBe(0);
    expect(internals.timers.size).toBeLessThanOrEqual(65);
    // Still in order after the rebuilds.
    const woke: number[] = [];
    for (const ms of [30, 10, 20]) void clock.sleep(ms).then(() => woke.push(ms));
    await clock.advance(30);
    expect(woke).toEqual([10, 20, 30]);
  });
});
