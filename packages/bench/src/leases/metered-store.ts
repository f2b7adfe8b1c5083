/**
 * A {@link LeaseRefresher} for the lease simulation: the conditional semantics of the
 * in-memory refresher, with the DynamoDB capacity of every call counted from item sizes and
 * read consistency (see `capacity.ts`), and scans and owner-index queries served from
 * write-through indexes (10,000 structured clones per scan would dominate a 500-worker run).
 * @module
 */
import {
  InMemoryLeaseRefresher,
  leaseToItem,
  type CoordinationScan,
  type CoordinatorRole,
  type Lease,
  type LeaseOwner,
  type LeaseRefresher,
  type LeaseUpdate,
  type ListLeasesOptions,
  type NewLease,
} from '@kcl-ts/leases';
import { itemBytes, readUnits, scanReadUnits, writeUnits } from './capacity.js';

/** Capacity units by what they were spent on. */
export interface CapacityUse {
  /** Write units of lease renewals. */
  renewals: number;
  /** Read units of scans. */
  scans: number;
  /** Read units of owner-index queries. */
  indexQueries: number;
  /** Read units of single-item reads (a lease after a lost condition, a discovered lease). */
  itemReads: number;
  /** Read units of role items (the scanner role checks). */
  roleReads: number;
  /** Write units of role items (claims, renewals of the scanner role and of worker heartbeats, nudges). */
  roleWrites: number;
  /** Write units of every other lease write (take, assign, handoff, transfer, checkpoint...). */
  otherWrites: number;
  /** Write units of the owner index (an entry put or deleted when `leaseOwner` changes). */
  indexWrites: number;
  /** Requests, all kinds. */
  requests: number;
}

/** Zeroed {@link CapacityUse}. */
export function noCapacity(): CapacityUse {
  return { renewals: 0, scans: 0, indexQueries: 0, itemReads: 0, roleReads: 0, roleWrites: 0, otherWrites: 0, indexWrites: 0, requests: 0 };
}

/** Read units of a {@link CapacityUse}. */
export function readUnitsOf(c: CapacityUse): number {
  return c.scans + c.indexQueries + c.itemReads + c.roleReads;
}

/** Write units of a {@link CapacityUse}. */
export function writeUnitsOf(c: CapacityUse): number {
  return c.renewals + c.roleWrites + c.otherWrites + c.indexWrites;
}

/** Total capacity units of a {@link CapacityUse}. */
export function totalUnits(c: CapacityUse): number {
  return readUnitsOf(c) + writeUnitsOf(c);
}

/** How the stored item of a lease is sized: kcl-ts writes `leaseOwnerIncarnation`, the Java KCL does not. */
export type ItemShape = 'kcl-ts' | 'java';

const ROLE_ITEM_BYTES = itemBytes({
  leaseKey: { S: 'kcl-ts:role:scanner' },
  entityType: { S: 'KCL_TS_COORDINATOR_ROLE' },
  roleHolder: { S: '00000000-0000-0000-0000-000000000000' },
  roleCounter: { N: '123456' },
});

/** See the module comment. */
export class MeteredStore implements LeaseRefresher {
  /** Capacity spent since the last {@link reset}. */
  use: CapacityUse = noCapacity();
  private readonly inner = new InMemoryLeaseRefresher();
  private readonly leases = new Map<string, { lease: Lease; bytes: number }>();
  private readonly byOwner = new Map<string, Set<string>>();
  private totalBytes = 0;

  /**
   * @param shape how items are sized (see {@link ItemShape})
   * @param ownerIndex whether the table has the keys-only `leaseOwner` index (its writes are counted;
   *   an entry is under 1 KB, so one unit per entry put or deleted)
   * @param eventualScans charge every scan as eventually consistent (the Java KCL's scans are)
   */
  constructor(
    private readonly shape: ItemShape,
    private readonly ownerIndex: boolean,
    private readonly eventualScans = false,
  ) {}

  /** Puts a lease as is (setup only; not counted). */
  seed(lease: Lease): void {
    this.inner.put(lease);
    this.keep(lease);
  }

  /** Starts counting from zero. */
  reset(): void {
    this.use = noCapacity();
  }

  /** Bytes of the stored item of `lease`. */
  bytesOf(lease: Lease): number {
    const item = leaseToItem(lease);
    if (this.shape === 'java') delete item.leaseOwnerIncarnation;
    return itemBytes(item);
  }

  /** Mean bytes of a stored lease item. */
  meanItemBytes(): number {
    return this.leases.size === 0 ? 0 : this.totalBytes / this.leases.size;
  }

  private keep(lease: Lease | undefined, key?: string): void {
    const leaseKey = lease?.leaseKey ?? key!;
    const old = this.leases.get(leaseKey);
    if (old !== undefined) {
      this.totalBytes -= old.bytes;
      if (old.lease.leaseOwner !== undefined) this.byOwner.get(old.lease.leaseOwner)?.delete(leaseKey);
    }
    if (lease === undefined) {
      this.leases.delete(leaseKey);
      return;
    }
    const bytes = this.bytesOf(lease);
    this.leases.set(leaseKey, { lease, bytes });
    this.totalBytes += bytes;
    if (lease.leaseOwner !== undefined) {
      let keys = this.byOwner.get(lease.leaseOwner);
      if (keys === undefined) this.byOwner.set(lease.leaseOwner, (keys = new Set()));
      keys.add(leaseKey);
    }
    if (this.ownerIndex && old?.lease.leaseOwner !== lease.leaseOwner) {
      this.use.indexWrites += (old?.lease.leaseOwner !== undefined ? 1 : 0) + (lease.leaseOwner !== undefined ? 1 : 0);
    }
  }

  /** Counts a write of `key` (before → after), then refreshes the indexes from the store. */
  private async write<T>(kind: 'renewals' | 'otherWrites', key: string, run: () => Promise<T>): Promise<T> {
    const before = this.leases.get(key)?.bytes ?? 0;
    this.use.requests++;
    const result = await run();
    const after = await this.inner.getLease(key);
    this.keep(after, key);
    this.use[kind] += writeUnits(before, after === undefined ? 0 : this.leases.get(key)!.bytes);
    return result;
  }

  async createLeaseTableIfNotExists(): Promise<boolean> {
    return this.inner.createLeaseTableIfNotExists();
  }
  async leaseTableExists(): Promise<boolean> {
    return this.inner.leaseTableExists();
  }
  async listLeases(_signal?: AbortSignal, options: ListLeasesOptions = {}): Promise<Lease[]> {
    const consistent = !this.eventualScans && (options.consistentRead ?? true);
    const bytes = this.totalBytes + (this.ownerIndex ? ROLE_ITEM_BYTES : 0);
    this.use.scans += scanReadUnits(bytes, consistent);
    this.use.requests += Math.max(1, Math.ceil(bytes / (1024 * 1024)));
    return [...this.leases.values()].map((e) => e.lease);
  }
  async getLease(leaseKey: string): Promise<Lease | undefined> {
    const entry = this.leases.get(leaseKey);
    this.use.itemReads += readUnits(entry?.bytes ?? 0, true);
    this.use.requests++;
    return entry?.lease;
  }
  async createLeaseIfNotExists(lease: NewLease): Promise<boolean> {
    return this.write('otherWrites', lease.leaseKey, () => this.inner.createLeaseIfNotExists(lease));
  }
  async renewLease(lease: Lease, owner: LeaseOwner): Promise<Lease | undefined> {
    return this.write('renewals', lease.leaseKey, () => this.inner.renewLease(lease, owner));
  }
  async takeLease(lease: Lease, newOwner: LeaseOwner): Promise<Lease | undefined> {
    return this.write('otherWrites', lease.leaseKey, () => this.inner.takeLease(lease, newOwner));
  }
  async evictLease(lease: Lease, owner: LeaseOwner): Promise<boolean> {
    return this.write('otherWrites', lease.leaseKey, () => this.inner.evictLease(lease, owner));
  }
  async requestHandoff(lease: Lease, requester: string): Promise<boolean> {
    return this.write('otherWrites', lease.leaseKey, () => this.inner.requestHandoff(lease, requester));
  }
  async cancelHandoff(lease: Lease, requester: string): Promise<boolean> {
    return this.write('otherWrites', lease.leaseKey, () => this.inner.cancelHandoff(lease, requester));
  }
  async transferLease(lease: Lease, owner: LeaseOwner, newOwner: string): Promise<Lease | undefined> {
    return this.write('otherWrites', lease.leaseKey, () => this.inner.transferLease(lease, owner, newOwner));
  }
  async updateLease(lease: Lease, owner: LeaseOwner, update: LeaseUpdate): Promise<Lease | undefined> {
    return this.write('otherWrites', lease.leaseKey, () => this.inner.updateLease(lease, owner, update));
  }
  async addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean> {
    return this.write('otherWrites', leaseKey, () => this.inner.addChildShardIds(leaseKey, childShardIds));
  }
  async deleteLease(leaseKey: string, options?: { readonly onlyIfShardEnded?: boolean }): Promise<boolean> {
    return this.write('otherWrites', leaseKey, () => this.inner.deleteLease(leaseKey, options));
  }
  async listLeaseKeysForOwner(owner: string): Promise<string[] | undefined> {
    if (!this.ownerIndex) return undefined;
    const keys = [...(this.byOwner.get(owner) ?? [])];
    const entryBytes = keys.reduce((n, k) => n + 'leaseKey'.length + k.length + 'leaseOwner'.length + owner.length, 0);
    this.use.indexQueries += readUnits(entryBytes, false);
    this.use.requests++;
    return keys;
  }
  async getRole(name: string): Promise<CoordinatorRole | undefined> {
    this.use.roleReads += readUnits(ROLE_ITEM_BYTES, false);
    this.use.requests++;
    return this.inner.getRole(name);
  }
  async claimRole(name: string, seen: CoordinatorRole | undefined, holder: string): Promise<CoordinatorRole | undefined> {
    this.use.roleWrites += writeUnits(ROLE_ITEM_BYTES, ROLE_ITEM_BYTES);
    this.use.requests++;
    return this.inner.claimRole(name, seen, holder);
  }
  async renewRole(role: CoordinatorRole, holder: string): Promise<CoordinatorRole | undefined> {
    this.use.roleWrites += writeUnits(ROLE_ITEM_BYTES, ROLE_ITEM_BYTES);
    this.use.requests++;
    return this.inner.renewRole(role, holder);
  }
  async releaseRole(role: CoordinatorRole, holder: string): Promise<boolean> {
    this.use.roleWrites += writeUnits(ROLE_ITEM_BYTES, ROLE_ITEM_BYTES);
    this.use.requests++;
    return this.inner.releaseRole(role, holder);
  }
  async nudgeRole(name: string): Promise<boolean> {
    this.use.roleWrites += writeUnits(ROLE_ITEM_BYTES, ROLE_ITEM_BYTES);
    this.use.requests++;
    return this.inner.nudgeRole(name);
  }
  async deleteRole(role: CoordinatorRole): Promise<boolean> {
    this.use.roleWrites += writeUnits(ROLE_ITEM_BYTES, 0);
    this.use.requests++;
    return this.inner.deleteRole(role);
  }
  async scanCoordination(_signal?: AbortSignal, options: ListLeasesOptions = {}): Promise<CoordinationScan> {
    const roles = (await this.inner.scanCoordination()).roles;
    const consistent = !this.eventualScans && (options.consistentRead ?? true);
    const bytes = this.totalBytes + roles.length * ROLE_ITEM_BYTES;
    this.use.scans += scanReadUnits(bytes, consistent);
    this.use.requests += Math.max(1, Math.ceil(bytes / (1024 * 1024)));
    return { leases: [...this.leases.values()].map((e) => e.lease), roles };
  }
}
