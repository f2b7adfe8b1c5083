import { describe, expect, it } from 'vitest';
import { Fleet, seedLeases } from './coordinator-harness.js';

describe('LeaseCoordinator: balancing a fleet', () => {
  const cases = [1, 2, 3, 4, 5].flatMap((workers) => [12, 13].map((leases) => [workers, leases] as const));

  it.each(cases)('%i workers over %i free leases reach fair share ±1 with no lease held twice', async (workers, leases) => {
    const fleet = new Fleet();
    seedLeases(fleet.store, leases);
    const ids = Array.from({ length: workers }, (_, i) => `w${i}`);
    // Workers start one after the other, 150 ms apart, with their loops on the fake clock.
    for (const id of ids) {
      await fleet.add(id).start();
      await fleet.clock.advance(150);
      expect(fleet.doublyHeld()).toEqual([]);
    }
    // Ten taker intervals (2 s) later, the fleet is balanced; check there was never a doubly held lease.
    for (let step = 0; step < 40; step++) {
      await fleet.clock.advance(50);
      expect(fleet.doublyHeld()).toEqual([]);
    }
    expect(fleet.balanced(leases)).toBe(true);
    const fair = leases / workers;
    for (const [id, n] of fleet.counts()) expect(Math.abs(n - fair), `${id} holds ${n}`).toBeLessThanOrEqual(1);
    // The table agrees with what the coordinators hold.
    for (const lease of await fleet.store.listLeases()) {
      const holders = ids.filter((id) => fleet.get(id).holds(lease.leaseKey));
      expect(holders).toEqual([lease.leaseOwner]);
    }
    await Promise.all(ids.map((id) => fleet.get(id).stop()));
    expect(fleet.clock.pendingTimers).toBe(0);
  });

  it('a stopped worker’s leases are shared out, and a worker that joins later gets its share', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 12);
    for (const id of ['a', 'b', 'c']) await fleet.add(id).start();
    await fleet.clock.advance(2_000);
    expect(fleet.balanced(12)).toBe(true);

    await fleet.get('c').stop();
    fleet.coordinators.delete('c');
    await fleet.clock.advance(400);
    expect(fleet.balanced(12)).toBe(true);
    expect([...fleet.counts().values()]).toEqual([6, 6]);

    await fleet.add('d').start();
    await fleet.clock.advance(1_000);
    expect(fleet.balanced(12)).toBe(true);
    expect(fleet.counts().get('d')).toBe(4);
    await Promise.all([...fleet.coordinators.values()].map((c) => c.stop()));
  });
});
