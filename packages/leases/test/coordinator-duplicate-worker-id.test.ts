import { FakeClock, isKclError } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { LeaseCoordinator, resolveLeaseCoordinatorConfig } from '../src/coordinator/index.js';
import { InMemoryLeaseRefresher } from '../src/in-memory-refresher.js';
import { FAST, seedLeases } from './coordinator-harness.js';

function coordinator(store: InMemoryLeaseRefresher, clock: FakeClock, incarnation: string, errors: Error[]): LeaseCoordinator {
  const c = new LeaseCoordinator({ refresher: store, workerId: 'same-id', clock, config: resolveLeaseCoordinatorConfig(FAST), incarnation, random: () => 0.5 });
  c.on('error', (e) => errors.push(e));
  return c;
}

describe('LeaseCoordinator: two processes with the same worker id', () => {
  it('one of them gives the lease up for good and reports the id; they do not both hold it', async () => {
    const clock = new FakeClock();
    const store = new InMemoryLeaseRefresher();
    const [key] = seedLeases(store, 1);
    const errorsA: Error[] = [];
    const errorsB: Error[] = [];
    const a = coordinator(store, clock, 'process-a', errorsA);
    await a.start();
    expect(a.holds(key!)).toBe(true);
    expect((await store.getLease(key!))?.ownerIncarnation).toBe('process-a');

    // A second process starts with the same id (a copy-pasted config): its first round adopts
    // the lease as a restart would.
    const b = coordinator(store, clock, 'process-b', errorsB);
    await b.start();

    let bothHeldAfterDetection = 0;
    let detected = false;
    for (let t = 0; t < 20_000; t += 100) {
      await clock.advance(100);
      detected ||= [...errorsA, ...errorsB].some((e) => isKclError(e, 'DUPLICATE_WORKER_ID'));
      if (detected && a.holds(key!) && b.holds(key!)) bothHeldAfterDetection++;
    }
    const reported = [...errorsA, ...errorsB].find((e) => isKclError(e, 'DUPLICATE_WORKER_ID'));
    expect(reported?.message).toMatch(/workerId "same-id"/);
    expect(bothHeldAfterDetection).toBe(0);
    expect([a.holds(key!), b.holds(key!)].filter(Boolean)).toHaveLength(1);
    // The stored checkpoint history is one process's: the counter is not fought over any more.
    const settled = (await store.getLease(key!))!;
    await clock.advance(5_000);
    expect((await store.getLease(key!))!.ownerIncarnation).toBe(settled.ownerIncarnation);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('adopts the leases of an earlier process with its id at start (a restart), processing them one lease duration later', async () => {
    const clock = new FakeClock();
    const store = new InMemoryLeaseRefresher();
    const [key] = seedLeases(store, 1);
    const old = coordinator(store, clock, 'old', []);
    await old.start();
    // The old process dies (no stop, no release); a new one with the same id starts. It cannot
    // tell a dead predecessor from a live duplicate yet: it renews the lease at once (so a live
    // one finds out) but processes it only once the other would have fenced itself.
    const fresh = coordinator(store, clock, 'new', []);
    const startedAt = clock.elapsed();
    await fresh.start();
    expect((await store.getLease(key!))?.ownerIncarnation).toBe('new');
    expect(fresh.holds(key!)).toBe(false);
    for (let t = 0; t < 5_000 && !fresh.holds(key!); t += 50) await clock.advance(50);
    expect(fresh.holds(key!)).toBe(true);
    expect(clock.elapsed() - startedAt).toBeGreaterThanOrEqual(FAST.leaseDurationMs!);
    await fresh.stop();
  });

  it('takes over the leases of a duplicate that died, once they expire', async () => {
    const clock = new FakeClock();
    const store = new InMemoryLeaseRefresher();
    const [key] = seedLeases(store, 1);
    const errors: Error[] = [];
    const a = coordinator(store, clock, 'process-a', errors);
    await a.start();
    const b = coordinator(store, clock, 'process-b', errors);
    await b.start();
    for (let t = 0; t < 5_000 && !(a.holds(key!) !== b.holds(key!) && errors.length > 0); t += 100) await clock.advance(100);
    const [winner, loser] = a.holds(key!) ? [a, b] : [b, a];
    // The winner dies without releasing: its lease stops being renewed.
    const abandoned = winner.stop();
    void abandoned;
    for (let t = 0; t < 10_000 && !loser.holds(key!); t += 100) await clock.advance(100);
    expect(loser.holds(key!)).toBe(true);
    await loser.stop();
  });

  it('a lease still waiting to become active is not handed over to a peer (the previous holder may still be processing)', async () => {
    const clock = new FakeClock();
    const store = new InMemoryLeaseRefresher();
    const [key] = seedLeases(store, 1);
    const a = coordinator(store, clock, 'process-a', []);
    await a.start();
    const b = coordinator(store, clock, 'process-b', []);
    await b.start(); // adopts, inactive for a lease duration
    expect(b.holds(key!)).toBe(false);
    // A peer asks for the lease while b waits (found by the simulation, seed 11493).
    expect(await store.requestHandoff((await store.getLease(key!))!, 'peer')).toBe(true);
    await b.runRenewerOnce();
    await b.settleHandoffs();
    expect((await store.getLease(key!))?.leaseOwner).toBe('same-id');
    // Once active, the request is honoured.
    for (let t = 0; t < 5_000 && (await store.getLease(key!))?.leaseOwner !== 'peer'; t += 100) {
      await clock.advance(100);
      await b.settleHandoffs();
    }
    expect((await store.getLease(key!))?.leaseOwner).toBe('peer');
    await Promise.all([a.stop(), b.stop()]);
  });
});
