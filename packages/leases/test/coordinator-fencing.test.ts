import { DependencyError, FakeClock, LeaseLostError } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { LeaseCoordinator, resolveLeaseCoordinatorConfig } from '../src/coordinator/index.js';
import { InMemoryLeaseRefresher } from '../src/in-memory-refresher.js';
import type { Lease, LeaseUpdate } from '../src/lease.js';
import type { LeaseRefresher } from '../src/refresher.js';
import { FAST, Fleet, leaseKeys, seedLeases } from './coordinator-harness.js';

const storeDown = (): DependencyError => new DependencyError('dynamodb', 'UpdateItem', 'service unavailable', { retryable: true });

/** Delegates to `inner`, except renewLease, which `mode` can make throw or hang. */
function flakyRenewals(inner: LeaseRefresher): { refresher: LeaseRefresher; setMode(mode: 'ok' | 'throw' | 'hang'): void } {
  let mode: 'ok' | 'throw' | 'hang' = 'ok';
  const refresher = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'renewLease') {
        return async (lease: Lease, owner: string, signal?: AbortSignal) => {
          if (mode === 'throw') throw storeDown();
          if (mode === 'hang') {
            // Hangs until the coordinator aborts the call (as the DynamoDB client does on abort).
            return new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
          }
          return target.renewLease(lease, owner, signal);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { refresher, setMode: (m) => (mode = m) };
}

describe('LeaseCoordinator: self-fencing', () => {
  for (const mode of ['throw', 'hang'] as const) {
    it(`drops a lease it cannot renew (renewals ${mode}) before leaseDuration passes, and a peer takes it only after`, async () => {
      const fleet = new Fleet();
      const [key] = seedLeases(fleet.store, 1, () => 'a');
      const flaky = flakyRenewals(fleet.store);
      const a = fleet.add('a', { refresher: flaky.refresher });
      const b = fleet.add('b');
      await a.start(); // adopts the lease (renewal sent at t = 0) and starts its loops
      await b.start();
      await fleet.clock.advance(2_000);
      expect(a.holds(key!)).toBe(true);
      expect(b.holds(key!)).toBe(false);

      // Store trouble for A from now on. Its last successful renewal was sent at most one
      // renew interval (333 ms) ago.
      const brokenAt = fleet.clock.elapsed();
      flaky.setMode(mode);
      let lostAt: number | undefined;
      let gainedAt: number | undefined;
      for (let t = brokenAt; t < brokenAt + 3_000; t += 10) {
        await fleet.clock.advanceTo(t);
        if (lostAt === undefined && !a.holds(key!)) lostAt = t;
        if (gainedAt === undefined && b.holds(key!)) gainedAt = t;
        expect(a.holds(key!) && b.holds(key!)).toBe(false);
      }
      const lost = fleet.events.find((e) => e.worker === 'a' && e.event === 'lost');
      expect(lost).toMatchObject({ leaseKey: key, reason: 'expired' });
      // Dropped before the lease duration (1 s) passed since the last successful renewal...
      expect(lostAt!).toBeLessThan(brokenAt + 1_000);
      expect(lost!.at).toBeLessThan(brokenAt + 1_000);
      // ...but not after one failed renewal: more than leaseDuration - margin - renewInterval later.
      expect(lostAt! - brokenAt).toBeGreaterThanOrEqual(1_000 - 100 - 333);
      // The peer takes it only once A has let go, and at least leaseDuration after A's last renewal.
      expect(gainedAt).toBeDefined();
      expect(gainedAt!).toBeGreaterThan(lost!.at);
      expect((await fleet.store.getLease(key!))?.leaseOwner).toBe('b');
      if (mode === 'throw') expect(fleet.errors.some((e) => e instanceof DependencyError)).toBe(true);
      flaky.setMode('ok');
      await Promise.all([a.stop(), b.stop()]);
    });
  }

  it('keeps a lease through a single failed renewal', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    await a.runTakerOnce();
    fleet.store.failNext('renewLease', storeDown());
    await fleet.clock.advance(333);
    await a.runRenewerOnce(); // fails: reported, lease kept
    expect(a.holds(key!)).toBe(true);
    expect(fleet.errors).toHaveLength(1);
    await fleet.clock.advance(333);
    await a.runRenewerOnce();
    expect(a.holds(key!)).toBe(true);
    expect(fleet.events.filter((e) => e.event === 'lost')).toEqual([]);
  });

  it('drops a lease whose renewal condition fails, with reason taken when a peer owns it', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    await a.runTakerOnce();
    const stored = await fleet.store.getLease(key!);
    await fleet.store.takeLease(stored!, 'thief');
    await a.runRenewerOnce();
    expect(a.holds(key!)).toBe(false);
    expect(fleet.events.at(-1)).toMatchObject({ worker: 'a', event: 'lost', leaseKey: key, reason: 'taken' });
  });

  it('resynchronises when the table still names it with a newer counter (a write whose reply was lost)', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    await a.runTakerOnce();
    // A renewal applied by the store whose reply never reached the coordinator:
    await fleet.store.renewLease(a.getHeldLease(key!)!, 'a');
    await a.runRenewerOnce();
    expect(a.holds(key!)).toBe(true);
    expect(a.getHeldLease(key!)!.leaseCounter).toBe((await fleet.store.getLease(key!))!.leaseCounter);
  });
});

describe('LeaseCoordinator.updateLease: fenced writes', () => {
  const checkpoint = { checkpoint: { sequenceNumber: '12345', subSequenceNumber: 0 } };

  it('writes through the held counter and refreshes the held copy', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    await a.runTakerOnce();
    const before = a.getHeldLease(key!)!.leaseCounter;
    const updated = await a.updateLease(key!, checkpoint);
    expect(updated.checkpoint.sequenceNumber).toBe('12345');
    expect(updated.leaseCounter).toBe(before + 1);
    expect(a.getHeldLease(key!)).toEqual(updated);
    expect(await fleet.store.getLease(key!)).toEqual(updated);
  });

  it('is serialised with renewals of the same lease (no race on the counter)', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    await a.runTakerOnce();
    const renewsBefore = fleet.store.calls.renewLease ?? 0;
    const results = await Promise.all([a.runRenewerOnce(), a.updateLease(key!, checkpoint), a.runRenewerOnce(), a.updateLease(key!, { checkpoint: { sequenceNumber: '12346', subSequenceNumber: 0 } })]);
    expect(results[3].checkpoint.sequenceNumber).toBe('12346');
    expect(a.holds(key!)).toBe(true);
    expect(fleet.store.calls.getLease ?? 0).toBe(0); // no condition ever failed
    // A renewal round skips a lease whose write is in flight, so count the renewals made.
    const renews = (fleet.store.calls.renewLease ?? 0) - renewsBefore;
    expect((await fleet.store.getLease(key!))!.leaseCounter).toBe(1 + renews + 2);
  });

  it('after a peer took the lease: throws LeaseLostError, leaves the store unchanged, emits leaseLost', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    const b = fleet.add('b');
    await a.runTakerOnce();
    await b.runTakerOnce();
    // A pauses (no rounds) for longer than the lease duration; B takes the lease and checkpoints.
    await fleet.clock.advance(1_000);
    expect((await b.runTakerOnce()).taken).toEqual([key]);
    await b.updateLease(key!, { checkpoint: { sequenceNumber: '999', subSequenceNumber: 0 } });
    const stored = await fleet.store.getLease(key!);
    // The zombie A wakes up and tries to checkpoint.
    await expect(a.updateLease(key!, checkpoint)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await fleet.store.getLease(key!)).toEqual(stored);
    expect(a.holds(key!)).toBe(false);
    // Had A not noticed its deadline (fencing by the counter alone), the write is still refused:
    const fleet2 = new Fleet();
    seedLeases(fleet2.store, 1, () => 'a');
    const a2 = fleet2.add('a');
    await a2.runTakerOnce();
    await fleet2.store.takeLease((await fleet2.store.getLease(key!))!, 'b');
    const stored2 = await fleet2.store.getLease(key!);
    const error = await a2.updateLease(key!, checkpoint).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as LeaseLostError).leaseKey).toBe(key);
    expect(await fleet2.store.getLease(key!)).toEqual(stored2);
    expect(fleet2.events.at(-1)).toMatchObject({ worker: 'a', event: 'lost', reason: 'taken' });
  });

  it('throws LeaseLostError for a lease it does not hold, and lets store errors through', async () => {
    const fleet = new Fleet();
    const [key] = seedLeases(fleet.store, 1, () => 'a');
    const a = fleet.add('a');
    await expect(a.updateLease(key!, checkpoint)).rejects.toBeInstanceOf(LeaseLostError);
    await a.runTakerOnce();
    fleet.store.failNext('updateLease', storeDown());
    await expect(a.updateLease(key!, checkpoint)).rejects.toBeInstanceOf(DependencyError);
    expect(a.holds(key!)).toBe(true);
  });
});

describe('LeaseCoordinator: one slow write does not hold up the others', () => {
  /** A store whose checkpoint writes to one lease hang (a throttled write being retried), optionally until aborted. */
  class StuckWrites extends InMemoryLeaseRefresher {
    constructor(
      private readonly stuckKey: string,
      private readonly honoursAbort: boolean,
    ) {
      super();
    }
    override async updateLease(lease: Lease, owner: string, update: LeaseUpdate, signal?: AbortSignal): Promise<Lease | undefined> {
      if (lease.leaseKey !== this.stuckKey) return super.updateLease(lease, owner, update);
      return new Promise((resolve, reject) => {
        this.unblock = () => resolve(undefined);
        if (this.honoursAbort) signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    /** Lets a write that ignores aborts finish (so the test can stop the coordinator). */
    unblock: () => void = () => undefined;
  }

  async function setup(honoursAbort: boolean): Promise<{ clock: FakeClock; a: LeaseCoordinator; stuck: string; quiet: string; store: StuckWrites }> {
    const clock = new FakeClock();
    const [stuck, quiet] = leaseKeys(2) as [string, string];
    const store = new StuckWrites(stuck, honoursAbort);
    seedLeases(store, 2);
    const a = new LeaseCoordinator({ refresher: store, workerId: 'a', clock, config: resolveLeaseCoordinatorConfig(FAST) });
    await a.start();
    expect(a.heldLeases().map((l) => l.leaseKey).sort()).toEqual([stuck, quiet]);
    return { clock, a, stuck, quiet, store };
  }

  it('keeps renewing the other leases while one lease has a write in flight', async () => {
    const { clock, a, stuck, quiet, store } = await setup(false);
    void a.updateLease(stuck, { checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } }).catch(() => undefined);
    await clock.advance(5_000); // five lease durations
    expect(a.holds(quiet)).toBe(true);
    store.unblock();
    await a.stop();
  });

  it('fails a write still retrying at the lease deadline with LeaseLostError', async () => {
    const { clock, a, stuck, quiet } = await setup(true);
    const write = a.updateLease(stuck, { checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } }).then(
      () => 'written',
      (e: unknown) => e,
    );
    await clock.advance(3_000);
    expect(await write).toBeInstanceOf(LeaseLostError);
    expect(a.holds(quiet)).toBe(true);
    await a.stop();
  });
});
