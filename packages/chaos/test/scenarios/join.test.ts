import { expect, it } from 'vitest';
import { linesOf } from '@kcl-ts/fleet';
import { describeModes, expectClean, scenarioFrame } from './support.js';

describeModes([], ['polling'])('chaos 7 — a worker joins a loaded fleet [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it('takes its share by graceful handoff while records flow: nothing lost, no duplicate', async () => {
    const sc = await frame.create({ retrieval, name: 'join', shards: 6, keys: 30, recordDelayMs: 3 });
    const shards = await sc.openShards();
    sc.spawn('a');
    sc.spawn('b');
    await sc.waitBalanced(shards, 60_000);

    const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: 1_500 });
    await sc.waitProcessed(600, 90_000);
    const joinedAt = Date.now();
    sc.spawn('c');
    await sc.waitHolding('c', 2, 60_000);
    await sc.waitBalanced(shards, 60_000);
    await sc.waitProcessed(sc.fleet.processedIds().size + 600, 90_000);

    await production.stop();
    await sc.waitAllProcessed(180_000);
    const finishing = Date.now();
    const verdict = await sc.finish();
    const moved = linesOf(sc.journals(), 'event').filter((e) => e.event === 'leaseLost' && e.at > joinedAt && e.at < finishing && e.worker !== 'c');
    expectClean(verdict, `leases moved to c: ${moved.map((m) => `${m.shard} from ${m.worker} (${m.reason})`).join(', ')}`);
    expect(verdict.summary.recordsByWorker['c'] ?? 0).toBeGreaterThan(0);
    // A rebalance is a graceful handoff, not a failover: not a single record may be processed twice.
    expect(verdict.summary.duplicates).toBe(0);
    expect(moved.every((m) => m.reason === 'handed-off' || m.reason === 'released')).toBe(true);
  }, 600_000);
});
