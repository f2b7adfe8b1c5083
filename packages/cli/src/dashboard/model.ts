/**
 * The model `kcl dashboard` serves (as JSON and server-sent events) and the pure logic that
 * builds it from one scan of the lease table and, optionally, one ListShards and one
 * DescribeStreamSummary. No I/O here: {@link buildDashboardModel} takes what was read and a
 * {@link LeaseObserver} that remembers, across scans, when each lease's counter and checkpoint
 * last changed.
 * @module
 */
import type { InvalidLeaseItem, Lease } from '@kcl-ts/leases';
import { newestStreamNamed } from '../stream-identifiers.js';
import type { ShardInfo } from '@kcl-ts/shard-sync';

/**
 * How long a value has stayed the same, as seen by this dashboard's scans.
 * `atLeast` is true when the value has not changed since the dashboard started watching, so
 * the real age may be longer than `ms`.
 */
export interface ObservedAge {
  /** Milliseconds (monotonic) since the scan that first saw the current value. */
  readonly ms: number;
  /** The value was already there when observation began: `ms` is a lower bound. */
  readonly atLeast: boolean;
}

/** What the dashboard shows of one lease. */
export interface DashboardLease {
  /** Worker id of the owner; `null` when the lease is free. */
  readonly owner: string | null;
  /** A pending graceful handoff: the worker the owner was asked to hand the lease to. */
  readonly handoffTo: string | null;
  /** The checkpoint: a sequence number (`/n` for a sub-sequence number) or a sentinel. */
  readonly checkpoint: string;
  /** A prepared, not yet committed checkpoint. */
  readonly pendingCheckpoint: string | null;
  /** `leaseCounter`: +1 on every renew, take, release and checkpoint. */
  readonly leaseCounter: number;
  /** `ownerSwitchesSinceCheckpoint`. */
  readonly ownerSwitchesSinceCheckpoint: number;
  /** Since the lease counter last changed: how long the owner has not renewed (renewals change it every renew interval). */
  readonly leaseAge: ObservedAge;
  /**
   * Since the checkpoint last changed. For an open shard with traffic, a growing value means
   * the processor is not checkpointing (stuck, or far behind); on an idle shard it grows too.
   * `null` once the shard is ended.
   */
  readonly checkpointAge: ObservedAge | null;
  /**
   * Judged as `kcl status --check-expiry` and the workers judge it: an owned, unfinished lease
   * whose counter has not changed for the lease duration. `null` while the dashboard has
   * watched for less than the lease duration and the counter has not moved yet.
   */
  readonly expired: boolean | null;
}

/**
 * A shard's state: `open` takes writes; `closed` was resharded away and is still being read;
 * `ended` was read to its end (checkpoint `SHARD_END`); `gone` has a lease but ListShards no
 * longer lists it (past retention); `unknown` when no stream was given.
 */
export type DashboardShardState = 'open' | 'closed' | 'ended' | 'gone' | 'unknown';

/** One shard of the model: every listed shard, and every lease (a lease without a listed shard is `gone`). */
export interface DashboardShard {
  /**
   * The node's id: the shard id, or on a multi-stream table the lease key
   * (`<stream identifier>:<shard id>`), so that shards of two streams never share a node.
   * `parents` and `children` hold ids of the same form.
   */
  readonly shardId: string;
  /** The stream identifier (`account:stream:creationEpoch`) on a multi-stream table, else `null`. */
  readonly stream: string | null;
  readonly state: DashboardShardState;
  /** The lease, or `null` when the shard has none yet (shard sync has not created it, or it was cleaned up). */
  readonly lease: DashboardLease | null;
  /** Parent ids: from ListShards, else from the lease. */
  readonly parents: readonly string[];
  /** Child ids: from the lease and from the parents of listed shards. */
  readonly children: readonly string[];
  /** The shard's hash-key range (decimal), from ListShards or the lease. */
  readonly hashKeyRange: { readonly startingHashKey: string; readonly endingHashKey: string } | null;
}

/** DescribeStreamSummary, in short. */
export interface DashboardStreamSummary {
  /** `CREATING`, `ACTIVE`, `UPDATING` (a reshard is under way) or `DELETING`. */
  readonly status: string;
  readonly openShardCount: number | null;
  readonly retentionPeriodHours: number | null;
  /** `PROVISIONED` or `ON_DEMAND`. */
  readonly mode: string | null;
}

/** Leases per worker. */
export interface DashboardWorker {
  readonly workerId: string;
  /** Unfinished leases it owns (ended leases are not counted, as in `kcl status`). */
  readonly leases: number;
  /** Of those, how many are judged expired. */
  readonly expired: number;
  /** Of those, how many it was asked to hand over. */
  readonly handoffs: number;
}

/** Where the last reshard stands. */
export interface DashboardReshard {
  /** Closed shards whose lease has not reached `SHARD_END` yet: the parents still being read. */
  readonly closedNotEnded: readonly string[];
  /** Open shards without a lease yet: the children shard sync has not picked up. */
  readonly openWithoutLease: readonly string[];
  /** True when the stream is not `UPDATING` and both lists are empty. `null` without a stream. */
  readonly complete: boolean | null;
}

/** Everything the page shows; sent whole on every update. */
export interface DashboardModel {
  /** Wall-clock time of the scan, epoch ms (for display only). */
  readonly generatedAt: number;
  readonly application: string;
  readonly table: string;
  readonly stream: string | null;
  /** The lease duration expiry is judged against. */
  readonly leaseDurationMs: number;
  /** How long the dashboard has watched without a gap, ms. */
  readonly watchingForMs: number;
  /** `null` without a stream, or when DescribeStreamSummary failed (see {@link DashboardModel.warnings}). */
  readonly streamSummary: DashboardStreamSummary | null;
  /** Sorted by shard id. */
  readonly shards: readonly DashboardShard[];
  /** Items of the table that are not valid leases; workers skip them until fixed or deleted. */
  readonly invalid: readonly InvalidLeaseItem[];
  readonly workers: readonly DashboardWorker[];
  /** Unfinished leases without owner. */
  readonly unowned: readonly string[];
  /** Leases judged expired. */
  readonly expired: readonly string[];
  readonly reshard: DashboardReshard;
  /** Non-fatal problems of this update (e.g. DescribeStreamSummary denied). */
  readonly warnings: readonly string[];
  /** Set when the latest update failed: the rest of the model is from the previous one. */
  readonly error: string | null;
}

interface Seen {
  readonly counter: number;
  readonly checkpoint: string;
  readonly counterSince: number;
  readonly checkpointSince: number;
}

/**
 * Remembers, per lease, the monotonic time of the scan that first saw its current counter and
 * checkpoint. Expiry is judged from these the way a worker judges it: the counter has not
 * changed for the lease duration. Call {@link LeaseObserver.reset} after a gap in the scans
 * (a change during the gap would go unseen).
 */
export class LeaseObserver {
  private origin: number | undefined;
  private seen = new Map<string, Seen>();

  /** Forgets everything: the next scan starts a new observation. */
  reset(): void {
    this.origin = undefined;
    this.seen = new Map();
  }

  /** How long the current observation has lasted at `now`; 0 before the first scan. */
  watchingFor(now: number): number {
    return this.origin === undefined ? 0 : now - this.origin;
  }

  /** Records one scan made at monotonic time `now`; returns the ages per lease key. */
  observe(leases: readonly Lease[], now: number): Map<string, { leaseAge: ObservedAge; checkpointAge: ObservedAge }> {
    const origin = (this.origin ??= now);
    const next = new Map<string, Seen>();
    const ages = new Map<string, { leaseAge: ObservedAge; checkpointAge: ObservedAge }>();
    for (const lease of leases) {
      const checkpoint = checkpointText(lease);
      const before = this.seen.get(lease.leaseKey);
      // A value not seen before dates from this scan; on the first scan that is the origin, so its
      // age is a lower bound (atLeast). A lease that appears later was created since.
      const counterSince = before && before.counter === lease.leaseCounter ? before.counterSince : now;
      const checkpointSince = before && before.checkpoint === checkpoint ? before.checkpointSince : now;
      next.set(lease.leaseKey, { counter: lease.leaseCounter, checkpoint, counterSince, checkpointSince });
      ages.set(lease.leaseKey, {
        leaseAge: { ms: now - counterSince, atLeast: counterSince === origin },
        checkpointAge: { ms: now - checkpointSince, atLeast: checkpointSince === origin },
      });
    }
    this.seen = next;
    return ages;
  }
}

/** The checkpoint as shown: `seq`, `seq/sub` for a sub-sequence number, or the sentinel. */
export function checkpointText(lease: Pick<Lease, 'checkpoint'>): string {
  const { sequenceNumber, subSequenceNumber } = lease.checkpoint;
  return subSequenceNumber ? `${sequenceNumber}/${subSequenceNumber}` : sequenceNumber;
}

/** What one update read. */
export interface DashboardReading {
  readonly application: string;
  readonly table: string;
  readonly stream: string | null;
  readonly leases: readonly Lease[];
  readonly invalid: readonly InvalidLeaseItem[];
  /** ListShards; `undefined` without a stream. */
  readonly shards?: readonly ShardInfo[];
  readonly streamSummary?: DashboardStreamSummary | null;
  readonly warnings?: readonly string[];
  /** Wall-clock time of the reading (epoch ms). */
  readonly wallTime: number;
  /** Monotonic time of the reading (ms). */
  readonly monotonicTime: number;
  readonly leaseDurationMs: number;
}

const byId = (a: string, b: string): number => a.localeCompare(b);

/** Builds the model from one reading; updates `observer` with the scan. */
export function buildDashboardModel(reading: DashboardReading, observer: LeaseObserver): DashboardModel {
  const ages = observer.observe(reading.leases, reading.monotonicTime);
  const leases = new Map(reading.leases.map((l) => [l.leaseKey, l]));
  // On a multi-stream table a lease key is `<stream identifier>:<shard id>`, while ListShards and
  // the parent and child lists name bare shard ids: qualify those with their stream's identifier.
  const idIn = (stream: string | undefined, shardId: string): string => (stream === undefined ? shardId : `${stream}:${shardId}`);
  const listedStream = newestStreamNamed(reading.leases, reading.stream);
  const listed = reading.shards ? new Map(reading.shards.map((s) => [idIn(listedStream, s.shardId), s])) : undefined;
  const streamOf = (id: string): string | undefined => (leases.has(id) ? leases.get(id)!.streamIdentifier : listedStream);
  const ids = [...new Set([...leases.keys(), ...(listed?.keys() ?? [])])].sort(byId);
  const children = new Map<string, Set<string>>();
  const addChild = (parent: string, child: string): void => {
    let set = children.get(parent);
    if (!set) children.set(parent, (set = new Set()));
    set.add(child);
  };
  const parentsOf = (id: string): string[] => {
    const shard = listed?.get(id);
    const fromShard = shard ? [shard.parentShardId, shard.adjacentParentShardId].filter((p): p is string => !!p) : [];
    const stream = streamOf(id);
    return [...new Set((fromShard.length ? fromShard : (leases.get(id)?.parentShardIds ?? [])).map((p) => idIn(stream, p)))].sort(byId);
  };
  for (const id of ids) {
    for (const p of parentsOf(id)) addChild(p, id);
    for (const c of leases.get(id)?.childShardIds ?? []) addChild(id, idIn(streamOf(id), c));
  }
  const shards: DashboardShard[] = ids.map((shardId) => {
    const lease = leases.get(shardId);
    const shard = listed?.get(shardId);
    const ended = lease?.checkpoint.sequenceNumber === 'SHARD_END';
    // ListShards describes one stream: another stream's shard on a multi-stream table is unknown, not gone.
    const state: DashboardShardState = ended ? 'ended' : !listed || streamOf(shardId) !== listedStream ? 'unknown' : !shard ? 'gone' : shard.endingSequenceNumber !== undefined ? 'closed' : 'open';
    const range = shard?.hashKeyRange ?? lease?.hashKeyRange;
    return {
      shardId,
      stream: streamOf(shardId) ?? null,
      state,
      lease: lease ? viewLease(lease, ended, ages.get(shardId)!, reading.leaseDurationMs) : null,
      parents: parentsOf(shardId),
      children: [...(children.get(shardId) ?? [])].sort(byId),
      hashKeyRange: range ? { startingHashKey: range.startingHashKey, endingHashKey: range.endingHashKey } : null,
    };
  });
  const workers = new Map<string, { leases: number; expired: number; handoffs: number }>();
  for (const s of shards) {
    const l = s.lease;
    if (!l?.owner || s.state === 'ended') continue;
    const w = workers.get(l.owner) ?? { leases: 0, expired: 0, handoffs: 0 };
    workers.set(l.owner, { leases: w.leases + 1, expired: w.expired + (l.expired ? 1 : 0), handoffs: w.handoffs + (l.handoffTo ? 1 : 0) });
  }
  const summary = reading.streamSummary ?? null;
  const closedNotEnded = shards.filter((s) => s.state === 'closed' && s.lease).map((s) => s.shardId);
  const openWithoutLease = shards.filter((s) => s.state === 'open' && !s.lease).map((s) => s.shardId);
  return {
    generatedAt: reading.wallTime,
    application: reading.application,
    table: reading.table,
    stream: reading.stream,
    leaseDurationMs: reading.leaseDurationMs,
    watchingForMs: observer.watchingFor(reading.monotonicTime),
    streamSummary: summary,
    shards,
    invalid: [...reading.invalid].sort((a, b) => byId(a.leaseKey ?? '', b.leaseKey ?? '')),
    workers: [...workers].map(([workerId, w]) => ({ workerId, ...w })).sort((a, b) => byId(a.workerId, b.workerId)),
    unowned: shards.filter((s) => s.lease && !s.lease.owner && s.state !== 'ended').map((s) => s.shardId),
    expired: shards.filter((s) => s.lease?.expired).map((s) => s.shardId),
    reshard: {
      closedNotEnded,
      openWithoutLease,
      complete: reading.shards ? summary?.status !== 'UPDATING' && closedNotEnded.length === 0 && openWithoutLease.length === 0 : null,
    },
    warnings: reading.warnings ?? [],
    error: null,
  };
}

function viewLease(lease: Lease, ended: boolean, ages: { leaseAge: ObservedAge; checkpointAge: ObservedAge }, leaseDurationMs: number): DashboardLease {
  const owned = lease.leaseOwner !== undefined;
  const stale = ages.leaseAge.ms >= leaseDurationMs;
  return {
    owner: lease.leaseOwner ?? null,
    handoffTo: lease.handoffTo ?? null,
    checkpoint: checkpointText(lease),
    pendingCheckpoint: lease.pendingCheckpoint ? checkpointText({ checkpoint: lease.pendingCheckpoint }) : null,
    leaseCounter: lease.leaseCounter,
    ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint,
    leaseAge: ages.leaseAge,
    checkpointAge: ended ? null : ages.checkpointAge,
    expired: !owned || ended ? false : stale ? true : ages.leaseAge.atLeast ? null : false,
  };
}
