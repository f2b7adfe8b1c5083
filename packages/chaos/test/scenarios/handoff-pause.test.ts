import { expect, it } from 'vitest';
import { linesOf, waitUntil } from '@kcl-ts/fleet';
import { describeModes, expectClean, scenarioFrame } from './support.js';

describeModes([], ['polling'])('chaos 10 — the owner freezes when a graceful handoff is requested from it [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it('the new worker takes the lease after the handoff timeout; the frozen owner cannot checkpoint it any more', async () => {
    const sc = await frame.create({ retrieval, name: 'handoff-pause', shards: 4, keys: 20, recordDelayMs: 20 });
    const shards = await sc.openShards();
    sc.spawn('a');
    await sc.waitBalanced(shards, 60_000);
    // Enough load to keep a busy (about 20 ms per record).
    const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: 150 });
    await sc.waitProcessed(100, 60_000);

    sc.spawn('b');
    // Freeze a as soon as b's handoff request is on a lease: a never drains nor transfers it.
    const requested = await waitUntil(
      async () => {
        const keys = (await sc.leaseTable()).filter((l) => l.handoffTo === 'b').map((l) => l.leaseKey);
        return keys.length > 0 ? keys : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 10, message: 'b requests a handoff' },
    );
    const owner = sc.fleet.get('a');
    const pausedAt = Date.now();
    owner.pause();
    expect(requested.length).toBeGreaterThan(0);

    await sc.waitHolding('b', 2, 60_000);
    await sc.waitForLine((l) => l.worker === 'b' && l.type === 'checkpoint' && l.at > pausedAt, 60_000, 'b checkpoints while a is frozen');
    const resumedAt = Date.now();
    owner.resume();
    await sc.waitBalanced(shards, 60_000);
    await production.stop();
    await sc.waitAllProcessed(180_000);
    const verdict = await sc.finish();
    const lines = sc.journals();
    const events = linesOf(lines, 'event');
    const bTook = events.filter((e) => e.worker === 'b' && e.event === 'leaseAcquired' && e.at > pausedAt && e.at < resumedAt).map((e) => e.shard);
    const aLost = events.filter((e) => e.worker === 'a' && e.event === 'leaseLost' && e.at >= resumedAt).map((e) => `${e.shard} (${e.reason})`);
    const aRejected = linesOf(lines, 'checkpoint-rejected').filter((c) => c.worker === 'a' && c.at >= resumedAt).length;
    expectClean(verdict, `handoffs requested: ${requested.join(', ')}; b took while a was frozen: ${bTook.join(', ')}; a lost after SIGCONT: ${aLost.join(', ')}; a's rejected checkpoints: ${aRejected}`);
    expect(bTook.length).toBeGreaterThan(0);
  }, 600_000);
});
