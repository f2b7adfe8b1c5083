/**
 * The item of a coordination role (see `CoordinatorRole`) in the lease table: keyed by
 * `leaseKey` like every item, marked with `entityType` = `KCL_TS_COORDINATOR_ROLE` so that
 * kcl-ts scans skip it (the Java KCL, 2.x and 3.5 alike, reads an unknown `entityType` as a
 * lease: delete the item before Java workers use the table), and with attribute names of its own (`roleHolder`,
 * `roleCounter`) so it never appears in the `leaseOwner` index.
 * @module
 */
import type { CoordinatorRole } from '../refresher.js';
import type { LeaseItem } from './lease-serializer.js';

/** The `entityType` of a role item. */
export const ROLE_ENTITY_TYPE = 'KCL_TS_COORDINATOR_ROLE';

/** Attribute names of a role item. */
export const ROLE_ATTRIBUTES = { holder: 'roleHolder', counter: 'roleCounter', nudges: 'roleNudges' } as const;

const PREFIX = 'kcl-ts:role:';

/** The `leaseKey` of role `name` (cannot collide with a shard id or a KCL 3.x item key). */
export function roleItemKey(name: string): string {
  return `${PREFIX}${name}`;
}

/** The role name of a role item's `leaseKey`, or `undefined` if it is not one. */
export function roleNameOfKey(leaseKey: string | undefined): string | undefined {
  return leaseKey?.startsWith(PREFIX) ? leaseKey.slice(PREFIX.length) : undefined;
}

/** Reads a role item; missing attributes read as no holder and counter 0. */
export function roleFromItem(name: string, item: LeaseItem): CoordinatorRole {
  const holder = item[ROLE_ATTRIBUTES.holder]?.S;
  const num = (attribute: string): number => {
    const n = Number(item[attribute]?.N ?? '0');
    return Number.isFinite(n) ? n : 0;
  };
  const nudges = num(ROLE_ATTRIBUTES.nudges);
  return { name, ...(holder !== undefined ? { holder } : {}), counter: num(ROLE_ATTRIBUTES.counter), ...(nudges > 0 ? { nudges } : {}) };
}
