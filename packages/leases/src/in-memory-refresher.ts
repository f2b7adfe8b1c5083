import type { Lease, LeaseOwner, LeaseUpdate, NewLease } from './lease.js';
import { applyLeaseUpdate, newLease, ownerId, ownerIncarnation } from './lease.js';
import type { CoordinationScan, CoordinatorRole, LeaseRefresher } from './refresher.js';

/** Counts of calls made to a refresher, by operation (used by simulations and cost reports). */
export type RefresherCallCounts = Record<string, number>;

/**
 * A {@link LeaseRefresher} kept in memory with the exact conditional semantics of the
 * DynamoDB one. For logic tests and the balancing simulation only; every state change is
 * atomic because JavaScript runs one callback at a time.
 *
 * `failNext` lets a test make the next call of an operation throw, to model store errors.
 */
export class InMemoryLeaseRefresher implements LeaseRefresher {
  private readonly leases = new Map<string, Lease>();
  private readonly roles = new Map<string, CoordinatorRole>();
  private tableExists = false;
  /** Calls made so far, by operation name. */
  readonly calls: RefresherCallCounts = {};
  private readonly failures = new Map<string, unknown[]>();

  /** @param options.tableExists start with the table present (default true). */
  constructor(options: { tableExists?: boolean } = {}) {
    this.tableExists = options.tableExists ?? true;
  }

  /** Makes the next call of `operation` (a method name) throw `error`. */
  failNext(operation: keyof LeaseRefresher, error: unknown): void {
    const queue = this.failures.get(operation) ?? [];
    queue.push(error);
    this.failures.set(operation, queue);
  }

  /** Replaces or inserts a lease as is, bypassing every condition (test setup only). */
  put(lease: Lease): void {
    this.leases.set(lease.leaseKey, structuredClone(lease));
  }

  /** A copy of a stored lease, read synchronously without counting a call (test inspection only). */
  peek(leaseKey: string): Lease | undefined {
    const lease = this.leases.get(leaseKey);
    return lease && structuredClone(lease);
  }

  /** Total number of calls made, over every operation. */
  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  private enter(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    const queue = this.failures.get(op);
    if (queue && queue.length > 0) throw queue.shift();
  }

  private store(lease: Lease): Lease {
    this.leases.set(lease.leaseKey, lease);
    return structuredClone(lease);
  }

  async createLeaseTableIfNotExists(): Promise<boolean> {
    this.enter('createLeaseTableIfNotExists');
    const created = !this.tableExists;
    this.tableExists = true;
    return created;
  }

  async leaseTableExists(): Promise<boolean> {
    this.enter('leaseTableExists');
    return this.tableExists;
  }

  async listLeases(): Promise<Lease[]> {
    this.enter('listLeases');
    return [...this.leases.values()].map((l) => structuredClone(l));
  }

  async getLease(leaseKey: string): Promise<Lease | undefined> {
    this.enter('getLease');
    const lease = this.leases.get(leaseKey);
    return lease && structuredClone(lease);
  }

  async createLeaseIfNotExists(init: NewLease): Promise<boolean> {
    this.enter('createLeaseIfNotExists');
    if (this.leases.has(init.leaseKey)) return false;
    this.store(newLease(init));
    return true;
  }

  async renewLease(lease: Lease, owner: LeaseOwner): Promise<Lease | undefined> {
    this.enter('renewLease');
    const cur = this.leases.get(lease.leaseKey);
    if (!cur || cur.leaseCounter !== lease.leaseCounter || cur.leaseOwner !== ownerId(owner)) return undefined;
    return this.store(withIncarnation({ ...cur, leaseCounter: cur.leaseCounter + 1 }, owner));
  }

  async takeLease(lease: Lease, newOwner: LeaseOwner): Promise<Lease | undefined> {
    this.enter('takeLease');
    const cur = this.leases.get(lease.leaseKey);
    if (!cur || cur.leaseCounter !== lease.leaseCounter) return undefined;
    const { handoffTo: _h, ownerIncarnation: _i, checkpointOwner: _c, ...rest } = cur;
    const id = ownerId(newOwner);
    const switched = cur.leaseOwner !== undefined && cur.leaseOwner !== id ? 1 : 0;
    return this.store(withIncarnation({ ...rest, leaseOwner: id, leaseCounter: cur.leaseCounter + 1, ownerSwitchesSinceCheckpoint: cur.ownerSwitchesSinceCheckpoint + switched }, newOwner));
  }

  async evictLease(lease: Lease, owner: LeaseOwner): Promise<boolean> {
    this.enter('evictLease');
    const cur = this.leases.get(lease.leaseKey);
    if (!cur || cur.leaseOwner !== ownerId(owner)) return false;
    const { handoffTo: _h, leaseOwner: _o, ownerIncarnation: _i, checkpointOwner: _c, ...rest } = cur;
    this.store({ ...rest, leaseCounter: cur.leaseCounter + 1 });
    return true;
  }

  async requestHandoff(lease: Lease, requester: string): Promise<boolean> {
    this.enter('requestHandoff');
    const cur = this.leases.get(lease.leaseKey);
    if (!cur || cur.leaseOwner === undefined || cur.leaseOwner !== lease.leaseOwner || cur.handoffTo !== undefined) return false;
    this.store({ ...cur, handoffTo: requester });
    return true;
  }

  /** See {@link LeaseRefresher.cancelHandoff}. */
  async cancelHandoff(lease: Lease, requester: string): Promise<boolean> {
    this.enter('cancelHandoff');
    const cur = this.leases.get(lease.leaseKey);
    if (!cur || cur.handoffTo !== requester) return false;
    const { handoffTo: _h, ...rest } = cur;
    this.store(rest);
    return true;
  }

  async transferLease(lease: Lease, owner: LeaseOwner, newOwner: string): Promise<Lease | undefined> {
    this.enter('transferLease');
    const cur = this.leases.get(lease.leaseKey);
    if (!cur || cur.leaseOwner !== ownerId(owner) || cur.leaseCounter !== lease.leaseCounter) return undefined;
    const { handoffTo: _h, ownerIncarnation: _i, checkpointOwner: _c, ...rest } = cur;
    return this.store({ ...rest, leaseOwner: newOwner, leaseCounter: cur.leaseCounter + 1, ownerSwitchesSinceCheckpoint: cur.ownerSwitchesSinceCheckpoint + 1 });
  }

  async updateLease(lease: Lease, owner: LeaseOwner, update: LeaseUpdate): Promise<Lease | undefined> {
    this.enter('updateLease');
    const cur = this.leases.get(lease.leaseKey);
    if (!cur || cur.leaseOwner !== ownerId(owner) || cur.leaseCounter !== lease.leaseCounter) return undefined;
    return this.store(withIncarnation(applyLeaseUpdate(cur, update), owner));
  }

  async addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean> {
    this.enter('addChildShardIds');
    const cur = this.leases.get(leaseKey);
    if (!cur) return false;
    this.store({ ...cur, childShardIds: [...new Set([...cur.childShardIds, ...childShardIds])].sort() });
    return true;
  }

  async deleteLease(leaseKey: string, options: { onlyIfShardEnded?: boolean } = {}): Promise<boolean> {
    this.enter('deleteLease');
    const cur = this.leases.get(leaseKey);
    if (!cur) return false;
    if (options.onlyIfShardEnded && cur.checkpoint.sequenceNumber !== 'SHARD_END') return false;
    this.leases.delete(leaseKey);
    return true;
  }

  /** Keys of the leases `owner` owns (the owner index, always up to date here). */
  async listLeaseKeysForOwner(owner: string): Promise<string[]> {
    this.enter('listLeaseKeysForOwner');
    return [...this.leases.values()].filter((l) => l.leaseOwner === owner).map((l) => l.leaseKey);
  }

  /** The role item `name`, if any. */
  async getRole(name: string): Promise<CoordinatorRole | undefined> {
    this.enter('getRole');
    const role = this.roles.get(name);
    return role && { ...role };
  }

  /** See {@link LeaseRefresher.claimRole}. */
  async claimRole(name: string, seen: CoordinatorRole | undefined, holder: string): Promise<CoordinatorRole | undefined> {
    this.enter('claimRole');
    const cur = this.roles.get(name);
    if (seen === undefined ? cur !== undefined : cur === undefined || cur.counter !== seen.counter) return undefined;
    const next = { ...cur, name, holder, counter: (cur?.counter ?? 0) + 1 };
    this.roles.set(name, next);
    return { ...next };
  }

  /** See {@link LeaseRefresher.renewRole}. */
  async renewRole(role: CoordinatorRole, holder: string): Promise<CoordinatorRole | undefined> {
    this.enter('renewRole');
    const cur = this.roles.get(role.name);
    if (cur === undefined || cur.holder !== holder || cur.counter !== role.counter) return undefined;
    const next = { ...cur, counter: cur.counter + 1 };
    this.roles.set(role.name, next);
    return { ...next };
  }

  /** See {@link LeaseRefresher.releaseRole}. */
  async releaseRole(role: CoordinatorRole, holder: string): Promise<boolean> {
    this.enter('releaseRole');
    const cur = this.roles.get(role.name);
    if (cur === undefined || cur.holder !== holder) return false;
    const { holder: _h, ...rest } = cur;
    this.roles.set(role.name, { ...rest, counter: cur.counter + 1 });
    return true;
  }

  /** See {@link LeaseRefresher.nudgeRole}. */
  async nudgeRole(name: string): Promise<boolean> {
    this.enter('nudgeRole');
    const cur = this.roles.get(name);
    if (cur === undefined) return false;
    this.roles.set(name, { ...cur, nudges: (cur.nudges ?? 0) + 1 });
    return true;
  }

  /** See {@link LeaseRefresher.deleteRole}. */
  async deleteRole(role: CoordinatorRole): Promise<boolean> {
    this.enter('deleteRole');
    const cur = this.roles.get(role.name);
    if (cur === undefined || cur.counter !== role.counter) return false;
    this.roles.delete(role.name);
    return true;
  }

  /** The leases and the role items in one call. */
  async scanCoordination(): Promise<CoordinationScan> {
    this.enter('scanCoordination');
    return { leases: [...this.leases.values()].map((l) => structuredClone(l)), roles: [...this.roles.values()].map((r) => ({ ...r })) };
  }
}

/** Stores the writer's process token with the lease, when it has one. */
function withIncarnation(lease: Lease, owner: LeaseOwner): Lease {
  const incarnation = ownerIncarnation(owner);
  return incarnation === undefined ? lease : { ...lease, ownerIncarnation: incarnation };
}
