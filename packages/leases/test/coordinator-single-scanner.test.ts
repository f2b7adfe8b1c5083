/**
 * The `single-scanner` coordination mode on the in-memory store and a fake clock: one worker
 * holds the scanner role and scans; the others read the owner index. Balance, failover after
 * a crash, failover of the role holder itself, graceful shutdown, and the zombie fence.
 */
import { DependencyError } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import type { InMemoryLeaseRefresher, Lease, LeaseCoordinatorOptions, LeaseRefresher } from '../src/index.js';
import { planAssignments } from '../src/coordinator/assigner.js';
import { Fleet, seedLeases, type Recorded } from './coordinator-harness.js';

const SCANNER = { leaseDurationMs: 1_000, coordination: 'single-scanner' } as const;

/** A store whose calls from one worker can be cut off (a crashed or partitioned process). */
function severable(inner: InMemoryLeaseRefresher): { refresher: LeaseRefresher; sever(): void } {
  let cut = false;
  const refresher = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (cut) return Promise.reject(new DependencyError('dynamodb', String(prop), 'unreachable', { retryable: true }));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { refresher, sever: () => (cut = true) };
}

async function startFleet(fleet: Fleet, ids: string[], refreshers: Map<string, LeaseRefresher> = new Map()): Promise<void> {
  for (const id of ids) {
    const r = refreshers.get(id);
    await fleet.add(id, r ? { refresher: r } : {}).start();
    await fleet.clock.advance(50);
  }
}

/** A fleet of `ids` on `leases` seeded leases, each worker added 50 ms after the previous, run until balanced. */
async function balancedFleet(options: LeaseCoordinatorOptions, leases: number, ids: string[]): Promise<Fleet> {
  const fleet = new Fleet(options);
  seedLeases(fleet.store, leases);
  await startFleet(fleet, ids);
  await until(fleet, () => fleet.balanced(leases), 20_000);
  return fleet;
}

/** Store calls by operation during the next `ms` of fake time. */
async function callsDuring(fleet: Fleet, ms: number): Promise<(operation: string) => number> {
  const before = { ...fleet.store.calls };
  await fleet.clock.advance(ms);
  return (operation) => (fleet.store.calls[operation] ?? 0) - (before[operation] ?? 0);
}

async function until(fleet: Fleet, done: () => boolean, maxMs: number, stepMs = 50): Promise<number> {
  const start = fleet.clock.elapsed();
  while (!done()) {
    if (fleet.clock.elapsed() - start > maxMs) throw new Error(`not done within ${maxMs} ms of fake time`);
    await fleet.clock.advance(stepMs);
    await fleet.settle();
  }
  return fleet.clock.elapsed() - start;
}

describe('single-scanner coordination', () => {
  it('balances 3 workers over 24 leases with one scanner, and only the scanner scans', async () => {
    const fleet = await balancedFleet(SCANNER, 24, ['a', 'b', 'c']);
    const holders = [...fleet.coordinators.values()].filter((c) => c.coordinatorRole()?.heldByMe);
    expect(holders).toHaveLength(1);
    for (const c of fleet.coordinators.values()) expect(c.coordinatorRole()?.holder).toBe(holders[0]!.workerId);
    // Steady state: scans come from the scanner only; the others query the owner index.
    await fleet.clock.advance(1_000);
    const delta = await callsDuring(fleet, 10_000);
    // 10 s / 200 ms = 50 rounds of the scanner. The two others read the role each round, and
    // query the owner index only when it signals new owners (none in a steady fleet) or every
    // 3 lease durations.
    expect(delta('listLeases')).toBeLessThanOrEqual(51);
    expect(delta('getRole')).toBeGreaterThanOrEqual(2 * 49);
    expect(delta('listLeaseKeysForOwner')).toBeGreaterThanOrEqual(2 * 3);
    expect(delta('listLeaseKeysForOwner')).toBeLessThanOrEqual(2 * 4);
    expect(delta('renewLease')).toBeLessThanOrEqual(24 * 26); // every lease every 400 ms (lease duration / 2.5)
    expect(fleet.doublyHeld()).toEqual([]);
    await Promise.all([...fleet.coordinators.values()].map((c) => c.stop()));
  });

  it('a crashed worker\'s leases move within 2 lease durations; a zombie cannot checkpoint', async () => {
    const fleet = new Fleet(SCANNER);
    seedLeases(fleet.store, 12);
    const cut = severable(fleet.store);
    await startFleet(fleet, ['a', 'b', 'c'], new Map([['c', cut.refresher]]));
    await until(fleet, () => fleet.balanced(12), 20_000);
    const victim = fleet.get('c');
    if (victim.coordinatorRole()?.heldByMe) return expect.unreachable('c joined last and must not hold the role');
    const lost = victim.heldLeases();
    expect(lost.length).toBe(4);
    cut.sever(); // kill -9 of c, as the table sees it
    const killedAt = fleet.clock.elapsed();
    const others = [fleet.get('a'), fleet.get('b')];
    const took = await until(fleet, () => lost.every((l) => others.some((c) => c.holds(l.leaseKey))), 5_000);
    expect(took).toBeLessThanOrEqual(2 * 1_000);
    expect(fleet.events.filter((e) => e.worker === 'c' && e.event === 'lost' && e.at > killedAt + 1_000)).toEqual([]); // c fenced itself first
    // The zombie's fenced write, with the counter it held, fails.
    const stale = lost[0]!;
    const owner = others.find((c) => c.holds(stale.leaseKey))!;
    expect(await fleet.store.updateLease(stale, 'c', { checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } })).toBeUndefined();
    expect(owner.holds(stale.leaseKey)).toBe(true);
    await Promise.all(others.map((c) => c.stop()));
  });

  it('when the scanner role holder dies, the role and its leases move within about one lease duration', async () => {
    const fleet = new Fleet(SCANNER);
    seedLeases(fleet.store, 12);
    const cut = severable(fleet.store);
    await startFleet(fleet, ['a', 'b', 'c'], new Map([['a', cut.refresher]]));
    await until(fleet, () => fleet.balanced(12), 20_000);
    const a = fleet.get('a');
    expect(a.coordinatorRole()?.heldByMe).toBe(true); // the first worker claimed it
    const lost = a.heldLeases();
    const changes: Array<[string, string | undefined]> = [];
    fleet.get('b').on('roleChanged', (_role, holder) => changes.push(['b', holder]));
    cut.sever();
    const others = [fleet.get('b'), fleet.get('c')];
    const roleMoved = await until(fleet, () => others.some((c) => c.coordinatorRole()?.heldByMe), 5_000);
    expect(roleMoved).toBeLessThanOrEqual(1_600);
    const leasesMoved = await until(fleet, () => lost.every((l) => others.some((c) => c.holds(l.leaseKey))), 5_000);
    expect(roleMoved + leasesMoved).toBeLessThanOrEqual(2_000);
    expect(a.heldLeases()).toEqual([]); // the role was its heartbeat: it fenced everything
    expect(changes.at(-1)?.[1]).toBe(others.find((c) => c.coordinatorRole()?.heldByMe)!.workerId);
    await Promise.all(others.map((c) => c.stop()));
  });

  it('a joining worker reaches its share by graceful handoffs only (no lease held twice)', async () => {
    const fleet = await balancedFleet(SCANNER, 24, ['a', 'b']);
    let rounds = 0;
    const d = fleet.add('d');
    d.on('takerRun', () => rounds++);
    await d.start();
    let maxDouble = 0;
    await until(fleet, () => {
      maxDouble = Math.max(maxDouble, fleet.doublyHeld().length);
      return fleet.balanced(24);
    }, 20_000, 10);
    expect(maxDouble).toBe(0);
    expect(rounds).toBeLessThanOrEqual(3);
    expect(fleet.events.filter((e) => e.event === 'lost').every((e) => e.reason === 'handed-off')).toBe(true);
    await Promise.all([...fleet.coordinators.values()].map((c) => c.stop()));
  });

  it('a graceful stop of the scanner hands the role and its leases over at once', async () => {
    const fleet = await balancedFleet(SCANNER, 9, ['a', 'b', 'c']);
    const a = fleet.get('a');
    expect(a.isLeader()).toBe(true);
    const stoppedAt = fleet.clock.elapsed();
    await a.stop();
    fleet.coordinators.delete('a');
    await until(fleet, () => fleet.heldKeys().size === 9, 5_000);
    expect(fleet.clock.elapsed() - stoppedAt).toBeLessThan(1_000); // no expiry wait
    expect([...fleet.coordinators.values()].filter((c) => c.isLeader())).toHaveLength(1);
    await Promise.all([...fleet.coordinators.values()].map((c) => c.stop()));
  });

  it('assigned and handed-over leases are announced through the scanner role: their new owners query the index at once', async () => {
    const fleet = new Fleet(SCANNER);
    seedLeases(fleet.store, 12);
    const cut = severable(fleet.store);
    await startFleet(fleet, ['a', 'b', 'c'], new Map([['c', cut.refresher]]));
    await until(fleet, () => fleet.balanced(12), 20_000);
    await fleet.clock.advance(3_000); // past every periodic query due after the start
    const lost = fleet.get('c').heldLeases();
    const before = { ...fleet.store.calls };
    cut.sever();
    const b = fleet.get('b');
    // b is not the scanner: whatever it receives, it finds through the index after a signal.
    expect(b.coordinatorRole()?.heldByMe).toBe(false);
    const took = await until(fleet, () => lost.every((l) => fleet.get('a').holds(l.leaseKey) || b.holds(l.leaseKey)), 5_000);
    expect(took).toBeLessThanOrEqual(2 * 1_000);
    expect(lost.some((l) => b.holds(l.leaseKey))).toBe(true);
    expect((fleet.store.calls.nudgeRole ?? 0) - (before.nudgeRole ?? 0)).toBeGreaterThan(0);
    await Promise.all(['a', 'b'].map((id) => fleet.get(id).stop()));
  });

  it('a lost signal only delays adoption until the periodic index query (or a reassignment)', async () => {
    const fleet = new Fleet(SCANNER);
    seedLeases(fleet.store, 12);
    // Nobody can signal: every nudge of the role fails.
    const mute = new Proxy(fleet.store, {
      get(target, prop, receiver) {
        if (prop === 'nudgeRole') return () => Promise.reject(new DependencyError('dynamodb', 'nudgeRole', 'throttled', { retryable: true }));
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as LeaseRefresher;
    const c = severable(mute as InMemoryLeaseRefresher);
    await startFleet(fleet, ['a', 'b', 'c'], new Map([['a', mute], ['b', mute], ['c', c.refresher]]));
    await until(fleet, () => fleet.balanced(12), 20_000);
    const lost = fleet.get('c').heldLeases();
    c.sever();
    const others = [fleet.get('a'), fleet.get('b')];
    await until(fleet, () => lost.every((l) => others.some((o) => o.holds(l.leaseKey))), 5 * 1_000);
    expect(fleet.doublyHeld()).toEqual([]);
    await Promise.all(others.map((o) => o.stop()));
  });

  it('renewing every lease duration / 2.5 survives one failed renewal when the next is answered within the margin (1.5 s at a 10 s lease)', async () => {
    // The margin: a renewal sent 2 × renewIntervalMs after the last good one must be answered
    // before the self-fencing deadline, leaseDurationMs - selfFencingMarginMs after it.
    const run = async (slowMs: number): Promise<{ lost: Recorded[]; held: number }> => {
      const fleet = new Fleet({ coordination: 'single-scanner' }); // lease 10 s, renew 4 s, margin 0.5 s
      seedLeases(fleet.store, 4);
      let trouble: { failAt?: number; slowAt?: number } | undefined;
      const flaky = new Proxy(fleet.store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== 'function') return value;
          if (prop !== 'renewLease') return (value as (...a: unknown[]) => unknown).bind(target);
          return async (...args: unknown[]) => {
            const now = fleet.clock.elapsed();
            if (trouble !== undefined) {
              trouble.failAt ??= now;
              if (now === trouble.failAt) throw new DependencyError('dynamodb', 'UpdateItem', 'timed out', { retryable: true });
              trouble.slowAt ??= now;
              if (now === trouble.slowAt) await fleet.clock.sleep(slowMs);
            }
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          };
        },
      }) as LeaseRefresher;
      await startFleet(fleet, ['a', 'b'], new Map([['b', flaky]]));
      await until(fleet, () => fleet.balanced(4), 60_000, 100);
      const b = fleet.get('b');
      expect(b.coordinatorRole()?.heldByMe).toBe(false);
      const from = fleet.clock.elapsed();
      trouble = {};
      await fleet.clock.advance(20_000);
      expect(trouble.slowAt! - trouble.failAt!).toBe(4_000); // the failed round, then the next one
      const lost = fleet.events.filter((e) => e.worker === 'b' && e.event === 'lost' && e.at > from);
      const held = b.heldLeases().length;
      await Promise.all([...fleet.coordinators.values()].map((c) => c.stop()));
      return { lost: lost.map((e) => e as Recorded), held };
    };
    const within = await run(1_400);
    expect(within.lost).toEqual([]);
    expect(within.held).toBe(2);
    const beyond = await run(1_600);
    expect(beyond.lost.length).toBe(2);
    expect(beyond.lost.every((e) => e.reason === 'expired')).toBe(true);
  });

  it('refuses a refresher without the role and index methods, naming them', () => {
    const fleet = new Fleet(SCANNER);
    const bare: LeaseRefresher = { ...fleet.store, listLeases: () => fleet.store.listLeases() } as unknown as LeaseRefresher;
    expect(() => fleet.add('x', { refresher: bare })).toThrow(/single-scanner' needs a refresher with listLeaseKeysForOwner, getRole/);
  });
});

describe('planAssignments', () => {
  const lease = (key: string, owner?: string, extra: Partial<Lease> = {}): Lease => ({
    leaseKey: key,
    ...(owner ? { leaseOwner: owner, ownerIncarnation: `${owner}-process` } : {}),
    leaseCounter: 1,
    checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [],
    childShardIds: [],
    ...extra,
  });
  const base = { scanner: 's', scannerTakes: true, maxLeasesForWorker: Infinity, maxMoves: 64, random: () => 0.5 };

  it('gives expired and free leases to the least-loaded workers and evens the rest out by handoffs', () => {
    const leases = [
      ...Array.from({ length: 6 }, (_, i) => lease(`x${i}`, 'x')),
      lease('y0', 'y'),
      lease('dead0', 'dead'),
      lease('dead1', 'dead'),
      lease('free', undefined),
      lease('done', 'y', { checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 } }),
    ];
    const plan = planAssignments({ ...base, leases, expiredKeys: new Set(['dead0', 'dead1', 'free']) });
    expect(plan.liveWorkers).toEqual(['s', 'x', 'y']);
    expect(plan.target).toBe(4); // ceil(10 active leases / 3 workers)
    expect(plan.assign.map((a) => a.lease.leaseKey).sort()).toEqual(['dead0', 'dead1', 'free']);
    expect(plan.assign.every((a) => a.to !== 'x')).toBe(true);
    expect(plan.handoffs.every((h) => h.lease.leaseOwner === 'x')).toBe(true);
    expect([...plan.load.values()].sort()).toEqual([3, 3, 4]);
  });

  it('does not count as live a worker whose only leases were assigned to it and never taken up', () => {
    const assigned = { ...lease('a0', 'dead'), ownerIncarnation: undefined } as Lease;
    const plan = planAssignments({ ...base, leases: [assigned, lease('x0', 'x'), lease('free', undefined)], expiredKeys: new Set(['free']) });
    expect(plan.liveWorkers).toEqual(['s', 'x']);
    expect(plan.assign.map((a) => a.to)).not.toContain('dead');
  });

  it('counts a lease in transit for its recipient, and never plans for a scanner that stopped taking', () => {
    const leases = [lease('a', 'x', { handoffTo: 'joiner' }), lease('b', 'x'), lease('c', 'x'), lease('free', undefined)];
    const plan = planAssignments({ ...base, scannerTakes: false, leases, expiredKeys: new Set(['free']) });
    expect(plan.liveWorkers).toEqual(['joiner', 'x']);
    expect(plan.assign).toEqual([{ lease: leases[3], to: 'joiner' }]);
    expect(plan.handoffs).toEqual([]);
  });
});

describe('worker-heartbeat renewal (single-scanner)', () => {
  const HEARTBEAT = { ...SCANNER, renewal: 'worker-heartbeat' } as const;

  it('renews one heartbeat per worker instead of every lease, and still balances', async () => {
    const fleet = await balancedFleet(HEARTBEAT, 24, ['a', 'b', 'c']);
    await fleet.clock.advance(2_000);
    const delta = await callsDuring(fleet, 10_000);
    expect(delta('renewLease')).toBe(0);
    // 3 heartbeats and the scanner role, every 333 ms for 10 s.
    expect(delta('renewRole')).toBeGreaterThanOrEqual(4 * 29);
    expect(delta('renewRole')).toBeLessThanOrEqual(4 * 31);
    expect(fleet.heldKeys().size).toBe(24);
    await Promise.all([...fleet.coordinators.values()].map((c) => c.stop()));
  });

  it('a crashed worker\'s leases move once its heartbeat stops; it fenced them first; its stale heartbeat is deleted', async () => {
    const fleet = new Fleet(HEARTBEAT);
    seedLeases(fleet.store, 12);
    const cut = severable(fleet.store);
    await startFleet(fleet, ['a', 'b', 'c'], new Map([['c', cut.refresher]]));
    await until(fleet, () => fleet.balanced(12), 20_000);
    const lost = fleet.get('c').heldLeases();
    expect(lost.length).toBeGreaterThanOrEqual(3);
    cut.sever();
    const killedAt = fleet.clock.elapsed();
    const others = [fleet.get('a'), fleet.get('b')];
    const took = await until(fleet, () => lost.every((l) => others.some((c) => c.holds(l.leaseKey))), 5_000);
    expect(took).toBeLessThanOrEqual(2 * 1_000);
    const cLost = fleet.events.filter((e) => e.worker === 'c' && e.event === 'lost');
    expect(cLost.map((e) => e.leaseKey).sort()).toEqual(lost.map((l) => l.leaseKey).sort());
    const firstGainElsewhere = Math.min(...fleet.events.filter((e) => e.event === 'gained' && e.worker !== 'c' && e.at > killedAt).map((e) => e.at));
    expect(Math.max(...cLost.map((e) => e.at))).toBeLessThanOrEqual(firstGainElsewhere); // fenced before anyone took over
    // A zombie checkpoint with the counter it held fails.
    expect(await fleet.store.updateLease(lost[0]!, 'c', { checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } })).toBeUndefined();
    await until(fleet, () => fleet.store.calls.deleteRole !== undefined, 10_000);
    expect((await fleet.store.scanCoordination()).roles.map((r) => r.name).filter((n) => n.startsWith('worker:c#'))).toEqual([]);
    await Promise.all(others.map((c) => c.stop()));
  });

  it('a joiner gets its share by graceful handoffs: owners are nudged through their heartbeat', async () => {
    const fleet = await balancedFleet(HEARTBEAT, 24, ['a', 'b']);
    const d = fleet.add('d');
    let rounds = 0;
    d.on('takerRun', () => rounds++);
    await d.start();
    let maxDouble = 0;
    await until(fleet, () => {
      maxDouble = Math.max(maxDouble, fleet.doublyHeld().length);
      return fleet.balanced(24);
    }, 20_000, 10);
    expect(maxDouble).toBe(0);
    expect(rounds).toBeLessThanOrEqual(3);
    expect(fleet.events.filter((e) => e.event === 'lost').every((e) => e.reason === 'handed-off')).toBe(true);
    expect(fleet.store.calls.nudgeRole).toBeGreaterThan(0);
    await Promise.all([...fleet.coordinators.values()].map((c) => c.stop()));
  });

  it('refuses worker-heartbeat without the single scanner', () => {
    expect(() => new Fleet({ renewal: 'worker-heartbeat' }).add('x')).toThrow(/leases.renewal 'worker-heartbeat' needs leases.coordination 'single-scanner'/);
  });
});
