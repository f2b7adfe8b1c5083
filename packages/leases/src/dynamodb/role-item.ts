/**
 * The item of a coordination role (see `CoordinatorRole`) in the lease table: keyed by
 * `leaseKey` like every item, marked with `entityType` = `KCL_TS_COORDINATOR_ROLE` so that
 * kcl-ts and KCL 3.x scans skip it, and with attribute names of its own (`roleHolder`,
 * `roleCounter`) so it never appears in the `leaseOwner` index.
 * @module
 */
import type { CoordinatorRole } from '../refresher.js';
import type { LeaseItem } from './lease-serializer.js';

/** The `entityType` of a role item. */
export const ROLE_ENTITY_TYPE = 'KCL_TS_COORDINATOR_ROLE';

/** Attribute names of a role item. */
export const ROLE_ATTRIBUTES = { holder: 'roleHolder', counter: 'roleCounter' } as const;

/** The `leaseKey` of role `name` (cannot collide with a shard id or a KCL 3.x item key). */
export function roleItemKey(name: string): string {
  return `kcl-ts:role:${name}`;
}

/** Reads a role item; missing attributes read as no holder and counter 0. */
export function roleFromItem(name: string, item: LeaseItem): CoordinatorRole {
  const holder = item[ROLE_ATTRIBUTES.holder]?.S;
  const counter = Number(item[ROLE_ATTRIBUTES.counter]?.N ?? '0');
  return { name, ...(holder !== undefined ? { holder } : {}), counter: Number.isFinite(counter) ? counter : 0 };
}
