/**
 * Deterministic balancing simulation of the {@link LeaseCoordinator}: a fleet at fair share,
 * one worker joins; how many taker rounds and simulated seconds until every worker holds its
 * fair share (±1), and how many DynamoDB requests per lease-hour the steady fleet costs.
 * The same simulation runs a model of the Java KCL 2.x (its timings, one hard steal per round).
 *
 * Run after a build: `node packages/leases/dist/bench/balancing-sim.js` (or `pnpm bench:leases`).
 * Everything runs on a FakeClock with a seeded PRNG, real LeaseCoordinator instances and the
 * InMemoryLeaseRefresher; no timing of this machine enters the figures.
 * Not part of the public API.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { FakeClock } from '@kcl-ts/processor';
import { LeaseCoordinator } from '../coordinator/lease-coordinator.js';
import { resolveLeaseCoordinatorConfig, type LeaseCoordinatorOptions } from '../coordinator/options.js';
import { InMemoryLeaseRefresher } from '../in-memory-refresher.js';
import type { Lease, LeaseUpdate, NewLease } from '../lease.js';
import type { LeaseRefresher } from '../refresher.js';

/** Options of kcl-ts used by the simulation (its defaults). */
export const KCL_TS_MODEL: LeaseCoordinatorOptions = {};

/** The Java KCL 2.x timings and stealing behaviour, expressed as coordinator options. */
export const JAVA_KCL_MODEL: LeaseCoordinatorOptions = {
  leaseDurationMs: 10_000,
  renewIntervalMs: 3_308,
  takerIntervalMs: 20_050,
  maxLeasesToStealAtOneTime: 1,
  gracefulHandoff: false,
};

/** Assumed size of one lease item in bytes (key, owner, counter, checkpoint, parents). */
export const LEASE_ITEM_BYTES = 330;
/** Assumed leases per 1 MB scan page (1 MB / {@link LEASE_ITEM_BYTES}, rounded down). */
export const LEASES_PER_SCAN_PAGE = 3_000;

/** One simulation run. */
export interface JoinSimulationOptions {
  /** Workers already at fair share before the join. */
  readonly workers: number;
  /** Leases in the table (all active). */
  readonly leases: number;
  /** Coordinator options of every worker. */
  readonly options: LeaseCoordinatorOptions;
  /** PRNG seed. @default 1 */
  readonly seed?: number;
  /**
   * How many of the existing workers run their taker loop; the others run only their renewer
   * (they would find nothing to take at fair share anyway) and their scans are accounted by
   * scaling. @default all
   */
  readonly takingWorkers?: number;
  /** Give up when the fleet is not balanced this long after the join. @default 3_600 */
  readonly maxJoinSeconds?: number;
  /** Length of the steady window in which requests are counted (then scaled to one hour). @default 3_600 */
  readonly steadySeconds?: number;
  /** Granularity of the balance check in simulated ms. @default 100 */
  readonly stepMs?: number;
}

/** Outcome of {@link simulateJoin}. */
export interface JoinSimulationResult {
  /** True if every worker reached fair share ±1 within `maxJoinSeconds`. */
  readonly balanced: boolean;
  /** Taker rounds of the new worker (its first round included) until balance. */
  readonly roundsToBalance: number | undefined;
  /** Simulated seconds from the join until balance. */
  readonly secondsToBalance: number | undefined;
  /** Most leases held by two workers at once at any balance check (0 with graceful handoffs). */
  readonly maxDoublyHeld: number;
  /** Steady-state DynamoDB requests, per lease-hour. */
  readonly perLeaseHour: {
    readonly renewals: number;
    readonly scanPages: number;
    readonly other: number;
    /** Requests: renewals + scan pages + other. */
    readonly total: number;
    /** Read capacity units of the scans (strongly consistent: 1 per 4 KB read). */
    readonly scanReadUnits: number;
    /** Write capacity units (1 per write of an item under 1 KB: renewals and other writes). */
    readonly writeUnits: number;
  };
  /** Simulated seconds of the steady window. */
  readonly steadySeconds: number;
  /** True when scans of workers that did not run their taker loop were added by scaling. */
  readonly scansScaled: boolean;
  /** Real milliseconds the run took (not a result, a budget check). */
  readonly realMs: number;
}

/** mulberry32: a small, fast, seeded PRNG returning numbers in [0, 1). */
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

/**
 * Counts requests by kind and serves scans from a write-through snapshot of the wrapped
 * InMemoryLeaseRefresher (which would otherwise clone every item on every scan: 10,000
 * clones per scan dominate a 500-worker run). Writes keep the in-memory refresher's
 * conditional semantics; the snapshot is refreshed from every write's result.
 */
class CountingRefresher implements LeaseRefresher {
  renewals = 0;
  scans = 0;
  scanPages = 0;
  other = 0;
  private readonly snapshot = new Map<string, Lease>();

  constructor(private readonly inner: InMemoryLeaseRefresher) {}

  seed(lease: Lease): void {
    this.inner.put(lease);
    this.snapshot.set(lease.leaseKey, lease);
  }

  resetCounts(): void {
    this.renewals = this.scans = this.scanPages = this.other = 0;
  }

  private keep<T extends Lease | undefined>(lease: T): T {
    if (lease !== undefined) this.snapshot.set(lease.leaseKey, lease);
    return lease;
  }

  private async refresh(leaseKey: string): Promise<void> {
    const lease = await this.inner.getLease(leaseKey);
    if (lease === undefined) this.snapshot.delete(leaseKey);
    else this.snapshot.set(leaseKey, lease);
  }

  async createLeaseTableIfNotExists(): Promise<boolean> {
    this.other++;
    return this.inner.createLeaseTableIfNotExists();
  }
  async leaseTableExists(): Promise<boolean> {
    this.other++;
    return this.inner.leaseTableExists();
  }
  async listLeases(): Promise<Lease[]> {
    this.scans++;
    this.scanPages += Math.max(1, Math.ceil(this.snapshot.size / LEASES_PER_SCAN_PAGE));
    return [...this.snapshot.values()];
  }
  async getLease(leaseKey: string): Promise<Lease | undefined> {
    this.other++;
    return this.snapshot.get(leaseKey);
  }
  async createLeaseIfNotExists(lease: NewLease): Promise<boolean> {
    this.other++;
    const created = await this.inner.createLeaseIfNotExists(lease);
    await this.refresh(lease.leaseKey);
    return created;
  }
  async renewLease(lease: Lease, owner: string): Promise<Lease | undefined> {
    this.renewals++;
    return this.keep(await this.inner.renewLease(lease, owner));
  }
  async takeLease(lease: Lease, newOwner: string): Promise<Lease | undefined> {
    this.other++;
    return this.keep(await this.inner.takeLease(lease, newOwner));
  }
  async evictLease(lease: Lease, owner: string): Promise<boolean> {
    this.other++;
    const done = await this.inner.evictLease(lease, owner);
    await this.refresh(lease.leaseKey);
    return done;
  }
  async requestHandoff(lease: Lease, requester: string): Promise<boolean> {
    this.other++;
    const done = await this.inner.requestHandoff(lease, requester);
    await this.refresh(lease.leaseKey);
    return done;
  }
  async transferLease(lease: Lease, owner: string, newOwner: string): Promise<Lease | undefined> {
    this.other++;
    return this.keep(await this.inner.transferLease(lease, owner, newOwner));
  }
  async updateLease(lease: Lease, owner: string, update: LeaseUpdate): Promise<Lease | undefined> {
    this.other++;
    return this.keep(await this.inner.updateLease(lease, owner, update));
  }
  async addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean> {
    this.other++;
    const done = await this.inner.addChildShardIds(leaseKey, childShardIds);
    await this.refresh(leaseKey);
    return done;
  }
  async deleteLease(leaseKey: string, options?: { readonly onlyIfShardEnded?: boolean }): Promise<boolean> {
    this.other++;
    const done = await this.inner.deleteLease(leaseKey, options);
    await this.refresh(leaseKey);
    return done;
  }
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * Simulates `workers` workers holding `leases` leases evenly, then one more worker joining.
 * Deterministic for a given seed.
 */
export async function simulateJoin(sim: JoinSimulationOptions): Promise<JoinSimulationResult> {
  const realStart = performance.now();
  const random = mulberry32(sim.seed ?? 1);
  const clock = new FakeClock(0);
  const store = new CountingRefresher(new InMemoryLeaseRefresher());
  const stepMs = sim.stepMs ?? 100;
  const takingWorkers = Math.min(sim.takingWorkers ?? sim.workers, sim.workers);
  const ids = Array.from({ length: sim.workers }, (_, i) => `worker-${pad(i, 4)}`);
  const shardWidth = Math.max(12, String(sim.leases).length);
  for (let i = 0; i < sim.leases; i++) {
    store.seed({
      leaseKey: `shardId-${pad(i, shardWidth)}`,
      leaseOwner: ids[Math.floor((i * sim.workers) / sim.leases)]!,
      leaseCounter: 0,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: [],
      childShardIds: [],
    });
  }
  // Who holds what, kept from the leaseGained / leaseLost events (cheap at 10,000 leases).
  const holders = new Map<string, number>();
  const heldBy = new Map<string, number>();
  let doublyHeld = 0;
  let maxDoublyHeld = 0;
  const make = (workerId: string): LeaseCoordinator => {
    const c = new LeaseCoordinator({ refresher: store, workerId, clock, config: resolveLeaseCoordinatorConfig(sim.options), random });
    heldBy.set(workerId, 0);
    c.on('leaseGained', (lease) => {
      heldBy.set(workerId, heldBy.get(workerId)! + 1);
      const n = (holders.get(lease.leaseKey) ?? 0) + 1;
      holders.set(lease.leaseKey, n);
      if (n === 2) maxDoublyHeld = Math.max(maxDoublyHeld, ++doublyHeld);
    });
    c.on('leaseLost', (lease) => {
      heldBy.set(workerId, heldBy.get(workerId)! - 1);
      const n = holders.get(lease.leaseKey)! - 1;
      if (n === 1) doublyHeld--;
      if (n === 0) holders.delete(lease.leaseKey);
      else holders.set(lease.leaseKey, n);
    });
    return c;
  };
  const coordinators = ids.map(make);
  const config = coordinators[0]!.config;
  const running: { stop: boolean } = { stop: false };

  // Existing workers start at random phases within one taker interval; the first round of
  // each adopts the leases the table already gives it.
  const starts = coordinators.map((c, i) => ({ c, i, at: Math.floor(random() * config.takerIntervalMs) })).sort((x, y) => x.at - y.at);
  const passiveLoops: Promise<void>[] = [];
  for (const { c, i, at } of starts) {
    await clock.advanceTo(at);
    if (i < takingWorkers) {
      await c.start();
    } else {
      await c.runTakerOnce();
      passiveLoops.push(renewEvery(clock, c, config.renewIntervalMs, Math.floor(random() * config.renewIntervalMs), running));
    }
  }
  await clock.advance(config.takerIntervalMs);

  // The join.
  const joiner = make('worker-new');
  let rounds = 0;
  joiner.on('takerRun', () => {
    rounds++;
  });
  const all = [...coordinators, joiner];
  const joinAt = clock.elapsed();
  await joiner.start();
  const fair = sim.leases / all.length;
  let balancedAt: number | undefined;
  let roundsToBalance: number | undefined;
  const deadline = joinAt + (sim.maxJoinSeconds ?? 3_600) * 1000;
  for (;;) {
    const balanced = doublyHeld === 0 && holders.size === sim.leases && [...heldBy.values()].every((n) => Math.abs(n - fair) <= 1);
    if (balanced) {
      balancedAt = clock.elapsed();
      roundsToBalance = rounds;
      break;
    }
    if (clock.elapsed() >= deadline) break;
    await clock.advance(stepMs);
  }

  // Steady state: count requests over a window, then scale to one lease-hour.
  await clock.advance(config.takerIntervalMs);
  const steadySeconds = sim.steadySeconds ?? 3_600;
  store.resetCounts();
  await clock.advance(steadySeconds * 1000);
  const scansScaled = takingWorkers < sim.workers;
  const pagesPerScan = Math.max(1, Math.ceil(sim.leases / LEASES_PER_SCAN_PAGE));
  const unscannedScans = scansScaled ? (sim.workers - takingWorkers) * ((steadySeconds * 1000) / config.takerIntervalMs) : 0;
  const scanPages = store.scanPages + unscannedScans * pagesPerScan;
  const scans = store.scans + unscannedScans;
  const readUnitsPerScan = (sim.leases * LEASE_ITEM_BYTES) / 4096;
  const perHour = (count: number): number => (count / sim.leases) * (3_600 / steadySeconds);
  const perLeaseHour = {
    renewals: perHour(store.renewals),
    scanPages: perHour(scanPages),
    other: perHour(store.other),
    total: perHour(store.renewals + scanPages + store.other),
    scanReadUnits: perHour(scans * readUnitsPerScan),
    writeUnits: perHour(store.renewals + store.other),
  };

  running.stop = true;
  await Promise.all(all.map((c) => c.stop()));
  await clock.advance(config.renewIntervalMs);
  await Promise.all(passiveLoops);
  return {
    balanced: balancedAt !== undefined,
    roundsToBalance,
    secondsToBalance: balancedAt === undefined ? undefined : (balancedAt - joinAt) / 1000,
    maxDoublyHeld,
    perLeaseHour,
    steadySeconds,
    scansScaled,
    realMs: performance.now() - realStart,
  };
}

/** Drives only the renewer of `c` on the clock (a worker whose taker would have nothing to do). */
async function renewEvery(clock: FakeClock, c: LeaseCoordinator, intervalMs: number, offsetMs: number, running: { stop: boolean }): Promise<void> {
  let next = clock.elapsed() + offsetMs;
  while (!running.stop) {
    await clock.sleep(Math.max(0, next - clock.elapsed()));
    if (running.stop) return;
    next += intervalMs;
    await c.runRenewerOnce().catch(() => undefined);
  }
}

interface Scenario {
  readonly name: string;
  readonly sim: Omit<JoinSimulationOptions, 'options'>;
  readonly javaSim?: Partial<Omit<JoinSimulationOptions, 'options'>>;
}

const fmt = (value: number | undefined, digits = 1): string => (value === undefined ? 'n/a' : value.toFixed(digits));
const ratio = (ours: number | undefined, theirs: number | undefined): string =>
  ours === undefined || theirs === undefined || theirs === 0 ? 'n/a' : `${(ours / theirs).toFixed(2)}x`;

async function main(): Promise<void> {
  const scenarios: Scenario[] = [
    { name: '(a) 2 workers x 24 leases, a 3rd joins', sim: { workers: 2, leases: 24, steadySeconds: 3_600 } },
    {
      name: '(b) 500 workers x 10,000 leases, 1 joins',
      sim: { workers: 500, leases: 10_000, takingWorkers: 20, steadySeconds: 10, stepMs: 250 },
      javaSim: { steadySeconds: 60.15 },
    },
  ];
  const rows: string[][] = [['scenario', 'metric', 'kcl-ts', 'Java KCL 2.x model', 'ratio']];
  let pass = true;
  const notes: string[] = [];
  for (const scenario of scenarios) {
    const ours = await simulateJoin({ ...scenario.sim, options: KCL_TS_MODEL });
    const java = await simulateJoin({ ...scenario.sim, ...scenario.javaSim, options: JAVA_KCL_MODEL });
    if (!ours.balanced || (ours.roundsToBalance ?? Infinity) > 3) pass = false;
    const add = (metric: string, a: number | undefined, b: number | undefined, digits = 1): void => {
      rows.push(['', metric, fmt(a, digits), fmt(b, digits), ratio(a, b)]);
    };
    rows.push([scenario.name, 'taker rounds of new worker to fair share ±1', fmt(ours.roundsToBalance, 0), fmt(java.roundsToBalance, 0), ratio(ours.roundsToBalance, java.roundsToBalance)]);
    add('simulated seconds to fair share ±1', ours.secondsToBalance, java.secondsToBalance);
    add('max leases held by 2 workers at once', ours.maxDoublyHeld, java.maxDoublyHeld, 0);
    add('renewals per lease-hour', ours.perLeaseHour.renewals, java.perLeaseHour.renewals);
    add('scan pages per lease-hour', ours.perLeaseHour.scanPages, java.perLeaseHour.scanPages);
    add('other requests per lease-hour', ours.perLeaseHour.other, java.perLeaseHour.other, 2);
    add('DynamoDB requests per lease-hour', ours.perLeaseHour.total, java.perLeaseHour.total);
    add('write capacity units per lease-hour', ours.perLeaseHour.writeUnits, java.perLeaseHour.writeUnits);
    add('scan read capacity units per lease-hour', ours.perLeaseHour.scanReadUnits, java.perLeaseHour.scanReadUnits);
    for (const [model, r] of [['kcl-ts', ours], ['Java KCL model', java]] as const) {
      notes.push(
        `${scenario.name}, ${model}: steady window ${r.steadySeconds} simulated s scaled to 1 h` +
          (r.scansScaled ? `; ${scenario.sim.takingWorkers} of ${scenario.sim.workers} existing workers ran their taker loop, the scans of the others were added at their cadence` : '') +
          `; real time ${(r.realMs / 1000).toFixed(1)} s`,
      );
    }
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const line = (r: string[]): string => r.map((cell, col) => (col >= 2 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join(' | ');
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  console.log(`Assumptions: a lease item is ~${LEASE_ITEM_BYTES} bytes, so a 1 MB scan page holds ~${LEASES_PER_SCAN_PAGE} leases; a`);
  console.log('strongly consistent scan costs 1 read unit per 4 KB read; every renewal, take, handoff request,');
  console.log('transfer and failed-condition read is one request and (writes) one write unit. Requests per');
  console.log('lease-hour = (renewals + scan pages + other requests) / leases / hours. kcl-ts uses its defaults');
  console.log('(lease 10 s, renew every 3.333 s, taker every 2 s, up to 64 graceful handoffs per round); the Java');
  console.log('KCL 2.x model uses lease 10 s, renew every 3.308 s, taker every 20.05 s, 1 hard steal per round.');
  console.log('Every worker scans the whole table each taker round, so scan cost per lease-hour grows with the');
  console.log('number of workers and 1 / takerIntervalMs: the faster failover of kcl-ts is paid for in scans.');
  for (const note of notes) console.log(`- ${note}`);
  console.log('');
  console.log(`target ≤ 3 taker rounds: ${pass ? 'PASS' : 'FAIL'}`);
  if (!pass) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
