/**
 * The lease simulation (fake clock, seeded): the properties the design promises, at 3 workers
 * × 24 leases (a few seconds of real time). The 50 × 1,000 and 500 × 10,000 figures come from
 * `pnpm bench:leases`.
 */
import { describe, expect, it } from 'vitest';
import { JAVA_KCL_2X, KCL_TS_EVERY_WORKER, KCL_TS_HEARTBEAT, KCL_TS_SINGLE_SCANNER, simulateFleet } from '../src/leases/lease-sim.js';
import { totalUnits } from '../src/leases/metered-store.js';

const small = { workers: 3, leases: 24, steadySeconds: 120, stepMs: 50 } as const;

describe('lease simulation, 3 workers × 24 leases', () => {
  for (const model of [KCL_TS_EVERY_WORKER, KCL_TS_SINGLE_SCANNER, KCL_TS_HEARTBEAT]) {
    it(`${model.name}: fair share within 3 rounds with nothing held twice; failover ≤ 1.5× lease (p50), ≤ 2× (max)`, async () => {
      const r = await simulateFleet({ ...small, model });
      expect(r.roundsToBalance).toBeLessThanOrEqual(3);
      expect(r.maxDoublyHeld).toBe(0);
      expect(r.lostByLiveWorkers).toBe(0);
      expect(r.failover!.p50).toBeLessThanOrEqual(1.5);
      expect(r.failover!.max).toBeLessThanOrEqual(2);
      if (model !== KCL_TS_EVERY_WORKER) {
        // The role holder killed: the role and its leases move within about one lease duration.
        expect(r.roleFailover!.roleMoved).toBeLessThanOrEqual(1.5);
        expect(r.roleFailover!.max).toBeLessThanOrEqual(2);
      }
    });
  }

  it('the single scanner renewing every lease duration / 2.5 loses no lease to one failed renewal round and a 1 s late one; 1.6 s is past its margin', async () => {
    const run = (slowMs: number) =>
      simulateFleet({ ...small, steadySeconds: 600, model: KCL_TS_SINGLE_SCANNER, join: false, failover: false, renewalTrouble: { everyMs: 60_000, slowMs } });
    expect((await run(1_000)).lostByLiveWorkers).toBe(0);
    expect((await run(1_400)).lostByLiveWorkers).toBe(0);
    // 20 leases per worker: every renewal of a round is sent at its start, not in waves.
    const many = await simulateFleet({ workers: 2, leases: 40, steadySeconds: 600, stepMs: 50, model: KCL_TS_SINGLE_SCANNER, join: false, failover: false, renewalTrouble: { everyMs: 60_000, slowMs: 1_000 } });
    expect(many.lostByLiveWorkers).toBe(0);
    // The margin is 10 s - 0.5 s - 2 × 4 s = 1.5 s: beyond it the leases are dropped.
    expect((await run(1_600)).lostByLiveWorkers).toBeGreaterThan(0);
  });

  it('is deterministic, and counts what each model writes and reads', async () => {
    const a = await simulateFleet({ ...small, model: KCL_TS_SINGLE_SCANNER, failover: false });
    const b = await simulateFleet({ ...small, model: KCL_TS_SINGLE_SCANNER, failover: false });
    expect(b.perLeaseHour).toEqual(a.perLeaseHour);
    expect(b.roundsToBalance).toBe(a.roundsToBalance);
    // The single scanner renews every 4 s (lease duration / 2.5): 900 writes per lease-hour;
    // with heartbeats, none per lease.
    expect(a.perLeaseHour.renewals).toBeCloseTo(900, 0);
    // The two other workers read the role every round, and query the owner index only every
    // 3 lease durations in a steady fleet (no new owners to signal).
    expect(a.perLeaseHour.roleReads).toBeCloseTo((2 * 1_800 * 0.5) / 24, 0);
    expect(a.perLeaseHour.indexQueries).toBeLessThanOrEqual((2 * 120 * 0.5) / 24 + 0.5);
    const hb = await simulateFleet({ ...small, model: KCL_TS_HEARTBEAT, failover: false });
    expect(hb.perLeaseHour.renewals).toBe(0);
    expect(totalUnits(hb.perLeaseHour)).toBeLessThan(totalUnits(a.perLeaseHour) / 2);
    // Every worker scanning costs more than one scanner.
    const every = await simulateFleet({ ...small, model: KCL_TS_EVERY_WORKER, failover: false });
    expect(every.perLeaseHour.renewals).toBeCloseTo(1_080, 0); // every 3.333 s
    expect(every.perLeaseHour.scans).toBeGreaterThan(a.perLeaseHour.scans * 2);
    // The Java KCL 2.x model: one steal per 20 s round, so many rounds to balance.
    const java = await simulateFleet({ ...small, model: JAVA_KCL_2X, failover: false, steadySeconds: 120.3 });
    expect(java.roundsToBalance).toBeGreaterThanOrEqual(4);
    expect(java.itemBytes).toBeLessThan(every.itemBytes); // no leaseOwnerIncarnation
  });
});
