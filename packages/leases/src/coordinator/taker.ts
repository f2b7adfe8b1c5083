import pLimit from 'p-limit';
import { DuplicateWorkerIdError } from '@kcl-ts/processor';
import type { Lease } from '../lease.js';
import { planBalance } from './balancer.js';
import { LEASE_WRITE_CONCURRENCY, type CoordinatorContext } from './context.js';
import type { TakerRunSummary } from './events.js';
import type { CoordinatorRole } from '../refresher.js';
import { ExpiryTracker, heartbeatRoleName } from './expiry-tracker.js';
import type { LeaseRenewer } from './renewer.js';

/**
 * The taker: scans the lease table, judges expiry, adopts leases handed to this worker,
 * takes free and expired leases, and steals from over-loaded workers (graceful handoff
 * requests, or hard takes). One {@link LeaseTaker.runOnce} is one round.
 * @internal
 */
export class LeaseTaker {
  /** Expiry judgement from this worker's scans (shared with the single-scanner round). */
  readonly tracker: ExpiryTracker;
  /** Handoffs this worker requested: lease key → monotonic time of the request. */
  private readonly pendingHandoffs = new Map<string, number>();
  private latest: readonly Lease[] = [];
  private live: readonly string[];
  private takingStopped = false;
  private rounds = 0;
  /** Leases seen renewed by another process under this worker id, already reported. */
  private readonly reportedDuplicates = new Set<string>();

  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly renewer: LeaseRenewer,
  ) {
    this.tracker = new ExpiryTracker(ctx.config.leaseDurationMs);
    this.live = [ctx.workerId];
  }

  /** The leases of the latest scan. */
  latestLeases(): readonly Lease[] {
    return this.latest;
  }

  /** Live workers of the latest scan, sorted. */
  liveWorkers(): readonly string[] {
    return this.live;
  }

  /** True once {@link stopTaking} was called. */
  get isTakingStopped(): boolean {
    return this.takingStopped;
  }

  /** Records the outcome of a round run elsewhere (the single scanner's): its scan and live workers. */
  recordScan(leases: readonly Lease[] | undefined, live: readonly string[]): void {
    if (leases !== undefined) this.latest = leases;
    this.live = live;
    this.rounds++;
  }

  /** From now on, rounds only scan (and release leases handed to this worker late). */
  stopTaking(): void {
    this.takingStopped = true;
    this.pendingHandoffs.clear();
  }

  /** One taker round. Throws only if the scan fails; failures of single writes are reported. */
  async runOnce(): Promise<TakerRunSummary> {
    const { refresher, clock, held, workerId: me, config, logger } = this.ctx;
    const signal = this.ctx.signal;
    const startedAt = clock.elapsed();
    const { leases, heartbeats } = await this.scan();
    const now = clock.elapsed();
    const expiredKeys = this.tracker.observe(leases, now, heartbeats);
    this.latest = leases;
    held.enforce(now);
    const heldKeys = held.keys();
    const canTake = this.ctx.canTake;
    const plan = planBalance({
      workerId: me,
      leases: canTake ? leases.filter((l) => heldKeys.has(l.leaseKey) || canTake(l)) : leases,
      expiredKeys,
      heldKeys,
      maxLeasesForWorker: config.maxLeasesForWorker,
      maxLeasesToStealAtOneTime: config.maxLeasesToStealAtOneTime,
      random: this.ctx.random,
    });
    this.live = plan.liveWorkers;

    const taken: string[] = [];
    const handoffsRequested: string[] = [];
    const stolen: string[] = [];
    const adopted: string[] = [];
    let failure: { error: unknown; leaseKey: string } | undefined;
    const attempt = async (lease: Lease, what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        failure ??= { error, leaseKey: lease.leaseKey };
        logger.warn({ err: error, leaseKey: lease.leaseKey }, `could not ${what} lease`);
      }
    };

    if (this.takingStopped) {
      const strays = leases.filter((l) => l.leaseOwner === me && held.get(l.leaseKey) === undefined && !held.releasing.has(l.leaseKey));
      await pLimit(LEASE_WRITE_CONCURRENCY).map(strays, (lease) =>
        attempt(lease, 'release', async () => {
          await refresher.evictLease(lease, me, signal);
        }),
      );
    } else {
      await pLimit(LEASE_WRITE_CONCURRENCY).map(this.adoptable(plan.toAdopt, expiredKeys), ({ lease, quarantine }) =>
        attempt(lease, 'adopt', async () => {
          const quarantineUntil = quarantine ? (this.tracker.changedAt(lease.leaseKey) ?? clock.elapsed()) + config.leaseDurationMs : undefined;
          if (await this.renewer.adopt(lease, quarantineUntil)) adopted.push(lease.leaseKey);
        }),
      );
      const timedOut = this.trackHandoffs(leases, now);
      await pLimit(LEASE_WRITE_CONCURRENCY).map(plan.toTake, (lease) =>
        attempt(lease, 'take', async () => {
          if (await this.take(lease, false)) taken.push(lease.leaseKey);
        }),
      );
      await pLimit(LEASE_WRITE_CONCURRENCY).map(plan.toSteal, (lease) =>
        attempt(lease, 'steal', async () => {
          if (config.gracefulHandoff && lease.handoffTo === undefined) {
            if (await refresher.requestHandoff(lease, me, signal)) {
              this.pendingHandoffs.set(lease.leaseKey, clock.elapsed());
              handoffsRequested.push(lease.leaseKey);
              await this.nudgeOwner(lease);
            }
          } else if (await this.take(lease, config.gracefulHandoff)) {
            stolen.push(lease.leaseKey);
          }
        }),
      );
      await pLimit(LEASE_WRITE_CONCURRENCY).map(timedOut, (lease) =>
        attempt(lease, 'steal', async () => {
          if (await this.take(lease, true)) {
            this.pendingHandoffs.delete(lease.leaseKey);
            stolen.push(lease.leaseKey);
            logger.warn({ leaseKey: lease.leaseKey, owner: lease.leaseOwner }, 'handoff request not honoured in time; took the lease');
          }
        }),
      );
    }

    this.rounds++;
    const summary: TakerRunSummary = {
      leasesSeen: leases.length,
      liveWorkers: plan.liveWorkers.length,
      target: plan.target,
      held: held.size,
      taken,
      handoffsRequested,
      stolen,
      adopted,
      durationMs: clock.elapsed() - startedAt,
    };
    if (taken.length + handoffsRequested.length + stolen.length + adopted.length > 0) logger.info(summary, 'taker round');
    else logger.debug(summary, 'taker round');
    this.ctx.emitter.emit('takerRun', summary);
    if (failure) this.ctx.reportError(failure.error, 'a lease write of the taker failed', { leaseKey: failure.leaseKey });
    return summary;
  }

  /**
   * The leases of a scan and, in the worker-heartbeat mode, the heartbeats by role name (one
   * strongly consistent scan either way).
   */
  private async scan(): Promise<{ leases: Lease[]; heartbeats: ReadonlyMap<string, CoordinatorRole> | undefined }> {
    const { refresher, signal, config } = this.ctx;
    if (config.renewal !== 'worker-heartbeat') return { leases: await refresher.listLeases(signal), heartbeats: undefined };
    const scan = await refresher.scanCoordination!(signal);
    return { leases: scan.leases, heartbeats: new Map(scan.roles.map((r) => [r.name, r])) };
  }

  /**
   * Worker-heartbeat mode: a handoff request on `lease` is seen by its owner only when it
   * renews the lease, which it does when its heartbeat is nudged. Errors are reported, not thrown.
   */
  async nudgeOwner(lease: Lease): Promise<void> {
    const { refresher, signal, config } = this.ctx;
    const owner = lease.leaseOwner;
    // Without a process token the owner has not adopted the lease yet: it sees the request
    // when it does (its adoption renews the lease), or at the scanner's next nudge.
    if (config.renewal !== 'worker-heartbeat' || owner === undefined || lease.ownerIncarnation === undefined) return;
    try {
      await refresher.nudgeRole!(heartbeatRoleName(owner, lease.ownerIncarnation), signal);
    } catch (error) {
      this.ctx.logger.warn({ err: error, owner }, 'could not nudge the owner of a lease about a handoff request');
    }
  }

  /**
   * The leases of the table under this worker id that this process may adopt: those with no
   * process token or with its own (a handoff to it, a write whose reply was lost) at once;
   * those whose token is another process's only in the first round (a restart with the same
   * id) or once they expired, and then like a hard steal: processed only a lease duration
   * after this worker first saw their counter, when the other process — if it is in fact
   * still running — has fenced itself (it also finds out at its next renewal and reports the
   * duplicate id). Later, a foreign token on a live lease is a second process with this id:
   * its leases are left to it, and reported once each.
   */
  adoptable(candidates: readonly Lease[], expiredKeys: ReadonlySet<string>): { lease: Lease; quarantine: boolean }[] {
    const { owner, workerId } = this.ctx;
    // Worker-heartbeat mode: a process keeps its leases without writing them, so it would
    // never notice another process with its worker id taking one over. A lease with another
    // process's token is left alone; if that process is dead, its heartbeat stops, the scanner
    // reassigns the lease, and it comes back without a token.
    const restart = this.rounds === 0 && !this.renewer.duplicateWorkerIdSeen && this.ctx.config.renewal !== 'worker-heartbeat';
    const result: { lease: Lease; quarantine: boolean }[] = [];
    const foreign = new Set<string>();
    for (const lease of candidates) {
      if (lease.ownerIncarnation === undefined || lease.ownerIncarnation === owner.incarnation) {
        result.push({ lease, quarantine: false });
        continue;
      }
      const expired = expiredKeys.has(lease.leaseKey) && this.ctx.config.renewal !== 'worker-heartbeat';
      if (restart || expired) {
        result.push({ lease, quarantine: !expired });
        continue;
      }
      foreign.add(lease.leaseKey);
      if (!this.reportedDuplicates.has(lease.leaseKey)) {
        this.reportedDuplicates.add(lease.leaseKey);
        this.ctx.reportError(new DuplicateWorkerIdError(workerId, lease.leaseKey), 'another process uses this worker id', { leaseKey: lease.leaseKey });
      }
    }
    for (const key of this.reportedDuplicates) if (!foreign.has(key)) this.reportedDuplicates.delete(key);
    return result;
  }

  /**
   * Takes `lease` with the counter the scan saw. A hard steal in graceful mode (`quarantine`)
   * becomes active only `leaseDurationMs` after this worker first saw that counter: the take
   * succeeded at that counter, so the old owner's last successful renewal was sent before
   * then, and it has fenced itself by that time — the shard never has two processors. For an
   * owner that died, this is the moment its lease would have expired anyway.
   */
  async take(lease: Lease, quarantine: boolean): Promise<boolean> {
    const { held, clock, refresher, config } = this.ctx;
    return held.mutex.run(lease.leaseKey, async () => {
      if (held.get(lease.leaseKey) !== undefined) return false;
      const sentAt = clock.elapsed();
      const taken = await refresher.takeLease(lease, this.ctx.owner, this.ctx.signal);
      if (taken === undefined || held.get(lease.leaseKey) !== undefined) return false;
      held.add(taken, sentAt, quarantine ? (this.tracker.changedAt(lease.leaseKey) ?? sentAt) + config.leaseDurationMs : sentAt);
      return true;
    });
  }

  /**
   * Bookkeeping of this worker's handoff requests against the latest scan; returns the
   * leases whose request was not honoured within `handoffTimeoutMs` (with their latest
   * counter, for a hard take).
   */
  private trackHandoffs(leases: readonly Lease[], now: number): Lease[] {
    const me = this.ctx.workerId;
    const waiting = new Map<string, Lease>();
    for (const lease of leases) {
      if (lease.handoffTo === me && lease.leaseOwner !== undefined && lease.leaseOwner !== me && this.ctx.held.get(lease.leaseKey) === undefined) {
        waiting.set(lease.leaseKey, lease);
        if (!this.pendingHandoffs.has(lease.leaseKey)) this.pendingHandoffs.set(lease.leaseKey, now);
      }
    }
    const timedOut: Lease[] = [];
    for (const [key, requestedAt] of this.pendingHandoffs) {
      const lease = waiting.get(key);
      if (lease === undefined) this.pendingHandoffs.delete(key);
      else if (now - requestedAt >= this.ctx.config.handoffTimeoutMs) timedOut.push(lease);
    }
    return timedOut;
  }
}
