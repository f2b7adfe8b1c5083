import type { ExtendedSequenceNumber } from '@kcl-ts/processor';

/** The hash-key range a shard owns: decimal strings of 128-bit integers, inclusive. */
export interface HashKeyRange {
  readonly startingHashKey: string;
  readonly endingHashKey: string;
}

/**
 * One item of the lease table: the lease of one shard. Field names follow the Java KCL's
 * attribute names so a table can be shared with, or migrated from, Java KCL tooling
 * (see `docs/migrating-from-java-kcl.md`).
 */
export interface Lease {
  /**
   * The hash key of the table: the shard id in a single-stream application,
   * `account:streamName:creationEpoch:shardId` in a multi-stream one (see `multi-stream.ts`).
   */
  readonly leaseKey: string;
  /**
   * Multi-stream applications only: the serialized stream identifier
   * (`account:streamName:creationEpoch`), stored as `streamName` like the Java KCL does.
   */
  readonly streamIdentifier?: string;
  /** Multi-stream applications only: the shard id (stored as `shardId`); otherwise the shard id is the lease key. */
  readonly shardId?: string;
  /** Worker id of the current owner; `undefined` when the lease is free. */
  readonly leaseOwner?: string;
  /** Incremented on every renew, take, evict and checkpoint; the basis of expiry detection and fencing. */
  readonly leaseCounter: number;
  /** The last checkpoint: a sequence number or a sentinel (`TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`, `SHARD_END`). */
  readonly checkpoint: ExtendedSequenceNumber;
  /** A prepared (two-phase) checkpoint not yet committed. */
  readonly pendingCheckpoint?: ExtendedSequenceNumber;
  /** Application state saved with the pending checkpoint. */
  readonly pendingCheckpointState?: Uint8Array;
  /** Number of owner changes since the last checkpoint (a hint of a lease that keeps failing). */
  readonly ownerSwitchesSinceCheckpoint: number;
  /** Parent shard ids: one after a split, two after a merge, none for original shards. */
  readonly parentShardIds: readonly string[];
  /** Child shard ids, once the shard has been read to its end. */
  readonly childShardIds: readonly string[];
  /** The shard's hash-key range, when known. */
  readonly hashKeyRange?: HashKeyRange;
  /**
   * kcl-ts extension: a peer asked the owner to hand this lease over gracefully (checkpoint,
   * then transfer) instead of stealing it. Holds the requesting worker's id.
   */
  readonly handoffTo?: string;
  /** kcl-ts extension: epoch ms of the `AT_TIMESTAMP` initial position, when that is the checkpoint. */
  readonly initialTimestamp?: number;
  /**
   * kcl-ts extension: a token of the owner's process (one per lease coordinator), written with
   * every take and renewal. Two processes started with the same worker id write different
   * tokens, which is how each one finds out about the other.
   */
  readonly ownerIncarnation?: string;
  /**
   * Java KCL 3.x: the worker that still checkpoints a lease during its graceful handoff
   * (`leaseOwner` then already names the next owner). kcl-ts never sets it; it reads it (so
   * tools show it) and clears it on every take, transfer and eviction, as KCL 3.x does, so a
   * dead Java worker's name does not stay on a lease it no longer processes.
   */
  readonly checkpointOwner?: string;
}

/**
 * Who writes a lease: a worker id, or a worker id with the token of its process (see
 * {@link Lease.ownerIncarnation}); the token is stored by takes, renewals and updates.
 */
export type LeaseOwner = string | { readonly workerId: string; readonly incarnation?: string };

/** The worker id of a {@link LeaseOwner}. */
export function ownerId(owner: LeaseOwner): string {
  return typeof owner === 'string' ? owner : owner.workerId;
}

/** The process token of a {@link LeaseOwner}, if it has one. */
export function ownerIncarnation(owner: LeaseOwner): string | undefined {
  return typeof owner === 'string' ? undefined : owner.incarnation;
}

/** A fenced change to a held lease; see {@link LeaseRefresher.updateLease}. */
export interface LeaseUpdate {
  /** New checkpoint. Writing one resets `ownerSwitchesSinceCheckpoint` and clears the pending checkpoint unless `pendingCheckpoint` is also given. */
  readonly checkpoint?: ExtendedSequenceNumber;
  /** New pending checkpoint; `null` clears it (and its state). */
  readonly pendingCheckpoint?: ExtendedSequenceNumber | null;
  /** Application state for the pending checkpoint. */
  readonly pendingCheckpointState?: Uint8Array;
  /** Child shard ids to record (replaces the set). */
  readonly childShardIds?: readonly string[];
  /**
   * Epoch ms of an `AT_TIMESTAMP` checkpoint: written with `checkpoint: AT_TIMESTAMP` when a
   * `LATEST` start is resolved once for every later owner.
   */
  readonly initialTimestamp?: number;
}

/** A new lease for a shard that has none yet. */
export interface NewLease {
  readonly leaseKey: string;
  /** Multi-stream applications only: see {@link Lease.streamIdentifier}. */
  readonly streamIdentifier?: string;
  /** Multi-stream applications only: see {@link Lease.shardId}. */
  readonly shardId?: string;
  readonly checkpoint: ExtendedSequenceNumber;
  readonly parentShardIds?: readonly string[];
  readonly childShardIds?: readonly string[];
  readonly hashKeyRange?: HashKeyRange;
  readonly initialTimestamp?: number;
}

/** Builds the in-memory form of a freshly created lease. */
export function newLease(init: NewLease): Lease {
  return {
    leaseKey: init.leaseKey,
    ...(init.streamIdentifier !== undefined && init.shardId !== undefined ? { streamIdentifier: init.streamIdentifier, shardId: init.shardId } : {}),
    leaseCounter: 0,
    checkpoint: init.checkpoint,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [...(init.parentShardIds ?? [])],
    childShardIds: [...(init.childShardIds ?? [])],
    ...(init.hashKeyRange ? { hashKeyRange: init.hashKeyRange } : {}),
    ...(init.initialTimestamp !== undefined ? { initialTimestamp: init.initialTimestamp } : {}),
  };
}

/** True once the shard was read to its end and its processor checkpointed `SHARD_END`. */
export function isShardEnded(lease: Lease): boolean {
  return lease.checkpoint.sequenceNumber === 'SHARD_END';
}

/** Applies a {@link LeaseUpdate} to a lease the way every refresher must (counter + 1). */
export function applyLeaseUpdate(lease: Lease, update: LeaseUpdate): Lease {
  let next: Lease = { ...lease, leaseCounter: lease.leaseCounter + 1 };
  if (update.checkpoint !== undefined) {
    next = { ...next, checkpoint: update.checkpoint, ownerSwitchesSinceCheckpoint: 0 };
    if (update.pendingCheckpoint === undefined) next = withoutPending(next);
  }
  if (update.pendingCheckpoint === null) next = withoutPending(next);
  else if (update.pendingCheckpoint !== undefined) {
    next = { ...withoutPending(next), pendingCheckpoint: update.pendingCheckpoint };
    if (update.pendingCheckpointState !== undefined) next = { ...next, pendingCheckpointState: update.pendingCheckpointState };
  }
  if (update.childShardIds !== undefined) next = { ...next, childShardIds: [...update.childShardIds] };
  if (update.initialTimestamp !== undefined) next = { ...next, initialTimestamp: update.initialTimestamp };
  return next;
}

function withoutPending(lease: Lease): Lease {
  const { pendingCheckpoint: _p, pendingCheckpointState: _s, ...rest } = lease;
  return rest;
}
