/**
 * Shared helpers of the lease coordinator tests: a fleet of real coordinators on one
 * FakeClock and one InMemoryLeaseRefresher, seeded leases, and event recording.
 */
import { FakeClock } from '@kcl-ts/processor';
import { InMemoryLeaseRefresher } from '../src/in-memory-refresher.js';
import type { Lease } from '../src/lease.js';
import { LeaseCoordinator, resolveLeaseCoordinatorConfig, type LeaseCoordinatorOptions, type LeaseLostReason } from '../src/coordinator/index.js';

/** Short timings for tests: lease 1 s, renew every 333 ms, taker every 200 ms, margin 100 ms. */
export const FAST: LeaseCoordinatorOptions = { leaseDurationMs: 1_000 };

/** `n` lease keys: shard-00 … */
export function leaseKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `shard-${String(i).padStart(2, '0')}`);
}

/** Puts `n` leases in the store; `owner(i)` gives the owner of lease i (undefined: free). */
export function seedLeases(store: InMemoryLeaseRefresher, n: number, owner: (i: number) => string | undefined = () => undefined): string[] {
  const keys = leaseKeys(n);
  keys.forEach((leaseKey, i) => {
    const leaseOwner = owner(i);
    store.put({
      leaseKey,
      ...(leaseOwner === undefined ? {} : { leaseOwner }),
      leaseCounter: 0,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: [],
      childShardIds: [],
    });
  });
  return keys;
}

/** A recorded coordinator event. */
export interface Recorded {
  readonly at: number;
  readonly worker: string;
  readonly event: 'gained' | 'lost';
  readonly leaseKey: string;
  readonly reason?: LeaseLostReason;
}

/** Several coordinators sharing one clock and one store, with every gain and loss recorded. */
export class Fleet {
  readonly clock = new FakeClock(0);
  readonly store = new InMemoryLeaseRefresher();
  readonly coordinators = new Map<string, LeaseCoordinator>();
  readonly events: Recorded[] = [];
  readonly errors: Error[] = [];
  private seed = 42;

  /** Deterministic PRNG shared by the fleet (mulberry32). */
  readonly random = (): number => {
    this.seed = (this.seed + 0x6d2b79f5) >>> 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  constructor(private readonly options: LeaseCoordinatorOptions = FAST) {}

  /** Creates (and registers) a coordinator; a previous one with the same id is replaced. */
  add(
    workerId: string,
    extra: { options?: LeaseCoordinatorOptions; onHandoffRequested?: (lease: Lease, to: string) => Promise<void>; refresher?: InMemoryLeaseRefresher | import('../src/refresher.js').LeaseRefresher } = {},
  ): LeaseCoordinator {
    const c = new LeaseCoordinator({
      refresher: extra.refresher ?? this.store,
      workerId,
      clock: this.clock,
      config: resolveLeaseCoordinatorConfig({ ...this.options, ...extra.options }),
      random: this.random,
      ...(extra.onHandoffRequested ? { onHandoffRequested: extra.onHandoffRequested } : {}),
    });
    c.on('leaseGained', (lease) => this.events.push({ at: this.clock.elapsed(), worker: workerId, event: 'gained', leaseKey: lease.leaseKey }));
    c.on('leaseLost', (lease, reason) => this.events.push({ at: this.clock.elapsed(), worker: workerId, event: 'lost', leaseKey: lease.leaseKey, reason }));
    c.on('error', (error) => this.errors.push(error));
    this.coordinators.set(workerId, c);
    return c;
  }

  get(workerId: string): LeaseCoordinator {
    const c = this.coordinators.get(workerId);
    if (!c) throw new Error(`no coordinator ${workerId}`);
    return c;
  }

  /** Lets async work (handoffs under way) finish without moving time. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.clock.advance(0);
      await Promise.all([...this.coordinators.values()].map((c) => c.settleHandoffs()));
    }
  }

  /** Held (live) lease counts per worker. */
  counts(): Map<string, number> {
    return new Map([...this.coordinators].map(([id, c]) => [id, c.heldLeases().length]));
  }

  /** Keys held (live) by two or more coordinators. */
  doublyHeld(): string[] {
    const seen = new Map<string, number>();
    for (const c of this.coordinators.values()) for (const l of c.heldLeases()) seen.set(l.leaseKey, (seen.get(l.leaseKey) ?? 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  }

  /** Number of distinct leases held by some coordinator. */
  heldKeys(): Set<string> {
    const keys = new Set<string>();
    for (const c of this.coordinators.values()) for (const l of c.heldLeases()) keys.add(l.leaseKey);
    return keys;
  }

  /** True if every worker holds fair share ±1 and every one of `total` leases is held exactly once. */
  balanced(total: number): boolean {
    const fair = total / this.coordinators.size;
    return (
      this.doublyHeld().length === 0 &&
      this.heldKeys().size === total &&
      [...this.counts().values()].every((n) => Math.abs(n - fair) <= 1)
    );
  }
}
