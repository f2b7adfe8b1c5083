/**
 * Runs one {@link Schedule}: a fleet of real `Worker`s on a {@link MemoryKinesis} stream,
 * a shared {@link SimLeaseTable} and a {@link SimTimeline}, then checks the oracle.
 * @module
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { leaseShard, shardKey, type JournalLine, type LeaseRow, type PutRecordAck } from '@kcl-ts/fleet';
import { Worker, type WorkerOptions } from '@kcl-ts/kcl';
import { SimJournal } from './journal.js';
import { SimLeaseTable } from './lease-store.js';
import { SimStreams } from './sim-streams.js';
import { checkSimulation, type OracleVerdict } from './oracle.js';
import { deriveSeed, SeededRandom, withSeededMathRandom } from './random.js';
import { SimProcessor, type CheckpointOverreach, type Delivery, type ProcessorBehaviour } from './recording-processor.js';
import { realBatchingProcessor, SimBatchingProcessor, type BatchingProcessorMaker, type UnflushedHandoff } from './batching-sim-processor.js';
import type { Schedule, SimEvent } from './schedule.js';
import { SimTimeline, type SimClock, type StallWindow } from './timeline.js';

/** Options of {@link runSchedule}. */
export interface RunOptions {
  /** After the faulty part, how long (simulated ms) the fleet may go without processing a record before the run ends without having caught up. @default 30_000 */
  readonly settleMs?: number;
  /**
   * Builds the processor under test of `batching` schedules (default: the real
   * `BatchingProcessor`). For checking that the oracle catches a broken one.
   */
  readonly batchingProcessor?: BatchingProcessorMaker;
}

/** Counts describing a run. */
export interface RunStats {
  readonly simulatedMs: number;
  readonly timersFired: number;
  readonly workersStarted: number;
  readonly puts: number;
  readonly kinesisCalls: Readonly<Record<string, number>>;
  readonly leaseTableCalls: number;
  readonly stalls: number;
  /** True if every required record was processed before the settle deadline. */
  readonly caughtUp: boolean;
}

/** What a run produced. */
export interface RunResult {
  readonly schedule: Schedule;
  readonly verdict: OracleVerdict;
  readonly stats: RunStats;
  /** Events the run could not apply (their worker was not running, no shard to split…). */
  readonly skippedEvents: number;
  /** Every journal line of the run (for tracing a failure). */
  readonly journal: readonly JournalLine[];
}

type InstanceState = 'running' | 'stopping' | 'stopped' | 'killed';

interface Instance {
  readonly name: string;
  readonly workerId: string;
  readonly clock: SimClock;
  readonly behaviour: ProcessorBehaviour;
  readonly worker: Worker;
  state: InstanceState;
  stopped?: Promise<void>;
}

const APPLICATION = 'sim-app';
const STREAM = 'sim-stream';
/** The stream names of a run on `n` streams (one: {@link STREAM}, as always). */
const streamNames = (n: number): string[] => (n <= 1 ? [STREAM] : Array.from({ length: n }, (_, i) => `${STREAM}-${i}`));
const encoder = new TextEncoder();
/** A stand-in DynamoDB client: the lease table is the `leaseRefresher`, so it is never called. */
const UNUSED_DYNAMODB_CLIENT = {
  send: () => Promise.reject(new Error('the simulation has no DynamoDB: the lease table is the leaseRefresher')),
} as unknown as NonNullable<WorkerOptions['dynamoDbClient']>;

/** The simulation of one schedule. Use {@link runSchedule}. */
class Simulation {
  private readonly timeline = new SimTimeline();
  private readonly random: SeededRandom;
  private readonly latency: SeededRandom;
  private readonly kinesis: SimStreams;
  private readonly table: SimLeaseTable;
  private readonly journal: SimJournal;
  private readonly instances = new Map<string, Instance>();
  private readonly puts: PutRecordAck[] = [];
  private readonly overreaches: CheckpointOverreach[] = [];
  private readonly deliveries: Delivery[] = [];
  private readonly unflushed: UnflushedHandoff[] = [];
  private readonly sinkRandom: SeededRandom;
  private readonly counters = new Map<string, number>();
  private epochs = 0;
  private globalOutageUntil = 0;
  private tableFaultsUntil = 0;
  private kinesisFaultsUntil = 0;
  private skipped = 0;
  private faultsOn = true;

  constructor(
    private readonly schedule: Schedule,
    private readonly options: RunOptions,
  ) {
    const seed = schedule.seed;
    this.sinkRandom = new SeededRandom(deriveSeed(seed, 'sink'));
    this.random = new SeededRandom(deriveSeed(seed, 'run'));
    this.latency = new SeededRandom(deriveSeed(seed, 'latency'));
    const { config } = schedule;
    this.kinesis = new SimStreams({
      streamNames: streamNames(config.streams ?? 1),
      shardCount: config.shards,
      clock: this.timeline.clock('kinesis'),
      random: (i) => new SeededRandom(deriveSeed(seed, i === 0 ? 'kinesis-faults' : `kinesis-faults-${i}`)),
      childShards: config.childShards,
      shardFilter: config.shardFilter,
      listShardsPageSize: config.listShardsPageSize,
    });
    this.table = new SimLeaseTable(new SeededRandom(deriveSeed(seed, 'table-faults')));
    this.journal = new SimJournal(() => this.timeline.now());
  }

  async run(): Promise<RunResult> {
    const { options } = this;
    const { config } = this.schedule;
    for (const event of this.schedule.events) this.timeline.schedule(event.at, () => this.apply(event));
    await this.timeline.runUntil(config.durationMs);

    // The faulty part is over: faults stop, the producer has stopped, the fleet catches up.
    this.faultsOn = false;
    this.table.setFaults(undefined);
    this.kinesis.setFaults(undefined);
    this.globalOutageUntil = 0;
    for (const i of this.instances.values()) {
      i.behaviour.outageUntil = 0;
      i.behaviour.hangNextMs = undefined;
      i.behaviour.stallNextMs = undefined;
    }
    if (![...this.instances.values()].some((i) => i.state === 'running')) this.join('wFinal', undefined);
    // Until every required record is processed, or nothing was processed for `settleMs`
    // (a slow but progressing fleet is given the time it needs, up to 20 minutes).
    const settleMs = options.settleMs ?? 30_000;
    const hardDeadline = config.durationMs + 20 * 60_000;
    let caughtUp = this.allRequiredProcessed();
    let progressAt = this.timeline.now();
    let seen = this.journal.recordLines;
    while (!caughtUp && this.timeline.now() < hardDeadline && this.timeline.now() - progressAt < settleMs) {
      await this.timeline.runUntil(this.timeline.now() + 500);
      caughtUp = this.allRequiredProcessed();
      if (this.journal.recordLines !== seen) {
        seen = this.journal.recordLines;
        progressAt = this.timeline.now();
      }
    }

    // Graceful stop of the survivors, so the final lease table is settled.
    const stops = [...this.instances.values()].filter((i) => i.state === 'running').map((i) => this.stop(i));
    let settled = false;
    void Promise.allSettled(stops).then(() => {
      settled = true;
    });
    await this.timeline.runUntil(this.timeline.now() + 30_000, () => settled);
    await this.timeline.runUntil(this.timeline.now() + 5_000);

    const leases: LeaseRow[] = (await this.table.store.listLeases()).map((l) => ({
      // With several streams, a lease is named like its shard in the journal: `stream/shardId`.
      leaseKey: this.kinesis.multi ? shardKey(leaseShard(l.leaseKey).stream, leaseShard(l.leaseKey).shard) : l.leaseKey,
      ...(l.leaseOwner !== undefined && { leaseOwner: l.leaseOwner }),
      leaseCounter: l.leaseCounter,
      checkpoint: l.checkpoint.sequenceNumber,
      checkpointSubSequenceNumber: l.checkpoint.subSequenceNumber,
    }));
    const verdict = checkSimulation({
      journal: this.journal.lines,
      puts: this.puts,
      shards: this.kinesis.lineage(),
      exempt: this.exemptions(),
      deliveries: this.deliveries,
      stalls: this.allStalls(),
      leases,
      overreaches: this.overreaches,
      unflushedHandoffs: this.unflushed,
    });
    return {
      schedule: this.schedule,
      verdict,
      skippedEvents: this.skipped,
      journal: this.journal.lines,
      stats: {
        simulatedMs: this.timeline.now(),
        timersFired: this.timeline.fired,
        workersStarted: this.instances.size,
        puts: this.puts.length,
        kinesisCalls: { ...this.kinesis.calls },
        leaseTableCalls: this.table.store.totalCalls,
        stalls: this.allStalls().length,
        caughtUp,
      },
    };
  }

  /**
   * Under `LATEST`, the records a shard without a read ancestor held before anyone first
   * read it need not be processed. Such a shard is one none of whose parents ever had a
   * lease (a root shard, or the child of parents closed before the fleet's first shard
   * sync); descendants of a leased shard start at `TRIM_HORIZON` and owe every record.
   * Everything put after the first read must be processed: later owners start where the
   * first one did, never at a new `LATEST`.
   */
  private exemptions(): Map<string, string | 'all'> {
    const exempt = new Map<string, string | 'all'>();
    if (this.schedule.config.initialPosition !== 'LATEST') return exempt;
    for (const stream of this.kinesis.streams) {
      for (const shard of stream.lineage()) {
        const parents = [shard.parentShardId, shard.adjacentParentShardId].filter((p): p is string => p !== undefined);
        if (parents.some((p) => this.table.everCreated(this.kinesis.leaseKey(stream, p)))) continue;
        exempt.set(this.kinesis.key(stream, shard.shardId), stream.firstRead(shard.shardId)?.afterSequenceNumber ?? 'all');
      }
    }
    return exempt;
  }

  private allStalls(): StallWindow[] {
    return [...this.instances.values()].flatMap((i) => i.clock.stalls);
  }

  /** Every open shard was read at least once, and every record owed so far was processed. */
  private allRequiredProcessed(): boolean {
    if (this.kinesis.streams.some((s) => s.openShardIds().some((id) => s.firstRead(id) === undefined))) return false;
    const exempt = this.exemptions();
    return this.puts.every((p) => {
      const rule = exempt.get(p.shardId);
      if (rule === 'all' || (rule !== undefined && BigInt(p.sequenceNumber) <= BigInt(rule))) return true;
      return this.journal.wasProcessed(p.key, p.n);
    });
  }

  private running(name: string): Instance | undefined {
    const instance = this.instances.get(name);
    return instance?.state === 'running' ? instance : undefined;
  }

  private apply(event: SimEvent): void {
    const now = this.timeline.now();
    switch (event.kind) {
      case 'join':
        if (this.instances.has(event.worker)) return this.skip();
        this.join(event.worker, event.workerId);
        return;
      case 'kill': {
        const i = this.running(event.worker) ?? this.instances.get(event.worker);
        if (i === undefined || i.state === 'killed' || i.state === 'stopped') return this.skip();
        i.clock.kill();
        i.state = 'killed';
        return;
      }
      case 'stop': {
        const i = this.running(event.worker);
        if (i === undefined) return this.skip();
        void this.stop(i);
        return;
      }
      case 'stall': {
        const i = this.running(event.worker);
        if (i === undefined || i.clock.stalled) return this.skip();
        if (event.mode === 'idle') {
          void i.clock.stall(event.durationMs, 'idle');
          return;
        }
        i.behaviour.stallNextMs = event.durationMs;
        // No batch within 2 s: the stall starts between callbacks instead.
        this.timeline.schedule(now + 2_000, () => {
          if (i.behaviour.stallNextMs === undefined || i.state !== 'running' || !this.faultsOn) return;
          i.behaviour.stallNextMs = undefined;
          void i.clock.stall(event.durationMs, 'idle');
        });
        return;
      }
      case 'produce':
        for (let t = event.at; t < event.at + event.durationMs && t < this.schedule.config.durationMs; t += Math.max(1, event.everyMs)) {
          this.timeline.schedule(t, () => this.produce(event.perTick));
        }
        return;
      case 'sink-outage':
        if (event.worker === undefined) {
          this.globalOutageUntil = Math.max(this.globalOutageUntil, now + event.durationMs);
          return;
        }
        {
          const i = this.running(event.worker);
          if (i === undefined) return this.skip();
          i.behaviour.outageUntil = Math.max(i.behaviour.outageUntil, now + event.durationMs);
        }
        return;
      case 'hang': {
        const i = this.running(event.worker);
        if (i === undefined) return this.skip();
        i.behaviour.hangNextMs = event.durationMs;
        return;
      }
      case 'split': {
        const stream = this.kinesis.streams[event.stream ?? 0];
        const open = stream?.openShardIds() ?? [];
        if (stream === undefined || open.length === 0 || open.length >= 8) return this.skip();
        stream.split(open[event.pick % open.length]!);
        return;
      }
      case 'merge': {
        const stream = this.kinesis.streams[event.stream ?? 0];
        const pairs = stream?.adjacentOpenPairs() ?? [];
        if (stream === undefined || pairs.length === 0) return this.skip();
        const [a, b] = pairs[event.pick % pairs.length]!;
        stream.merge(a, b);
        return;
      }
      case 'table-faults':
        this.table.setFaults({ throttle: event.throttle, lostResponse: event.lostResponse });
        this.tableFaultsUntil = now + event.durationMs;
        this.timeline.schedule(this.tableFaultsUntil, () => {
          if (this.timeline.now() >= this.tableFaultsUntil) this.table.setFaults(undefined);
        });
        return;
      case 'kinesis-faults':
        this.kinesis.setFaults({ throttle: event.throttle, transient: event.transient });
        this.kinesisFaultsUntil = now + event.durationMs;
        this.timeline.schedule(this.kinesisFaultsUntil, () => {
          if (this.timeline.now() >= this.kinesisFaultsUntil) this.kinesis.setFaults(undefined);
        });
        return;
      case 'stale-checkpointer': {
        const i = this.running(event.worker);
        if (i === undefined) return this.skip();
        i.behaviour.staleCheckpointDelayMs = event.delayMs;
        return;
      }
    }
  }

  private skip(): void {
    this.skipped++;
  }

  private produce(perTick: number): void {
    const keys = this.schedule.config.keys;
    for (let j = 0; j < perTick; j++) {
      const partitionKey = `k${this.random.int(0, keys - 1)}`;
      // The same partition key goes to every stream; with several, a record's key names its stream.
      for (const stream of this.kinesis.streams) {
        const key = this.kinesis.multi ? `${stream.streamName}/${partitionKey}` : partitionKey;
        const n = (this.counters.get(key) ?? 0) + 1;
        this.counters.set(key, n);
        const ack = stream.put(partitionKey, encoder.encode(JSON.stringify({ k: key, n })));
        this.puts.push({ key, n, shardId: this.kinesis.key(stream, ack.shardId), sequenceNumber: ack.sequenceNumber });
      }
    }
  }

  private stop(i: Instance): Promise<void> {
    if (i.stopped) return i.stopped;
    if (i.clock.stalled) {
      // A stalled process handles its SIGTERM once the stall is over: the stop is one of its timers.
      return new Promise<void>((resolve) => i.clock.after(0, () => void this.stop(i).then(resolve)));
    }
    i.state = 'stopping';
    i.stopped = i.worker.shutdown().then(
      () => {
        if (i.state === 'stopping') i.state = 'stopped';
      },
      (error: unknown) => {
        this.journal.write(i.name, { type: 'error', error: `shutdown failed: ${String(error)}` });
      },
    );
    return i.stopped;
  }

  private join(name: string, workerId: string | undefined): void {
    const { config } = this.schedule;
    const clock = this.timeline.clock(name);
    const latency = (): number => this.latency.int(1, 4);
    const behaviour: ProcessorBehaviour = {
      outageUntil: 0,
      hangNextMs: undefined,
      stallNextMs: undefined,
      staleCheckpointDelayMs: undefined,
      checkpointEvery: config.checkpointEvery,
      batchWorkMs: config.batchWorkMs,
    };
    const context = {
      worker: name,
      clock,
      journal: this.journal,
      behaviour,
      nextEpoch: () => ++this.epochs,
      globalOutage: () => this.timeline.now() < this.globalOutageUntil,
      onOverreach: (o: CheckpointOverreach) => this.overreaches.push(o),
      onDelivery: (d: Delivery) => this.deliveries.push(d),
    };
    const batching =
      config.processor === 'batching'
        ? {
            ...context,
            settings: config.batching!,
            random: () => this.sinkRandom.next(),
            make: this.options.batchingProcessor ?? realBatchingProcessor,
            onUnflushedHandoff: (u: UnflushedHandoff) => this.unflushed.push(u),
          }
        : undefined;
    const { multi } = this.kinesis;
    // With several streams, every shard the journal names is `stream/shardId`.
    const shardOf = (e: { readonly shardId: string; readonly streamName: string }): string => (multi ? shardKey(e.streamName, e.shardId) : e.shardId);
    const options: WorkerOptions = {
      applicationName: APPLICATION,
      ...(multi ? { streams: this.kinesis.streams.map((s) => ({ streamName: s.streamName })) } : { streamName: STREAM }),
      workerId: workerId ?? name,
      processorFactory: (shardId, { streamName }) => {
        const shard = shardOf({ shardId, streamName });
        return batching ? new SimBatchingProcessor(batching, shard) : new SimProcessor(context, shard);
      },
      kinesisClient: this.kinesis.connect(name, clock, latency) as unknown as KinesisClient,
      // Never used (the lease table is `leaseRefresher`); given so the Worker builds no client.
      dynamoDbClient: UNUSED_DYNAMODB_CLIENT,
      leaseRefresher: this.table.connect(clock, latency),
      clock,
      initialPosition: config.initialPosition,
      metrics: { publisher: false },
      leases: {
        leaseDurationMs: config.leaseDurationMs,
        takerIntervalMs: config.takerIntervalMs,
        ...(config.coordination === 'single-scanner' && { coordination: 'single-scanner' as const }),
        ...(config.coordination === 'worker-heartbeat' && { coordination: 'single-scanner' as const, renewal: 'worker-heartbeat' as const }),
      },
      retrieval: { polling: { idleTimeBetweenReadsMs: config.idleTimeBetweenReadsMs, maxRecords: config.maxRecords } },
      shardSync: { intervalMs: 2_000, parentPollIntervalMs: 500 },
      processing: { shutdownTimeoutMs: 4_000, retryBaseMs: 200, retryMaxMs: 1_000 },
    };
    const worker = new Worker(options);
    const instance: Instance = { name, workerId: workerId ?? name, clock, behaviour, worker, state: 'running' };
    this.instances.set(name, instance);
    worker.on('leaseAcquired', (e) => this.journal.write(name, { type: 'event', event: 'leaseAcquired', shard: shardOf(e) }));
    worker.on('leaseLost', (e) => this.journal.write(name, { type: 'event', event: 'leaseLost', shard: shardOf(e), reason: e.reason }));
    worker.on('shardEnded', (e) =>
      this.journal.write(name, { type: 'event', event: 'shardEnded', shard: shardOf(e), children: e.childShardIds.map((c) => shardOf({ shardId: c, streamName: e.streamName })) }),
    );
    worker.on('processorError', (e) => this.journal.write(name, { type: 'processor-error', shard: shardOf(e), error: String(e.error) }));
    worker.on('error', (error) => this.journal.write(name, { type: 'error', error: `${error.name}: ${error.message}` }));
    this.journal.write(name, { type: 'start' });
    worker.start().then(
      () => this.journal.write(name, { type: 'started' }),
      (error: unknown) => {
        this.journal.write(name, { type: 'start-failed', error: String(error) });
        if (instance.state === 'running') instance.state = 'stopped';
      },
    );
  }
}

/**
 * Runs one schedule and checks the oracle. Deterministic: the same schedule always gives
 * the same result (every random draw, the library's `Math.random` included, is seeded).
 */
export function runSchedule(schedule: Schedule, options: RunOptions = {}): Promise<RunResult> {
  const libraryRandom = new SeededRandom(deriveSeed(schedule.seed, 'library'));
  return withSeededMathRandom(libraryRandom, () => new Simulation(schedule, options).run());
}
