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
 * | ownerIncarnation (kcl-ts) | `leaseOwnerIncarnation` | S |
 * | streamIdentifier (multi-stream) | `streamName` | S |
 * | shardId (multi-stream) | `shardId` | S |
 * | checkpointOwner (KCL 3.x) | `checkpointOwner` | S |
 *
 * A multi-stream lease (Java KCL `DynamoDBMultiStreamLeaseSerializer`) keeps the serialized
 * stream identifier `account:streamName:creationEpoch` in `streamName` (so named for legacy
 * reasons) and the shard id in `shardId`; its key is `account:streamName:creationEpoch:shardId`.
 * An item with a `streamName` that is not such an identifier, or with one of the two
 * attributes without the other, is invalid.
 *
 * Empty string sets cannot be stored in DynamoDB, so an empty list is an absent attribute.
 * Attributes not in this table (the Java KCL's `throughputKBps`, `leaseState`, ...) are ignored on read, and missing numbers read as 0.
 *
 * An item with an attribute of the wrong type, or whose (pending) checkpoint is neither a
 * sequence number nor a sentinel, is *invalid* ({@link parseLeaseItem}): scans skip it, so
 * it is never taken. An item with `entityType` other than `LEASE` (KCL 3.x keeps such
 * items in the lease table) is not a lease at all and is skipped silently.
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvalidStateError, isSentinel, isSequenceNumber, SENTINEL_CHECKPOINTS, type ExtendedSequenceNumber } from '@kcl-ts/processor';
import type { Lease } from '../lease.js';
import { parseStreamIdentifier } from '../multi-stream.js';
import type { InvalidLeaseItem } from '../refresher.js';

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
  ownerIncarnation: 'leaseOwnerIncarnation',
  streamIdentifier: 'streamName',
  shardId: 'shardId',
  checkpointOwner: 'checkpointOwner',
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
  if (lease.ownerIncarnation !== undefined) item[A.ownerIncarnation] = stringValue(lease.ownerIncarnation);
  if (lease.streamIdentifier !== undefined && lease.shardId !== undefined) {
    item[A.streamIdentifier] = stringValue(lease.streamIdentifier);
    item[A.shardId] = stringValue(lease.shardId);
  }
  if (lease.checkpointOwner !== undefined) item[A.checkpointOwner] = stringValue(lease.checkpointOwner);
  return item;
}

/**
 * An item of the lease table that is not a valid lease, as an error: thrown when such an
 * item is read as a lease (e.g. by `getLease`). Its code is `INVALID_STATE`; its fields say
 * which item and what is wrong, without any attribute value.
 */
export class InvalidLeaseItemError extends InvalidStateError {
  /** The item's `leaseKey`, when it is a readable string. */
  readonly leaseKey: string | undefined;
  /** What is wrong with the item. */
  readonly reason: string;
  /** The attribute at fault, when there is one. */
  readonly attribute: string | undefined;

  constructor(problem: InvalidLeaseItem) {
    const which = problem.leaseKey === undefined ? 'a lease table item without a readable leaseKey' : `lease table item "${problem.leaseKey}"`;
    super(`${which} is not a valid lease: ${problem.reason}`);
    this.leaseKey = problem.leaseKey;
    this.reason = problem.reason;
    this.attribute = problem.attribute;
  }

  /** The problem as a plain {@link InvalidLeaseItem}. */
  toInvalidLeaseItem(): InvalidLeaseItem {
    return {
      ...(this.leaseKey !== undefined ? { leaseKey: this.leaseKey } : {}),
      reason: this.reason,
      ...(this.attribute !== undefined ? { attribute: this.attribute } : {}),
    };
  }
}

/** The attribute KCL 3.x uses to tell lease items from the other items it keeps in the lease table. */
export const ENTITY_TYPE_ATTRIBUTE = 'entityType';

/**
 * What an item of the lease table is, read by {@link parseLeaseItem}:
 * - `lease`: a valid lease;
 * - `other`: a non-lease item a KCL 3.x fleet keeps in the table (`entityType` other than
 *   `LEASE`, e.g. `CLIENT_VERSION_MIGRATION`, `WORKER_METRIC_STATS`); not an error;
 * - `invalid`: meant as a lease but unreadable (see {@link InvalidLeaseItem}).
 */
export type ParsedLeaseItem =
  | { readonly kind: 'lease'; readonly lease: Lease }
  | { readonly kind: 'other'; readonly leaseKey: string | undefined; readonly entityType: string }
  | { readonly kind: 'invalid'; readonly problem: InvalidLeaseItem };

/**
 * Reads an item of the lease table without throwing: see {@link ParsedLeaseItem}. An item is
 * a valid lease when it has a string `leaseKey`, a `checkpoint` that is a sequence number
 * (a decimal string of up to 129 digits, the Kinesis API's pattern) or a sentinel
 * (`TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`, `SHARD_END`), a pending checkpoint (if any) of
 * the same form, and every known attribute of its documented type.
 */
export function parseLeaseItem(item: LeaseItem): ParsedLeaseItem {
  const keyValue = item[A.leaseKey];
  const leaseKey = keyValue?.S;
  const entity = item[ENTITY_TYPE_ATTRIBUTE];
  if (entity !== undefined && !entity.NULL) {
    if (entity.S === undefined) {
      return invalid({ ...(leaseKey !== undefined ? { leaseKey } : {}), ...wrongType(ENTITY_TYPE_ATTRIBUTE, entity, 'S') });
    }
    if (entity.S !== 'LEASE') return { kind: 'other', leaseKey, entityType: entity.S };
  }
  if (leaseKey === undefined) {
    return invalid({ reason: `no "${A.leaseKey}" string attribute`, attribute: A.leaseKey });
  }
  try {
    return { kind: 'lease', lease: readLease(item, leaseKey) };
  } catch (error) {
    if (error instanceof ItemProblem) return invalid({ leaseKey, reason: error.reason, attribute: error.attribute });
    throw error;
  }
}

/**
 * Reads a lease from an item written by kcl-ts or by the Java KCL. Sets come back sorted
 * (DynamoDB does not keep their order).
 * @throws InvalidLeaseItemError (an `InvalidStateError`) naming the key and the problem if
 * the item is not a valid lease (see {@link parseLeaseItem}), including a KCL 3.x non-lease item.
 */
export function itemToLease(item: LeaseItem): Lease {
  const parsed = parseLeaseItem(item);
  switch (parsed.kind) {
    case 'lease':
      return parsed.lease;
    case 'invalid':
      throw new InvalidLeaseItemError(parsed.problem);
    case 'other':
      throw new InvalidLeaseItemError({
        ...(parsed.leaseKey !== undefined ? { leaseKey: parsed.leaseKey } : {}),
        reason: `it is a non-lease item ("${ENTITY_TYPE_ATTRIBUTE}" is not LEASE)`,
        attribute: ENTITY_TYPE_ATTRIBUTE,
      });
  }
}

function invalid(problem: InvalidLeaseItem): ParsedLeaseItem {
  return { kind: 'invalid', problem };
}

/** A problem found while reading one attribute; turned into an {@link InvalidLeaseItem}. */
class ItemProblem extends Error {
  constructor(
    readonly attribute: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function readLease(item: LeaseItem, leaseKey: string): Lease {
  const str = (name: string): string | undefined => readString(item, name);
  const num = (name: string): number | undefined => readNumber(item, name);
  const sequenceNumber = readPosition(item, A.checkpoint);
  if (sequenceNumber === undefined) throw new ItemProblem(A.checkpoint, `no "${A.checkpoint}" attribute`);
  const checkpoint: ExtendedSequenceNumber = { sequenceNumber, subSequenceNumber: num(A.checkpointSubSequenceNumber) ?? 0 };
  const pending = readPosition(item, A.pendingCheckpoint);
  const state = readBinary(item, A.pendingCheckpointState);
  const owner = str(A.leaseOwner);
  const start = str(A.startingHashKey);
  const end = str(A.endingHashKey);
  const handoffTo = str(A.handoffTo);
  const initialTimestamp = num(A.initialTimestamp);
  const incarnation = str(A.ownerIncarnation);
  const stream = readStream(item);
  const checkpointOwner = str(A.checkpointOwner);
  return {
    leaseKey,
    ...stream,
    ...(owner !== undefined ? { leaseOwner: owner } : {}),
    leaseCounter: num(A.leaseCounter) ?? 0,
    checkpoint,
    ...(pending !== undefined
      ? { pendingCheckpoint: { sequenceNumber: pending, subSequenceNumber: num(A.pendingCheckpointSubSequenceNumber) ?? 0 } }
      : {}),
    ...(state !== undefined ? { pendingCheckpointState: state } : {}),
    ownerSwitchesSinceCheckpoint: num(A.ownerSwitchesSinceCheckpoint) ?? 0,
    parentShardIds: readStringSet(item, A.parentShardId),
    childShardIds: readStringSet(item, A.childShardIds),
    ...(start !== undefined && end !== undefined ? { hashKeyRange: { startingHashKey: start, endingHashKey: end } } : {}),
    ...(handoffTo !== undefined ? { handoffTo } : {}),
    ...(initialTimestamp !== undefined ? { initialTimestamp } : {}),
    ...(incarnation !== undefined ? { ownerIncarnation: incarnation } : {}),
    ...(checkpointOwner !== undefined ? { checkpointOwner } : {}),
  };
}

/** The attribute's type letters and the expected one; never its value. */
function wrongType(name: string, value: AttributeValue, expected: string): { reason: string; attribute: string } {
  const found = Object.keys(value).filter((k) => (value as unknown as Record<string, unknown>)[k] !== undefined).join('/') || 'nothing';
  return { reason: `attribute "${name}" has type ${found}, expected ${expected}`, attribute: name };
}

function wrongTypeProblem(name: string, value: AttributeValue, expected: string): ItemProblem {
  const { reason, attribute } = wrongType(name, value, expected);
  return new ItemProblem(attribute, reason);
}

function readString(item: LeaseItem, name: string): string | undefined {
  const value = item[name];
  if (value === undefined || value.NULL) return undefined;
  if (value.S === undefined) throw wrongTypeProblem(name, value, 'S');
  return value.S;
}

/** A checkpoint attribute: a sequence number or a sentinel, or absent. */
function readPosition(item: LeaseItem, name: string): string | undefined {
  const value = readString(item, name);
  if (value !== undefined && !isSequenceNumber(value) && !isSentinel(value)) {
    throw new ItemProblem(name, `attribute "${name}" is neither a sequence number nor one of ${SENTINEL_CHECKPOINTS.join(', ')}`);
  }
  return value;
}

function readNumber(item: LeaseItem, name: string): number | undefined {
  const value = item[name];
  if (value === undefined || value.NULL) return undefined;
  if (value.N === undefined) throw wrongTypeProblem(name, value, 'N');
  const n = Number(value.N);
  if (!Number.isFinite(n)) throw new ItemProblem(name, `attribute "${name}" is not a finite number`);
  return n;
}

/** The multi-stream attributes: both or neither, the stream a serialized stream identifier. */
function readStream(item: LeaseItem): { streamIdentifier?: string; shardId?: string } {
  const streamIdentifier = readString(item, A.streamIdentifier);
  const shardId = readString(item, A.shardId);
  if (streamIdentifier === undefined && shardId === undefined) return {};
  if (streamIdentifier === undefined) throw new ItemProblem(A.streamIdentifier, `attribute "${A.shardId}" without "${A.streamIdentifier}" (a multi-stream lease has both)`);
  if (shardId === undefined || shardId.length === 0) throw new ItemProblem(A.shardId, `attribute "${A.streamIdentifier}" without a "${A.shardId}" (a multi-stream lease has both)`);
  if (parseStreamIdentifier(streamIdentifier) === undefined) {
    throw new ItemProblem(A.streamIdentifier, `attribute "${A.streamIdentifier}" is not a stream identifier account:streamName:creationEpoch`);
  }
  return { streamIdentifier, shardId };
}

function readBinary(item: LeaseItem, name: string): Uint8Array | undefined {
  const value = item[name];
  if (value === undefined || value.NULL) return undefined;
  if (value.B === undefined) throw wrongTypeProblem(name, value, 'B');
  // Copy into a plain Uint8Array: the SDK may hand out a Buffer or a view of a larger buffer.
  return new Uint8Array(value.B);
}

function readStringSet(item: LeaseItem, name: string): string[] {
  const value = item[name];
  if (value === undefined || value.NULL) return [];
  // Tolerate a single string or a list of strings, which hand-written items sometimes use.
  if (value.SS !== undefined) return [...value.SS].sort();
  if (value.S !== undefined) return [value.S];
  if (value.L?.every((v) => v.S !== undefined)) return value.L.map((v) => v.S!).sort();
  throw wrongTypeProblem(name, value, 'SS');
}
