import { expect, it } from 'vitest';
import { heldShards, shardKey } from '@kcl-ts/fleet';
import { describeModes, expectClean, pick, scenarioFrame } from './support.js';

describeModes(['polling'], ['polling'])('chaos 1m — kill -9 of a multi-stream worker that holds leases on several streams [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it('its shards of every stream fail over to the survivors; per stream: nothing lost, order kept, duplicates only after its last checkpoint', async () => {
    const streams = ['orders', 'payments', 'audit'];
    // Two shards per stream: the shard ids repeat across the three streams.
    const sc = await frame.create({ retrieval, name: 'ms-kill9', streams, shards: 2, keys: 8, recordDelayMs: 5 });
    const shards = await sc.openShards();
    expect(shards).toHaveLength(6);
    for (const id of ['a', 'b', 'c']) sc.spawn(id);
    await sc.waitBalanced(shards, 60_000);

    const production = sc.producer.startRounds({ intervalMs: 50, maxRounds: pick(25, 100) });
    await sc.waitProcessed(200, 60_000);

    // The victim: the worker holding the most shards right now.
    const [victimId, victimShards] = [...sc.holdings().entries()].sort((x, y) => y[1].size - x[1].size)[0]!;
    expect(victimShards.size).toBeGreaterThan(0);
    const victim = sc.fleet.get(victimId);
    const killedAt = Date.now();
    victim.kill9();
    expect((await victim.exited).signal).toBe('SIGKILL');

    await sc.waitCovered(shards, 60_000);
    for (const s of victimShards) expect(heldShards(sc.journals(), victimId).has(s)).toBe(true); // it never released them
    await production.done;
    await sc.waitAllProcessed(120_000);

    const verdict = await sc.finish();
    expectClean(verdict);
    expect(verdict.summary.lost).toBe(0);
    for (const [stream, v] of verdict.byStream) {
      expect(v.violations, `stream ${stream}`).toEqual([]);
      expect(v.summary.puts, `puts on ${stream}`).toBeGreaterThan(0);
      expect(v.summary.lost, `lost on ${stream}`).toBe(0);
    }
    // Every shard the victim held (named by stream and shard) was initialized again by a survivor after the kill.
    for (const s of victimShards) {
      expect(sc.journals().some((l) => l.type === 'init' && shardKey(l.stream, l.shard) === s && l.worker !== victimId && l.at > killedAt), `${s} re-initialized by a survivor`).toBe(true);
    }
  }, pick(240_000, 420_000));
});
