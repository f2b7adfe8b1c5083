import pLimit from 'p-limit';
import type { Lease } from '../lease.js';
import type { CoordinatorRole } from '../refresher.js';
import { planAssignments } from './assigner.js';
import { HEARTBEAT_PREFIX, heartbeatWorker } from './expiry-tracker.js';
import { LEASE_WRITE_CONCURRENCY, type CoordinatorContext } from './context.js';
import type { TakerRunSummary } from './events.js';
import type { LeaseRenewer } from './renewer.js';
import { announceNewOwners, type ScannerRole } from './scanner-role.js';
import type { LeaseTaker } from './taker.js';

/** A heartbeat unchanged for this many lease durations, of a worker owning nothing, is deleted. */
const STALE_HEARTBEAT_LEASES = 6;

/**
 * A worker that holds leases queries the owner index when the scanner role signals new owners
 * (see `announceNewOwners`), and at least once per this many lease durations, in case a
 * signal was lost.
 */
const INDEX_QUERY_LEASES = 3;

/**
 * Queries of the owner index after each signal: that round's and the next one's, because the
 * index is eventually consistent and may not show a lease assigned a moment ago.
 */
const QUERIES_PER_SIGNAL = 2;

/**
 * One taker round of the `single-scanner` coordination mode:
 * - the holder of the scanner role scans the table (eventually consistent: half the read
 *   units of a consistent scan), judges expiry, and plans for the whole fleet: free and
 *   expired leases are assigned (a take fenced on the counter it saw, naming the new owner),
 *   over-loaded owners are asked for graceful handoffs to under-loaded workers;
 * - every other worker holding leases reads the role (claiming it when it expired); when the
 *   role signals new owners (its `nudges` moved: the scanner assigned leases, or an owner
 *   handed one over) or a periodic query is due, it asks the keys-only `leaseOwner` index for
 *   its own lease keys and adopts the new ones (a consistent read, then a renewal);
 * - a worker that holds nothing (it just joined), or a table without the index, runs the
 *   ordinary taker round: scan, take what is free, request handoffs for its share.
 * @internal
 */
export class SingleScannerTaker {
  /** Worker heartbeats as the scanner last saw them change (worker-heartbeat mode). */
  private readonly beats = new Map<string, { counter: number; firstSeenAt: number; changedAt: number | undefined }>();
  /** Owner-index queries of a non-scanner: the signal last acted on, queries still owed for it, and the last query's time. */
  private index: { signal: number; owed: number; queriedAt: number } | undefined;

  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly taker: LeaseTaker,
    private readonly renewer: LeaseRenewer,
    private readonly role: ScannerRole,
  ) {}

  /** One round; throws only if its first read (role, scan or index query) fails. */
  async runOnce(): Promise<TakerRunSummary> {
    if (await this.role.check()) {
      this.index = undefined;
      return this.scan();
    }
    if (this.ctx.held.size === 0 && !this.taker.isTakingStopped) {
      this.index = undefined;
      return this.taker.runOnce();
    }
    return this.discover();
  }

  /** The scanner's round. */
  private async scan(): Promise<TakerRunSummary> {
    const { refresher, clock, held, workerId: me, config, signal } = this.ctx;
    const startedAt = clock.elapsed();
    const replaced = this.role.takeReplacedHolder();
    const heartbeatMode = config.renewal === 'worker-heartbeat';
    let leases: Lease[];
    let heartbeats: Map<string, CoordinatorRole> | undefined;
    if (heartbeatMode) {
      const scan = await refresher.scanCoordination!(signal, { consistentRead: false });
      leases = scan.leases;
      heartbeats = new Map(scan.roles.map((r) => [r.name, r]));
    } else {
      leases = await refresher.listLeases(signal, { consistentRead: false });
    }
    const now = clock.elapsed();
    const expiredKeys = this.taker.tracker.observe(leases, now, heartbeats);
    const beats = heartbeats === undefined ? undefined : this.liveHeartbeats(heartbeats, leases, now);
    // The holder this worker replaced fenced every lease it held when its role expired (the
    // role is its heartbeat), so they are reassigned now rather than a lease duration later.
    if (replaced !== undefined) for (const lease of leases) if (lease.leaseOwner === replaced) expiredKeys.add(lease.leaseKey);
    held.enforce(now);
    const takes = !this.taker.isTakingStopped;
    const plan = planAssignments({
      scanner: me,
      scannerTakes: takes,
      leases,
      expiredKeys,
      maxLeasesForWorker: config.maxLeasesForWorker,
      maxMoves: config.maxLeasesToStealAtOneTime,
      random: this.ctx.random,
      ...(beats !== undefined ? { alsoLive: beats.live, maybeLive: beats.maybeLive } : {}),
    });
    const taken: string[] = [];
    const handoffsRequested: string[] = [];
    const adopted: string[] = [];
    const failures: unknown[] = [];
    let assignedToOthers = false;
    const attempt = async (fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        failures.push(error);
      }
    };
    if (takes) {
      const mine = leases.filter((l) => l.leaseOwner === me && !expiredKeys.has(l.leaseKey) && held.get(l.leaseKey) === undefined && !held.releasing.has(l.leaseKey));
      await this.adopt(mine, adopted, attempt);
    }
    await pLimit(LEASE_WRITE_CONCURRENCY).map(plan.assign, ({ lease, to }) =>
      attempt(async () => {
        const ok = to === me ? await this.taker.take(lease, false) : (await refresher.takeLease(lease, to, signal)) !== undefined;
        if (ok) taken.push(lease.leaseKey);
        if (ok && to !== me) assignedToOthers = true;
      }),
    );
    // One signal for every lease assigned this round: their new owners look in the index.
    if (assignedToOthers) await announceNewOwners(this.ctx);
    await pLimit(LEASE_WRITE_CONCURRENCY).map(plan.handoffs, ({ lease, to }) =>
      attempt(async () => {
        if (await refresher.requestHandoff(lease, to, signal)) {
          handoffsRequested.push(lease.leaseKey);
          await this.taker.nudgeOwner(lease);
        }
      }),
    );
    if (heartbeatMode) {
      // An owner sees a handoff request only when it renews the lease, which it does when
      // nudged: nudge again while a request waits (its lease may not have been active at the
      // first nudge). A request to a worker that is gone is withdrawn, so no owner hands a
      // lease to the dead.
      const waiting = new Map(plan.pending.filter((l) => l.leaseOwner !== me).map((l) => [`${l.leaseOwner}#${l.ownerIncarnation}`, l]));
      await pLimit(LEASE_WRITE_CONCURRENCY).map([...waiting.values()], (lease) => attempt(() => this.taker.nudgeOwner(lease)));
      await pLimit(LEASE_WRITE_CONCURRENCY).map(plan.orphaned, (lease) => attempt(async () => void (await refresher.cancelHandoff!(lease, lease.handoffTo!, signal))));
    }
    await pLimit(LEASE_WRITE_CONCURRENCY).map(beats?.stale ?? [], (role) =>
      attempt(async () => {
        if (await refresher.deleteRole!(role, signal)) this.ctx.logger.info({ role: role.name }, 'deleted the heartbeat of a worker that is gone');
      }),
    );
    // Recorded last: adoption above still counts as this worker's first round (a restart).
    this.taker.recordScan(leases, plan.liveWorkers);
    return this.finish({ leasesSeen: leases.length, liveWorkers: plan.liveWorkers.length, target: plan.target, taken, handoffsRequested, adopted, startedAt, failures });
  }

  /**
   * Worker-heartbeat mode: the workers whose heartbeat moved within a lease duration (alive,
   * with or without leases). A heartbeat that has not moved for `STALE_HEARTBEAT_LEASES` lease
   * durations, or was released, and whose process holds no lease, is deleted (a killed process
   * leaves it behind).
   */
  private liveHeartbeats(
    heartbeats: ReadonlyMap<string, CoordinatorRole>,
    leases: readonly Lease[],
    now: number,
  ): { live: Set<string>; maybeLive: Set<string>; stale: CoordinatorRole[] } {
    const { config } = this.ctx;
    const processes = new Set(leases.map((l) => `${HEARTBEAT_PREFIX}${l.leaseOwner}#${l.ownerIncarnation}`));
    const live = new Set<string>();
    const maybeLive = new Set<string>();
    const stale: CoordinatorRole[] = [];
    for (const [name, role] of heartbeats) {
      const worker = heartbeatWorker(name);
      if (worker === undefined) continue;
      const last = this.beats.get(name);
      if (last === undefined) this.beats.set(name, { counter: role.counter, firstSeenAt: now, changedAt: undefined });
      else if (last.counter !== role.counter) this.beats.set(name, { counter: role.counter, firstSeenAt: last.firstSeenAt, changedAt: now });
      const beat = this.beats.get(name)!;
      // Live only once seen moving (a heartbeat first seen now may be a dead worker's), and
      // within a lease duration of its last move.
      if (role.holder !== undefined && beat.changedAt !== undefined && now - beat.changedAt < config.leaseDurationMs) {
        live.add(worker);
        continue;
      }
      const idleFor = now - (beat.changedAt ?? beat.firstSeenAt);
      if (role.holder !== undefined && idleFor < config.leaseDurationMs) maybeLive.add(worker);
      else if (!processes.has(name) && (role.holder === undefined || idleFor >= STALE_HEARTBEAT_LEASES * config.leaseDurationMs)) {
        this.beats.delete(name);
        stale.push(role);
      }
    }
    for (const name of this.beats.keys()) if (!heartbeats.has(name)) this.beats.delete(name);
    return { live, maybeLive, stale };
  }

  /**
   * A non-scanner's round: when the role signalled new owners since its last query (or a
   * periodic query is due), its own lease keys from the owner index; adopts the ones it does
   * not hold.
   */
  private async discover(): Promise<TakerRunSummary> {
    const { refresher, clock, held, workerId: me, signal, config } = this.ctx;
    const startedAt = clock.elapsed();
    const newOwners = this.role.newOwnerSignal();
    let index = this.index;
    if (index !== undefined && index.signal !== newOwners) index = { ...index, signal: newOwners, owed: QUERIES_PER_SIGNAL };
    if (index !== undefined && index.owed === 0 && startedAt - index.queriedAt < INDEX_QUERY_LEASES * config.leaseDurationMs) {
      this.index = index;
      this.taker.recordScan(undefined, [me]);
      return this.finish({ leasesSeen: held.size, liveWorkers: 1, target: held.size, taken: [], handoffsRequested: [], adopted: [], startedAt, failures: [] });
    }
    const keys = await refresher.listLeaseKeysForOwner!(me, signal);
    if (keys === undefined) {
      // No usable index: this worker scans for itself, every round.
      this.index = undefined;
      return this.taker.runOnce();
    }
    this.index = { signal: newOwners, owed: Math.max(0, (index?.owed ?? 1) - 1), queriedAt: startedAt };
    const fresh = keys.filter((k) => held.get(k) === undefined && !held.releasing.has(k));
    const adopted: string[] = [];
    const failures: unknown[] = [];
    const attempt = async (fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        failures.push(error);
      }
    };
    const found: Lease[] = [];
    await pLimit(LEASE_WRITE_CONCURRENCY).map(fresh, (key) =>
      attempt(async () => {
        const lease = await refresher.getLease(key, signal);
        if (lease?.leaseOwner === me) found.push(lease);
      }),
    );
    if (this.taker.isTakingStopped) {
      // Handed to this worker while it shuts down: give them straight back.
      await pLimit(LEASE_WRITE_CONCURRENCY).map(found, (lease) => attempt(async () => void (await refresher.evictLease(lease, me, signal))));
    } else {
      await this.adopt(found, adopted, attempt);
    }
    this.taker.recordScan(undefined, [me]);
    return this.finish({ leasesSeen: keys.length, liveWorkers: 1, target: held.size, taken: [], handoffsRequested: [], adopted, startedAt, failures });
  }

  private async adopt(leases: readonly Lease[], adopted: string[], attempt: (fn: () => Promise<void>) => Promise<void>): Promise<void> {
    const { clock, config } = this.ctx;
    await pLimit(LEASE_WRITE_CONCURRENCY).map(this.taker.adoptable(leases, new Set()), ({ lease, quarantine }) =>
      attempt(async () => {
        const quarantineUntil = quarantine ? clock.elapsed() + config.leaseDurationMs : undefined;
        if (await this.renewer.adopt(lease, quarantineUntil)) adopted.push(lease.leaseKey);
      }),
    );
  }

  private finish(r: {
    leasesSeen: number;
    liveWorkers: number;
    target: number;
    taken: string[];
    handoffsRequested: string[];
    adopted: string[];
    startedAt: number;
    failures: unknown[];
  }): TakerRunSummary {
    const { clock, held, logger } = this.ctx;
    const summary: TakerRunSummary = {
      leasesSeen: r.leasesSeen,
      liveWorkers: r.liveWorkers,
      target: r.target,
      held: held.size,
      taken: r.taken,
      handoffsRequested: r.handoffsRequested,
      stolen: [],
      adopted: r.adopted,
      durationMs: clock.elapsed() - r.startedAt,
    };
    if (r.taken.length + r.handoffsRequested.length + r.adopted.length > 0) logger.info(summary, 'taker round (single scanner)');
    else logger.debug(summary, 'taker round (single scanner)');
    this.ctx.emitter.emit('takerRun', summary);
    if (r.failures.length > 0) this.ctx.reportError(r.failures[0], 'a lease write of the taker failed');
    return summary;
  }
}
