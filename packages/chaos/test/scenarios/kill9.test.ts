import { expect, it } from 'vitest';
import { heldShards, shardKey, type RetrievalMode, type WorkerTuning } from '@kcl-ts/fleet';
import { describeModes, expectCleanPerStream, MULTI_STREAM, pick, scenarioFrame, type ScenarioShape } from './support.js';

/** The scenario on one stream or several, with every worker scanning (the default) or with one scanner-role holder. */
const kill9 = (shape: ScenarioShape & { readonly rounds: number; readonly worker?: WorkerTuning }) => (retrieval: RetrievalMode) => {
  const frame = scenarioFrame();

  it(`its shards fail over to the survivors; ${shape.streams ? 'per stream: ' : ''}nothing lost, order kept, duplicates only after its last checkpoint`, async () => {
    const { rounds, ...options } = shape;
    const sc = await frame.create({ retrieval, recordDelayMs: 5, ...options });
    const shards = await sc.openShards();
    expect(shards).toHaveLength((shape.streams?.length ?? 1) * shape.shards);
    for (const id of ['a', 'b', 'c']) sc.spawn(id);
    await sc.waitBalanced(shards, 60_000);

    const production = sc.producer.startRounds({ intervalMs: 50, maxRounds: rounds });
    await sc.waitProcessed(200, 60_000);

    // The victim: the worker holding the most shards right now.
    const [victimId, victimShards] = [...sc.holdings().entries()].sort((x, y) => y[1].size - x[1].size)[0]!;
    expect(victimShards.size).toBeGreaterThan(0);
    const victim = sc.fleet.get(victimId);
    const killedAt = Date.now();
    victim.kill9();
    expect((await victim.exited).signal).toBe('SIGKILL');

    // The survivors take the victim's shards over (after the lease expires).
    await sc.waitCovered(shards, 60_000);
    for (const s of victimShards) expect(heldShards(sc.journals(), victimId).has(s)).toBe(true); // it never released them
    await production.done;
    await sc.waitAllProcessed(120_000);

    const verdict = await sc.finish();
    expectCleanPerStream(verdict, 'lost');
    // Every shard the victim held (named by stream and shard on several streams) was initialized again by a survivor after the kill.
    for (const s of victimShards) {
      expect(sc.journals().some((l) => l.type === 'init' && shardKey(l.stream, l.shard) === s && l.worker !== victimId && l.at > killedAt), `${s} re-initialized by a survivor`).toBe(true);
    }
  }, pick(240_000, 420_000));
};

const ONE_STREAM = { shards: 4, keys: 20, rounds: pick(40, 150) };
describeModes(['polling', 'fanout'], ['polling', 'fanout'])('chaos 1 — kill -9 of a worker that holds leases [%s]', kill9({ name: 'kill9', ...ONE_STREAM }));
describeModes([], ['polling'])(
  'chaos 1 — kill -9 of a worker that holds leases, single-scanner coordination [%s]',
  kill9({ name: 'kill9-scanner', ...ONE_STREAM, worker: { leases: { coordination: 'single-scanner' } } }),
);
describeModes(['polling', 'fanout'], ['polling', 'fanout'])('chaos 1m — kill -9 of a multi-stream worker that holds leases on several streams [%s]', kill9({ name: 'ms-kill9', ...MULTI_STREAM, rounds: pick(25, 100) }));
