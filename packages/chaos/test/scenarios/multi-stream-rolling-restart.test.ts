import { expect, it } from 'vitest';
import { describeModes, expectClean, scenarioFrame } from './support.js';

describeModes([], ['polling'])('chaos 6m — rolling restart of a multi-stream fleet [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it('graceful SIGTERM one by one, each replaced by a new worker id: per stream, nothing lost, no duplicate', async () => {
    const streams = ['orders', 'payments', 'audit'];
    const sc = await frame.create({ retrieval, name: 'ms-rolling', streams, shards: 2, keys: 8, recordDelayMs: 2 });
    const shards = await sc.openShards();
    expect(shards).toHaveLength(6);
    const original = ['a', 'b', 'c'];
    for (const id of original) sc.spawn(id);
    await sc.waitBalanced(shards, 60_000);

    const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: 1_500 });
    await sc.waitProcessed(200, 60_000);
    for (const id of original) {
      const old = sc.fleet.get(id);
      old.terminate();
      const exit = await old.waitForExit(45_000);
      expect(exit, `${id} exits cleanly after SIGTERM`).toEqual({ code: 0, signal: null });
      const replacement = `${id}2`;
      sc.spawn(replacement);
      await sc.waitHolding(replacement, 1, 60_000);
      await sc.waitBalanced(shards, 60_000);
      await sc.waitProcessed(sc.fleet.processedIds().size + 100, 60_000);
    }
    await production.stop();
    await sc.waitAllProcessed(180_000);
    const verdict = await sc.finish();
    expectClean(verdict);
    // Only graceful handoffs and releases happened: not a single record may be processed twice, on any stream.
    expect(verdict.summary.duplicates).toBe(0);
    for (const [stream, v] of verdict.byStream) {
      expect(v.violations, `stream ${stream}`).toEqual([]);
      expect(v.summary.puts, `puts on ${stream}`).toBeGreaterThan(0);
      expect(v.summary.duplicates, `duplicates on ${stream}`).toBe(0);
    }
    for (const id of original) expect(sc.fleet.get(id).journal().some((l) => l.type === 'stopped')).toBe(true);
  }, 600_000);
});
