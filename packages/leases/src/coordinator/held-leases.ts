import type { Clock, Logger } from '@kcl-ts/processor';
import type { Lease } from '../lease.js';
import type { CoordinatorEmitter, LeaseLostReason } from './events.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { LeaseCoordinatorConfig } from './options.js';

/**
 * One lease this worker holds, with the bookkeeping of self-fencing.
 * @internal
 */
export interface HeldLease {
  /** The lease as last written by this worker (its counter is the fencing token). */
  lease: Lease;
  /**
   * Monotonic time at which the last successful counter-changing write (take, renew,
   * update) was *sent*. Any peer sees that counter no earlier, so it cannot consider the
   * lease expired before `lastSentAt + leaseDurationMs`.
   */
  lastSentAt: number;
  /** True once `leaseGained` was emitted: the worker may process the shard. */
  active: boolean;
  /** When a hard-stolen lease may become active (the victim has fenced itself by then). */
  activeAt: number;
  /** A graceful handoff of this lease is under way. */
  handoffInProgress: boolean;
}

/**
 * The leases this worker holds: the registry shared by the renewer and the taker, the
 * per-lease mutex, self-fencing deadlines, and the `leaseGained`/`leaseLost` events.
 * @internal
 */
export class HeldLeases {
  private readonly entries = new Map<string, HeldLease>();
  /** Serialises every write to one lease (renew, update, transfer, release, take, adopt). */
  readonly mutex = new KeyedMutex();
  /** Keys being released right now: the taker must not adopt them back. */
  readonly releasing = new Set<string>();
  /**
   * A deadline for every held lease at once: the self-fencing deadline of the scanner role
   * while this worker holds it (the role is its heartbeat; see `ScannerRole`). Once it has
   * passed, every lease is dropped and it is cleared.
   */
  fenceAllAt: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly config: LeaseCoordinatorConfig,
    private readonly emitter: CoordinatorEmitter,
    private readonly logger: Logger,
  ) {}

  /** Number of entries, including stolen leases that are not active yet. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry of `leaseKey`, active or not. */
  get(leaseKey: string): HeldLease | undefined {
    return this.entries.get(leaseKey);
  }

  /** True if `entry` is still the registered entry of its lease (not dropped or replaced). */
  isCurrent(entry: HeldLease): boolean {
    return this.entries.get(entry.lease.leaseKey) === entry;
  }

  /** Keys of every entry. */
  keys(): Set<string> {
    return new Set(this.entries.keys());
  }

  /** A snapshot of every entry. */
  all(): HeldLease[] {
    return [...this.entries.values()];
  }

  /** Monotonic time from which `entry` must no longer be processed. */
  deadline(entry: HeldLease): number {
    const own = entry.lastSentAt + this.config.leaseDurationMs - this.config.selfFencingMarginMs;
    return this.fenceAllAt === undefined ? own : Math.min(own, this.fenceAllAt);
  }

  /** True if `entry` is active and not past its self-fencing deadline at `now`. */
  isLive(entry: HeldLease, now: number): boolean {
    return entry.active && now < this.deadline(entry);
  }

  /**
   * Registers a lease this worker just took, adopted or stole. It becomes active at once
   * (emitting `leaseGained`) unless `activeAt` lies in the future.
   */
  add(lease: Lease, sentAt: number, activeAt = sentAt): HeldLease {
    const entry: HeldLease = { lease, lastSentAt: sentAt, active: false, activeAt, handoffInProgress: false };
    this.entries.set(lease.leaseKey, entry);
    if (activeAt <= this.clock.elapsed()) this.activate(entry);
    else this.logger.info({ leaseKey: lease.leaseKey, activeInMs: activeAt - this.clock.elapsed() }, 'stole lease; processing starts once the previous owner has fenced itself');
    return entry;
  }

  /** Removes `entry` if it is current, emitting `leaseLost` if it was active. True if removed. */
  drop(entry: HeldLease, reason: LeaseLostReason): boolean {
    if (!this.isCurrent(entry)) return false;
    this.entries.delete(entry.lease.leaseKey);
    const level = reason === 'expired' || reason === 'renewal-failed' || reason === 'taken' ? 'warn' : 'info';
    this.logger[level]({ leaseKey: entry.lease.leaseKey, reason, leaseCounter: entry.lease.leaseCounter }, 'lease lost');
    if (entry.active) this.emitter.emit('leaseLost', entry.lease, reason);
    return true;
  }

  /** Drops every entry (see {@link drop}). */
  dropAll(reason: LeaseLostReason): void {
    for (const entry of this.all()) this.drop(entry, reason);
  }

  /**
   * Self-fencing and activation at `now`: drops every entry past its deadline (`expired`)
   * and activates every stolen lease whose waiting time is over.
   */
  enforce(now: number): void {
    for (const entry of this.all()) {
      if (now >= this.deadline(entry)) this.drop(entry, 'expired');
      else if (!entry.active && now >= entry.activeAt) this.activate(entry);
    }
    if (this.fenceAllAt !== undefined && now >= this.fenceAllAt) this.fenceAllAt = undefined;
  }

  /** The next monotonic time at which {@link enforce} has something to do, if any. */
  nextEventAt(): number | undefined {
    let next: number | undefined;
    for (const entry of this.entries.values()) {
      const at = entry.active ? this.deadline(entry) : Math.min(entry.activeAt, this.deadline(entry));
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  private activate(entry: HeldLease): void {
    entry.active = true;
    this.logger.info({ leaseKey: entry.lease.leaseKey, leaseCounter: entry.lease.leaseCounter }, 'lease gained');
    this.emitter.emit('leaseGained', entry.lease);
  }
}
