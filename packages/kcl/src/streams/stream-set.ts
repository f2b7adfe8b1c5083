/**
 * {@link StreamSet}: the streams a Worker consumes, each with its own shard sync, parent gate
 * and lease cleanup over its own leases; the tracker's refresh; the deletion of former
 * streams' leases.
 * @module
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { multiStreamScope, SINGLE_STREAM_SCOPE, type Lease, type LeaseRefresher, type LeaseScope } from '@kcl-ts/leases';
import type { Clock, InitialPosition, Logger } from '@kcl-ts/processor';
import { LeaseCleanup, PeriodicShardSync, ShardDetector, ShardHierarchyGate, ShardSyncer, type ShardLister, type ShardSyncConfig, type ShardSyncResult } from '@kcl-ts/shard-sync';
import type { WorkerMetrics } from '../worker-metrics.js';
import { describeStreamIdentity } from './stream-identity.js';
import type { ResolvedStreamConfig, StreamReference, StreamsConfig } from './stream-options.js';

/** One stream being consumed, with its own shard-sync parts. */
export interface StreamHandle {
  /** The stream's name. */
  readonly streamName: string;
  /**
   * The serialized stream identifier: `account:streamName:creationEpoch` in a multi-stream
   * application, the stream name in a single-stream one (as the Java KCL serializes them).
   */
  readonly streamIdentifier: string;
  /** The name or ARN as configured, for messages. */
  readonly label: string;
  /** How Kinesis calls name the stream. */
  readonly stream: StreamReference;
  readonly initialPosition: InitialPosition;
  readonly scope: LeaseScope;
  /** Lists the stream's shards (a `ShardDetector` unless the Worker was given `shardLister`). */
  readonly detector: ShardLister;
  readonly syncer: ShardSyncer;
  readonly gate: ShardHierarchyGate;
  readonly periodicSync: PeriodicShardSync;
  /** The worker's metrics with this stream's `StreamId`. */
  readonly metrics: WorkerMetrics;
  /** The worker's logger with this stream's name. */
  readonly logger: Logger;
  /** Fan-out mode: the ACTIVE stream consumer of this stream. */
  consumerArn?: string;
}

/** What a {@link StreamSet} needs from its worker. */
export interface StreamSetDeps {
  readonly kinesisClient: KinesisClient;
  /** The Worker's `shardLister`; `undefined`: ListShards on `kinesisClient`. */
  readonly shardLister?: ((stream: { readonly streamName: string; readonly stream: StreamReference }) => ShardLister) | undefined;
  readonly refresher: LeaseRefresher;
  /** `undefined`: a single-stream application reading `single`. */
  readonly streams: StreamsConfig | undefined;
  readonly single: ResolvedStreamConfig | undefined;
  /** The Worker's resolved `shardSync` group, used by every stream. */
  readonly shardSync: ShardSyncConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  /** Aborted when the worker stops. */
  readonly signal: AbortSignal;
  readonly isLeader: () => boolean;
  /** The leases of the latest scan (to find former streams' leases). */
  readonly latestLeases: () => readonly Lease[];
  /** Runs once per stream before its first sync (fan-out: registers the stream's consumer). */
  readonly prepare: (handle: StreamHandle, signal: AbortSignal) => Promise<void>;
  /** A stream left the list: stop its processors and hand its leases back. */
  readonly onStreamRemoved: (handle: StreamHandle) => Promise<void>;
  /** A failure of one stream (missing, deleted, unreadable): the other streams go on. */
  readonly onStreamError: (streamLabel: string, error: Error) => void;
  /** A failure not tied to one stream (the tracker's `list()` threw). */
  readonly onError: (error: Error) => void;
  readonly onSyncRun: (handle: StreamHandle, result: ShardSyncResult | undefined, ms: number) => void;
}

/**
 * The streams of a worker. A single-stream application has one handle whose leases are keyed
 * by shard id. A multi-stream application resolves each listed stream's identity
 * (DescribeStreamSummary), keys its leases `account:streamName:creationEpoch:shardId`, and
 * every `refreshIntervalMs` asks the list again: new streams are synced at their initial
 * position, removed ones stopped, streams that failed tried again.
 */
export class StreamSet {
  private readonly byIdentifier = new Map<string, StreamHandle>();
  private readonly byName = new Map<string, StreamHandle>();
  /** Former streams (by identifier) waiting for deferred deletion: monotonic time first seen as former. */
  private readonly former = new Map<string, number>();
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private single: StreamHandle | undefined;

  constructor(private readonly deps: StreamSetDeps) {}

  /** The streams being consumed now. */
  handles(): StreamHandle[] {
    return this.single ? [this.single] : [...this.byIdentifier.values()];
  }

  /** The stream a lease belongs to, if it is one this worker consumes. */
  handleOf(lease: Pick<Lease, 'streamIdentifier'>): StreamHandle | undefined {
    if (this.single) return lease.streamIdentifier === undefined ? this.single : undefined;
    return lease.streamIdentifier === undefined ? undefined : this.byIdentifier.get(lease.streamIdentifier);
  }

  /**
   * Single-stream: creates the one handle and runs its first sync (rejecting if the stream is
   * missing). Multi-stream: lists the streams and adds each one (a stream that fails is
   * reported and tried again at the next refresh; a `list()` that throws rejects), then
   * starts the refresh loop.
   */
  async start(): Promise<void> {
    const { deps } = this;
    if (!deps.streams) {
      const handle = this.createHandle(deps.single!, deps.single!.streamName, SINGLE_STREAM_SCOPE);
      await deps.prepare(handle, deps.signal);
      await handle.periodicSync.start();
      this.single = handle;
      return;
    }
    await this.refresh(await deps.streams.list());
    this.loop = this.refreshLoop();
  }

  /** Stops the refresh loop and every stream's shard sync. Idempotent. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.loop;
    await Promise.all(this.handles().map((h) => h.periodicSync.stop().catch((e: unknown) => h.logger.warn({ err: e }, 'stopping shard sync failed'))));
  }

  /** One refresh of a multi-stream application against `list`. */
  private async refresh(list: readonly ResolvedStreamConfig[]): Promise<void> {
    const wanted = new Map(list.map((s) => [s.streamName, s] as const));
    for (const [name, handle] of [...this.byName]) {
      if (wanted.has(name)) continue;
      this.byName.delete(name);
      this.byIdentifier.delete(handle.streamIdentifier);
      await handle.periodicSync.stop().catch(() => undefined);
      handle.logger.info('the stream left the list: its processors stop and its leases are left to the deletion strategy');
      await this.deps.onStreamRemoved(handle).catch((e: unknown) => handle.logger.warn({ err: e }, 'stopping the processors of a removed stream failed'));
    }
    await Promise.all(list.filter((s) => !this.byName.has(s.streamName)).map((s) => this.add(s)));
    // A listed stream not resolved yet (DescribeStreamSummary failed) is not former: its leases stay.
    const unresolved = new Set(list.filter((s) => !this.byName.has(s.streamName)).map((s) => s.streamName));
    await this.deleteFormerStreamsLeases(unresolved);
  }

  private async add(config: ResolvedStreamConfig): Promise<void> {
    const { deps } = this;
    const signal = deps.signal;
    try {
      const identity = await describeStreamIdentity(deps.kinesisClient, config, { clock: deps.clock, logger: deps.logger, signal });
      if (this.byName.has(config.streamName) || signal.aborted) return;
      const handle = this.createHandle(config, identity.streamIdentifier, multiStreamScope(identity.streamIdentifier));
      await deps.prepare(handle, signal);
      await handle.periodicSync.start();
      if (signal.aborted) {
        await handle.periodicSync.stop();
        return;
      }
      this.byName.set(config.streamName, handle);
      this.byIdentifier.set(identity.streamIdentifier, handle);
      this.former.delete(identity.streamIdentifier);
      handle.logger.info({ streamIdentifier: identity.streamIdentifier }, 'consuming the stream');
    } catch (error) {
      if (signal.aborted) return;
      deps.onStreamError(config.label, error instanceof Error ? error : new Error(String(error)));
    }
  }

  private createHandle(config: ResolvedStreamConfig, streamIdentifier: string, scope: LeaseScope): StreamHandle {
    const { deps } = this;
    const logger = deps.logger.child({ stream: config.label });
    const common = { clock: deps.clock, logger };
    const detector =
      deps.shardLister?.({ streamName: config.streamName, stream: config.stream }) ??
      new ShardDetector({ kinesisClient: deps.kinesisClient, stream: config.stream, listShards: deps.shardSync.listShards, ...common });
    const syncer = new ShardSyncer({ refresher: deps.refresher, detector, initialPosition: config.initialPosition, scope, ...common });
    const gate = new ShardHierarchyGate({ refresher: deps.refresher, detector, scope, config: deps.shardSync, ...common });
    const label = config.label;
    const handle: StreamHandle = {
      streamName: config.streamName,
      streamIdentifier,
      label,
      stream: config.stream,
      initialPosition: config.initialPosition,
      scope,
      detector,
      syncer,
      gate,
      metrics: deps.metrics.forStream(label),
      logger,
      periodicSync: new PeriodicShardSync({
        syncer,
        cleanup: new LeaseCleanup({ refresher: deps.refresher, detector, scope, ...common }),
        isLeader: deps.isLeader,
        config: deps.shardSync,
        ...common,
        onError: (error) => deps.onStreamError(label, error),
        onRun: (result, ms) => deps.onSyncRun(handle, result, ms),
      }),
    };
    return handle;
  }

  private async refreshLoop(): Promise<void> {
    const streams = this.deps.streams!;
    const stop = this.stopController.signal;
    while (!stop.aborted && !this.deps.signal.aborted) {
      try {
        await this.deps.clock.sleep(streams.refreshIntervalMs, stop);
      } catch {
        return;
      }
      let list: readonly ResolvedStreamConfig[];
      try {
        list = await streams.list();
      } catch (error) {
        this.deps.onError(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      await this.refresh(list).catch((error: unknown) => this.deps.onError(error instanceof Error ? error : new Error(String(error))));
    }
  }

  /**
   * Applies the deletion strategy on the leader: a former stream (auto: any stream with leases
   * in the table that is not consumed now; provided: those the application names, not consumed
   * now) has its leases deleted once it has been former for `waitMs` of this worker's clock.
   * A stream still listed but not resolved (`unresolved`, by name) is never former: a failing
   * DescribeStreamSummary must not cost a live stream its checkpoints.
   */
  private async deleteFormerStreamsLeases(unresolved: ReadonlySet<string>): Promise<void> {
    const deletion = this.deps.streams!.formerStreamsLeasesDeletion;
    if (deletion.strategy === 'none') return;
    const inTable = new Set<string>();
    for (const lease of this.deps.latestLeases()) if (lease.streamIdentifier !== undefined) inTable.add(lease.streamIdentifier);
    let candidates = [...inTable].filter((id) => !this.byIdentifier.has(id) && !unresolved.has(id.split(':')[1] ?? ''));
    if (deletion.strategy === 'provided') {
      const named = await deletion.streams();
      candidates = candidates.filter((id) => named.some((ref) => matchesReference(id, ref)));
    }
    const now = this.deps.clock.elapsed();
    const current = new Set(candidates);
    for (const id of [...this.former.keys()]) if (!current.has(id)) this.former.delete(id);
    for (const id of candidates) {
      const since = this.former.get(id) ?? now;
      this.former.set(id, since);
      if (now - since < deletion.waitMs || !this.deps.isLeader()) continue;
      const deleted = await this.deleteLeasesOf(id);
      this.former.delete(id);
      this.deps.logger.info({ streamIdentifier: id, deleted: deleted.length, strategy: deletion.strategy }, 'deleted the leases of a former stream');
    }
  }

  private async deleteLeasesOf(streamIdentifier: string): Promise<string[]> {
    const signal = this.deps.signal;
    const leases = (await this.deps.refresher.listLeases(signal)).filter((l) => l.streamIdentifier === streamIdentifier);
    const deleted: string[] = [];
    for (const lease of leases) if (await this.deps.refresher.deleteLease(lease.leaseKey, { signal })) deleted.push(lease.leaseKey);
    return deleted;
  }
}

/** True if the serialized identifier `account:name:epoch` is the stream `ref` names (an ARN also matches the account). */
function matchesReference(streamIdentifier: string, ref: StreamReference): boolean {
  const [account, name] = streamIdentifier.split(':');
  if ('streamName' in ref) return ref.streamName === name;
  const match = /:(\d{12}):stream\/(.+)$/.exec(ref.streamArn);
  return match !== null && match[1] === account && match[2] === name;
}
