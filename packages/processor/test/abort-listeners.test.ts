import { describe, expect, it, vi } from 'vitest';
import { AbortError, onAbort, raceAbort, systemClock } from '../src/index.js';
import { FakeClock } from '../src/testing.js';

/** Counts the `abort` listeners added to and removed from `signal`. */
function countListeners(signal: AbortSignal): { added: () => number; removed: () => number } {
  const add = vi.spyOn(signal, 'addEventListener');
  const remove = vi.spyOn(signal, 'removeEventListener');
  return { added: () => add.mock.calls.length, removed: () => remove.mock.calls.length };
}

describe('onAbort', () => {
  it('gives a signal one listener, however many waits come and go on it', async () => {
    const controller = new AbortController();
    const counts = countListeners(controller.signal);
    for (let i = 0; i < 50; i++) await systemClock.sleep(0, controller.signal);
    for (let i = 0; i < 50; i++) await raceAbort(Promise.resolve(i), controller.signal);
    expect(counts.added()).toBe(1);
    expect(counts.removed()).toBe(0);
  });

  it('runs the waits still registered when the signal aborts, once each, and not the cancelled ones', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const listener = (): void => {
      calls.push('shared');
    };
    onAbort(controller.signal, listener);
    const cancel = onAbort(controller.signal, listener); // the same function twice: two waits
    onAbort(controller.signal, () => calls.push('other'));
    const cancelled = onAbort(controller.signal, () => calls.push('cancelled'));
    cancelled();
    cancel();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(['shared', 'other']);
  });

  it('registers nothing on a signal that has already aborted', () => {
    const signal = AbortSignal.abort();
    const counts = countListeners(signal);
    const listener = vi.fn();
    onAbort(signal, listener)();
    expect(counts.added()).toBe(0);
    expect(listener).not.toHaveBeenCalled();
  });

  it('still ends a sleep and a raced call when their signal aborts, and only those', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const other = new AbortController();
    const sleep = clock.sleep(1_000, controller.signal);
    const kept = clock.sleep(1_000, other.signal);
    const raced = raceAbort(new Promise<never>(() => undefined), controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleep).rejects.toBeInstanceOf(AbortError);
    await expect(raced).rejects.toBeInstanceOf(AbortError);
    await clock.advance(1_000);
    await expect(kept).resolves.toBeUndefined();
  });
});
