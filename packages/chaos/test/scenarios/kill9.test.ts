import { expect, it } from 'vitest';
import { heldShards, type RetrievalMode, type WorkerTuning } from '@kcl-ts/fleet';
import { describeModes, expectClean, pick, scenarioFrame } from './support.js';

/** The scenario, with every worker scanning (the default) or with one scanner-role holder. */
const kill9 = (coordination: NonNullable<NonNullable<WorkerTuning['leases']>['coordination']>) => (retrieval: RetrievalMode) => {
  const frame = scenarioFrame();

  it('its shards fail over to the survivors; nothing lost, order kept, duplicates only after its last checkpoint', async () => {
    const single = coordination === 'single-scanner';
    const sc = await frame.create({ retrieval, name: single ? 'kill9-scanner' : 'kill9', shards: 4, keys: 20, recordDelayMs: 5, ...(single && { worker: { leases: { coordination } } }) });
    const shards = await sc.openShards();
    for (const id of ['a', 'b', 'c']) sc.spawn(id);
    await sc.waitBalanced(shards, 60_000);

    const production = sc.producer.startRounds({ intervalMs: 50, maxRounds: pick(40, 150) });
    await sc.waitProcessed(200, 60_000);

    // The victim: the worker holding the most shards right now.
    const holdings = sc.holdings();
    const [victimId, victimShards] = [...holdings.entries()].sort((x, y) => y[1].size - x[1].size)[0]!;
    expect(victimShards.size).toBeGreaterThan(0);
    const victim = sc.fleet.get(victimId);
    const killedAt = Date.now();
    victim.kill9();
    expect((await victim.exited).signal).toBe('SIGKILL');

    // The survivors take the victim's shards over (after the lease expires).
    await sc.waitCovered(shards, 60_000);
    const lines = sc.journals();
    for (const s of victimShards) expect(heldShards(lines, victimId).has(s)).toBe(true); // it never released them
    await production.done;
    await sc.waitAllProcessed(120_000);

    const verdict = await sc.finish();
    expectClean(verdict);
    expect(verdict.summary.lost).toBe(0);
    // Every shard the victim held was initialized again by a survivor after the kill.
    for (const s of victimShards) {
      expect(sc.journals().some((l) => l.type === 'init' && l.shard === s && l.worker !== victimId && l.at > killedAt), `${s} re-initialized by a survivor`).toBe(true);
    }
  }, pick(240_000, 420_000));
};

describeModes(['polling', 'fanout'], ['polling', 'fanout'])('chaos 1 — kill -9 of a worker that holds leases [%s]', kill9('every-worker'));
describeModes([], ['polling'])('chaos 1 — kill -9 of a worker that holds leases, single-scanner coordination [%s]', kill9('single-scanner'));
