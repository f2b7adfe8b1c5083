import { expect, it } from 'vitest';
import { linesOf, waitUntil } from '@kcl-ts/fleet';
import { describeModes, expectClean, scenarioFrame } from './support.js';

describeModes([], ['polling'])('chaos 11 — a worker takes back a lease while its previous consumer of that shard is still finishing a batch [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it('the new consumer starts (the shard is not left held but unprocessed)', async () => {
    // One worker, one shard, 50 ms per record: a 60-record batch takes about 3 s.
    const sc = await frame.create({ retrieval, name: 'reacquire', shards: 1, keys: 10, recordDelayMs: 50 });
    const [shard] = await sc.openShards();
    const worker = sc.spawn('a');
    await sc.waitHolding('a', 1, 60_000);
    await sc.producer.putRounds(6);
    await waitUntil(
      () => {
        const own = worker.journal();
        return own.filter((l) => l.type === 'record').length >= 3 && own.at(-1)?.type === 'record';
      },
      { timeoutMs: 60_000, intervalMs: 20, message: 'a is in the middle of a batch' },
    );
    worker.pause();
    // Frozen until its lease has not moved for longer than the lease duration (2.5 s).
    let seen = { counter: -1, since: performance.now() };
    await waitUntil(
      async () => {
        const lease = (await sc.leaseTable()).find((l) => l.leaseKey === shard);
        const counter = lease?.leaseCounter ?? -1;
        if (counter !== seen.counter) seen = { counter, since: performance.now() };
        return performance.now() - seen.since > 3_500;
      },
      { timeoutMs: 60_000, intervalMs: 100, message: 'the lease expired while a was frozen' },
    );
    const resumedAt = Date.now();
    worker.resume();
    // It notices the expiry, then its own taker takes the (expired) lease back at once,
    // while the old consumer is still finishing the frozen batch.
    await sc.waitForLine((l) => l.type === 'event' && l.event === 'leaseAcquired' && l.at >= resumedAt, 30_000, 'a takes the lease back');
    await sc.producer.putRounds(3);
    await sc.waitAllProcessed(60_000);
    const verdict = await sc.finish();
    const lines = sc.journals();
    const inits = linesOf(lines, 'init').filter((l) => l.at >= resumedAt).length;
    expectClean(verdict, `epochs started after SIGCONT: ${inits}`);
    expect(inits).toBeGreaterThan(0);
  }, 300_000);
});
