/**
 * Deterministic simulation of a fleet of real {@link LeaseCoordinator}s on a FakeClock and a
 * {@link MeteredStore}: a join (rounds and seconds until every worker holds its fair share,
 * leases held twice), a kill -9 (how long each of the victim's leases stays unprocessed), and
 * the steady-state DynamoDB capacity per lease-hour. No timing of this machine enters a figure.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { DependencyError } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { LeaseCoordinator, resolveLeaseCoordinatorConfig, type Lease, type LeaseCoordinatorOptions, type LeaseRefresher } from '@kcl-ts/leases';
import { MeteredStore, type CapacityUse, type ItemShape } from './metered-store.js';

/** A coordination model: coordinator options plus how its table is stored and charged. */
export interface LeaseModel {
  readonly name: string;
  readonly options: LeaseCoordinatorOptions;
  readonly shape: ItemShape;
  readonly ownerIndex: boolean;
  /** Its scans are eventually consistent whatever the coordinator asks (the Java KCL's are). */
  readonly eventualScans: boolean;
}

/** kcl-ts as built, default mode: every worker scans (strongly consistent) every 2 s. */
export const KCL_TS_EVERY_WORKER: LeaseModel = { name: 'kcl-ts every-worker', options: {}, shape: 'kcl-ts', ownerIndex: false, eventualScans: false };

/** kcl-ts, `coordination: 'single-scanner'` with the owner index. */
export const KCL_TS_SINGLE_SCANNER: LeaseModel = {
  name: 'kcl-ts single-scanner',
  options: { coordination: 'single-scanner' },
  shape: 'kcl-ts',
  ownerIndex: true,
  eventualScans: false,
};

/** kcl-ts, single scanner with `renewal: 'worker-heartbeat'` (not for tables shared with Java workers). */
export const KCL_TS_HEARTBEAT: LeaseModel = {
  name: 'kcl-ts single-scanner + worker-heartbeat',
  options: { coordination: 'single-scanner', renewal: 'worker-heartbeat' },
  shape: 'kcl-ts',
  ownerIndex: true,
  eventualScans: false,
};

/** The Java KCL 2.x timings and stealing, run by our coordinator: lease 10 s, renew 3.308 s, taker 20.05 s, one hard steal. */
export const JAVA_KCL_2X: LeaseModel = {
  name: 'Java KCL 2.x model',
  options: { leaseDurationMs: 10_000, renewIntervalMs: 3_308, takerIntervalMs: 20_050, maxLeasesToStealAtOneTime: 1, gracefulHandoff: false },
  shape: 'java',
  ownerIndex: false,
  eventualScans: true,
};

/** mulberry32: a small seeded PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** A worker id of the usual shape (a UUID, as the Java KCL's default). */
function workerId(i: number): string {
  return `${pad(i, 8)}-5c4f-4d0e-a2d4-2f5e4b7a4c11`;
}

/** A 56-digit sequence number, as Kinesis issues them. */
const SEQUENCE = '49590338271490256608559692538361571095921575989136588898';
const MAX_HASH = (1n << 128n) - 1n;

/** Puts `leases` leases into `store`, spread evenly over `owners` (realistic item sizes). */
function seedTable(store: MeteredStore, leases: number, owners: readonly string[]): void {
  const step = MAX_HASH / BigInt(leases);
  for (let i = 0; i < leases; i++) {
    store.seed({
      leaseKey: `shardId-${pad(i, 12)}`,
      leaseOwner: owners[Math.floor((i * owners.length) / leases)]!,
      leaseCounter: 1_000 + i,
      checkpoint: { sequenceNumber: SEQUENCE, subSequenceNumber: 0 },
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: [],
      childShardIds: [],
      hashKeyRange: { startingHashKey: String(step * BigInt(i)), endingHashKey: String(i === leases - 1 ? MAX_HASH : step * BigInt(i + 1) - 1n) },
      ownerIncarnation: '7d1c1f0e-3c54-4f6a-9b8e-0c2f4a6d8e10',
    });
  }
}

/** A store whose calls from one worker fail once it is cut off (kill -9, as the table sees it). */
function severable(inner: LeaseRefresher): { refresher: LeaseRefresher; sever(): void } {
  let cut = false;
  const refresher = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        cut ? Promise.reject(new DependencyError('dynamodb', String(prop), 'process killed', { retryable: true })) : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return { refresher, sever: () => (cut = true) };
}

/**
 * Renewal trouble of {@link FleetSimulationOptions.renewalTrouble}: every `everyMs`, at its
 * own phase, a worker's renewal round fails (every renewal sent at that instant, the scanner
 * role's included, fails at once, as a timed-out request); from its next renewal on, for
 * `slowMs`, every renewal it sends is answered `slowMs` late (a slow store: two renewals sent
 * one after the other take twice as long).
 */
export interface RenewalTrouble {
  readonly everyMs: number;
  readonly slowMs: number;
}

/** Wraps `inner` so that its renewals (`renewLease`, `renewRole`) meet `trouble` from `firstAt` (monotonic ms) on. */
function troubled(inner: LeaseRefresher, clock: FakeClock, trouble: RenewalTrouble, firstAt: number): LeaseRefresher {
  let nextAt = firstAt;
  let failAt: number | undefined;
  let slowFrom: number | undefined;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || (prop !== 'renewLease' && prop !== 'renewRole')) return value;
      return async (...args: unknown[]) => {
        const now = clock.elapsed();
        if (failAt === undefined && slowFrom === undefined && now >= nextAt) failAt = now;
        if (failAt === now) throw new DependencyError('dynamodb', 'UpdateItem', 'request timed out', { retryable: true });
        if (failAt !== undefined) {
          failAt = undefined;
          slowFrom = now;
        }
        if (slowFrom !== undefined && now <= slowFrom + trouble.slowMs) await clock.sleep(trouble.slowMs);
        else if (slowFrom !== undefined) {
          slowFrom = undefined;
          nextAt = now + trouble.everyMs;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A running simulated fleet. */
class SimFleet {
  readonly clock = new FakeClock(0);
  readonly store: MeteredStore;
  readonly coordinators = new Map<string, LeaseCoordinator>();
  readonly cuts = new Map<string, () => void>();
  /** Holders per lease key (from leaseGained / leaseLost). */
  readonly holders = new Map<string, Set<string>>();
  readonly heldBy = new Map<string, number>();
  readonly gainedAt = new Map<string, number>();
  doublyHeld = 0;
  maxDoublyHeld = 0;
  /** Leases a worker that was not killed stopped holding because it could not renew them in time. */
  lostByLiveWorkers = 0;
  private readonly passive: Promise<void>[] = [];
  private stopping = false;

  constructor(
    readonly model: LeaseModel,
    readonly random: () => number,
    private readonly trouble?: RenewalTrouble,
  ) {
    this.store = new MeteredStore(model.shape, model.ownerIndex, model.eventualScans);
  }

  add(id: string): LeaseCoordinator {
    const store = this.trouble === undefined ? this.store : troubled(this.store, this.clock, this.trouble, this.clock.elapsed() + Math.floor(this.random() * this.trouble.everyMs));
    const cut = severable(store);
    const c = new LeaseCoordinator({ refresher: cut.refresher, workerId: id, clock: this.clock, config: resolveLeaseCoordinatorConfig(this.model.options), random: this.random });
    this.cuts.set(id, cut.sever);
    this.heldBy.set(id, 0);
    c.on('leaseGained', (lease) => {
      this.heldBy.set(id, this.heldBy.get(id)! + 1);
      this.gainedAt.set(lease.leaseKey, this.clock.elapsed());
      const set = this.holders.get(lease.leaseKey) ?? new Set<string>();
      set.add(id);
      this.holders.set(lease.leaseKey, set);
      if (set.size === 2) this.maxDoublyHeld = Math.max(this.maxDoublyHeld, ++this.doublyHeld);
    });
    c.on('leaseLost', (lease, reason) => {
      if (this.cuts.has(id) && !this.stopping && (reason === 'expired' || reason === 'renewal-failed')) this.lostByLiveWorkers++;
      this.heldBy.set(id, this.heldBy.get(id)! - 1);
      const set = this.holders.get(lease.leaseKey)!;
      if (set.size === 2) this.doublyHeld--;
      set.delete(id);
    });
    this.coordinators.set(id, c);
    return c;
  }

  /** Starts every coordinator at a random phase; all but `active` run only their renewer. */
  async startAll(active: number): Promise<void> {
    const ids = [...this.coordinators.keys()];
    const config = this.coordinators.get(ids[0]!)!.config;
    const starts = ids.map((id, i) => ({ id, i, at: Math.floor(this.random() * config.takerIntervalMs) })).sort((x, y) => x.at - y.at);
    for (const { id, i, at } of starts) {
      await this.clock.advanceTo(Math.max(at, this.clock.elapsed()));
      const c = this.coordinators.get(id)!;
      if (i < active) await c.start();
      else {
        await c.runTakerOnce();
        this.passive.push(this.renewEvery(c, config.renewIntervalMs, Math.floor(this.random() * config.renewIntervalMs)));
      }
    }
  }

  private async renewEvery(c: LeaseCoordinator, intervalMs: number, offsetMs: number): Promise<void> {
    let next = this.clock.elapsed() + offsetMs;
    while (!this.stopping) {
      await this.clock.sleep(Math.max(0, next - this.clock.elapsed()));
      if (this.stopping) return;
      next += intervalMs;
      await c.runRenewerOnce().catch(() => undefined);
    }
  }

  /** Fair share ± 1 for every live worker, nothing held twice, every lease held. */
  balanced(leases: number, live: number): boolean {
    if (this.doublyHeld > 0) return false;
    let held = 0;
    for (const set of this.holders.values()) if (set.size > 0) held++;
    if (held !== leases) return false;
    const fair = leases / live;
    return [...this.heldBy.entries()].every(([id, n]) => !this.cuts.has(id) || Math.abs(n - fair) <= 1);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.coordinators.values()].map((c) => c.stop()));
    await this.clock.advance(20_000);
    await Promise.all(this.passive);
  }
}

/** One simulation of {@link simulateFleet}. */
export interface FleetSimulationOptions {
  readonly model: LeaseModel;
  readonly workers: number;
  readonly leases: number;
  readonly seed?: number;
  /**
   * In the `every-worker` models, how many existing workers run their taker loop; the others
   * only renew (they would find nothing to take at fair share) and their scans are added at
   * their cadence. @default all
   */
  readonly takingWorkers?: number;
  /** Simulated seconds of the steady window whose capacity is scaled to one hour. @default 600 */
  readonly steadySeconds?: number;
  /** Also kill -9 one worker (and, with a role, the role holder) and time the failover. @default true */
  readonly failover?: boolean;
  /** Also let one worker join and count the rounds to fair share. @default true */
  readonly join?: boolean;
  /** Granularity of the checks, in simulated ms. @default 100 */
  readonly stepMs?: number;
  /**
   * Make renewals fail now and then, and the next round answer late (see {@link RenewalTrouble}),
   * to check that the renewal cadence survives it: count {@link FleetSimulationResult.lostByLiveWorkers}.
   * Capacity figures of such a run are not representative. @default none
   */
  readonly renewalTrouble?: RenewalTrouble;
}

/** Outcome of {@link simulateFleet}. */
export interface FleetSimulationResult {
  /** Whether the join was simulated. */
  readonly joined: boolean;
  /** Join: taker rounds of the new worker until fair share ± 1 (undefined if not within an hour, or not run). */
  readonly roundsToBalance: number | undefined;
  /** Join: simulated seconds until fair share ± 1. */
  readonly secondsToBalance: number | undefined;
  /** Join: most leases held by two workers at once. */
  readonly maxDoublyHeld: number;
  /**
   * Leases that a worker still running lost because it could not renew them in time
   * (`expired` or `renewal-failed`), over the whole run; 0 unless the renewal cadence or a
   * defect of the coordinator loses leases.
   */
  readonly lostByLiveWorkers: number;
  /** Steady state: capacity units per lease-hour, by kind. */
  readonly perLeaseHour: CapacityUse;
  /** Mean stored item bytes of a lease. */
  readonly itemBytes: number;
  /** kill -9 of a worker: per-lease time without a processor, in lease durations (p50, max); undefined without failover. */
  readonly failover: { readonly p50: number; readonly max: number } | undefined;
  /** kill -9 of the role holder (single-scanner): role moved after (lease durations), and its leases' p50/max. */
  readonly roleFailover: { readonly roleMoved: number; readonly p50: number; readonly max: number } | undefined;
  readonly realMs: number;
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * A fleet of `workers` at fair share; the steady capacity over `steadySeconds`; one worker
 * joins; then kill -9 of a worker (and of the role holder). Deterministic for a given seed.
 */
export async function simulateFleet(sim: FleetSimulationOptions): Promise<FleetSimulationResult> {
  const realStart = performance.now();
  const random = mulberry32(sim.seed ?? 1);
  const fleet = new SimFleet(sim.model, random, sim.renewalTrouble);
  const ids = Array.from({ length: sim.workers }, (_, i) => workerId(i));
  seedTable(fleet.store, sim.leases, ids);
  for (const id of ids) fleet.add(id);
  const config = fleet.coordinators.get(ids[0]!)!.config;
  const scanner = config.coordination === 'single-scanner';
  const taking = scanner ? sim.workers : Math.min(sim.takingWorkers ?? sim.workers, sim.workers);
  const stepMs = sim.stepMs ?? 100;
  await fleet.startAll(taking);
  await fleet.clock.advance(config.leaseDurationMs * 2);

  // Steady state.
  const steadySeconds = sim.steadySeconds ?? 600;
  fleet.store.reset();
  await fleet.clock.advance(steadySeconds * 1000);
  const use = { ...fleet.store.use };
  const itemBytes = fleet.store.meanItemBytes();
  if (taking < sim.workers) {
    // The scans of the workers that did not run their taker loop, at the same cadence.
    use.scans *= sim.workers / taking;
  }
  const scale = 3_600 / steadySeconds / sim.leases;
  const perLeaseHour = Object.fromEntries(Object.entries(use).map(([k, v]) => [k, v * scale])) as unknown as CapacityUse;

  // Join.
  const joiner = sim.join === false ? undefined : fleet.add(workerId(sim.workers));
  let rounds = 0;
  joiner?.on('takerRun', () => rounds++);
  const joinAt = fleet.clock.elapsed();
  await joiner?.start();
  let balancedAt: number | undefined;
  let roundsToBalance: number | undefined;
  while (joiner !== undefined && fleet.clock.elapsed() - joinAt < 3_600_000) {
    if (fleet.balanced(sim.leases, sim.workers + 1)) {
      balancedAt = fleet.clock.elapsed();
      roundsToBalance = rounds;
      break;
    }
    await fleet.clock.advance(stepMs);
  }

  let failover: FleetSimulationResult['failover'];
  let roleFailover: FleetSimulationResult['roleFailover'];
  if (sim.failover ?? true) {
    await fleet.clock.advance(config.leaseDurationMs * 2);
    const holder = [...fleet.coordinators.values()].find((c) => c.coordinatorRole()?.heldByMe);
    const victims = [...fleet.coordinators.values()].filter((c) => c !== holder && c !== joiner && c.heldLeases().length > 0);
    const victim = victims[Math.floor(random() * victims.length)]!;
    const times = await kill(fleet, victim, config.leaseDurationMs, stepMs);
    failover = { p50: quantile(times, 0.5), max: times.at(-1)! };
    if (holder !== undefined) {
      await fleet.clock.advance(config.leaseDurationMs * 2);
      const killedAt = fleet.clock.elapsed();
      let roleAt: number | undefined;
      const others = [...fleet.coordinators.values()].filter((c) => c !== holder && c !== victim);
      for (const c of others) c.once('roleChanged', (_r, h) => void (h !== undefined && h !== holder.workerId && (roleAt ??= fleet.clock.elapsed())));
      const leaseTimes = await kill(fleet, holder, config.leaseDurationMs, stepMs);
      roleFailover = { roleMoved: ((roleAt ?? Number.NaN) - killedAt) / config.leaseDurationMs, p50: quantile(leaseTimes, 0.5), max: leaseTimes.at(-1)! };
    }
  }
  await fleet.stopAll();
  return {
    joined: joiner !== undefined,
    roundsToBalance,
    secondsToBalance: balancedAt === undefined ? undefined : (balancedAt - joinAt) / 1000,
    maxDoublyHeld: fleet.maxDoublyHeld,
    lostByLiveWorkers: fleet.lostByLiveWorkers,
    perLeaseHour,
    itemBytes,
    failover,
    roleFailover,
    realMs: performance.now() - realStart,
  };
}

/**
 * Kills `victim` (its store calls fail from now on; it fences itself) and returns, sorted,
 * how long each of its leases went without a live holder elsewhere, in lease durations.
 */
async function kill(fleet: SimFleet, victim: LeaseCoordinator, leaseDurationMs: number, stepMs: number): Promise<number[]> {
  const keys = victim.heldLeases().map((l: Lease) => l.leaseKey);
  const killedAt = fleet.clock.elapsed();
  fleet.cuts.get(victim.workerId)!();
  fleet.cuts.delete(victim.workerId);
  const movedAt = new Map<string, number>();
  while (movedAt.size < keys.length && fleet.clock.elapsed() - killedAt < leaseDurationMs * 20) {
    await fleet.clock.advance(stepMs);
    for (const key of keys) {
      if (movedAt.has(key)) continue;
      const holders = fleet.holders.get(key);
      if (holders !== undefined && [...holders].some((h) => h !== victim.workerId)) movedAt.set(key, fleet.gainedAt.get(key)!);
    }
  }
  fleet.coordinators.delete(victim.workerId);
  fleet.heldBy.delete(victim.workerId);
  void victim.stop();
  return keys.map((k) => ((movedAt.get(k) ?? Number.POSITIVE_INFINITY) - killedAt) / leaseDurationMs).sort((a, b) => a - b);
}
