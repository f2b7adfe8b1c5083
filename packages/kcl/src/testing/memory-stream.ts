/**
 * {@link MemoryStream}: a Kinesis data stream in memory, for tests that run Workers without an
 * emulator. It lists its shards like ListShards and serves each shard's records as a
 * {@link RecordSource}; records are routed to shards by the MD5 of their partition key, and
 * splits and merges close shards and open children as Kinesis does.
 * @module
 */
import { createHash } from 'node:crypto';
import type { HashKeyRange } from '@kcl-ts/leases';
import { AbortError, compareSequenceNumbers, systemClock, type Clock, type KinesisClientRecord } from '@kcl-ts/processor';
import type { ChildShard, ShardInfo, ShardLister } from '@kcl-ts/shard-sync';
import type { RecordSource, RecordSourceFactory, RecordSourceRequest, RecordsBatch, RetrievalStats } from '../retrieval/types.js';

const MAX_HASH_KEY = (1n << 128n) - 1n;
const UTF8 = new TextEncoder();

/** Options of a {@link MemoryStream}. */
export interface MemoryStreamOptions {
  /** The stream's name (what `streamLabel` and errors say). @default 'memory-stream' */
  readonly streamName?: string;
  /** Open shards at creation, with equal hash key ranges. @default 1 */
  readonly shardCount?: number;
  /** Stamps `approximateArrivalTimestamp` and `AT_TIMESTAMP` starts; give the Worker's `FakeClock`. @default the system clock */
  readonly clock?: Clock;
  /** Records per batch a source hands out. @default 100 */
  readonly batchSize?: number;
  /** With `emptyBatches`: how long a caught-up source waits for records before it yields an empty batch. @default 1_000 */
  readonly idleBatchMs?: number;
}

/** Where {@link MemoryStream.put} stored a record. */
export interface PutResult {
  /** The shard the record went to. */
  readonly shardId: string;
  /** The record's sequence number (increasing over the whole stream). */
  readonly sequenceNumber: string;
}

interface MemoryShard {
  info: ShardInfo;
  readonly records: KinesisClientRecord[];
  /** Sources waiting for a record or for the shard to close. */
  readonly waiters: Set<() => void>;
}

/**
 * A stream in memory. Give a Worker `shardLister: () => stream` and
 * `recordSourceFactory: stream.recordSources` (with an `InMemoryLeaseRefresher` as its
 * `leaseRefresher` and a `FakeClock` as its `clock`), and it runs without Kinesis or DynamoDB:
 * a whole fleet in one process, deterministic, resharding included.
 *
 * ```ts
 * const clock = new FakeClock();
 * const stream = new MemoryStream({ shardCount: 2, clock });
 * const worker = new Worker({
 *   applicationName: 'test', streamName: 'memory-stream', processorFactory,
 *   leaseRefresher: new InMemoryLeaseRefresher(), shardLister: () => stream,
 *   recordSourceFactory: stream.recordSources, clock, initialPosition: 'TRIM_HORIZON',
 * });
 * stream.put('key', 'data');
 * ```
 */
export class MemoryStream implements ShardLister {
  /** The stream's name. */
  readonly streamLabel: string;
  private readonly shards: MemoryShard[] = [];
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly idleBatchMs: number;
  private nextShard = 0;
  private nextSequence = 1n;
  /** ListShards calls answered, for tests. */
  listCalls = 0;

  constructor(options: MemoryStreamOptions = {}) {
    this.streamLabel = options.streamName ?? 'memory-stream';
    this.clock = options.clock ?? systemClock;
    this.batchSize = options.batchSize ?? 100;
    this.idleBatchMs = options.idleBatchMs ?? 1_000;
    const count = options.shardCount ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new TypeError(`shardCount must be a positive integer, got ${String(count)}`);
    const width = (MAX_HASH_KEY + 1n) / BigInt(count);
    for (let i = 0; i < count; i++) {
      const start = width * BigInt(i);
      this.open(start, i === count - 1 ? MAX_HASH_KEY : start + width - 1n, []);
    }
  }

  /** Stores one record in the open shard that owns the MD5 of its partition key. */
  put(partitionKey: string, data: string | Uint8Array): PutResult {
    const hashKey = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
    const shard = this.shards.find((s) => s.info.endingSequenceNumber === undefined && inRange(hashKey, s.info.hashKeyRange));
    if (!shard) throw new Error(`no open shard owns hash key ${hashKey}`);
    const sequenceNumber = this.sequence();
    shard.records.push({
      data: typeof data === 'string' ? UTF8.encode(data) : data,
      partitionKey,
      sequenceNumber,
      approximateArrivalTimestamp: new Date(this.clock.now()),
    });
    this.wake(shard);
    return { shardId: shard.info.shardId, sequenceNumber };
  }

  /** Splits an open shard at the middle of its hash key range; returns the two children. */
  split(shardId: string): [string, string] {
    const shard = this.openShard(shardId);
    const start = BigInt(shard.info.hashKeyRange.startingHashKey);
    const end = BigInt(shard.info.hashKeyRange.endingHashKey);
    const middle = (start + end) / 2n;
    this.close(shard);
    return [this.open(start, middle, [shardId]), this.open(middle + 1n, end, [shardId])];
  }

  /** Merges two adjacent open shards; returns the child (`parentShardId` = `a`, `adjacentParentShardId` = `b`). */
  merge(a: string, b: string): string {
    const [x, y] = [this.openShard(a), this.openShard(b)];
    const bounds = [x, y].flatMap((s) => [BigInt(s.info.hashKeyRange.startingHashKey), BigInt(s.info.hashKeyRange.endingHashKey)]);
    const [xs, xe, ys, ye] = bounds as [bigint, bigint, bigint, bigint];
    if (xe + 1n !== ys && ye + 1n !== xs) throw new Error(`${a} and ${b} are not adjacent`);
    this.close(x);
    this.close(y);
    return this.open(xs < ys ? xs : ys, xe > ye ? xe : ye, [a, b]);
  }

  /** Ids of the shards still open. */
  openShardIds(): string[] {
    return this.shards.filter((s) => s.info.endingSequenceNumber === undefined).map((s) => s.info.shardId);
  }

  /** The records of one shard, in order. */
  records(shardId: string): readonly KinesisClientRecord[] {
    return this.shard(shardId).records;
  }

  /** Every shard, open and closed, like ListShards (closed shards are never trimmed). */
  async listShards(): Promise<ShardInfo[]> {
    this.listCalls += 1;
    return this.shards.map((s) => ({ ...s.info }));
  }

  /** The children of `parentShardId`: two after a split, one after a merge, none while it is open. */
  async listChildShards(parentShardId: string): Promise<ShardInfo[]> {
    return (await this.listShards()).filter((s) => s.parentShardId === parentShardId || s.adjacentParentShardId === parentShardId);
  }

  /** The Worker's `recordSourceFactory`: a source over one shard of this stream. */
  readonly recordSources: RecordSourceFactory = (request) => new MemoryShardSource(this.shard(request.shardId), request, this.clock, this.batchSize, this.idleBatchMs, (id) => this.childrenOf(id));

  private childrenOf(parentShardId: string): ChildShard[] {
    return this.shards
      .filter((s) => s.info.parentShardId === parentShardId || s.info.adjacentParentShardId === parentShardId)
      .map((s) => ({ shardId: s.info.shardId, parentShards: [s.info.parentShardId, s.info.adjacentParentShardId].filter((p): p is string => p !== undefined), hashKeyRange: s.info.hashKeyRange }));
  }

  private sequence(): string {
    const value = this.nextSequence;
    this.nextSequence += 1n;
    return (10n ** 20n + value).toString();
  }

  private shard(shardId: string): MemoryShard {
    const shard = this.shards.find((s) => s.info.shardId === shardId);
    if (!shard) throw new Error(`stream ${this.streamLabel} has no shard ${shardId}`);
    return shard;
  }

  private openShard(shardId: string): MemoryShard {
    const shard = this.shard(shardId);
    if (shard.info.endingSequenceNumber !== undefined) throw new Error(`${shardId} is closed`);
    return shard;
  }

  private open(start: bigint, end: bigint, parents: readonly string[]): string {
    const shardId = `shardId-${String(this.nextShard++).padStart(12, '0')}`;
    this.shards.push({
      info: {
        shardId,
        ...(parents[0] !== undefined && { parentShardId: parents[0] }),
        ...(parents[1] !== undefined && { adjacentParentShardId: parents[1] }),
        hashKeyRange: { startingHashKey: start.toString(), endingHashKey: end.toString() },
        startingSequenceNumber: this.sequence(),
      },
      records: [],
      waiters: new Set(),
    });
    return shardId;
  }

  private close(shard: MemoryShard): void {
    shard.info = { ...shard.info, endingSequenceNumber: this.sequence() };
    this.wake(shard);
  }

  private wake(shard: MemoryShard): void {
    for (const wake of [...shard.waiters]) wake();
  }
}

/** A source over one {@link MemoryShard}, from the request's start position. */
class MemoryShardSource implements RecordSource {
  private position: number | undefined;
  private ended = false;
  private readonly stopped = new AbortController();
  private readonly counters = { getRecordsCalls: 0, getRecordsTimeMs: 0, getRecordsFailures: 0, throttled: 0, expiredIterators: 0, recordsFetched: 0, bytesFetched: 0, lastMillisBehindLatest: 0 };

  constructor(
    private readonly shard: MemoryShard,
    private readonly request: RecordSourceRequest,
    private readonly clock: Clock,
    private readonly batchSize: number,
    private readonly idleBatchMs: number,
    private readonly childrenOf: (shardId: string) => ChildShard[],
  ) {}

  get stats(): RetrievalStats {
    return this.counters;
  }

  start(): void {
    this.position ??= this.startIndex();
  }

  async next(signal?: AbortSignal): Promise<RecordsBatch> {
    this.start();
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      if (this.stopped.signal.aborted || this.ended) throw new AbortError(`the source of ${this.request.shardId} is stopped`);
      const { records, info } = this.shard;
      const from = this.position!;
      if (from < records.length) {
        const batch = records.slice(from, from + this.batchSize);
        this.position = from + batch.length;
        this.count(batch);
        return { records: batch, shardEnded: false, bytes: batch.reduce((n, r) => n + r.data.byteLength, 0), millisBehindLatest: 0, receivedAt: this.clock.elapsed() };
      }
      if (info.endingSequenceNumber !== undefined || this.request.start.checkpoint.sequenceNumber === 'SHARD_END') {
        this.ended = true;
        this.count([]);
        return { records: [], shardEnded: true, bytes: 0, millisBehindLatest: 0, childShards: this.childrenOf(info.shardId), receivedAt: this.clock.elapsed() };
      }
      const woken = await this.waitForRecords(signal);
      if (!woken && this.request.emptyBatches) {
        this.count([]);
        return { records: [], shardEnded: false, bytes: 0, millisBehindLatest: 0, receivedAt: this.clock.elapsed() };
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped.abort();
  }

  /** Resolves true when the shard gets a record or closes, false after `idleBatchMs` (only with `emptyBatches`). */
  private waitForRecords(signal: AbortSignal | undefined): Promise<boolean> {
    const waits = [signal, this.stopped.signal].filter((s): s is AbortSignal => s !== undefined);
    const any = AbortSignal.any(waits);
    return new Promise<boolean>((resolve) => {
      const idle = new AbortController();
      const done = (woken: boolean): void => {
        this.shard.waiters.delete(wake);
        any.removeEventListener('abort', onAbort);
        idle.abort();
        resolve(woken);
      };
      const wake = (): void => done(true);
      const onAbort = (): void => done(true);
      this.shard.waiters.add(wake);
      any.addEventListener('abort', onAbort, { once: true });
      if (this.request.emptyBatches) this.clock.sleep(this.idleBatchMs, idle.signal).then(() => done(false), () => undefined);
    });
  }

  private count(batch: readonly KinesisClientRecord[]): void {
    this.counters.getRecordsCalls += 1;
    this.counters.recordsFetched += batch.length;
    this.counters.bytesFetched += batch.reduce((n, r) => n + r.data.byteLength, 0);
  }

  /** The index of the first record to deliver, from the request's start position. */
  private startIndex(): number {
    const { records } = this.shard;
    const { checkpoint, initialTimestamp } = this.request.start;
    switch (checkpoint.sequenceNumber) {
      case 'TRIM_HORIZON':
        return 0;
      case 'LATEST':
      case 'SHARD_END':
        return records.length;
      case 'AT_TIMESTAMP': {
        const at = initialTimestamp?.getTime() ?? 0;
        const index = records.findIndex((r) => r.approximateArrivalTimestamp.getTime() >= at);
        return index < 0 ? records.length : index;
      }
      default: {
        const index = records.findIndex((r) => compareSequenceNumbers(r.sequenceNumber, checkpoint.sequenceNumber) > 0);
        return index < 0 ? records.length : index;
      }
    }
  }
}

function inRange(hashKey: bigint, range: HashKeyRange): boolean {
  return hashKey >= BigInt(range.startingHashKey) && hashKey <= BigInt(range.endingHashKey);
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new AbortError(undefined, { cause: signal.reason });
}
