import { describe, expect, it } from 'vitest';
import { SimTimeline } from '../src/timeline.js';

describe('SimTimeline and SimClock', () => {
  it('fires timers in time order and lets each one’s microtasks run before the next', async () => {
    const t = new SimTimeline();
    const clock = t.clock('w1');
    const log: string[] = [];
    clock.after(20, () => log.push(`b@${t.now()}`));
    clock.after(10, () => {
      log.push(`a@${t.now()}`);
      void Promise.resolve()
        .then(() => undefined)
        .then(() => log.push('a-chain'));
    });
    clock.after(10, () => log.push(`a2@${t.now()}`));
    await t.runUntil(100);
    expect(log).toEqual(['a@10', 'a-chain', 'a2@10', 'b@20']);
    expect(t.now()).toBe(100);
    expect(clock.now()).toBe(t.wallOrigin + 100);
  });

  it('holds a stalled worker’s timers, lets others run, and wakes it in one burst: the stalled code and its microtasks first, then its due timers in order', async () => {
    const t = new SimTimeline();
    const a = t.clock('a');
    const b = t.clock('b');
    const log: string[] = [];
    a.after(100, () => log.push(`a-timer1@${t.now()}`));
    a.after(300, () => log.push(`a-timer2@${t.now()}`));
    b.after(200, () => log.push(`b1@${t.now()}`));
    b.after(600, () => log.push(`b2@${t.now()}`));
    t.schedule(50, () => {
      // a processor blocks inside a callback for 450 ms, then its promise chain goes on
      void a
        .stall(450, 'in-callback')
        .then(() => log.push(`a-resumed@${t.now()} elapsed=${a.elapsed()}`))
        .then(() => log.push('a-next-delivery'));
    });
    await t.runUntil(1_000);
    expect(log).toEqual(['b1@200', 'a-resumed@500 elapsed=500', 'a-next-delivery', 'a-timer1@500', 'a-timer2@500', 'b2@600']);
    expect(a.stalls).toEqual([{ worker: 'a', from: 50, to: 500, mode: 'in-callback' }]);
    expect(a.stalled).toBe(false);
  });

  it('drops every timer of a killed worker: its sleeps never settle', async () => {
    const t = new SimTimeline();
    const a = t.clock('a');
    let settled = false;
    void a.sleep(100).then(
      () => (settled = true),
      () => (settled = true),
    );
    t.schedule(50, () => a.kill());
    await t.runUntil(1_000);
    void a.sleep(1).finally(() => (settled = true));
    await t.runUntil(2_000);
    expect(settled).toBe(false);
    expect(a.killed).toBe(true);
  });

  it('rejects a sleep when its signal aborts', async () => {
    const t = new SimTimeline();
    const a = t.clock('a');
    const controller = new AbortController();
    const sleep = a.sleep(100, controller.signal).catch((e: unknown) => (e as Error).name);
    t.schedule(10, () => controller.abort());
    await t.runUntil(200);
    expect(await sleep).toBe('AbortError');
  });

  it('stops early when asked to', async () => {
    const t = new SimTimeline();
    const a = t.clock('a');
    let fired = 0;
    for (let i = 1; i <= 10; i++) a.after(i * 10, () => fired++);
    await t.runUntil(1_000, () => fired === 3);
    expect(fired).toBe(3);
    expect(t.now()).toBe(30);
  });
});
