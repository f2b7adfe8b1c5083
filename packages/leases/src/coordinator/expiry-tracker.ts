import type { Lease } from '../lease.js';

interface Sighting {
  counter: number;
  owner: string | undefined;
  changedAt: number;
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
 */
export class ExpiryTracker {
  private readonly seen = new Map<string, Sighting>();

  constructor(private readonly leaseDurationMs: number) {}

  /** Records a scan that finished at monotonic time `at`; forgets leases no longer in the table. */
  observe(leases: readonly Lease[], at: number): void {
    const present = new Set<string>();
    for (const lease of leases) {
      present.add(lease.leaseKey);
      const last = this.seen.get(lease.leaseKey);
      if (last === undefined) {
        this.seen.set(lease.leaseKey, { counter: lease.leaseCounter, owner: lease.leaseOwner, changedAt: at });
      } else if (last.counter !== lease.leaseCounter || last.owner !== lease.leaseOwner) {
        last.counter = lease.leaseCounter;
        last.owner = lease.leaseOwner;
        last.changedAt = at;
      }
    }
    if (present.size !== this.seen.size) {
      for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
    }
  }

  /** True if `lease` is free, or its counter has not changed in our scans for the lease duration. */
  isExpired(lease: Lease, now: number): boolean {
    if (lease.leaseOwner === undefined) return true;
    const last = this.seen.get(lease.leaseKey);
    if (last === undefined || last.counter !== lease.leaseCounter || last.owner !== lease.leaseOwner) return false;
    return now - last.changedAt >= this.leaseDurationMs;
  }

  /** Keys of the leases among `leases` that are free or expired at `now`. */
  expiredKeys(leases: readonly Lease[], now: number): Set<string> {
    const keys = new Set<string>();
    for (const lease of leases) if (this.isExpired(lease, now)) keys.add(lease.leaseKey);
    return keys;
  }
}
