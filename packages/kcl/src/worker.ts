import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDbLeaseRefresher, InvalidLeaseItemError, LeaseCoordinator, shardIdOf, type InvalidLeaseItem, type Lease, type LeaseLostReason, type LeaseRefresher } from '@kcl-ts/leases';
import { exponentialDelay, InvalidStateError, ShutdownError, type Logger } from '@kcl-ts/processor';
import pLimit from 'p-limit';
import { clientConfigs, resolveWorkerConfig, type WorkerConfig, type WorkerOptions } from './config.js';
import { TypedEmitter, type WorkerEvents } from './events.js';
import { EmfMetricsPublisher, MetricsCollector } from './metrics.js';
import { WorkerMetrics } from './worker-metrics.js';
import { PrefetchBudget, registerStreamConsumer, type RecordSourceFactory } from './retrieval/index.js';
import { kinesisRecordSources } from './retrieval/kinesis-record-sources.js';
import { ShardConsumer, type ShutdownReason } from './shard-consumer.js';
import { insideProcessorCallback } from './processor-context.js';
import { withDirectCalls } from './direct-calls.js';
import { withDirectGetRecords, withLeanMiddleware } from './lean-client.js';
import { StreamSet, type StreamHandle } from './streams/stream-set.js';

/**
 * Settings of the clients the Worker builds itself. No SDK retries: kcl-ts has its own, the
 * only retry layer. The handler cache spares the SDK from
 * resolving its middleware stack on every call (our calls pass no per-call options for that
 * reason), and a logger without `info`/`error` spares it from building a redacted copy of
 * every request and response (each GetRecords page, record by record) for a log line nobody
 * reads. `withLeanMiddleware` trims two more middlewares of per-call work, and
 * `withDirectGetRecords` reads GetRecords pages without the SDK's schema-driven reader.
 */
const LEAN_CLIENT = {
  // kcl-ts retries every call itself (throttling, 5xx, timeouts: `withRetries`): one retry layer.
  maxAttempts: 1,
  cacheMiddleware: true,
  logger: { trace: () => undefined, debug: () => undefined, warn: () => undefined } as unknown as Console,
} as const;

/** The calls of the Worker's own clients sent without the SDK's middleware stack (`withDirectCalls`): the ones made per shard. */
const DIRECT_KINESIS_CALLS = ['GetRecords'];
const DIRECT_DYNAMODB_CALLS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan'];

/** Calls are not aborted (see `raceAbort`): a request that hangs is ended by the handler instead. */
const REQUEST_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000 } as const;

/** Lifecycle of a {@link Worker}. */
export type WorkerState = 'NEW' | 'STARTING' | 'RUNNING' | 'SHUTTING_DOWN' | 'STOPPED';

interface Parts {
  readonly refresher: LeaseRefresher;
  readonly coordinator: LeaseCoordinator;
  /** The streams consumed, each with its shard sync, parent gate and cleanup. */
  readonly streams: StreamSet;
}

/**
 * Consumes one Kinesis stream (or several: `streams`) as a member of a fleet: takes and renews shard leases in a
 * DynamoDB table, runs one shard consumer (and so one record processor) per held lease,
 * follows resharding, and shuts down gracefully by checkpointing and handing its leases over.
 *
 * ```ts
 * const worker = new Worker({ applicationName: 'billing', streamName: 'orders', processorFactory: () => new MyProcessor() });
 * await worker.start();
 * // …
 * await worker.shutdown();
 * ```
 */
export class Worker extends TypedEmitter<WorkerEvents> {
  /** The resolved configuration. */
  readonly config: WorkerConfig;
  private readonly log: Logger;
  private readonly kinesis: KinesisClient;
  /** The client for SubscribeToShard in fan-out mode: HTTP/2 on AWS (see {@link subscribeClientFor}). */
  private readonly subscribeClient: { readonly client: KinesisClient; readonly owned: boolean } | undefined;
  private readonly dynamoDb: DynamoDBClient;
  private readonly ownsClients: { kinesis: boolean; dynamoDb: boolean };
  private readonly refresher: LeaseRefresher;
  /** Opens each shard's record source: the Kinesis fetchers, or the application's `recordSourceFactory`. */
  private readonly recordSources: RecordSourceFactory;
  /** True when records come from Kinesis (not from a `recordSourceFactory`) in fan-out mode. */
  private readonly fanOut: boolean;
  private readonly consumers = new Map<string, ShardConsumer>();
  /** Shards being drained for a graceful handoff: their consumer's end must not release the lease. */
  private readonly draining = new Set<string>();
  /** Consecutive consumer failures per shard, for the restart backoff. */
  private readonly failures = new Map<string, number>();
  /** Invalid lease-table items already reported (key and problem). */
  private readonly invalidItemsReported = new Set<string>();
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly prefetchBudget: PrefetchBudget;
  private readonly collector: MetricsCollector | undefined;
  private readonly metrics: WorkerMetrics;
  private readonly lifetime = new AbortController();
  private readonly shardLister: WorkerOptions['shardLister'];
  private parts: Parts | undefined;
  private currentState: WorkerState = 'NEW';
  private startPromise: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private metricsLoop: Promise<void> | undefined;

  /** Validates the options at once: a bad option throws a `TypeError` naming it. */
  constructor(options: WorkerOptions) {
    super();
    this.config = resolveWorkerConfig(options);
    this.log = this.config.logger.child({ component: 'Worker', workerId: this.config.workerId });
    const built = clientConfigs(options.clientConfig);
    this.kinesis =
      options.kinesisClient ??
      withDirectCalls(withDirectGetRecords(withLeanMiddleware(new KinesisClient({ ...built.kinesis, ...LEAN_CLIENT, requestHandler: new NodeHttpHandler(REQUEST_TIMEOUTS) }))), DIRECT_KINESIS_CALLS);
    this.dynamoDb =
      options.dynamoDbClient ?? withDirectCalls(withLeanMiddleware(new DynamoDBClient({ ...built.dynamoDb, ...LEAN_CLIENT, requestHandler: new NodeHttpHandler(REQUEST_TIMEOUTS) })), DIRECT_DYNAMODB_CALLS);
    this.ownsClients = { kinesis: !options.kinesisClient, dynamoDb: !options.dynamoDbClient };
    this.fanOut = this.config.retrieval.mode === 'fanout' && options.recordSourceFactory === undefined;
    this.subscribeClient = this.fanOut ? subscribeClientFor(options, this.kinesis, built.kinesis) : undefined;
    const { clock, logger } = this.config;
    this.refresher =
      options.leaseRefresher ??
      new DynamoDbLeaseRefresher(
        {
          ...this.config.leaseTable,
          // The single scanner's workers find their leases through the owner index.
          ...(this.config.leases.coordination === 'single-scanner' && { ownerIndex: true }),
          dynamoDbClient: this.dynamoDb,
          clock,
          logger,
          onInvalidItem: (item) => this.onInvalidLeaseItem(item),
        },
        'leaseTable',
      );
    this.limit = pLimit(this.config.processing.maxConcurrentProcessors);
    this.prefetchBudget = new PrefetchBudget(this.config.retrieval.prefetchMaxBytesPerWorker);
    this.recordSources =
      options.recordSourceFactory ??
      kinesisRecordSources({
        config: this.config.retrieval,
        kinesisClient: this.kinesis,
        ...(this.subscribeClient && { subscribeClient: this.subscribeClient.client }),
        clock,
        budget: this.prefetchBudget,
        streamOf: (id) => this.parts?.streams.handles().find((h) => h.streamIdentifier === id),
      });
    this.shardLister = options.shardLister;
    const { level, enabledDimensions, publisher: given } = this.config.metrics;
    const publisher = given === false || level === 'NONE' ? undefined : given ?? new EmfMetricsPublisher(logger.child({ component: 'metrics' }), 'KclTs', clock);
    this.collector = publisher && new MetricsCollector(publisher, { level, enabledDimensions, logger: this.log });
    // Worker-wide metrics of a multi-stream application span its streams: no StreamId.
    this.metrics = new WorkerMetrics(this.collector, this.config.workerId, this.config.streamLabel);
  }

  /** This worker's id in the lease table. */
  get workerId(): string {
    return this.config.workerId;
  }

  /** Current lifecycle state. */
  get state(): WorkerState {
    return this.currentState;
  }

  /** Keys of the leases this worker holds right now: shard ids, or `account:streamName:creationEpoch:shardId` with `streams`. */
  heldShards(): string[] {
    return this.parts?.coordinator.heldLeases().map((l) => l.leaseKey).sort() ?? [];
  }

  /**
   * The coordination role of `coordination: 'single-scanner'` as this worker sees it: the
   * worker holding it (`undefined` while free or expired) and whether it is this one; the
   * holder runs the scans and the periodic shard sync. `undefined` in the default
   * `every-worker` mode, or before `start()`. In the table: item `kcl-ts:role:scanner`,
   * attribute `roleHolder`.
   */
  coordinatorRole(): { readonly role: string; readonly holder: string | undefined; readonly heldByMe: boolean } | undefined {
    return this.parts?.coordinator.coordinatorRole();
  }

  /**
   * Leases seen in the latest scan of the lease table (all workers'). In the `single-scanner`
   * mode only the scanner scans: the other workers return their own last scan (at start).
   */
  leases(): readonly Lease[] {
    return this.parts?.coordinator.latestLeases() ?? [];
  }

  /**
   * Creates the lease table if needed, syncs shards to leases, and starts renewing and taking
   * leases. Resolves once leases are being taken; rejects (after cleaning up) if the stream or
   * table cannot be used — e.g. `ResourceNotFoundError` for a missing stream. Idempotent.
   */
  start(): Promise<void> {
    if (this.shutdownPromise) return Promise.reject(new ShutdownError('the worker was shut down; create a new Worker to start again'));
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.currentState = 'STARTING';
    const { config } = this;
    const signal = this.lifetime.signal;
    const common = { clock: config.clock, logger: config.logger };
    const { refresher } = this;
    let streamSet: StreamSet | undefined;
    const coordinator = new LeaseCoordinator({
      refresher,
      workerId: config.workerId,
      config: config.leases,
      ...common,
      onHandoffRequested: (lease) => this.drain(lease.leaseKey),
      // Only the leases of streams this worker consumes now (single-stream: the leases without a stream).
      canTake: (lease: Lease) => streamSet?.handleOf(lease) !== undefined,
    });
    streamSet = new StreamSet({
      kinesisClient: this.kinesis,
      shardLister: this.shardLister,
      refresher,
      streams: config.streams,
      single: config.stream && { stream: config.stream, streamName: streamNameOf(config.stream), label: config.streamLabel!, initialPosition: config.initialPosition },
      shardSync: config.shardSync,
      ...common,
      metrics: this.metrics,
      signal,
      isLeader: () => coordinator.isLeader(),
      latestLeases: () => coordinator.latestLeases(),
      prepare: (handle, s) => (this.fanOut ? this.registerConsumer(handle, s) : Promise.resolve()),
      onStreamRemoved: (handle) => this.stopStream(handle),
      onStreamError: (label, error) => this.reportStreamError(label, error),
      onError: (error) => this.reportError(error),
      onSyncRun: (handle, result, ms) => handle.metrics.shardSync(result, ms),
    });
    const streams = streamSet;
    this.parts = { refresher, coordinator, streams };
    coordinator.on('leaseGained', (lease) => this.onLeaseGained(lease));
    coordinator.on('leaseLost', (lease, reason) => this.onLeaseLost(lease, reason));
    coordinator.on('error', (error) => this.reportError(error));
    coordinator.on('renewerRun', (summary) => this.metrics.renewRound(summary));
    coordinator.on('takerRun', (summary) => this.metrics.takerRound(summary));
    coordinator.on('handedOff', (_lease, _to, ms) => this.metrics.handoff(ms));
    coordinator.on('roleChanged', (role, holder) => this.emit('roleChanged', { workerId: this.workerId, role, holder }));
    try {
      if (this.subscribeClient && !this.ownsClients.kinesis) assertHttp2ForAws(this.subscribeClient.client);
      await refresher.createLeaseTableIfNotExists(signal);
      await streams.start();
      await coordinator.start();
    } catch (error) {
      this.log.error({ err: error }, 'worker failed to start');
      await this.teardown();
      this.currentState = 'STOPPED';
      throw error;
    }
    if (this.collector) this.metricsLoop = this.publishMetrics();
    this.currentState = 'RUNNING';
    this.log.info({ streams: streams.handles().map((h) => h.label), table: config.leaseTable.tableName }, 'worker started');
    this.emit('started', { workerId: this.workerId });
  }

  /**
   * Fan-out mode: registers the stream consumer of one stream (or takes `retrieval.fanOut.consumerArn`)
   * and waits until it is ACTIVE. One consumer per stream, all with the same name. The
   * consumer is never deregistered.
   */
  private async registerConsumer(handle: StreamHandle, signal: AbortSignal): Promise<void> {
    const { config } = this;
    const { fanOut } = config.retrieval;
    if (fanOut.consumerArn !== undefined) {
      handle.consumerArn = fanOut.consumerArn;
      return;
    }
    const registered = await registerStreamConsumer({
      kinesisClient: this.kinesis,
      stream: handle.stream,
      consumerName: fanOut.consumerName,
      timeoutMs: fanOut.registrationTimeoutMs,
      clock: config.clock,
      logger: config.logger,
      signal,
    });
    handle.consumerArn = registered.consumerArn;
    handle.logger.info({ consumerName: registered.consumerName, consumerArn: registered.consumerArn }, 'enhanced fan-out consumer is ACTIVE');
  }

  /**
   * A stream left the list: its processors are asked to shut down (they may checkpoint), then
   * its leases are released. No worker takes them again while the stream is not listed; the
   * deletion strategy decides whether they are ever deleted.
   */
  private async stopStream(handle: StreamHandle): Promise<void> {
    const parts = this.parts;
    if (!parts) return;
    const keys = parts.coordinator.heldLeases().filter((l) => l.streamIdentifier === handle.streamIdentifier).map((l) => l.leaseKey);
    for (const key of keys) this.draining.add(key);
    try {
      const consumers = keys.flatMap((key) => this.consumers.get(key) ?? []);
      for (const consumer of consumers) consumer.requestShutdown();
      await this.waitForConsumers(consumers);
      await Promise.all(keys.map((key) => parts.coordinator.releaseLease(key).catch((e: unknown) => handle.logger.warn({ err: e, leaseKey: key }, 'releasing a lease of a removed stream failed'))));
    } finally {
      for (const key of keys) this.draining.delete(key);
    }
  }

  /**
   * Graceful shutdown, in order: stop taking leases; ask every processor to checkpoint
   * (`shutdownRequested`); wait for in-flight batches (bounded by `shutdownTimeoutMs`); release
   * the leases so peers take over at once; resolve. Idempotent: every call returns the same
   * promise. Called from inside a processor callback, it returns at once (the shutdown goes on
   * once the callback returns), so it cannot deadlock.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    if (insideProcessorCallback()) return Promise.resolve();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    const wasStarting = this.currentState === 'STARTING';
    this.currentState = 'SHUTTING_DOWN';
    const { clock } = this.config;
    const { shutdownTimeoutMs } = this.config.processing;
    // The whole shutdown is bounded: processors get `shutdownTimeoutMs`, and releasing the
    // leases at most one lease duration more (past that, peers take them over anyway).
    const bound = shutdownTimeoutMs + this.config.leases.leaseDurationMs;
    const deadline = new AbortController();
    const timer = new AbortController();
    const expired = clock.sleep(bound, timer.signal).then(
      () => {
        deadline.abort(new ShutdownError(`shutdown did not finish within ${bound} ms`));
        return 'timeout' as const;
      },
      () => 'done' as const,
    );
    const outcome = await Promise.race([this.shutdownSteps(wasStarting, deadline.signal).then(() => 'done' as const), expired]);
    timer.abort();
    if (outcome === 'timeout') {
      this.lifetime.abort();
      this.log.warn({ boundMs: bound }, 'shutdown reached its deadline; leases not released yet expire for peers as usual');
    }
    this.currentState = 'STOPPED';
    this.log.info('worker stopped');
    this.emit('stopped', { workerId: this.workerId });
  }

  private async shutdownSteps(wasStarting: boolean, deadline: AbortSignal): Promise<void> {
    // A start still under way (e.g. waiting for a table in CREATING) is abandoned, not awaited.
    if (wasStarting) this.lifetime.abort(new ShutdownError('the worker was shut down while starting'));
    await this.startPromise?.catch(() => undefined);
    const parts = this.parts;
    if (parts && !wasStarting) {
      // The final flush then carries the gauges too: a worker that lived less than one
      // interval still reports its lag and its leases.
      if (this.collector) this.sampleGauges();
      parts.coordinator.stopTaking();
      await parts.streams.stop();
      for (const consumer of this.consumers.values()) consumer.requestShutdown();
      await this.waitForConsumers([...this.consumers.values()]);
    }
    await this.teardown(deadline);
  }

  /** Waits for consumers to finish, up to `shutdownTimeoutMs`; then aborts the stragglers. */
  private async waitForConsumers(consumers: ShardConsumer[]): Promise<void> {
    if (consumers.length === 0) return;
    const deadline = new AbortController();
    const all = Promise.all(consumers.map((c) => c.run()));
    const timer = this.config.clock.sleep(this.config.processing.shutdownTimeoutMs, deadline.signal).then(
      () => 'timeout' as const,
      () => 'done' as const,
    );
    const outcome = await Promise.race([all.then(() => 'done' as const), timer]);
    deadline.abort();
    if (outcome === 'timeout') {
      const stuck = consumers.filter((c) => c.state !== 'DONE').map((c) => c.leaseKey);
      this.log.warn({ shards: stuck, shutdownTimeoutMs: this.config.processing.shutdownTimeoutMs }, 'processors did not finish within shutdownTimeoutMs; abandoning them');
      for (const c of consumers) c.abort();
    }
  }

  private async teardown(deadline?: AbortSignal): Promise<void> {
    this.lifetime.abort();
    if (this.parts) {
      await this.parts.streams.stop().catch((e: unknown) => this.log.warn({ err: e }, 'stopping shard sync failed'));
      await this.parts.coordinator.stop(deadline && { signal: deadline }).catch((e: unknown) => this.log.warn({ err: e }, 'stopping the lease coordinator failed'));
    }
    await this.metricsLoop;
    await this.collector?.flush(true);
    if (this.ownsClients.kinesis) this.kinesis.destroy();
    if (this.subscribeClient?.owned && this.subscribeClient.client !== this.kinesis) this.subscribeClient.client.destroy();
    if (this.ownsClients.dynamoDb) this.dynamoDb.destroy();
  }

  /** Drains one shard before the coordinator hands its lease to a peer. */
  private async drain(leaseKey: string): Promise<void> {
    const consumer = this.consumers.get(leaseKey);
    if (!consumer) return;
    this.draining.add(leaseKey);
    try {
      consumer.requestShutdown();
      await this.waitForConsumers([consumer]);
    } finally {
      this.draining.delete(leaseKey);
    }
  }

  private onLeaseGained(lease: Lease): void {
    this.emit('leaseAcquired', { shardId: shardIdOf(lease), ...this.streamOf(lease), workerId: this.workerId });
    this.startConsumer(lease);
  }

  /** The stream fields of a lease's events. */
  private streamOf(lease: Lease): { streamName: string; streamIdentifier?: string } {
    const handle = this.parts?.streams.handleOf(lease);
    if (handle) return { streamName: handle.streamName, ...(this.config.streams && { streamIdentifier: handle.streamIdentifier }) };
    const id = lease.streamIdentifier;
    return id === undefined ? { streamName: this.config.streamLabel ?? '' } : { streamName: id.split(':')[1] ?? id, streamIdentifier: id };
  }

  private startConsumer(lease: Lease): void {
    const parts = this.parts;
    if (!parts || this.consumers.has(lease.leaseKey) || this.shutdownPromise) return;
    const handle = parts.streams.handleOf(lease);
    if (!handle) {
      // A lease of a stream this worker no longer consumes (it left the list since the take): hand it back.
      this.log.info({ leaseKey: lease.leaseKey }, 'a lease of a stream not consumed by this worker; releasing it');
      void parts.coordinator.releaseLease(lease.leaseKey).catch((e: unknown) => this.log.warn({ err: e, leaseKey: lease.leaseKey }, 'releasing a lease failed'));
      return;
    }
    const { config } = this;
    const shardId = shardIdOf(lease);
    const events = { shardId, ...this.streamOf(lease), workerId: this.workerId };
    const initialPosition = handle.initialPosition;
    const consumer = new ShardConsumer({
      lease,
      stream: { streamName: handle.streamName, streamIdentifier: handle.streamIdentifier, ...(typeof initialPosition === 'object' && { initialTimestamp: initialPosition.timestamp }) },
      processorFactory: config.processorFactory,
      processing: config.processing,
      clock: config.clock,
      logger: handle.logger,
      leases: parts.coordinator,
      shardSync: handle,
      recordSources: this.recordSources,
      limit: this.limit,
      metrics: handle.metrics,
      listener: {
        shardEnded: async (childShardIds) => {
          handle.gate.notifyShardEnded(shardId);
          this.emit('shardEnded', { ...events, childShardIds });
          // A finished lease is never taken again; releasing it lets cleanup delete it later.
          await parts.coordinator.releaseLease(lease.leaseKey).catch((e: unknown) => handle.logger.warn({ err: e, shardId }, 'releasing a finished lease failed'));
        },
        processorError: (error) => {
          handle.metrics.processorError(shardId);
          this.emit('processorError', { ...events, error });
        },
        retrievalError: (error) => this.reportStreamError(handle.label, error instanceof Error ? error : new Error(String(error))),
      },
    });
    this.consumers.set(lease.leaseKey, consumer);
    void consumer.run().then((reason) => this.onConsumerDone(consumer, reason));
  }

  /**
   * A consumer that failed (factory or initialize threw, the shard could not be read) is
   * started again after a backoff while this worker still holds the lease; the lease is not
   * released, so a broken processor cannot bounce a shard around the fleet.
   */
  private onConsumerDone(consumer: ShardConsumer, reason: ShutdownReason | undefined): void {
    const leaseKey = consumer.leaseKey;
    if (this.consumers.get(leaseKey) === consumer) this.consumers.delete(leaseKey);
    this.log.debug({ leaseKey, reason, failed: consumer.failed }, 'shard consumer finished');
    if (!consumer.failed) {
      this.failures.delete(leaseKey);
      // The lease may have been gained again while this consumer was still finishing (its
      // gain was not started then, as one consumer per shard runs at a time): start it now.
      if (this.parts?.coordinator.holds(leaseKey)) void this.restartConsumer(leaseKey, 'lease held again after its previous consumer finished; starting a new one');
      return;
    }
    this.scheduleRestart(leaseKey);
  }

  /** Restarts a failed consumer after a backoff, while this worker holds the lease. */
  private scheduleRestart(leaseKey: string): void {
    const attempt = (this.failures.get(leaseKey) ?? 0) + 1;
    this.failures.set(leaseKey, attempt);
    const { retryBaseMs, retryMaxMs } = this.config.processing;
    const delay = exponentialDelay(attempt - 1, retryBaseMs, retryMaxMs);
    this.config.clock.sleep(delay, this.lifetime.signal).then(
      () => void this.restartConsumer(leaseKey, 'restarting the shard consumer after a failure'),
      () => undefined,
    );
  }

  /**
   * Starts a new consumer on a lease this worker already holds, from the lease as the table
   * has it: a checkpoint whose reply was lost may have applied, and starting from the held copy
   * would deliver again records that checkpoint covers. A failed read is retried after a backoff.
   */
  private async restartConsumer(leaseKey: string, message: string): Promise<void> {
    const parts = this.parts;
    if (!parts || this.draining.has(leaseKey) || this.shutdownPromise || this.consumers.has(leaseKey)) return;
    let lease: Lease | undefined;
    try {
      lease = await parts.coordinator.refreshHeldLease(leaseKey);
    } catch (error) {
      if (this.lifetime.signal.aborted) return;
      this.log.warn({ err: error, leaseKey }, 'could not read the lease before restarting its consumer; retrying after a backoff');
      this.scheduleRestart(leaseKey);
      return;
    }
    if (lease && !this.draining.has(leaseKey) && !this.shutdownPromise) {
      this.log.info({ leaseKey, attempt: this.failures.get(leaseKey) }, message);
      this.startConsumer(lease);
    }
  }

  private onLeaseLost(lease: Lease, reason: LeaseLostReason): void {
    this.metrics.leaseLost(reason);
    this.failures.delete(lease.leaseKey);
    this.emit('leaseLost', { shardId: shardIdOf(lease), ...this.streamOf(lease), workerId: this.workerId, reason });
    const consumer = this.consumers.get(lease.leaseKey);
    if (!consumer) return;
    consumer.revokeWrites();
    if (reason === 'handed-off' || reason === 'released') {
      consumer.requestShutdown();
    } else {
      consumer.leaseLost();
    }
  }

  /**
   * A lease-table item that is not a valid lease was skipped by a scan (the refresher logged
   * it). Reported once per item and problem as an `error` event and an `InvalidLeaseItems` count.
   */
  private onInvalidLeaseItem(item: InvalidLeaseItem): void {
    const key = `${item.leaseKey ?? ''}\u0000${item.reason}`;
    if (this.invalidItemsReported.has(key)) return;
    this.invalidItemsReported.add(key);
    this.metrics.invalidLeaseItem();
    if (this.listenerCount('error') > 0) this.emit('error', new InvalidLeaseItemError(item));
  }

  private reportError(error: Error): void {
    this.log.error({ err: error }, 'background error');
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /**
   * A failure of one stream (missing, deleted while running, unreadable): a `streamError` event
   * naming it, and the `error` event as for every background failure. Other streams go on.
   */
  private reportStreamError(stream: string, error: Error): void {
    this.log.error({ err: error, stream }, 'stream error');
    this.emit('streamError', { stream, workerId: this.workerId, error });
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private async publishMetrics(): Promise<void> {
    const signal = this.lifetime.signal;
    while (!signal.aborted) {
      try {
        await this.config.clock.sleep(this.config.metrics.intervalMs, signal);
      } catch {
        return;
      }
      this.sampleGauges();
      await this.collector!.flush();
    }
  }

  /**
   * Samples the gauges: leases held, each shard's lag (idle shards too, whose batches are not
   * delivered: an idle shard reports 0, a stuck one its lag), and each stream's largest lag,
   * for one alarm over the whole fleet (per stream: one stream's alarm is not hidden by
   * another's). Every interval, and once as shutdown begins.
   */
  private sampleGauges(): void {
    this.metrics.leasesHeld(this.parts?.coordinator.heldLeases().length ?? 0);
    const max = new Map<WorkerMetrics, number>();
    for (const consumer of this.consumers.values()) {
      const lag = consumer.millisBehindLatest;
      const metrics = this.parts?.streams.handleOf(consumer.lease)?.metrics;
      if (lag === undefined || metrics === undefined) continue;
      metrics.millisBehindLatest(consumer.shardId, lag);
      max.set(metrics, Math.max(max.get(metrics) ?? 0, lag));
    }
    for (const [metrics, lag] of max) metrics.maxMillisBehindLatest(lag);
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.log.error({ err: error, event }, 'a Worker event listener threw');
  }
}

function streamNameOf(stream: { streamName: string } | { streamArn: string }): string {
  return 'streamName' in stream ? stream.streamName : stream.streamArn.slice(stream.streamArn.lastIndexOf('/') + 1);
}

/**
 * The client for SubscribeToShard. A client the application gave is used as is. A client the
 * Worker builds: against a plain `http://` endpoint (an emulator: the Kinesis Mock serves
 * event streams over HTTP/1.1 on its plain port), the HTTP/1.1 client of every other call,
 * whether the endpoint is `clientConfig.kinesisEndpoint` or set for the SDK in the environment
 * (`AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL`); otherwise (AWS, or an `https://` endpoint
 * such as a VPC endpoint) a second client with `NodeHttp2Handler`, which SubscribeToShard needs.
 */
function subscribeClientFor(options: WorkerOptions, kinesis: KinesisClient, built: ReturnType<typeof clientConfigs>['kinesis']): { client: KinesisClient; owned: boolean } {
  if (options.kinesisClient) return { client: options.kinesisClient, owned: false };
  const endpoint = typeof built.endpoint === 'string' ? built.endpoint : environmentKinesisEndpoint();
  if (endpoint?.startsWith('http://')) return { client: kinesis, owned: false };
  // Event streams are long-lived: no request timeout (the SDK default); they end with the lease or after ~5 minutes.
  return { client: withLeanMiddleware(new KinesisClient({ ...built, ...LEAN_CLIENT, requestHandler: new NodeHttp2Handler() })), owned: true };
}

/**
 * The Kinesis endpoint the AWS SDK takes from the environment when the client sets none, as
 * the SDK reads it (`AWS_ENDPOINT_URL_KINESIS`, then `AWS_ENDPOINT_URL`; none with
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`). An `endpoint_url` in the shared config file is
 * not read here: with one, set `clientConfig.kinesisEndpoint` for fan-out against an emulator.
 */
function environmentKinesisEndpoint(): string | undefined {
  const env = process.env;
  if (env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']?.toLowerCase() === 'true') return undefined;
  return env['AWS_ENDPOINT_URL_KINESIS'] || env['AWS_ENDPOINT_URL'] || undefined;
}

/**
 * Best effort: a client the application gave, known to use `NodeHttpHandler` (HTTP/1.1)
 * against AWS itself (no endpoint on the client or in the environment), cannot
 * SubscribeToShard; fail at start with what to do. Clients whose handler cannot be inspected
 * are trusted.
 */
function assertHttp2ForAws(client: KinesisClient): void {
  const config = client.config as { requestHandler?: unknown; isCustomEndpoint?: unknown } | undefined;
  if (config === undefined || config.isCustomEndpoint === true || environmentKinesisEndpoint() !== undefined) return;
  const handler = config.requestHandler;
  const name = typeof handler === 'object' && handler !== null ? (handler as { constructor?: { name?: string } }).constructor?.name : undefined;
  if (handler instanceof NodeHttpHandler || name === 'NodeHttpHandler') {
    throw new InvalidStateError(
      "retrieval.mode 'fanout' needs an HTTP/2 Kinesis client on AWS, but kinesisClient uses NodeHttpHandler (HTTP/1.1): build it with `requestHandler: new NodeHttp2Handler()` (@smithy/node-http-handler) or the SDK's default handler, or pass clientConfig instead of kinesisClient",
    );
  }
}
