import type { Lease } from '../lease.js';
import type { CoordinatorRole } from '../refresher.js';

interface Sighting {
  counter: number;
  owner: string | undefined;
  /** The owner's heartbeat counter (worker-heartbeat mode), if it has one. */
  beat: number | undefined;
  changedAt: number;
  scan: number;
}

/** Prefix of the role names of worker heartbeats. */
export const HEARTBEAT_PREFIX = 'worker:';

/**
 * The role name of the heartbeat of one process (worker-heartbeat mode): worker id and the
 * process token (`ownerIncarnation`), so two processes started with the same worker id never
 * share a heartbeat.
 */
export function heartbeatRoleName(workerId: string, incarnation: string): string {
  return `${HEARTBEAT_PREFIX}${workerId}#${incarnation}`;
}

/** The worker id of a heartbeat role name, or `undefined` if it is not one. */
export function heartbeatWorker(name: string): string | undefined {
  if (!name.startsWith(HEARTBEAT_PREFIX)) return undefined;
  const rest = name.slice(HEARTBEAT_PREFIX.length);
  const hash = rest.lastIndexOf('#');
  return hash < 0 ? rest : rest.slice(0, hash);
}

/**
 * Judges lease expiry locally, from this worker's own scans: a lease is expired when the
 * scans have not seen its `leaseCounter` (or owner) change for `leaseDurationMs` of the
 * monotonic clock. No clock agreement between hosts is needed. A lease without an owner is
 * free at once. A lease seen for the first time counts as just changed, so a worker that
 * starts never takes a live lease on its first scan.
 *
 * Record the time at which the scan *finished*: the counter a scan returns was written before
 * that moment, so the owner, whose renewal was sent earlier still, always fences itself first.
 *
 * In the worker-heartbeat mode, a lease's counter moves only on takes, transfers and
 * checkpoints; its owner renews one heartbeat item instead. Given the heartbeats, a lease
 * counts as renewed whenever its owner's heartbeat counter moves, and as free once its owner's
 * heartbeat was released.
 */
export class ExpiryTracker {
  private readonly seen = new Map<string, Sighting>();
  private scans = 0;

  constructor(private readonly leaseDurationMs: number) {}

  /**
   * Records a scan that finished at monotonic time `at`, forgets leases no longer in the
   * table, and returns the keys of the scanned leases that are free or expired at `at`.
   */
  observe(leases: readonly Lease[], at: number, heartbeats?: ReadonlyMap<string, CoordinatorRole>): Set<string> {
    const scan = ++this.scans;
    const expired = new Set<string>();
    for (const lease of leases) {
      // A lease assigned by the scanner carries no process token until its owner adopts it:
      // until then it is judged by its counter, like any lease.
      const heartbeat =
        lease.leaseOwner === undefined || lease.ownerIncarnation === undefined ? undefined : heartbeats?.get(heartbeatRoleName(lease.leaseOwner, lease.ownerIncarnation));
      const beat = heartbeat?.counter;
      const last = this.seen.get(lease.leaseKey);
      if (last === undefined) {
        this.seen.set(lease.leaseKey, { counter: lease.leaseCounter, owner: lease.leaseOwner, beat, changedAt: at, scan });
      } else {
        last.scan = scan;
        if (last.counter !== lease.leaseCounter || last.owner !== lease.leaseOwner || last.beat !== beat) {
          last.counter = lease.leaseCounter;
          last.owner = lease.leaseOwner;
          last.beat = beat;
          last.changedAt = at;
        } else if (lease.leaseOwner !== undefined && at - last.changedAt >= this.leaseDurationMs) {
          expired.add(lease.leaseKey);
        }
      }
      if (lease.leaseOwner === undefined || (heartbeat !== undefined && heartbeat.holder === undefined)) expired.add(lease.leaseKey);
    }
    if (this.seen.size !== leases.length) {
      for (const [key, sighting] of this.seen) if (sighting.scan !== scan) this.seen.delete(key);
    }
    return expired;
  }

  /** Monotonic time of the scan that first saw the lease's current counter and owner, if tracked. */
  changedAt(leaseKey: string): number | undefined {
    return this.seen.get(leaseKey)?.changedAt;
  }
}
