import { expect, it } from 'vitest';
import { heldShards, waitUntil, type WorkerMessage } from '@kcl-ts/fleet';
import { SCENARIO_TUNING } from '../../src/scenario.js';
import { describeModes, expectClean, pick, scenarioFrame } from './support.js';

const LEASE_MS = SCENARIO_TUNING.leases!.leaseDurationMs!;

describeModes(['polling'], ['polling', 'fanout'])('chaos 12 — kill -9 of the scanner-role holder (single-scanner coordination) [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it('the role moves to a live worker, its shards resume elsewhere; nothing lost, order kept, no zombie checkpoint', async () => {
    const sc = await frame.create({ retrieval, name: 'role-kill', shards: 4, keys: 20, recordDelayMs: 5, worker: { leases: { coordination: 'single-scanner' } } });
    const shards = await sc.openShards();
    for (const id of ['a', 'b', 'c']) sc.spawn(id);
    await sc.waitBalanced(shards, 60_000);

    // Production runs until the victim's shards have resumed elsewhere: the kill lands under load.
    const production = sc.producer.startRounds({ intervalMs: 50, maxRounds: Number.MAX_SAFE_INTEGER });
    await sc.waitProcessed(200, 60_000);
    // Every shard is being processed before the kill.
    await sc.waitForLine(() => shards.every((s) => sc.journals().some((l) => l.type === 'record' && l.shard === s)), 60_000, 'a record processed on every shard');

    const victimId = await sc.waitRoleHolder(30_000);
    const victim = sc.fleet.get(victimId);
    const victimShards = heldShards(sc.journals(), victimId);
    expect(victimShards.size, `the role holder ${victimId} holds shards`).toBeGreaterThan(0);
    const survivors = sc.fleet.workers.filter((w) => w.workerId !== victimId);

    // The first report after the kill, by any survivor, of the role in a survivor's hands (child clock = our clock: same host).
    let killedAt = Number.POSITIVE_INFINITY;
    let movedAt: number | undefined;
    const unsubscribe = survivors.map((w) =>
      w.onMessage((m: WorkerMessage) => {
        const holder = m.type === 'role' ? m.holder : m.type === 'progress' ? m.role?.holder : undefined;
        if (movedAt === undefined && m.at >= killedAt && holder !== undefined && holder !== victimId) movedAt = m.at;
      }),
    );
    killedAt = Date.now();
    victim.kill9();
    expect((await victim.exited).signal).toBe('SIGKILL');

    // (a) The role moves to a live worker before a generous deadline; the figure goes to the log.
    const newHolder = await sc.waitRoleHolder(pick(30_000, 60_000), (id) => id !== victimId);
    for (const off of unsubscribe) off();
    expect(survivors.map((w) => w.workerId)).toContain(newHolder);
    const moveMs = (movedAt ?? Date.now()) - killedAt;
    const roleLine = `scanner role ${victimId} → ${newHolder} in ${moveMs} ms after kill -9 (${(moveMs / LEASE_MS).toFixed(2)} × leaseDurationMs ${LEASE_MS} ms)`;
    console.log(roleLine);

    // (b) The dead holder's shards resume on the survivors.
    await sc.waitCovered(shards, 60_000);
    for (const s of victimShards) expect(heldShards(sc.journals(), victimId).has(s)).toBe(true); // it never released them
    const ackedAtKill = sc.producer.acked.length;
    await sc.waitForLine(
      () => [...victimShards].every((s) => sc.journals().some((l) => l.type === 'record' && l.shard === s && l.worker !== victimId && l.at > killedAt)),
      60_000,
      `records of ${[...victimShards].join(', ')} processed by a survivor after the kill`,
    );
    const wanted = ackedAtKill + pick(200, 2_000);
    await waitUntil(() => sc.producer.acked.length >= wanted, { timeoutMs: 120_000, message: () => `${wanted} puts acknowledged (have ${sc.producer.acked.length})` });
    await production.stop();
    await sc.waitAllProcessed(120_000);
    for (const s of victimShards) {
      expect(sc.journals().some((l) => l.type === 'init' && l.shard === s && l.worker !== victimId && l.at > killedAt), `${s} re-initialized by a survivor`).toBe(true);
    }

    // (c) The oracle's verdict: nothing lost, order kept, no zombie checkpoint.
    const verdict = await sc.finish();
    expectClean(verdict, roleLine);
    expect(verdict.summary.lost).toBe(0);
  }, pick(180_000, 420_000));
});
