import { describe, expect, it } from 'vitest';
import { Fleet, seedLeases } from './coordinator-harness.js';

describe('LeaseCoordinator: expiry is judged from counter changes seen by our own scans', () => {
  it('never takes a lease whose counter keeps changing, takes it once it stops (after ≥ leaseDuration, not before)', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    const b = fleet.add('b');
    await a.runTakerOnce(); // adopts its lease from the table
    expect(a.holds(key!)).toBe(true);

    // 5 s of A renewing every 300 ms while B scans every 200 ms: B never takes it.
    let lastRenewAt = 0;
    for (let t = 100; t <= 5_000; t += 100) {
      await fleet.clock.advanceTo(t);
      if (t % 300 === 0) {
        await a.runRenewerOnce();
        lastRenewAt = t;
      }
      if (t % 200 === 0) {
        const summary = await b.runTakerOnce();
        expect(summary.taken).toEqual([]);
        expect(summary.liveWorkers).toBe(2);
      }
    }
    expect(b.holds(key!)).toBe(false);
    expect((await fleet.store.getLease(key!))?.leaseOwner).toBe('a');

    // A stops renewing (a zombie). B takes the lease only once leaseDurationMs passed since the
    // last counter change it could have seen, and within one more scan interval after that.
    let takenAt: number | undefined;
    for (let t = 5_200; t <= 8_000 && takenAt === undefined; t += 200) {
      await fleet.clock.advanceTo(t);
      const summary = await b.runTakerOnce();
      if (summary.taken.length > 0) takenAt = t;
    }
    expect(takenAt).toBeDefined();
    expect(takenAt! - lastRenewAt).toBeGreaterThanOrEqual(1_000);
    expect(takenAt! - lastRenewAt).toBeLessThanOrEqual(1_000 + 2 * 200);
    expect(b.holds(key!)).toBe(true);
    // A fenced itself before B took it: it no longer reports the lease as held.
    expect(a.holds(key!)).toBe(false);
  });

  it('treats a lease seen for the first time as alive, and an unowned lease as free at once', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 4, (i) => (i < 2 ? 'ghost' : undefined));
    const b = fleet.add('b');
    const first = await b.runTakerOnce();
    expect([...first.taken].sort()).toEqual(['shard-02', 'shard-03']);
    expect(first.liveWorkers).toBe(2);
    await fleet.clock.advance(999);
    expect((await b.runTakerOnce()).taken).toEqual([]);
    await fleet.clock.advance(1);
    const later = await b.runTakerOnce();
    expect([...later.taken].sort()).toEqual(['shard-00', 'shard-01']);
    expect(later.liveWorkers).toBe(1);
    expect(b.liveWorkers()).toEqual(['b']);
    expect(b.isLeader()).toBe(true);
  });

  it('reports the latest scan, the live workers and the leader', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 3, (i) => ['x', 'y', 'z'][i]);
    const m = fleet.add('m');
    expect(m.liveWorkers()).toEqual(['m']);
    await m.runTakerOnce();
    expect(m.latestLeases().map((l) => l.leaseKey)).toEqual(['shard-00', 'shard-01', 'shard-02']);
    expect(m.liveWorkers()).toEqual(['m', 'x', 'y', 'z']);
    expect(m.isLeader()).toBe(true);
    const z = fleet.add('zz');
    await z.runTakerOnce();
    expect(z.isLeader()).toBe(false);
  });
});
