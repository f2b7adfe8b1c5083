import pLimit from 'p-limit';
import { DuplicateWorkerIdError, LeaseLostError } from '@kcl-ts/processor';
import type { Lease, LeaseUpdate } from '../lease.js';
import { RENEWAL_CONCURRENCY, type CoordinatorContext } from './context.js';
import type { LeaseLostReason } from './events.js';
import type { HeldLease } from './held-leases.js';
import { announceNewOwners } from './scanner-role.js';

/** Called by the owner when a peer asked for a lease: drain the shard and checkpoint, then resolve. */
export type HandoffHook = (lease: Lease, to: string) => Promise<void>;

/**
 * The renewer: renews every held lease, fences writes to held leases (checkpoints), honours
 * graceful handoff requests, and releases leases. Every write to one lease runs under that
 * lease's mutex, so writes never race on the same counter.
 * @internal
 */
export class LeaseRenewer {
  private readonly handoffs = new Set<Promise<void>>();
  private duplicate = false;

  /** True once a write found another process renewing a lease under this worker id. */
  get duplicateWorkerIdSeen(): boolean {
    return this.duplicate;
  }

  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly onHandoffRequested: HandoffHook,
  ) {}

  /**
   * One renewal round over every held lease. A store error does not drop a lease by itself
   * (only the self-fencing deadline does); it is reported and the round goes on.
   */
  async renewAll(): Promise<void> {
    const { held, clock } = this.ctx;
    const startedAt = clock.elapsed();
    held.enforce(startedAt);
    let failure: { error: unknown; leaseKey: string } | undefined;
    let renewed = 0;
    let failed = 0;
    // A lease with a write in flight (a checkpoint being retried, a transfer) is skipped: that
    // write renews it if it lands, and waiting for it would hold up the renewal of every
    // other lease behind one slow write.
    const idle = held.all().filter((entry) => !held.mutex.isBusy(entry.lease.leaseKey));
    await pLimit(RENEWAL_CONCURRENCY).map(idle, async (entry) => {
      try {
        if (await this.renew(entry)) renewed++;
      } catch (error) {
        failed++;
        failure ??= { error, leaseKey: entry.lease.leaseKey };
        this.ctx.logger.warn({ err: error, leaseKey: entry.lease.leaseKey }, 'lease renewal failed; retrying next round');
      }
    });
    held.enforce(clock.elapsed());
    this.ctx.emitter.emit('renewerRun', { held: held.size, renewed, failed, durationMs: clock.elapsed() - startedAt });
    if (failure) this.ctx.reportError(failure.error, 'lease renewal failed', { leaseKey: failure.leaseKey });
  }

  /** Renews one held lease (under its mutex); true if it was renewed. Throws store errors. */
  async renew(entry: HeldLease): Promise<boolean> {
    const { held, clock, refresher } = this.ctx;
    return held.mutex.run(entry.lease.leaseKey, async () => {
      if (!held.isCurrent(entry)) return false;
      if (clock.elapsed() >= held.deadline(entry)) {
        held.drop(entry, 'expired');
        return false;
      }
      const outcome = await this.fencedWrite(entry, (lease) => refresher.renewLease(lease, this.ctx.owner, this.ctx.signal), this.ctx.signal);
      if (typeof outcome !== 'string') return true;
      held.drop(entry, outcome);
      return false;
    });
  }

  /** Fenced update of a held, active lease; see `LeaseCoordinator.updateLease`. */
  async updateLease(leaseKey: string, update: LeaseUpdate, signal?: AbortSignal): Promise<Lease> {
    const { held, clock, refresher, workerId } = this.ctx;
    return held.mutex.run(leaseKey, async () => {
      const entry = held.get(leaseKey);
      if (entry === undefined || !entry.active) throw new LeaseLostError(leaseKey, `lease ${leaseKey} is not held by worker ${workerId}`);
      if (clock.elapsed() >= held.deadline(entry)) {
        held.drop(entry, 'expired');
        throw new LeaseLostError(leaseKey, `lease ${leaseKey} expired: it could not be renewed in time`);
      }
      // Retrying the write past the lease's self-fencing deadline is pointless: the lease is
      // gone by then. Bound it, and report a lost lease instead of a late store error.
      const deadline = new AbortController();
      const timer = new AbortController();
      clock.sleep(Math.max(0, held.deadline(entry) - clock.elapsed()), timer.signal).then(
        () => deadline.abort(new LeaseLostError(leaseKey, `lease ${leaseKey} reached its renewal deadline while a write was retried`)),
        () => undefined,
      );
      const bounded = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
      let outcome: Lease | LeaseLostReason;
      try {
        outcome = await this.fencedWrite(entry, (lease) => refresher.updateLease(lease, this.ctx.owner, update, bounded), bounded);
      } catch (error) {
        if (!deadline.signal.aborted || signal?.aborted) throw error;
        held.drop(entry, 'expired');
        throw deadline.signal.reason as LeaseLostError;
      } finally {
        timer.abort();
      }
      if (typeof outcome === 'string') {
        held.drop(entry, outcome);
        throw new LeaseLostError(leaseKey, `lease ${leaseKey} was lost (${outcome}); the update was not written`);
      }
      return outcome;
    });
  }

  /**
   * Renews a lease the table says this worker owns but it does not hold (a handoff it
   * received, or a lease of a previous run with the same worker id), and holds it on
   * success; with `quarantineUntil`, it becomes active (processed) only at that monotonic time.
   * Throws store errors.
   */
  async adopt(lease: Lease, quarantineUntil?: number): Promise<boolean> {
    const { held, clock, refresher } = this.ctx;
    return held.mutex.run(lease.leaseKey, async () => {
      if (held.get(lease.leaseKey) !== undefined || held.releasing.has(lease.leaseKey)) return false;
      const sentAt = clock.elapsed();
      const renewed = await refresher.renewLease(lease, this.ctx.owner, this.ctx.signal);
      if (renewed === undefined || held.get(lease.leaseKey) !== undefined) return false;
      const entry = held.add(renewed, sentAt, quarantineUntil ?? sentAt);
      this.noticeHandoff(entry);
      return true;
    });
  }

  /**
   * The held lease of `leaseKey`, re-read from the table: a write of ours whose reply was lost
   * may have applied (a checkpoint included), so the held copy can be behind the table. Only
   * our own writes are adopted (same owner, same or no process token); if the table names
   * another owner (a transfer whose reply was lost), the lease is dropped. `undefined` if the
   * lease is not held and live. Throws store errors.
   */
  async refreshHeld(leaseKey: string): Promise<Lease | undefined> {
    const { held, clock, refresher, workerId, owner } = this.ctx;
    return held.mutex.run(leaseKey, async () => {
      const entry = held.get(leaseKey);
      if (entry === undefined || !held.isLive(entry, clock.elapsed())) return undefined;
      const stored = await refresher.getLease(leaseKey, this.ctx.signal);
      if (!held.isCurrent(entry)) return undefined;
      if (stored?.leaseOwner !== workerId || (stored.ownerIncarnation !== undefined && stored.ownerIncarnation !== owner.incarnation)) {
        // The table says the lease is not ours any more (e.g. a transfer whose reply was lost
        // did apply): drop it now rather than at the next renewal.
        held.drop(entry, stored?.leaseOwner === workerId ? 'duplicate-worker-id' : stored?.leaseOwner !== undefined ? 'taken' : 'renewal-failed');
        return undefined;
      }
      if (stored.leaseCounter !== entry.lease.leaseCounter) {
        this.ctx.logger.info({ leaseKey, held: entry.lease.leaseCounter, stored: stored.leaseCounter }, 'a write of ours whose reply was lost had applied; resynchronising the held lease');
        entry.lease = stored;
      }
      return held.isLive(entry, clock.elapsed()) ? entry.lease : undefined;
    });
  }

  /**
   * Releases (evicts) one held lease: drops it locally first (emitting `leaseLost`
   * 'released'), then clears the owner in the table. Never throws; false if the lease was not
   * held or the eviction failed (then it expires for peers as usual).
   */
  async release(leaseKey: string, signal?: AbortSignal): Promise<boolean> {
    const { held, refresher, workerId, logger } = this.ctx;
    return held.mutex.run(leaseKey, async () => {
      const entry = held.get(leaseKey);
      if (entry === undefined) return false;
      held.releasing.add(leaseKey);
      try {
        held.drop(entry, 'released');
        const evicted = await refresher.evictLease(entry.lease, workerId, signal);
        if (!evicted) logger.info({ leaseKey }, 'lease was no longer ours to release');
        return evicted;
      } catch (error) {
        logger.warn({ err: error, leaseKey }, 'could not release lease; peers will take it once it expires');
        return false;
      } finally {
        held.releasing.delete(leaseKey);
      }
    });
  }

  /** Resolves once every handoff under way has finished (for tests and simulations). */
  async settleHandoffs(): Promise<void> {
    while (this.handoffs.size > 0) await Promise.allSettled([...this.handoffs]);
  }

  /**
   * Runs a counter-changing write fenced on the held counter. On success updates the entry
   * (and its self-fencing base time) and returns the stored lease. On a lost condition,
   * reads the lease: if the table still names this worker with another counter (an earlier
   * write whose reply was lost did apply), adopts that counter and tries once more;
   * otherwise returns why the lease is lost.
   */
  private async fencedWrite(
    entry: HeldLease,
    write: (lease: Lease) => Promise<Lease | undefined>,
    signal?: AbortSignal,
  ): Promise<Lease | LeaseLostReason> {
    const { held, clock, refresher, workerId, logger } = this.ctx;
    for (let attempt = 0; ; attempt++) {
      const sentAt = clock.elapsed();
      const written = await write(entry.lease);
      if (written !== undefined) {
        if (held.isCurrent(entry)) {
          entry.lease = written;
          entry.lastSentAt = sentAt;
          this.noticeHandoff(entry);
        }
        return written;
      }
      let stored: Lease | undefined;
      try {
        stored = await refresher.getLease(entry.lease.leaseKey, signal);
      } catch (error) {
        logger.warn({ err: error, leaseKey: entry.lease.leaseKey }, 'could not read a lease whose conditional write failed');
        return 'renewal-failed';
      }
      if (stored?.leaseOwner === workerId && stored.ownerIncarnation !== undefined && stored.ownerIncarnation !== this.ctx.owner.incarnation) {
        // Another process writes this lease under our worker id: both would hold and process
        // the shard, each adopting the other's counter. This one gives the lease up.
        this.duplicate = true;
        this.ctx.reportError(new DuplicateWorkerIdError(workerId, entry.lease.leaseKey), 'another process uses this worker id', { leaseKey: entry.lease.leaseKey });
        return 'duplicate-worker-id';
      }
      if (attempt === 0 && stored?.leaseOwner === workerId && stored.leaseCounter !== entry.lease.leaseCounter && held.isCurrent(entry)) {
        logger.info({ leaseKey: entry.lease.leaseKey, held: entry.lease.leaseCounter, stored: stored.leaseCounter }, 'lease counter moved under our own name; resynchronising');
        entry.lease = stored;
        continue;
      }
      return stored?.leaseOwner !== undefined && stored.leaseOwner !== workerId ? 'taken' : 'renewal-failed';
    }
  }

  /**
   * Starts a graceful handoff if the stored lease carries a request from a peer. Not while the
   * lease is not active yet (a hard steal, or a lease of another process under this id, still
   * waiting for the previous holder to fence itself): that holder may still be processing, so
   * the lease moves on only once it is active (the request stays on the lease meanwhile).
   */
  private noticeHandoff(entry: HeldLease): void {
    const to = entry.lease.handoffTo;
    if (to === undefined || to === this.ctx.workerId || entry.handoffInProgress || !entry.active) return;
    entry.handoffInProgress = true;
    const task = this.handOff(entry, to).finally(() => this.handoffs.delete(task));
    this.handoffs.add(task);
  }

  /**
   * Graceful handoff, owner side: lets the application drain the shard and checkpoint
   * (`onHandoffRequested`, while renewals go on), then transfers the lease with the counter
   * held at that moment. A transfer that fails on a store error is retried after the next
   * renewal (the request is still on the lease).
   */
  private async handOff(entry: HeldLease, to: string): Promise<void> {
    const { held, clock, refresher, workerId, logger } = this.ctx;
    const leaseKey = entry.lease.leaseKey;
    const startedAt = clock.elapsed();
    logger.info({ leaseKey, to }, 'handoff requested by a peer');
    // Drained again on every attempt: after a transfer that failed, the worker may have started
    // a new processor on the lease (e.g. restarting one whose final checkpoint failed).
    if (entry.active) {
      try {
        await this.onHandoffRequested(entry.lease, to);
      } catch (error) {
        logger.warn({ err: error, leaseKey, to }, 'onHandoffRequested failed; transferring the lease anyway');
      }
    }
    let transferred = false;
    try {
      await held.mutex.run(leaseKey, async () => {
        if (!held.isCurrent(entry)) return;
        if (clock.elapsed() >= held.deadline(entry)) {
          held.drop(entry, 'expired');
          return;
        }
        const moved = await refresher.transferLease(entry.lease, workerId, to, this.ctx.signal);
        if (moved !== undefined) {
          transferred = true;
          held.drop(entry, 'handed-off');
          this.ctx.emitter.emit('handedOff', entry.lease, to, clock.elapsed() - startedAt);
          return;
        }
        const stored = await refresher.getLease(leaseKey, this.ctx.signal).catch(() => undefined);
        held.drop(entry, stored?.leaseOwner !== undefined && stored.leaseOwner !== workerId ? 'taken' : 'renewal-failed');
      });
    } catch (error) {
      this.ctx.reportError(error, 'lease transfer failed; retrying after the next renewal', { leaseKey, to });
    } finally {
      entry.handoffInProgress = false;
    }
    // The recipient finds the lease in the owner index once told (single-scanner mode).
    if (transferred) await announceNewOwners(this.ctx);
  }
}
