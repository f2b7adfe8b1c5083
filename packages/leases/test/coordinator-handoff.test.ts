import { DependencyError } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import type { TakerRunSummary } from '../src/coordinator/index.js';
import type { Lease } from '../src/lease.js';
import type { LeaseRefresher } from '../src/refresher.js';
import { Fleet, seedLeases } from './coordinator-harness.js';

/** Wraps a refresher so that every transferLease call is appended to `log`. */
function loggingTransfers(inner: LeaseRefresher, log: string[]): LeaseRefresher {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'transferLease') {
        return async (lease: Lease, owner: string, to: string, signal?: AbortSignal) => {
          log.push(`transfer ${lease.leaseKey} ${owner}->${to}`);
          return target.transferLease(lease, owner, to, signal);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('LeaseCoordinator: graceful handoff', () => {
  it('a 3rd worker joining 2 × 12 leases gets its share by handoffs within 3 taker rounds, drain before transfer', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 24, (i) => (i < 12 ? 'a' : 'b'));
    const log: string[] = [];
    const refresher = loggingTransfers(fleet.store, log);
    const hook = (owner: string) => async (lease: Lease, to: string): Promise<void> => {
      log.push(`drain ${lease.leaseKey} ${owner}->${to}`);
    };
    await fleet.add('a', { refresher, onHandoffRequested: hook('a') }).start();
    await fleet.add('b', { refresher, onHandoffRequested: hook('b') }).start();
    await fleet.clock.advance(1_000);
    expect([...fleet.counts().values()]).toEqual([12, 12]);

    const c = fleet.add('c', { refresher });
    const rounds: TakerRunSummary[] = [];
    c.on('takerRun', (s) => rounds.push(s));
    await c.start();
    expect(rounds[0]!.handoffsRequested).toHaveLength(8);
    expect(rounds[0]!.stolen).toEqual([]);
    const requested = await Promise.all(rounds[0]!.handoffsRequested.map((k) => fleet.store.getLease(k)));
    expect(requested.filter((l) => l!.leaseOwner === 'a')).toHaveLength(4);
    expect(requested.every((l) => l!.handoffTo === 'c')).toBe(true);

    let balancedAfter: number | undefined;
    for (let step = 0; step < 100 && balancedAfter === undefined; step++) {
      await fleet.clock.advance(50);
      expect(fleet.doublyHeld()).toEqual([]);
      if (fleet.balanced(24)) balancedAfter = rounds.length;
    }
    expect(balancedAfter).toBeDefined();
    expect(balancedAfter!).toBeLessThanOrEqual(3);
    expect([...fleet.counts().values()]).toEqual([8, 8, 8]);
    expect(rounds.flatMap((r) => r.adopted).sort()).toEqual([...rounds[0]!.handoffsRequested].sort());

    // Every transfer was preceded by the owner's drain of that lease, for the requester.
    const transfers = log.filter((l) => l.startsWith('transfer'));
    expect(transfers).toHaveLength(8);
    for (const t of transfers) {
      const drain = t.replace('transfer', 'drain');
      expect(log.indexOf(drain)).toBeGreaterThanOrEqual(0);
      expect(log.indexOf(drain)).toBeLessThan(log.indexOf(t));
    }
    const handedOff = fleet.events.filter((e) => e.event === 'lost');
    expect(handedOff).toHaveLength(8);
    expect(handedOff.every((e) => e.reason === 'handed-off')).toBe(true);
    for (const lease of await fleet.store.listLeases()) {
      expect(lease.handoffTo).toBeUndefined();
      expect(fleet.get(lease.leaseOwner!).holds(lease.leaseKey)).toBe(true);
    }
    await Promise.all([...fleet.coordinators.values()].map((x) => x.stop()));
  });

  it('a stuck owner (onHandoffRequested never resolves) loses the lease by a hard steal after handoffTimeoutMs, never to two live holders', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 4, () => 'a');
    let drains = 0;
    const a = fleet.add('a', {
      onHandoffRequested: () => {
        drains++;
        return new Promise<void>(() => {});
      },
    });
    await a.start();
    const b = fleet.add('b');
    const rounds: Array<TakerRunSummary & { at: number }> = [];
    b.on('takerRun', (s) => rounds.push({ ...s, at: fleet.clock.elapsed() }));
    await b.start();
    const requestedAt = fleet.clock.elapsed();
    expect(rounds[0]!.handoffsRequested).toHaveLength(2);

    for (let t = 0; t < 4_000; t += 10) {
      await fleet.clock.advance(10);
      expect(fleet.doublyHeld()).toEqual([]);
    }
    expect(drains).toBe(2);
    const steal = rounds.find((r) => r.stolen.length > 0)!;
    expect([...steal.stolen].sort()).toEqual([...rounds[0]!.handoffsRequested].sort());
    expect(steal.at - requestedAt).toBeGreaterThanOrEqual(1_000); // handoffTimeoutMs
    const gained = fleet.events.filter((e) => e.worker === 'b' && e.event === 'gained');
    const lost = fleet.events.filter((e) => e.worker === 'a' && e.event === 'lost');
    expect(gained).toHaveLength(2);
    expect(lost.map((e) => e.reason)).toEqual(['taken', 'taken']);
    // The thief processes a stolen lease only once the victim has certainly fenced itself.
    for (const g of gained) {
      expect(g.at - steal.at).toBeGreaterThanOrEqual(1_000);
      expect(g.at).toBeGreaterThanOrEqual(lost.find((l) => l.leaseKey === g.leaseKey)!.at);
    }
    expect([...fleet.counts().values()]).toEqual([2, 2]);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('an owner that never renews again (paused) loses its leases by expiry; the requester takes them', async () => {
    const fleet = new Fleet();
    const keys = seedLeases(fleet.store, 4, () => 'a');
    const a = fleet.add('a');
    await a.runTakerOnce();
    const b = fleet.add('b');
    expect((await b.runTakerOnce()).handoffsRequested).toHaveLength(2);
    let tookAll: number | undefined;
    for (let t = 200; t <= 2_000 && tookAll === undefined; t += 200) {
      await fleet.clock.advanceTo(t);
      await b.runTakerOnce();
      for (const key of keys) expect(a.holds(key) && b.holds(key)).toBe(false);
      if (b.heldLeases().length === 4) tookAll = t;
    }
    expect(tookAll).toBeGreaterThanOrEqual(1_000);
    expect(keys.every((k) => !a.holds(k))).toBe(true);
  });

  it('an owner that dies with a handoff pending: the requester processes the shard when the lease would have expired, not a lease duration later', async () => {
    const fleet = new Fleet();
    const keys = seedLeases(fleet.store, 4, () => 'a');
    const a = fleet.add('a', { onHandoffRequested: () => new Promise<void>(() => undefined) }); // its drain never ends
    await a.runTakerOnce();
    const b = fleet.add('b');
    expect((await b.runTakerOnce()).handoffsRequested).toHaveLength(2);
    await fleet.clock.advanceTo(500);
    await a.runRenewerOnce(); // a renews once more, then dies
    let tookAll: number | undefined;
    for (let t = 600; t <= 3_000 && tookAll === undefined; t += 100) {
      await fleet.clock.advanceTo(t);
      await b.runTakerOnce();
      if (b.heldLeases().length === 4) tookAll = t;
    }
    // a's last renewal was seen by b's scan at ~600 ms: the leases expire at ~1,600 ms.
    expect(tookAll).toBeGreaterThanOrEqual(1_500);
    expect(tookAll).toBeLessThanOrEqual(1_800);
    expect(keys.every((k) => b.holds(k))).toBe(true);
  });

  it('retries a transfer that failed on a store error after the next renewal, draining again first (a processor may have been restarted meanwhile: simulation seed 1180)', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 2, () => 'a');
    let drains = 0;
    const a = fleet.add('a', {
      onHandoffRequested: async () => {
        drains++;
      },
    });
    await a.runTakerOnce();
    const b = fleet.add('b');
    const [key] = (await b.runTakerOnce()).handoffsRequested;
    fleet.store.failNext('transferLease', new DependencyError('dynamodb', 'UpdateItem', 'down', { retryable: true }));
    await fleet.clock.advance(333);
    await a.runRenewerOnce();
    await fleet.settle();
    expect(a.holds(key!)).toBe(true);
    expect(fleet.errors).toHaveLength(1);
    await fleet.clock.advance(333);
    await a.runRenewerOnce();
    await fleet.settle();
    expect(a.holds(key!)).toBe(false);
    expect(drains).toBe(2);
    expect((await b.runTakerOnce()).adopted).toEqual([key]);
    expect(b.holds(key!)).toBe(true);
  });

  it('with gracefulHandoff false, steals are hard takes at once and the victim notices on its next renewal', async () => {
    const fleet = new Fleet({ leaseDurationMs: 1_000, gracefulHandoff: false });
    seedLeases(fleet.store, 4, () => 'a');
    const a = fleet.add('a');
    await a.runTakerOnce();
    const b = fleet.add('b');
    const summary = await b.runTakerOnce();
    expect(summary.handoffsRequested).toEqual([]);
    expect(summary.stolen).toHaveLength(2);
    expect(b.heldLeases()).toHaveLength(2);
    await a.runRenewerOnce();
    expect(a.heldLeases()).toHaveLength(2);
    expect(fleet.events.filter((e) => e.worker === 'a' && e.event === 'lost').map((e) => e.reason)).toEqual(['taken', 'taken']);
  });
});
