/**
 * Conversion between {@link Lease} and a DynamoDB item, using the Java KCL's attribute
 * names so a table written by a Java KCL fleet reads correctly and vice versa. Pure: no I/O.
 *
 * | Lease field | attribute(s) | type |
 * |---|---|---|
 * | leaseKey | `leaseKey` (hash key) | S |
 * | leaseOwner | `leaseOwner` | S |
 * | leaseCounter | `leaseCounter` | N |
 * | checkpoint | `checkpoint`, `checkpointSubSequenceNumber` | S, N |
 * | pendingCheckpoint | `pendingCheckpoint`, `pendingCheckpointSubSequenceNumber` | S, N |
 * | pendingCheckpointState | `pendingCheckpointState` | B |
 * | ownerSwitchesSinceCheckpoint | `ownerSwitchesSinceCheckpoint` | N |
 * | parentShardIds | `parentShardId` | SS |
 * | childShardIds | `childShardIds` | SS |
 * | hashKeyRange | `startingHashKey`, `endingHashKey` | S, S |
 * | handoffTo (kcl-ts) | `handoffTo` | S |
 * | initialTimestamp (kcl-ts) | `initialTimestamp` | N |
 *
 * Empty string sets cannot be stored in DynamoDB, so an empty list is an absent attribute.
 * Attributes not in this table (the Java KCL's `throughputKBps`, `checkpointOwner`,
 * `leaseState`, ...) are ignored on read, and missing numbers read as 0.
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvalidStateError, type ExtendedSequenceNumber } from '@kcl-ts/processor';
import type { Lease } from '../lease.js';

/** A lease-table item in the low-level DynamoDB attribute-value form. */
export type LeaseItem = Record<string, AttributeValue>;

/** The attribute names of the lease table (Java KCL names, plus two kcl-ts extensions). */
export const LEASE_ATTRIBUTES = {
  leaseKey: 'leaseKey',
  leaseOwner: 'leaseOwner',
  leaseCounter: 'leaseCounter',
  checkpoint: 'checkpoint',
  checkpointSubSequenceNumber: 'checkpointSubSequenceNumber',
  pendingCheckpoint: 'pendingCheckpoint',
  pendingCheckpointSubSequenceNumber: 'pendingCheckpointSubSequenceNumber',
  pendingCheckpointState: 'pendingCheckpointState',
  ownerSwitchesSinceCheckpoint: 'ownerSwitchesSinceCheckpoint',
  parentShardId: 'parentShardId',
  childShardIds: 'childShardIds',
  startingHashKey: 'startingHashKey',
  endingHashKey: 'endingHashKey',
  handoffTo: 'handoffTo',
  initialTimestamp: 'initialTimestamp',
} as const;

const A = LEASE_ATTRIBUTES;

/** `{ S: value }`. */
export function stringValue(value: string): AttributeValue {
  return { S: value };
}

/** `{ N: value }` for an integer. */
export function numberValue(value: number): AttributeValue {
  return { N: String(value) };
}

/** `{ SS: [...] }`, deduplicated and sorted; `undefined` for an empty list (DynamoDB has no empty sets). */
export function stringSetValue(values: readonly string[]): AttributeValue | undefined {
  const unique = [...new Set(values)].sort();
  return unique.length === 0 ? undefined : { SS: unique };
}

/** Serializes a lease into a complete item (for PutItem). */
export function leaseToItem(lease: Lease): LeaseItem {
  const item: LeaseItem = {
    [A.leaseKey]: stringValue(lease.leaseKey),
    [A.leaseCounter]: numberValue(lease.leaseCounter),
    [A.checkpoint]: stringValue(lease.checkpoint.sequenceNumber),
    [A.checkpointSubSequenceNumber]: numberValue(lease.checkpoint.subSequenceNumber),
    [A.ownerSwitchesSinceCheckpoint]: numberValue(lease.ownerSwitchesSinceCheckpoint),
  };
  if (lease.leaseOwner !== undefined) item[A.leaseOwner] = stringValue(lease.leaseOwner);
  if (lease.pendingCheckpoint !== undefined) {
    item[A.pendingCheckpoint] = stringValue(lease.pendingCheckpoint.sequenceNumber);
    item[A.pendingCheckpointSubSequenceNumber] = numberValue(lease.pendingCheckpoint.subSequenceNumber);
  }
  if (lease.pendingCheckpointState !== undefined) item[A.pendingCheckpointState] = { B: lease.pendingCheckpointState };
  const parents = stringSetValue(lease.parentShardIds);
  if (parents) item[A.parentShardId] = parents;
  const children = stringSetValue(lease.childShardIds);
  if (children) item[A.childShardIds] = children;
  if (lease.hashKeyRange !== undefined) {
    item[A.startingHashKey] = stringValue(lease.hashKeyRange.startingHashKey);
    item[A.endingHashKey] = stringValue(lease.hashKeyRange.endingHashKey);
  }
  if (lease.handoffTo !== undefined) item[A.handoffTo] = stringValue(lease.handoffTo);
  if (lease.initialTimestamp !== undefined) item[A.initialTimestamp] = numberValue(lease.initialTimestamp);
  return item;
}

/**
 * Reads a lease from an item written by kcl-ts or by the Java KCL. Sets come back sorted
 * (DynamoDB does not keep their order).
 * @throws InvalidStateError if `leaseKey` or `checkpoint` is missing or an attribute has the wrong type.
 */
export function itemToLease(item: LeaseItem): Lease {
  const leaseKey = readString(item, A.leaseKey, '?');
  if (leaseKey === undefined) throw new InvalidStateError(`lease table item has no "${A.leaseKey}" string attribute`);
  const str = (name: string): string | undefined => readString(item, name, leaseKey);
  const num = (name: string): number | undefined => readNumber(item, name, leaseKey);
  const sequenceNumber = str(A.checkpoint);
  if (sequenceNumber === undefined) {
    throw new InvalidStateError(`lease "${leaseKey}" has no "${A.checkpoint}" attribute; the item is not a valid lease`);
  }
  const checkpoint: ExtendedSequenceNumber = { sequenceNumber, subSequenceNumber: num(A.checkpointSubSequenceNumber) ?? 0 };
  const pending = str(A.pendingCheckpoint);
  const state = readBinary(item, A.pendingCheckpointState, leaseKey);
  const owner = str(A.leaseOwner);
  const start = str(A.startingHashKey);
  const end = str(A.endingHashKey);
  const handoffTo = str(A.handoffTo);
  const initialTimestamp = num(A.initialTimestamp);
  return {
    leaseKey,
    ...(owner !== undefined ? { leaseOwner: owner } : {}),
    leaseCounter: num(A.leaseCounter) ?? 0,
    checkpoint,
    ...(pending !== undefined
      ? { pendingCheckpoint: { sequenceNumber: pending, subSequenceNumber: num(A.pendingCheckpointSubSequenceNumber) ?? 0 } }
      : {}),
    ...(state !== undefined ? { pendingCheckpointState: state } : {}),
    ownerSwitchesSinceCheckpoint: num(A.ownerSwitchesSinceCheckpoint) ?? 0,
    parentShardIds: readStringSet(item, A.parentShardId, leaseKey),
    childShardIds: readStringSet(item, A.childShardIds, leaseKey),
    ...(start !== undefined && end !== undefined ? { hashKeyRange: { startingHashKey: start, endingHashKey: end } } : {}),
    ...(handoffTo !== undefined ? { handoffTo } : {}),
    ...(initialTimestamp !== undefined ? { initialTimestamp } : {}),
  };
}

function wrongType(leaseKey: string, name: string, value: AttributeValue, expected: string): InvalidStateError {
  const found = Object.keys(value).filter((k) => (value as unknown as Record<string, unknown>)[k] !== undefined).join('/') || 'nothing';
  return new InvalidStateError(`lease "${leaseKey}": attribute "${name}" has type ${found}, expected ${expected}`);
}

function readString(item: LeaseItem, name: string, leaseKey: string): string | undefined {
  const value = item[name];
  if (value === undefined || value.NULL) return undefined;
  if (value.S === undefined) throw wrongType(leaseKey, name, value, 'S');
  return value.S;
}

function readNumber(item: LeaseItem, name: string, leaseKey: string): number | undefined {
  const value = item[name];
  if (value === undefined || value.NULL) return undefined;
  if (value.N === undefined) throw wrongType(leaseKey, name, value, 'N');
  const n = Number(value.N);
  if (!Number.isFinite(n)) throw new InvalidStateError(`lease "${leaseKey}": attribute "${name}" is not a finite number: ${value.N}`);
  return n;
}

function readBinary(item: LeaseItem, name: string, leaseKey: string): Uint8Array | undefined {
  const value = item[name];
  if (value === undefined || value.NULL) return undefined;
  if (value.B === undefined) throw wrongType(leaseKey, name, value, 'B');
  // Copy into a plain Uint8Array: the SDK may hand out a Buffer or a view of a larger buffer.
  return new Uint8Array(value.B);
}

function readStringSet(item: LeaseItem, name: string, leaseKey: string): string[] {
  const value = item[name];
  if (value === undefined || value.NULL) return [];
  // Tolerate a single string or a list of strings, which hand-written items sometimes use.
  if (value.SS !== undefined) return [...value.SS].sort();
  if (value.S !== undefined) return [value.S];
  if (value.L !== undefined && value.L.every((v) => v.S !== undefined)) return value.L.map((v) => v.S!).sort();
  throw wrongType(leaseKey, name, value, 'SS');
}
