import { expect, it } from 'vitest';
import type { RetrievalMode } from '@kcl-ts/fleet';
import { describeModes, expectCleanPerStream, MULTI_STREAM, scenarioFrame, type ScenarioShape } from './support.js';

/** The scenario on one stream or several. */
const rolling = (shape: ScenarioShape) => (retrieval: RetrievalMode) => {
  const frame = scenarioFrame();

  it(`graceful SIGTERM one by one, each replaced by a new worker id: ${shape.streams ? 'per stream, ' : ''}nothing lost, no duplicate`, async () => {
    const sc = await frame.create({ retrieval, recordDelayMs: 2, ...shape });
    const shards = await sc.openShards();
    expect(shards).toHaveLength((shape.streams?.length ?? 1) * shape.shards);
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
    // Only graceful handoffs and releases happened: not a single record may be processed twice, on any stream.
    expectCleanPerStream(await sc.finish(), 'duplicates');
    for (const id of original) expect(sc.fleet.get(id).journal().some((l) => l.type === 'stopped')).toBe(true);
  }, 600_000);
};

describeModes([], ['polling', 'fanout'])('chaos 6 — rolling restart of the whole fleet [%s]', rolling({ name: 'rolling', shards: 4, keys: 20 }));
describeModes([], ['polling', 'fanout'])('chaos 6m — rolling restart of a multi-stream fleet [%s]', rolling({ name: 'ms-rolling', ...MULTI_STREAM }));
