/**
 * A deterministic harness for whole Workers: a fleet built from in-memory parts — the lease
 * table (`InMemoryLeaseRefresher`), the stream (`MemoryStream`, as shard lister and record
 * sources) — on one `FakeClock`. No emulator, no real timer: time moves only in `runUntil`.
 * Every Kinesis or DynamoDB call would be a bug here, so the clients refuse and count them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ShardRecordProcessor } from '@kcl-ts/processor';
import { Worker, type WorkerOptions } from '../src/index.js';
import { FakeClock, InMemoryLeaseRefresher, MemoryStream } from '../src/testing.js';
import { Journal } from './journal.js';

/** A client that must never be called: it counts and rejects every call. */
function refusingClient<T>(name: string, calls: string[]): T {
  return {
    send: (command: { constructor: { name: string } }) => {
      calls.push(`${name}.${command.constructor.name}`);
      return Promise.reject(new Error(`the harness has no ${name}: ${command.constructor.name} was called`));
    },
    destroy: () => undefined,
    config: {},
  } as unknown as T;
}

/** What a processor of the harness does, per worker. */
export type ProcessorFor = (workerId: string, shardId: string, journal: Journal) => ShardRecordProcessor;

/** Options of a {@link HarnessFleet}. */
export interface HarnessOptions {
  readonly shardCount: number;
  /** Extra Worker options of every worker (merged over the harness's). */
  readonly worker?: Partial<WorkerOptions>;
  /** The processors; default: the journal's recording processor, checkpointing every batch. */
  readonly processor?: ProcessorFor;
}

/** Workers sharing one in-memory stream and lease table on one fake clock. */
export class HarnessFleet {
  readonly clock = new FakeClock();
  readonly table = new InMemoryLeaseRefresher();
  readonly stream: MemoryStream;
  readonly journal = new Journal();
  readonly workers = new Map<string, Worker>();
  /** AWS calls attempted (must stay empty). */
  readonly awsCalls: string[] = [];
  /** Background errors of every worker. */
  readonly errors: Error[] = [];
  private readonly counters = new Map<string, number>();

  constructor(private readonly options: HarnessOptions) {
    this.stream = new MemoryStream({ shardCount: options.shardCount, clock: this.clock, batchSize: 10 });
  }

  /** Builds a worker (not started). */
  add(workerId: string, extra: Partial<WorkerOptions> = {}): Worker {
    const processor = this.options.processor ?? ((w, s, j) => j.processor(w, s));
    const worker = new Worker({
      applicationName: 'harness',
      streamName: this.stream.streamLabel,
      workerId,
      processorFactory: (shardId) => processor(workerId, shardId, this.journal),
      initialPosition: 'TRIM_HORIZON',
      clock: this.clock,
      leaseRefresher: this.table,
      shardLister: () => this.stream,
      recordSourceFactory: this.stream.recordSources,
      kinesisClient: refusingClient<KinesisClient>('Kinesis', this.awsCalls),
      dynamoDbClient: refusingClient<DynamoDBClient>('DynamoDB', this.awsCalls),
      metrics: { publisher: false },
      leases: { leaseDurationMs: 1_000 },
      shardSync: { parentPollIntervalMs: 100 },
      processing: { retryBaseMs: 100, retryMaxMs: 800 },
      ...this.options.worker,
      ...extra,
    });
    worker.on('error', (error) => this.errors.push(error));
    this.workers.set(workerId, worker);
    return worker;
  }

  /** Builds and starts a worker, moving time until `start()` resolves. */
  async start(workerId: string, extra: Partial<WorkerOptions> = {}): Promise<Worker> {
    const worker = this.add(workerId, extra);
    await this.settle(worker.start(), `${workerId} started`);
    return worker;
  }

  /** Shuts a worker down gracefully, moving time until `shutdown()` resolves. */
  async shutdown(workerId: string): Promise<void> {
    const worker = this.workers.get(workerId);
    if (!worker) throw new Error(`no worker ${workerId}`);
    await this.settle(worker.shutdown(), `${workerId} shut down`);
  }

  /** Shuts every worker down. */
  async shutdownAll(): Promise<void> {
    await this.settle(Promise.all([...this.workers.values()].map((w) => w.shutdown())), 'every worker shut down');
  }

  /** Puts `count` records for each of `keys`, each payload numbered per key (the journal's format). */
  put(keys: readonly string[], count: number): void {
    for (let i = 0; i < count; i++) {
      for (const k of keys) {
        const n = this.counters.get(k) ?? 0;
        this.counters.set(k, n + 1);
        this.stream.put(k, JSON.stringify({ k, n }));
      }
    }
  }

  /** Records put so far. */
  get putCount(): number {
    let total = 0;
    for (const n of this.counters.values()) total += n;
    return total;
  }

  /** Moves time in small steps until `predicate` holds; fails after `timeoutMs` of simulated time. */
  async runUntil(predicate: () => boolean, message: string, timeoutMs = 60_000): Promise<void> {
    const deadline = this.clock.elapsed() + timeoutMs;
    while (!predicate()) {
      if (this.clock.elapsed() >= deadline) throw new Error(`not reached within ${timeoutMs} simulated ms: ${message}`);
      await this.step();
    }
  }

  /** Moves time for `ms` of simulated time. */
  async run(ms: number): Promise<void> {
    const until = this.clock.elapsed() + ms;
    while (this.clock.elapsed() < until) await this.step();
  }

  /** Keys held by each worker (live holdings). */
  holdings(): Map<string, string[]> {
    return new Map([...this.workers].map(([id, w]) => [id, w.heldShards()]));
  }

  private async step(): Promise<void> {
    await this.clock.advance(10);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time until `promise` settles; returns its value or throws its error. */
  async settle<T>(promise: Promise<T>, message: string): Promise<T> {
    let done = false;
    let failure: unknown;
    let value: T | undefined;
    promise.then(
      (v) => {
        value = v;
        done = true;
      },
      (e: unknown) => {
        failure = e;
        done = true;
      },
    );
    await this.runUntil(() => done, message);
    if (failure !== undefined) throw failure;
    return value as T;
  }
}
