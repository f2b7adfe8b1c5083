/**
 * Leases of a multi-stream application, in the Java KCL's format (`MultiStreamLease`,
 * `StreamIdentifier`): one table holds the leases of several streams, each keyed
 * `account:streamName:creationEpoch:shardId`, with the stream and the shard in their own
 * attributes (`streamName`, `shardId`). A single-stream application keeps its shard id as
 * the lease key and writes neither attribute.
 * @module
 */
import type { Lease, NewLease } from './lease.js';

/** A stream of a multi-stream application, as the Java KCL's `StreamIdentifier` names it. */
export interface MultiStreamIdentifier {
  /** The 12-digit account id of the stream. */
  readonly accountId: string;
  /** The stream name. */
  readonly streamName: string;
  /** The stream's creation time in epoch seconds (from DescribeStreamSummary): tells a re-created stream from the old one. */
  readonly creationEpoch: number;
}

const SERIALIZED = /^([0-9]+):([^:]+):([0-9]+)$/;

/** `account:streamName:creationEpoch`, the Java KCL's `StreamIdentifier.serialize()` of a multi-stream instance. */
export function serializeStreamIdentifier(id: MultiStreamIdentifier): string {
  return `${id.accountId}:${id.streamName}:${id.creationEpoch}`;
}

/**
 * Reads `account:streamName:creationEpoch` (the Java KCL's `StreamIdentifier.multiStreamInstance`):
 * digits, a name without `:`, and an epoch above 0. `undefined` for anything else.
 */
export function parseStreamIdentifier(serialized: string): MultiStreamIdentifier | undefined {
  const match = typeof serialized === 'string' ? SERIALIZED.exec(serialized) : null;
  if (!match) return undefined;
  const creationEpoch = Number(match[3]);
  if (!Number.isSafeInteger(creationEpoch) || creationEpoch <= 0) return undefined;
  return { accountId: match[1]!, streamName: match[2]!, creationEpoch };
}

/** The lease key of a shard of a multi-stream application: `streamIdentifier:shardId` (Java KCL `MultiStreamLease.getLeaseKey`). */
export function multiStreamLeaseKey(streamIdentifier: string, shardId: string): string {
  return `${streamIdentifier}:${shardId}`;
}

/**
 * Splits a multi-stream lease key `account:streamName:creationEpoch:shardId`; `undefined`
 * when the key is not one (a single-stream key is the bare shard id).
 */
export function parseMultiStreamLeaseKey(leaseKey: string): { readonly streamIdentifier: string; readonly shardId: string } | undefined {
  const match = /^([0-9]+:[^:]+:[0-9]+):(.+)$/.exec(leaseKey);
  if (!match || parseStreamIdentifier(match[1]!) === undefined) return undefined;
  return { streamIdentifier: match[1]!, shardId: match[2]! };
}

/** The shard id of a lease: its `shardId` attribute in a multi-stream table, its key otherwise. */
export function shardIdOf(lease: Pick<Lease, 'leaseKey' | 'shardId'>): string {
  return lease.shardId ?? lease.leaseKey;
}

/**
 * The leases of one stream in the lease table: how a shard id becomes a lease key, and which
 * leases belong to the stream. Shard sync, the parent gate and lease cleanup of a stream see
 * only its leases through this, so a reshard of one stream never touches another's.
 */
export interface LeaseScope {
  /** The serialized stream identifier (`account:streamName:creationEpoch`); `undefined` for a single-stream application. */
  readonly streamIdentifier: string | undefined;
  /** The lease key of a shard of this stream. */
  leaseKeyOf(shardId: string): string;
  /** True if the lease belongs to this stream (a single-stream scope owns every lease without a stream attribute). */
  owns(lease: Pick<Lease, 'streamIdentifier'>): boolean;
  /** A lease to create for a shard of this stream: the key, and the stream and shard attributes when multi-stream. */
  toNewLease(shardLease: NewLease): NewLease;
}

/** The scope of a single-stream application: lease key = shard id, no stream attributes. */
export const SINGLE_STREAM_SCOPE: LeaseScope = Object.freeze({
  streamIdentifier: undefined,
  leaseKeyOf: (shardId: string) => shardId,
  owns: (lease: Pick<Lease, 'streamIdentifier'>) => lease.streamIdentifier === undefined,
  toNewLease: (shardLease: NewLease) => shardLease,
});

/**
 * The scope of one stream of a multi-stream application.
 * @throws TypeError when `streamIdentifier` is not `account:streamName:creationEpoch`.
 */
export function multiStreamScope(streamIdentifier: string): LeaseScope {
  if (parseStreamIdentifier(streamIdentifier) === undefined) {
    throw new TypeError(`streamIdentifier must be account:streamName:creationEpoch, got ${JSON.stringify(streamIdentifier)}`);
  }
  return Object.freeze({
    streamIdentifier,
    leaseKeyOf: (shardId: string) => multiStreamLeaseKey(streamIdentifier, shardId),
    owns: (lease: Pick<Lease, 'streamIdentifier'>) => lease.streamIdentifier === streamIdentifier,
    toNewLease: (shardLease: NewLease): NewLease => {
      const shardId = shardIdOf(shardLease);
      return { ...shardLease, leaseKey: multiStreamLeaseKey(streamIdentifier, shardId), streamIdentifier, shardId };
    },
  });
}
