import { DependencyError, ShutdownError } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { LeaseCoordinator, resolveLeaseCoordinatorConfig } from '../src/coordinator/index.js';
import { Fleet, seedLeases } from './coordinator-harness.js';

const throttled = (): DependencyError => new DependencyError('dynamodb', 'Scan', 'throttled', { retryable: true });

describe('LeaseCoordinator: start and stop', () => {
  it('start() and stop() are idempotent and share one promise; start after stop is refused', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 3);
    const a = fleet.add('a');
    const first = a.start();
    expect(a.start()).toBe(first);
    await first;
    expect(a.heldLeases()).toHaveLength(3);
    expect(fleet.store.calls.listLeases).toBe(1);
    expect(fleet.clock.pendingTimers).toBe(3); // renewer, taker, self-fencing watchdog

    const stopping = a.stop();
    expect(a.stop()).toBe(stopping);
    await stopping;
    expect(fleet.clock.pendingTimers).toBe(0);
    expect(a.heldLeases()).toEqual([]);
    await expect(a.start()).rejects.toBeInstanceOf(ShutdownError);
    await expect(a.runTakerOnce()).rejects.toBeInstanceOf(ShutdownError);
    // Time passing after stop does nothing.
    const calls = fleet.store.totalCalls;
    await fleet.clock.advance(10_000);
    expect(fleet.store.totalCalls).toBe(calls);
  });

  it('stop() without start() works, and stop() during start() ends with no loop running', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 2);
    await fleet.add('idle').stop();
    const b = fleet.add('b');
    const starting = b.start();
    const stopping = b.stop();
    await starting;
    await stopping;
    expect(fleet.clock.pendingTimers).toBe(0);
    expect(b.heldLeases()).toEqual([]);
    expect((await fleet.store.listLeases()).every((l) => l.leaseOwner === undefined)).toBe(true);
  });

  it('start() rejects when the first scan fails, and can be retried', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 2);
    const a = fleet.add('a');
    fleet.store.failNext('listLeases', throttled());
    await expect(a.start()).rejects.toBeInstanceOf(DependencyError);
    await a.start();
    expect(a.heldLeases()).toHaveLength(2);
    await a.stop();
  });

  it('graceful release: stop() evicts every lease, and a peer takes them on its next round without waiting for expiry', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 12);
    const a = fleet.add('a');
    const b = fleet.add('b');
    await a.start();
    await b.start();
    await fleet.clock.advance(2_000);
    expect(fleet.balanced(12)).toBe(true);
    const aKeys = a.heldLeases().map((l) => l.leaseKey).sort();

    const before = fleet.events.length;
    await a.stop();
    const released = fleet.events.slice(before).filter((e) => e.worker === 'a' && e.event === 'lost');
    expect(released.map((e) => e.leaseKey).sort()).toEqual(aKeys);
    expect(released.every((e) => e.reason === 'released')).toBe(true);
    for (const key of aKeys) expect((await fleet.store.getLease(key))?.leaseOwner).toBeUndefined();

    const stoppedAt = fleet.clock.elapsed();
    const summary = await b.runTakerOnce();
    expect([...summary.taken].sort()).toEqual(aKeys);
    expect(b.heldLeases()).toHaveLength(12);
    expect(fleet.clock.elapsed()).toBe(stoppedAt); // no waiting at all
    await b.stop();
  });

  it('with releaseLeasesOnStop false, stop() leaves the table alone and peers wait for expiry', async () => {
    const fleet = new Fleet({ leaseDurationMs: 1_000, releaseLeasesOnStop: false });
    seedLeases(fleet.store, 2);
    const a = fleet.add('a');
    await a.start();
    await a.stop();
    expect(fleet.events.filter((e) => e.event === 'lost').map((e) => e.reason)).toEqual(['released', 'released']);
    expect((await fleet.store.listLeases()).every((l) => l.leaseOwner === 'a')).toBe(true);
    const b = fleet.add('b');
    expect((await b.runTakerOnce()).taken).toEqual([]);
    await fleet.clock.advance(1_000);
    expect((await b.runTakerOnce()).taken).toHaveLength(2);
  });

  it('stop() never throws when an eviction fails', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 2);
    const a = fleet.add('a');
    await a.start();
    fleet.store.failNext('evictLease', new DependencyError('dynamodb', 'UpdateItem', 'down'));
    await expect(a.stop()).resolves.toBeUndefined();
    const owners = (await fleet.store.listLeases()).map((l) => l.leaseOwner);
    expect(owners.filter((o) => o === 'a')).toHaveLength(1);
    expect(a.heldLeases()).toEqual([]);
  });

  it('releaseLease() evicts one lease and emits leaseLost released; false for a lease not held', async () => {
    const fleet = new Fleet();
    const keys = seedLeases(fleet.store, 2);
    const a = fleet.add('a');
    await a.runTakerOnce();
    expect(await a.releaseLease(keys[0]!)).toBe(true);
    expect(a.holds(keys[0]!)).toBe(false);
    expect((await fleet.store.getLease(keys[0]!))?.leaseOwner).toBeUndefined();
    expect(fleet.events.at(-1)).toMatchObject({ event: 'lost', leaseKey: keys[0], reason: 'released' });
    expect(await a.releaseLease(keys[0]!)).toBe(false);
    expect(await a.releaseLease('nope')).toBe(false);
  });

  it('stopTaking(): renewals go on, nothing more is taken, leases handed over late are released', async () => {
    const fleet = new Fleet();
    const keys = seedLeases(fleet.store, 4, (i) => (i < 2 ? 'a' : undefined));
    const a = fleet.add('a');
    await a.runTakerOnce();
    expect(a.heldLeases()).toHaveLength(4);
    await a.releaseLease(keys[3]!);
    a.stopTaking();
    // A peer hands a lease to A after A stopped taking: A releases it at once.
    await fleet.store.takeLease((await fleet.store.getLease(keys[3]!))!, 'a');
    const summary = await a.runTakerOnce();
    expect(summary.taken).toEqual([]);
    expect(summary.adopted).toEqual([]);
    expect((await fleet.store.getLease(keys[3]!))?.leaseOwner).toBeUndefined();
    await fleet.clock.advance(333);
    await a.runRenewerOnce();
    expect(a.heldLeases()).toHaveLength(3);
  });
});

describe('LeaseCoordinator: errors in loop rounds', () => {
  it('are logged and emitted as error when someone listens, and the loop goes on', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 2, () => 'ghost');
    const a = fleet.add('a');
    await a.start();
    const runs: number[] = [];
    a.on('takerRun', (s) => runs.push(s.taken.length));
    fleet.store.failNext('listLeases', throttled());
    await fleet.clock.advance(200);
    expect(fleet.errors).toHaveLength(1);
    expect(fleet.errors[0]).toBeInstanceOf(DependencyError);
    expect(runs).toEqual([]);
    await fleet.clock.advance(1_000);
    expect(runs.length).toBeGreaterThan(3);
    expect(a.heldLeases()).toHaveLength(2); // ghost's leases expired and were taken
    await a.stop();
  });

  it('never crash the process when nobody listens for error', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 1);
    const lonely = new LeaseCoordinator({ refresher: fleet.store, workerId: 'lonely', clock: fleet.clock, config: resolveLeaseCoordinatorConfig({ leaseDurationMs: 1_000 }) });
    await lonely.start();
    fleet.store.failNext('listLeases', throttled());
    fleet.store.failNext('renewLease', throttled());
    await fleet.clock.advance(1_000);
    expect(lonely.heldLeases()).toHaveLength(1);
    await lonely.stop();
  });

  it('a throwing event listener does not break the coordinator', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 2);
    const a = fleet.add('a');
    a.on('leaseGained', () => {
      throw new Error('listener bug');
    });
    await a.start();
    expect(a.heldLeases()).toHaveLength(2);
    await a.stop();
  });

  it('once() and off() manage listeners', async () => {
    const fleet = new Fleet();
    seedLeases(fleet.store, 2);
    const a = fleet.add('a');
    const onceSeen: string[] = [];
    const offSeen: string[] = [];
    const off = (lease: { leaseKey: string }): void => {
      offSeen.push(lease.leaseKey);
    };
    a.once('leaseGained', (lease) => onceSeen.push(lease.leaseKey)).on('leaseGained', off).off('leaseGained', off);
    await a.runTakerOnce();
    expect(onceSeen).toHaveLength(1);
    expect(offSeen).toEqual([]);
  });
});
