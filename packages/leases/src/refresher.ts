import type { Lease, LeaseUpdate, NewLease } from './lease.js';

/**
 * Storage of the lease table. Every mutation is a conditional write; a lost condition means
 * "another worker won" and is reported as `undefined`/`false`, never as a silent overwrite.
 * Failures of the store itself are thrown as `DependencyError` (retryable when transient).
 *
 * Implementations: {@link DynamoDbLeaseRefresher} (production) and
 * {@link InMemoryLeaseRefresher} (logic tests and simulations).
 */
export interface LeaseRefresher {
  /** Creates the table if it does not exist and waits until it is usable. True if this call created it. Throws `InvalidStateError` on a wrong key schema. */
  createLeaseTableIfNotExists(signal?: AbortSignal): Promise<boolean>;
  /** True if the table exists (and has the right schema). */
  leaseTableExists(signal?: AbortSignal): Promise<boolean>;

  /** Every lease (a strongly consistent, paginated scan). */
  listLeases(signal?: AbortSignal): Promise<Lease[]>;
  /** One lease (strongly consistent read), or `undefined`. */
  getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined>;

  /** Creates the lease unless one with the same key exists. True if created. */
  createLeaseIfNotExists(lease: NewLease, signal?: AbortSignal): Promise<boolean>;

  /**
   * Renew: condition `leaseCounter = lease.leaseCounter AND leaseOwner = owner`; counter + 1.
   * Returns the lease as stored after the write (so a pending `handoffTo` is seen), or
   * `undefined` if the condition failed.
   */
  renewLease(lease: Lease, owner: string, signal?: AbortSignal): Promise<Lease | undefined>;

  /**
   * Take (expired, free or stolen): condition `leaseCounter = lease.leaseCounter`;
   * owner = newOwner, counter + 1, ownerSwitchesSinceCheckpoint + 1 (when it had another owner),
   * `handoffTo` removed. Returns the new lease or `undefined`.
   */
  takeLease(lease: Lease, newOwner: string, signal?: AbortSignal): Promise<Lease | undefined>;

  /**
   * Evict / release: condition `leaseOwner = owner`; owner removed, counter + 1,
   * `handoffTo` removed. True if it was released.
   */
  evictLease(lease: Lease, owner: string, signal?: AbortSignal): Promise<boolean>;

  /**
   * Graceful handoff, step 1 (by the taker): condition `leaseOwner = lease.leaseOwner AND
   * attribute_not_exists(handoffTo)`; sets `handoffTo = requester`. The counter is NOT
   * changed, so the owner's renewals keep working. True if the request was recorded.
   */
  requestHandoff(lease: Lease, requester: string, signal?: AbortSignal): Promise<boolean>;

  /**
   * Graceful handoff, step 2 (by the owner, after its final checkpoint): condition
   * `leaseOwner = owner AND leaseCounter = lease.leaseCounter`; owner = newOwner,
   * counter + 1, ownerSwitchesSinceCheckpoint + 1, `handoffTo` removed.
   */
  transferLease(lease: Lease, owner: string, newOwner: string, signal?: AbortSignal): Promise<Lease | undefined>;

  /**
   * Fenced update of a held lease (checkpoint, pending checkpoint, child shard ids):
   * condition `leaseOwner = owner AND leaseCounter = lease.leaseCounter`; counter + 1.
   * Returns the new lease or `undefined` when the fence failed (a zombie cannot write).
   */
  updateLease(lease: Lease, owner: string, update: LeaseUpdate, signal?: AbortSignal): Promise<Lease | undefined>;

  /**
   * Adds child shard ids to a lease regardless of its owner (used by shard sync when it
   * discovers children). Does not change the counter. False if the lease does not exist.
   */
  addChildShardIds(leaseKey: string, childShardIds: readonly string[], signal?: AbortSignal): Promise<boolean>;

  /**
   * Deletes a lease. With `onlyIfShardEnded`, the condition `checkpoint = SHARD_END` guards it.
   * True if deleted.
   */
  deleteLease(leaseKey: string, options?: { readonly onlyIfShardEnded?: boolean; readonly signal?: AbortSignal }): Promise<boolean>;
}
