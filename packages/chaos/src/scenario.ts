/**
 * The frame every chaos scenario shares: a fresh stream and application, a {@link Fleet} of
 * worker processes, a {@link KeyedProducer}, polling helpers over the journals, and `finish()`
 * which stops the fleet, reads the lineage and the lease table, and runs the invariant checker.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createStreamAndWait } from '@kcl-ts/local';
import {
  checkInvariantsByStream,
  checkRetrieval,
  checkStreams,
  Fleet,
  heldShards,
  formatVerdict,
  KeyedProducer,
  listStreamsLineage,
  mergeTuning,
  isOpen,
  listStreamsShards,
  readRoleItem,
  scanLeaseTable,
  shardKey,
  waitUntil,
  type FleetBase,
  type JournalLine,
  type LeaseRow,
  type Verdict,
  type WorkerHandle,
  type WorkerProcessConfig,
  type WorkerTuning,
} from '@kcl-ts/fleet';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import type { FaultRule } from './fault-rules.js';

/** Fast lease and retrieval settings for scenarios on a small, shared machine. */
export const SCENARIO_TUNING: WorkerTuning = {
  leases: { leaseDurationMs: 2_500, takerIntervalMs: 500 },
  retrieval: { polling: { idleTimeBetweenReadsMs: 100 } },
  shardSync: { intervalMs: 2_000, parentPollIntervalMs: 250 },
  processing: { retryBaseMs: 50, retryMaxMs: 500, shutdownTimeoutMs: 10_000 },
};

/** The emulator endpoints and credentials (from `testStack()`). */
export interface ScenarioStack {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly kinesisEndpoint: string;
  readonly dynamoDbEndpoint: string;
}

/**
 * Options of {@link Scenario.create}; `retrieval` (default polling) and the processor's
 * behaviour (`recordDelayMs`, `naiveShardEnd`, `failShardEndedTimes`) are every worker's, as
 * in {@link WorkerProcessConfig}.
 */
export interface ScenarioOptions extends Pick<WorkerProcessConfig, 'retrieval' | 'recordDelayMs' | 'naiveShardEnd' | 'failShardEndedTimes'> {
  /** Short name; also the prefix of the stream, application and directory names. */
  readonly name: string;
  readonly stack: ScenarioStack;
  /** A Kinesis client talking to the emulator directly (the producer and ListShards use it). */
  readonly kinesis: KinesisClient;
  /** A DynamoDB client talking to dynalite directly (the final lease-table scan uses it). */
  readonly dynamoDb: DynamoDBClient;
  /**
   * Names of the streams to create and consume (each gets a unique suffix). Every worker
   * consumes all of them with one Worker (a multi-stream Worker when there are several), and
   * the producer writes each record to every stream. @default ['main']
   */
  readonly streams?: readonly string[];
  /** Shards of each new stream. */
  readonly shards: number;
  /** Partition keys of the producer. @default 20 */
  readonly keys?: number;
  /** Worker option groups on top of {@link SCENARIO_TUNING}. */
  readonly worker?: WorkerTuning;
  /**
   * Endpoint the workers use for Kinesis (a fault proxy). @default the emulator; in fan-out
   * mode a proxy that hands subscriptions over as AWS does (see `subscriptionTakeover`)
   */
  readonly workerKinesisEndpoint?: string;
  /** Endpoint the workers use for DynamoDB (a fault proxy). @default dynalite */
  readonly workerDynamoDbEndpoint?: string;
  /** Parent of the scenario directory. @default `<tmpdir>/kcl-chaos` */
  readonly baseDir?: string;
}

/**
 * Holds a set of fault rules on `proxy` until they have injected at least `atLeast` faults
 * together (a phase of a fault storm is measured in faults, not in seconds), then removes
 * them. Resolves the number injected; throws after `timeoutMs` (the rules are removed then too).
 */
export async function injectUntil(proxy: FaultProxy, rules: readonly FaultRule[], options: { readonly atLeast: number; readonly timeoutMs: number }): Promise<number> {
  const ids = rules.map((r) => proxy.addRule(r));
  const injected = (): number => proxy.stats().rules.filter((r) => ids.includes(r.id)).reduce((n, r) => n + r.injected, 0);
  try {
    await waitUntil(() => injected() >= options.atLeast, { timeoutMs: options.timeoutMs, intervalMs: 50, message: `${options.atLeast} faults injected by ${JSON.stringify(rules)} (have ${injected()})` });
    return injected();
  } finally {
    for (const id of ids) proxy.removeRule(id);
  }
}

/** One chaos scenario run. */
export class Scenario {
  readonly producer: KeyedProducer;
  readonly fleet: Fleet;
  private readonly startedAt = Date.now();

  private constructor(
    readonly options: ScenarioOptions,
    readonly streams: readonly string[],
    readonly applicationName: string,
    readonly dir: string,
    private readonly takeoverProxy: FaultProxy | undefined,
  ) {
    this.producer = new KeyedProducer(options.kinesis, streams, { keys: options.keys ?? 20 });
    const base: FleetBase = {
      applicationName,
      streams,
      retrieval: options.retrieval ?? 'polling',
      region: options.stack.region,
      credentials: options.stack.credentials,
      kinesisEndpoint: options.workerKinesisEndpoint ?? takeoverProxy?.endpoint ?? options.stack.kinesisEndpoint,
      dynamoDbEndpoint: options.workerDynamoDbEndpoint ?? options.stack.dynamoDbEndpoint,
      recordDelayMs: options.recordDelayMs ?? 0,
      naiveShardEnd: options.naiveShardEnd ?? false,
      failShardEndedTimes: options.failShardEndedTimes ?? 0,
      worker: mergeTuning(SCENARIO_TUNING, options.worker),
    };
    this.fleet = new Fleet({ dir, base });
  }

  /** Creates the streams (waits for ACTIVE) and the scenario directory. */
  static async create(options: ScenarioOptions): Promise<Scenario> {
    const retrieval = options.retrieval ?? 'polling';
    checkRetrieval(retrieval, 'ScenarioOptions.retrieval');
    const logical = options.streams ?? ['main'];
    checkStreams(logical, 'ScenarioOptions.streams');
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const label = `${options.name}${retrieval === 'fanout' ? '-efo' : ''}`;
    const streams = logical.map((s) => `chaos-${label}-${s}-${id}`);
    const applicationName = `chaos-app-${label}-${id}`;
    const dir = join(options.baseDir ?? join(tmpdir(), 'kcl-chaos'), `${label}-${id}`);
    mkdirSync(dir, { recursive: true });
    for (const stream of streams) await createStreamAndWait(options.kinesis, stream, options.shards, { timeoutMs: 60_000 });
    const takeover =
      retrieval === 'fanout' && options.workerKinesisEndpoint === undefined
        ? await startFaultProxy({ target: options.stack.kinesisEndpoint, kind: 'kinesis', subscriptionTakeover: true })
        : undefined;
    return new Scenario(options, streams, applicationName, dir, takeover);
  }

  /** The (first) stream's name. */
  get streamName(): string {
    return this.streams[0]!;
  }

  /** Spawns a worker process. */
  spawn(workerId: string, overrides?: Partial<FleetBase>): WorkerHandle {
    return this.fleet.spawn(workerId, overrides);
  }

  /** The open shards of every stream: shard ids, or `stream/shard` keys ({@link shardKey}) with several streams. */
  async openShards(): Promise<string[]> {
    return (await listStreamsShards(this.options.kinesis, this.streams)).filter(isOpen).map((s) => s.ShardId!);
  }

  /** The raw lease table right now. */
  leaseTable(): Promise<LeaseRow[]> {
    return scanLeaseTable(this.options.dynamoDb, this.applicationName);
  }

  /** All journal lines of the fleet. */
  journals(): readonly JournalLine[] {
    return this.fleet.journals();
  }

  /** Polls `fn` until it gives a truthy value (resolved), or throws after `timeoutMs` naming `what` and the scenario directory. */
  private until<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string | (() => string), intervalMs = 200): Promise<NonNullable<T>> {
    return waitUntil(fn, { timeoutMs, intervalMs, message: () => `${typeof what === 'function' ? what() : what} — see ${this.dir}` });
  }

  /** Waits until `count` distinct records were processed. */
  async waitProcessed(count: number, timeoutMs: number): Promise<void> {
    await this.until(() => this.fleet.processedIds().size >= count, timeoutMs, () => `${count} records processed (have ${this.fleet.processedIds().size})`, 250);
  }

  /** Waits until every acknowledged put was processed. */
  async waitAllProcessed(timeoutMs: number): Promise<void> {
    const missing = (): number => this.fleet.unprocessed(this.producer.acked);
    await this.until(() => missing() === 0, timeoutMs, () => `all ${this.producer.acked.length} acknowledged records processed (${missing()} missing)`, 250);
  }

  /** Waits until a worker holds at least `min` shards (per its journal); resolves them. */
  async waitHolding(workerId: string, min: number, timeoutMs: number): Promise<Set<string>> {
    return this.until(() => {
      const held = heldShards(this.journals(), workerId);
      return held.size >= min ? held : undefined;
    }, timeoutMs, `${workerId} holds ≥ ${min} shards`);
  }

  /** Shards held by each live worker (per the journals). */
  holdings(): Map<string, Set<string>> {
    const lines = this.journals();
    return new Map(this.fleet.workers.filter((w) => w.alive).map((w) => [w.workerId, heldShards(lines, w.workerId)]));
  }

  /** Waits until the live workers together hold every shard in `shards` (each by exactly one worker). */
  async waitCovered(shards: readonly string[], timeoutMs: number): Promise<void> {
    await this.until(() => shards.every((s) => [...this.holdings().values()].filter((held) => held.has(s)).length === 1), timeoutMs, `live workers hold ${shards.join(', ')}`);
  }

  /** Waits until the live, running (not paused) workers hold every shard in `shards` exactly once between them and each holds at least `floor(shards / workers)`. */
  async waitBalanced(shards: readonly string[], timeoutMs: number): Promise<void> {
    await this.until(() => {
      const lines = this.journals();
      const held = this.fleet.workers.filter((w) => w.alive && !w.isPaused).map((w) => heldShards(lines, w.workerId));
      const min = Math.floor(shards.length / Math.max(1, held.length));
      return shards.every((s) => held.filter((h) => h.has(s)).length === 1) && held.every((h) => h.size >= min);
    }, timeoutMs, `shards ${shards.join(', ')} balanced over the running workers`);
  }

  /** The scanner-role holder per the lease table (`roleHolder` of `kcl-ts:role:scanner`); undefined while free or absent. */
  async roleHolder(): Promise<string | undefined> {
    return (await readRoleItem(this.options.dynamoDb, this.applicationName))?.holder;
  }

  /**
   * Waits until the scanner role (`coordination: 'single-scanner'`) is held by a live worker
   * that `accept`s: the lease table names it, and the worker itself reports over IPC that it
   * holds the role. Resolves its id.
   */
  async waitRoleHolder(timeoutMs: number, accept: (workerId: string) => boolean = () => true): Promise<string> {
    const reports = (): string => this.fleet.workers.map((w) => `${w.workerId}${w.alive ? '' : ' (dead)'}=${w.role?.holder ?? '?'}`).join(', ');
    return this.until(async () => {
      const holder = await this.roleHolder();
      const handle = this.fleet.workers.find((w) => w.workerId === holder && w.alive);
      return holder !== undefined && accept(holder) && handle?.role?.holder === holder ? holder : undefined;
    }, timeoutMs, () => `a live worker holds the scanner role (workers report: ${reports()})`, 100);
  }

  /** Waits until a journal line matches `predicate`. */
  async waitForLine(predicate: (l: JournalLine) => boolean, timeoutMs: number, message: string): Promise<JournalLine> {
    return this.until(() => this.journals().find(predicate), timeoutMs, message);
  }

  /**
   * Stops every worker gracefully (killing those stuck after `timeoutMs`), then reads the
   * lineage and the lease table and checks the invariants.
   */
  async finish(timeoutMs = 30_000): Promise<Verdict & { text: string; killedAtEnd: string[]; durationMs: number; byStream: ReadonlyMap<string, Verdict> }> {
    const killedAtEnd = await this.fleet.terminateAll(timeoutMs);
    const shards = await listStreamsLineage(this.options.kinesis, this.streams);
    const leases = await scanLeaseTable(this.options.dynamoDb, this.applicationName);
    const { overall: verdict, byStream } = checkInvariantsByStream({ journals: this.journals(), puts: this.producer.acked, shards, leases }, this.streams);
    const durationMs = Date.now() - this.startedAt;
    const perStream = this.streams.length > 1 ? [...byStream].map(([stream, v]) => `\n  stream ${stream}: ${formatVerdict(v, 5)}`).join('') : '';
    const text = `${this.options.name} [${this.options.retrieval ?? 'polling'}] (${(durationMs / 1000).toFixed(1)} s): ${formatVerdict(verdict)}${perStream}\n  dir: ${this.dir}${killedAtEnd.length ? `\n  killed at the end (shutdown hung): ${killedAtEnd.join(', ')}` : ''}`;
    const streams = this.streams.length > 1 ? { streams: Object.fromEntries([...byStream].map(([stream, v]) => [stream, { ok: v.ok, summary: v.summary }])) } : {};
    const result = { scenario: this.options.name, retrieval: this.options.retrieval ?? 'polling', ok: verdict.ok, durationMs, summary: verdict.summary, violations: verdict.violations, ...streams, killedAtEnd, dir: this.dir };
    writeFileSync(join(this.dir, 'verdict.json'), JSON.stringify(result, null, 2));
    appendFileSync(join(this.dir, '..', 'results.jsonl'), JSON.stringify(result) + '\n');
    return { ...verdict, text, killedAtEnd, durationMs, byStream };
  }

  /** Kills whatever still runs (for afterEach, also after a failure). */
  async cleanup(): Promise<void> {
    await this.fleet.killAll();
    await this.takeoverProxy?.stop();
  }
}
