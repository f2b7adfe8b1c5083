import type { Lease, LeaseOwner, LeaseUpdate, NewLease } from './lease.js';

/**
 * An item of the lease table that looks like a lease but cannot be read as one (an
 * attribute of the wrong type, a checkpoint that is neither a sequence number nor a
 * sentinel, no `leaseKey`...). It is skipped by scans and never taken. Names the item and
 * the problem only: attribute values are never copied here.
 */
export interface InvalidLeaseItem {
  /** The item's `leaseKey`, when it is a readable string. */
  readonly leaseKey?: string;
  /** What is wrong, e.g. `attribute "leaseCounter" has type S, expected N`. */
  readonly reason: string;
  /** The attribute at fault, when there is one (e.g. `leaseCounter`). */
  readonly attribute?: string;
}

/** One scan of the lease table: the valid leases, and the items skipped as invalid. */
export interface LeaseTableScan {
  /** Every valid lease, in scan order. */
  readonly leases: Lease[];
  /**
   * The items that are not valid leases. Non-lease items a KCL 3.x fleet keeps in the table
   * (`entityType` other than `LEASE`) are not errors and are not listed here.
   */
  readonly invalid: InvalidLeaseItem[];
}

/** How {@link LeaseRefresher.listLeases} reads the table. */
export interface ListLeasesOptions {
  /**
   * Strongly consistent scan (the default). An eventually consistent scan costs half the
   * read capacity and is safe for expiry detection: a stale counter only delays a take, and
   * a take is fenced on the counter it saw, so it fails if the counter has moved.
   * @default true
   */
  readonly consistentRead?: boolean;
}

/**
 * A coordination role of the fleet (e.g. the single scanner), held like a lease: one holder,
 * a counter moved by every claim, renewal and release, so peers judge it expired by watching
 * the counter, exactly as they judge leases. Stored in the lease table as a non-lease item
 * (`entityType` = `KCL_TS_COORDINATOR_ROLE`), which KCL 3.x and kcl-ts skip but a Java KCL
 * 2.x worker would misread: see `LeaseCoordinatorOptions.coordination`.
 */
export interface CoordinatorRole {
  /** The role's name, e.g. `scanner`. */
  readonly name: string;
  /** The worker holding it; `undefined` when it was released. */
  readonly holder?: string;
  /** Moved by every claim, renewal and release. */
  readonly counter: number;
  /**
   * Moved by {@link LeaseRefresher.nudgeRole}. On a worker heartbeat: a peer asks the holder
   * to look at its leases (it then renews each lease once, and so sees handoff requests). On
   * the scanner role: a lease was given to a worker that has not seen it yet, so workers
   * query the owner index.
   */
  readonly nudges?: number;
}

/** One scan of the lease table with the coordination items: see {@link LeaseRefresher.scanCoordination}. */
export interface CoordinationScan {
  /** Every valid lease. */
  readonly leases: Lease[];
  /** Every role item (the scanner role, worker heartbeats). */
  readonly roles: CoordinatorRole[];
}

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

  /**
   * Every lease (a strongly consistent, paginated scan). An item that is not a valid lease
   * does not fail the scan: it is skipped (and reported by the implementation, see
   * {@link InvalidLeaseItem}), so one bad item cannot stop the fleet.
   */
  listLeases(signal?: AbortSignal, options?: ListLeasesOptions): Promise<Lease[]>;
  /**
   * Like {@link LeaseRefresher.listLeases}, but also returns the items it skipped as
   * invalid: for tools that show the whole table (`kcl status`). Optional: a store that
   * cannot hold invalid items need not implement it.
   */
  scanLeaseTable?(signal?: AbortSignal): Promise<LeaseTableScan>;
  /**
   * One lease (strongly consistent read), or `undefined`. Throws `InvalidStateError`
   * (`InvalidLeaseItemError` for DynamoDB) naming the key and the problem when the item is
   * not a valid lease.
   */
  getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined>;

  /** Creates the lease unless one with the same key exists. True if created. */
  createLeaseIfNotExists(lease: NewLease, signal?: AbortSignal): Promise<boolean>;

  /**
   * Renew: condition `leaseCounter = lease.leaseCounter AND leaseOwner = owner`; counter + 1.
   * Stores the owner's process token (`ownerIncarnation`) when `owner` carries one.
   * Returns the lease as stored after the write (so a pending `handoffTo` is seen), or
   * `undefined` if the condition failed.
   */
  renewLease(lease: Lease, owner: LeaseOwner, signal?: AbortSignal): Promise<Lease | undefined>;

  /**
   * Take (expired, free or stolen): condition `leaseCounter = lease.leaseCounter`;
   * owner = newOwner, counter + 1, ownerSwitchesSinceCheckpoint + 1 (when it had another owner),
   * `handoffTo` and KCL 3.x's `checkpointOwner` removed, `ownerIncarnation` set to the new
   * owner's token (or removed). Returns the new lease or `undefined`.
   */
  takeLease(lease: Lease, newOwner: LeaseOwner, signal?: AbortSignal): Promise<Lease | undefined>;

  /**
   * Evict / release: condition `leaseOwner = owner`; owner removed, counter + 1,
   * `handoffTo`, `ownerIncarnation` and KCL 3.x's `checkpointOwner` removed. True if it was released.
   */
  evictLease(lease: Lease, owner: LeaseOwner, signal?: AbortSignal): Promise<boolean>;

  /**
   * Graceful handoff, step 1 (by the taker): condition `leaseOwner = lease.leaseOwner AND
   * attribute_not_exists(handoffTo)`; sets `handoffTo = requester`. The counter is NOT
   * changed, so the owner's renewals keep working. True if the request was recorded.
   */
  requestHandoff(lease: Lease, requester: string, signal?: AbortSignal): Promise<boolean>;

  /**
   * Withdraws a handoff request: condition `handoffTo = requester`; `handoffTo` removed, the
   * counter not changed. True if it was withdrawn. Optional: used by the single scanner for
   * requests whose recipient is gone.
   */
  cancelHandoff?(lease: Lease, requester: string, signal?: AbortSignal): Promise<boolean>;

  /**
   * Graceful handoff, step 2 (by the owner, after its final checkpoint): condition
   * `leaseOwner = owner AND leaseCounter = lease.leaseCounter`; owner = newOwner,
   * counter + 1, ownerSwitchesSinceCheckpoint + 1, `handoffTo`, `ownerIncarnation` and `checkpointOwner` removed
   * (the new owner's process writes its own token with its first renewal).
   */
  transferLease(lease: Lease, owner: LeaseOwner, newOwner: string, signal?: AbortSignal): Promise<Lease | undefined>;

  /**
   * Fenced update of a held lease (checkpoint, pending checkpoint, child shard ids):
   * condition `leaseOwner = owner AND leaseCounter = lease.leaseCounter`; counter + 1.
   * Stores the owner's process token when `owner` carries one. Returns the new lease or
   * `undefined` when the fence failed (a zombie cannot write).
   */
  updateLease(lease: Lease, owner: LeaseOwner, update: LeaseUpdate, signal?: AbortSignal): Promise<Lease | undefined>;

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

  /**
   * Keys of the leases whose `leaseOwner` is `owner`, from the keys-only owner index
   * (`LeaseOwnerToLeaseKeyIndex`; eventually consistent, so a just-assigned lease may show up
   * one call later). `undefined` when the table has no usable index. Optional: needed by the
   * `single-scanner` coordination mode only.
   */
  listLeaseKeysForOwner?(owner: string, signal?: AbortSignal): Promise<string[] | undefined>;
  /** The role item `name` (eventually consistent read), or `undefined` if it does not exist. Optional (`single-scanner` mode). */
  getRole?(name: string, signal?: AbortSignal): Promise<CoordinatorRole | undefined>;
  /**
   * Claims role `name` for `holder`: creates it when `seen` is `undefined` (condition: it does
   * not exist), else takes it with the condition `counter = seen.counter`; counter + 1.
   * Returns the role as stored, or `undefined` if another worker won. Optional (`single-scanner` mode).
   */
  claimRole?(name: string, seen: CoordinatorRole | undefined, holder: string, signal?: AbortSignal): Promise<CoordinatorRole | undefined>;
  /** Renews a held role: condition `holder = holder AND counter = role.counter`; counter + 1. `undefined` if lost. Optional. */
  renewRole?(role: CoordinatorRole, holder: string, signal?: AbortSignal): Promise<CoordinatorRole | undefined>;
  /** Releases a held role: condition `holder = holder`; holder removed, counter + 1. True if released. Optional. */
  releaseRole?(role: CoordinatorRole, holder: string, signal?: AbortSignal): Promise<boolean>;
  /** Moves `nudges` of role `name` (if it exists), whoever holds it; the counter is not changed. True if it exists. Optional. */
  nudgeRole?(name: string, signal?: AbortSignal): Promise<boolean>;
  /** Deletes role `name` if its counter is still `role.counter` (a stale heartbeat). True if deleted. Optional. */
  deleteRole?(role: CoordinatorRole, signal?: AbortSignal): Promise<boolean>;
  /**
   * One scan returning the leases and the role items together (the worker-heartbeat mode
   * judges expiry from both). Optional (`renewal: 'worker-heartbeat'`).
   */
  scanCoordination?(signal?: AbortSignal, options?: ListLeasesOptions): Promise<CoordinationScan>;
}
