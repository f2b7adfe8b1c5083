/**
 * An in-memory Kinesis data stream that a `Worker` can use as its `kinesisClient`.
 * @module
 */
import {
  DescribeStreamSummaryCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InternalFailureException,
  InvalidArgumentException,
  LimitExceededException,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  PutRecordCommand,
  ResourceNotFoundException,
  type ChildShard as SdkChildShard,
  type DescribeStreamSummaryCommandOutput,
  type GetRecordsCommandInput,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandInput,
  type GetShardIteratorCommandOutput,
  type ListShardsCommandInput,
  type ListShardsCommandOutput,
  type PutRecordCommandInput,
  type PutRecordCommandOutput,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { createHash } from 'node:crypto';
import type { Clock } from '@kcl-ts/processor';
import type { SeededRandom } from './random.js';

const MAX_HASH_KEY = (1n << 128n) - 1n;
/** Shard iterators expire after 5 minutes, as on Kinesis. */
const ITERATOR_TTL_MS = 5 * 60_000;
const META = { $metadata: {} } as const;

/** How ListShards treats a `ShardFilter`. */
export type ShardFilterSupport =
  /** Honoured, like Kinesis and the Kinesis Mock. */
  | 'supported'
  /** Rejected with `InvalidArgumentException` (an endpoint without the feature). */
  | 'rejected'
  /** Ignored: every shard is listed (kinesalite). */
  | 'ignored';

/** Options of {@link MemoryKinesis}. */
export interface MemoryKinesisOptions {
  /** The stream's name. */
  readonly streamName: string;
  /** Open shards at creation, splitting the hash-key space evenly. */
  readonly shardCount: number;
  /** Server time: arrival timestamps and iterator expiry. */
  readonly clock: Clock;
  /** Draws of injected faults. Required when faults are set. */
  readonly random?: SeededRandom;
  /** Send `ChildShards` in the last GetRecords response of a closed shard (kinesalite does not). @default true */
  readonly childShards?: boolean;
  /** @default 'supported' */
  readonly shardFilter?: ShardFilterSupport;
  /** Most shards per ListShards page, whatever `MaxResults` asks (forces paging). @default 1000 */
  readonly listShardsPageSize?: number;
  /**
   * First sequence number. The default lies just below a power of ten, so sequence numbers
   * change length early in a run: code comparing them as strings or numbers breaks.
   * @default 10^20 − 40
   */
  readonly firstSequenceNumber?: bigint;
  /**
   * Prefix of every shard iterator and ListShards `NextToken` this stream issues, so a front
   * over several streams ({@link SimStreams}) can route a GetRecords or a ListShards page to
   * the stream that issued it. @default ''
   */
  readonly tokenPrefix?: string;
  /** The stream's ARN. @default `arn:aws:kinesis:sim-region-1:000000000000:stream/<streamName>` */
  readonly streamArn?: string;
  /** The stream's `StreamCreationTimestamp` (ms since the epoch). @default the server clock's `now()` at each call */
  readonly createdAtMs?: number;
}

/** Injected Kinesis faults: the probability that one call fails. */
export interface KinesisFaults {
  /** `ProvisionedThroughputExceededException` (GetRecords, GetShardIterator) / `LimitExceededException` (ListShards). */
  readonly throttle?: number;
  /** `InternalFailureException` (HTTP 500). */
  readonly transient?: number;
}

/** A put acknowledged by the stream. */
export interface PutAck {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * The first GetShardIterator a shard was asked for (its first *read*, whatever the iterator
 * type): every record of the shard at or before `afterSequenceNumber` was put before it.
 */
export interface FirstRead {
  readonly shardId: string;
  readonly afterSequenceNumber: string;
  /** The iterator type of that call. */
  readonly iteratorType: string;
  /** Simulated time (server clock `elapsed()`) of the call. */
  readonly at: number;
  /** Who asked (see {@link MemoryKinesis.connect}). */
  readonly caller: string;
}

/** Options of one call, as the AWS SDK's `send` takes them. */
export interface SendOptions {
  readonly abortSignal?: AbortSignal;
}

/** The `send` surface a Worker needs from a `KinesisClient`. */
export interface KinesisSender {
  send(command: unknown, options?: SendOptions): Promise<unknown>;
  /** What the detector reads for error messages (region, endpoint). */
  readonly config: Record<string, unknown>;
}

interface StoredRecord {
  readonly seq: bigint;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly arrival: number;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly adjacentParentShardId?: string;
  readonly startHash: bigint;
  readonly endHash: bigint;
  readonly startingSeq: bigint;
  endingSeq?: bigint;
  readonly createdAt: number;
  closedAt?: number;
  readonly records: StoredRecord[];
  readonly children: string[];
}

interface IteratorState {
  readonly shardId: string;
  readonly index: number;
  readonly issuedAt: number;
}

function abortError(signal: AbortSignal): Error {
  const error = new Error('Request aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/** MD5 of the UTF-8 partition key as a 128-bit big-endian integer: Kinesis' routing. */
export function partitionKeyHash(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/**
 * An in-memory Kinesis stream with the semantics a consumer depends on:
 *
 * - puts routed by MD5(partition key) to the open shard owning that hash key; sequence
 *   numbers are decimal strings increasing across the stream (compare them as BigInt);
 * - `TRIM_HORIZON`, `LATEST`, `AT_SEQUENCE_NUMBER`, `AFTER_SEQUENCE_NUMBER` and
 *   `AT_TIMESTAMP` iterators (expiring after 5 minutes), GetRecords with `Limit`,
 *   `MillisBehindLatest`, and at the end of a closed shard `NextShardIterator` absent and
 *   `ChildShards`;
 * - split and merge (parents close with an `EndingSequenceNumber`, children open and name
 *   their parents), ListShards with paging and `ShardFilter` (honoured, rejected or ignored);
 * - injected throttling and 5xx faults, as the AWS SDK's own exception classes.
 *
 * {@link MemoryKinesis.send} answers on the server clock; {@link MemoryKinesis.connect}
 * gives each worker a client whose responses arrive through that worker's clock, so a
 * stalled worker's responses wait for it. A request is applied when it is sent; only its
 * response travels. Every response is asynchronous.
 */
export class MemoryKinesis implements KinesisSender {
  /** The stream's name. */
  readonly streamName: string;
  /** The stream's ARN (fixed account and region). */
  readonly streamArn: string;
  /** What the library reads from a client's config for messages (region, endpoint). */
  readonly config: Record<string, unknown> = { region: 'sim-region-1', endpoint: 'memory://kinesis' };
  private readonly clock: Clock;
  private readonly random: SeededRandom | undefined;
  private readonly childShards: boolean;
  private readonly shardFilter: ShardFilterSupport;
  private readonly pageSize: number;
  private readonly tokenPrefix: string;
  private readonly createdAtMs: number | undefined;
  private readonly shards = new Map<string, ShardState>();
  private readonly iterators = new Map<string, IteratorState>();
  private readonly firstReads = new Map<string, FirstRead>();
  private nextShardNumber = 0;
  private nextIterator = 0;
  private lastSeq: bigint;
  private faults: KinesisFaults | undefined;
  /** Calls answered, by operation. */
  readonly calls: Record<string, number> = {};

  /** @throws RangeError for a shard count outside 1..1024. */
  constructor(options: MemoryKinesisOptions) {
    if (!Number.isInteger(options.shardCount) || options.shardCount < 1 || options.shardCount > 1024) {
      throw new RangeError(`shardCount must be an integer from 1 to 1024, got ${options.shardCount}`);
    }
    this.streamName = options.streamName;
    this.streamArn = options.streamArn ?? `arn:aws:kinesis:sim-region-1:000000000000:stream/${options.streamName}`;
    this.clock = options.clock;
    this.random = options.random;
    this.childShards = options.childShards ?? true;
    this.shardFilter = options.shardFilter ?? 'supported';
    this.pageSize = options.listShardsPageSize ?? 1000;
    this.tokenPrefix = options.tokenPrefix ?? '';
    this.createdAtMs = options.createdAtMs;
    this.lastSeq = (options.firstSequenceNumber ?? 10n ** 20n - 40n) - 1n;
    const n = BigInt(options.shardCount);
    const space = MAX_HASH_KEY + 1n;
    for (let i = 0n; i < n; i++) {
      this.addShard({ startHash: (space * i) / n, endHash: (space * (i + 1n)) / n - 1n });
    }
  }

  /** Sets (or clears, with `undefined`) the injected faults. */
  setFaults(faults: KinesisFaults | undefined): void {
    if (faults !== undefined && this.random === undefined) throw new TypeError('faults need options.random');
    this.faults = faults;
  }

  /** The first read (GetShardIterator) of `shardId`, if it was read at all. */
  firstRead(shardId: string): FirstRead | undefined {
    return this.firstReads.get(shardId);
  }

  /** Ids of the open shards, in id order. */
  openShardIds(): string[] {
    return [...this.shards.values()].filter((s) => s.endingSeq === undefined).map((s) => s.shardId);
  }

  /** Every shard with its parents (for the oracle's lineage checks). */
  lineage(): { shardId: string; parentShardId?: string; adjacentParentShardId?: string }[] {
    return [...this.shards.values()].map((s) => ({
      shardId: s.shardId,
      ...(s.parentShardId !== undefined && { parentShardId: s.parentShardId }),
      ...(s.adjacentParentShardId !== undefined && { adjacentParentShardId: s.adjacentParentShardId }),
    }));
  }

  /** Number of records stored in a shard. */
  recordCount(shardId: string): number {
    return this.shards.get(shardId)?.records.length ?? 0;
  }

  /** Puts one record, routed by the MD5 of its partition key (or `explicitHashKey`). */
  put(partitionKey: string, data: Uint8Array, explicitHashKey?: string): PutAck {
    if (partitionKey.length < 1 || partitionKey.length > 256) throw new InvalidArgumentException({ message: 'partition key must be 1-256 characters', ...META });
    const hash = explicitHashKey !== undefined ? BigInt(explicitHashKey) : partitionKeyHash(partitionKey);
    const shard = [...this.shards.values()].find((s) => s.endingSeq === undefined && s.startHash <= hash && hash <= s.endHash);
    if (shard === undefined) throw new Error(`no open shard owns hash key ${hash}`);
    const seq = this.nextSeq();
    shard.records.push({ seq, partitionKey, data, arrival: this.clock.now() });
    return { shardId: shard.shardId, sequenceNumber: seq.toString() };
  }

  /** Splits an open shard at the middle of its hash-key range; returns the two children. */
  split(shardId: string): [string, string] {
    const parent = this.openShard(shardId);
    const mid = parent.startHash + (parent.endHash - parent.startHash + 1n) / 2n;
    this.close(parent);
    const a = this.addShard({ startHash: parent.startHash, endHash: mid - 1n, parentShardId: parent.shardId });
    const b = this.addShard({ startHash: mid, endHash: parent.endHash, parentShardId: parent.shardId });
    parent.children.push(a.shardId, b.shardId);
    return [a.shardId, b.shardId];
  }

  /** Merges two adjacent open shards (in either order); returns the child. */
  merge(shardA: string, shardB: string): string {
    let a = this.openShard(shardA);
    let b = this.openShard(shardB);
    if (b.startHash < a.startHash) [a, b] = [b, a];
    if (a.endHash + 1n !== b.startHash) throw new InvalidArgumentException({ message: `${shardA} and ${shardB} are not adjacent`, ...META });
    this.close(a);
    this.close(b);
    const child = this.addShard({ startHash: a.startHash, endHash: b.endHash, parentShardId: a.shardId, adjacentParentShardId: b.shardId });
    a.children.push(child.shardId);
    b.children.push(child.shardId);
    return child.shardId;
  }

  /** Pairs of adjacent open shards (candidates for a merge), in hash-key order. */
  adjacentOpenPairs(): [string, string][] {
    const open = [...this.shards.values()].filter((s) => s.endingSeq === undefined).sort((x, y) => (x.startHash < y.startHash ? -1 : 1));
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < open.length; i++) {
      if (open[i]!.endHash + 1n === open[i + 1]!.startHash) pairs.push([open[i]!.shardId, open[i + 1]!.shardId]);
    }
    return pairs;
  }

  /** The AWS SDK surface: answers on the server clock (a microtask later at least). */
  send(command: unknown, options?: SendOptions): Promise<unknown> {
    return this.respond(command, 'direct', undefined, 0, options?.abortSignal);
  }

  /**
   * A client for one caller whose responses arrive through `clock` after `latencyMs()` ms:
   * held while that caller's clock is stalled, never delivered once it is killed.
   */
  connect(caller: string, clock: Clock, latencyMs: () => number): KinesisSender {
    return {
      config: this.config,
      send: (command, options) => this.respond(command, caller, clock, latencyMs(), options?.abortSignal),
    };
  }

  private async respond(command: unknown, caller: string, clock: Clock | undefined, latencyMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) throw abortError(signal);
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: this.handle(command, caller) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (clock !== undefined) {
      try {
        await clock.sleep(latencyMs, signal);
      } catch {
        throw abortError(signal!);
      }
    } else {
      await Promise.resolve();
    }
    if (signal?.aborted) throw abortError(signal);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Applies one command now and returns its output (or throws its AWS error). */
  private handle(command: unknown, caller: string): unknown {
    const name = command instanceof GetRecordsCommand ? 'GetRecords'
      : command instanceof GetShardIteratorCommand ? 'GetShardIterator'
      : command instanceof ListShardsCommand ? 'ListShards'
      : command instanceof DescribeStreamSummaryCommand ? 'DescribeStreamSummary'
      : command instanceof PutRecordCommand ? 'PutRecord'
      : undefined;
    if (name === undefined) {
      const label = (command as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof command;
      throw new InvalidArgumentException({ message: `MemoryKinesis does not support ${label}`, ...META });
    }
    this.calls[name] = (this.calls[name] ?? 0) + 1;
    this.injectFault(name);
    switch (name) {
      case 'GetRecords':
        return this.getRecords((command as GetRecordsCommand).input);
      case 'GetShardIterator':
        return this.getShardIterator((command as GetShardIteratorCommand).input, caller);
      case 'ListShards':
        return this.listShards((command as ListShardsCommand).input);
      case 'DescribeStreamSummary':
        this.checkStream((command as DescribeStreamSummaryCommand).input);
        return this.describeSummary();
      case 'PutRecord':
        return this.putRecord((command as PutRecordCommand).input);
    }
  }

  private injectFault(operation: string): void {
    const faults = this.faults;
    if (faults === undefined || operation === 'PutRecord' || operation === 'DescribeStreamSummary') return;
    const random = this.random!;
    if (faults.throttle !== undefined && random.chance(faults.throttle)) {
      const message = `Rate exceeded for ${operation} (injected)`;
      throw operation === 'ListShards' ? new LimitExceededException({ message, ...META }) : new ProvisionedThroughputExceededException({ message, ...META });
    }
    if (faults.transient !== undefined && random.chance(faults.transient)) {
      throw new InternalFailureException({ message: `internal failure of ${operation} (injected)`, $metadata: { httpStatusCode: 500 } });
    }
  }

  private checkStream(input: { StreamName?: string | undefined; StreamARN?: string | undefined }): void {
    if (input.StreamName !== undefined && input.StreamName !== this.streamName) {
      throw new ResourceNotFoundException({ message: `Stream ${input.StreamName} under account 000000000000 not found.`, ...META });
    }
    if (input.StreamARN !== undefined && input.StreamARN !== this.streamArn) {
      throw new ResourceNotFoundException({ message: `Stream ${input.StreamARN} not found.`, ...META });
    }
    if (input.StreamName === undefined && input.StreamARN === undefined) {
      throw new InvalidArgumentException({ message: 'StreamName or StreamARN is required', ...META });
    }
  }

  private getShardIterator(input: GetShardIteratorCommandInput, caller: string): GetShardIteratorCommandOutput {
    this.checkStream(input);
    const shard = this.shards.get(input.ShardId ?? '');
    if (shard === undefined) throw new ResourceNotFoundException({ message: `Shard ${input.ShardId} in stream ${this.streamName} under account 000000000000 does not exist`, ...META });
    const records = shard.records;
    let index: number;
    switch (input.ShardIteratorType) {
      case 'TRIM_HORIZON':
        index = 0;
        break;
      case 'LATEST':
        index = records.length;
        break;
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        const raw = input.StartingSequenceNumber;
        if (raw === undefined || !/^(0|[1-9]\d{0,128})$/.test(raw)) {
          throw new InvalidArgumentException({ message: `StartingSequenceNumber ${raw} is not a sequence number`, ...META });
        }
        const seq = BigInt(raw);
        if (seq < shard.startingSeq || (shard.endingSeq !== undefined && seq > shard.endingSeq)) {
          throw new InvalidArgumentException({ message: `StartingSequenceNumber ${raw} used in GetShardIterator on shard ${shard.shardId} is not in the shard's sequence number range`, ...META });
        }
        const after = input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER';
        index = records.findIndex((r) => (after ? r.seq > seq : r.seq >= seq));
        if (index < 0) index = records.length;
        break;
      }
      case 'AT_TIMESTAMP': {
        const ts = input.Timestamp;
        if (!(ts instanceof Date) || Number.isNaN(ts.getTime())) throw new InvalidArgumentException({ message: 'Timestamp is required for AT_TIMESTAMP', ...META });
        index = records.findIndex((r) => r.arrival >= ts.getTime());
        if (index < 0) index = records.length;
        break;
      }
      default:
        throw new InvalidArgumentException({ message: `unknown ShardIteratorType ${String(input.ShardIteratorType)}`, ...META });
    }
    if (!this.firstReads.has(shard.shardId)) {
      this.firstReads.set(shard.shardId, { shardId: shard.shardId, afterSequenceNumber: this.lastSeq.toString(), iteratorType: input.ShardIteratorType, at: this.clock.elapsed(), caller });
    }
    return { ShardIterator: this.issue(shard.shardId, index), ...META };
  }

  private issue(shardId: string, index: number): string {
    const id = `${this.tokenPrefix}it-${this.nextIterator++}-${shardId}`;
    this.iterators.set(id, { shardId, index, issuedAt: this.clock.elapsed() });
    return id;
  }

  private getRecords(input: GetRecordsCommandInput): GetRecordsCommandOutput {
    const state = this.iterators.get(input.ShardIterator ?? '');
    if (state === undefined) throw new InvalidArgumentException({ message: `Invalid ShardIterator ${input.ShardIterator}`, ...META });
    if (this.clock.elapsed() - state.issuedAt > ITERATOR_TTL_MS) {
      throw new ExpiredIteratorException({ message: `Iterator expired. The iterator was created at time ${state.issuedAt}`, ...META });
    }
    const limit = input.Limit ?? 10_000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new InvalidArgumentException({ message: `Limit ${limit} must be 1-10000`, ...META });
    const shard = this.shards.get(state.shardId)!;
    const slice = shard.records.slice(state.index, state.index + limit);
    const next = state.index + slice.length;
    const ended = shard.endingSeq !== undefined && next >= shard.records.length;
    const pending = shard.records[next];
    const millisBehindLatest = pending === undefined ? 0 : Math.max(1, this.clock.now() - pending.arrival);
    const output: GetRecordsCommandOutput = {
      Records: slice.map(
        (r): _Record => ({ SequenceNumber: r.seq.toString(), PartitionKey: r.partitionKey, Data: r.data, ApproximateArrivalTimestamp: new Date(r.arrival) }),
      ),
      MillisBehindLatest: millisBehindLatest,
      ...META,
    };
    if (!ended) {
      output.NextShardIterator = this.issue(shard.shardId, next);
    } else if (this.childShards) {
      output.ChildShards = shard.children.map((id): SdkChildShard => {
        const child = this.shards.get(id)!;
        return {
          ShardId: id,
          ParentShards: [child.parentShardId, child.adjacentParentShardId].filter((p): p is string => p !== undefined),
          HashKeyRange: { StartingHashKey: child.startHash.toString(), EndingHashKey: child.endHash.toString() },
        };
      });
    }
    return output;
  }

  private listShards(input: ListShardsCommandInput): ListShardsCommandOutput {
    let offset = 0;
    let filter = input.ShardFilter;
    if (input.NextToken !== undefined) {
      if (input.StreamName !== undefined || input.StreamARN !== undefined || input.ShardFilter !== undefined) {
        throw new InvalidArgumentException({ message: 'NextToken cannot be combined with StreamName, StreamARN or ShardFilter', ...META });
      }
      const token = input.NextToken.startsWith(this.tokenPrefix) ? /^page:(\d+):(.*)$/.exec(input.NextToken.slice(this.tokenPrefix.length)) : null;
      if (token === null) throw new InvalidArgumentException({ message: `invalid NextToken ${input.NextToken}`, ...META });
      offset = Number(token[1]);
      filter = token[2] === '' ? undefined : (JSON.parse(token[2]!) as ListShardsCommandInput['ShardFilter']);
    } else {
      this.checkStream(input);
      if (filter !== undefined && this.shardFilter === 'rejected') {
        throw new InvalidArgumentException({ message: 'ShardFilter is not supported by this endpoint', ...META });
      }
      if (this.shardFilter === 'ignored') filter = undefined;
    }
    const maxResults = input.MaxResults ?? 1000;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10_000) throw new InvalidArgumentException({ message: `MaxResults ${maxResults} must be 1-10000`, ...META });
    const all = [...this.shards.values()].filter((s) => this.matches(s, filter));
    const size = Math.min(maxResults, this.pageSize);
    const page = all.slice(offset, offset + size);
    const output: ListShardsCommandOutput = { Shards: page.map((s) => this.describeShard(s)), ...META };
    if (offset + size < all.length) output.NextToken = `${this.tokenPrefix}page:${offset + size}:${filter === undefined ? '' : JSON.stringify(filter)}`;
    return output;
  }

  private matches(shard: ShardState, filter: ListShardsCommandInput['ShardFilter']): boolean {
    if (filter === undefined) return true;
    const ts = filter.Timestamp instanceof Date ? filter.Timestamp.getTime() : undefined;
    switch (filter.Type) {
      case 'AFTER_SHARD_ID':
        if (filter.ShardId === undefined) throw new InvalidArgumentException({ message: 'ShardFilter AFTER_SHARD_ID needs ShardId', ...META });
        return shard.shardId > filter.ShardId;
      case 'AT_LATEST':
        return shard.endingSeq === undefined;
      case 'AT_TRIM_HORIZON':
        // Nothing is trimmed in memory: the shards open at the trim horizon are the initial ones.
        return shard.parentShardId === undefined;
      case 'FROM_TRIM_HORIZON':
        return true;
      case 'AT_TIMESTAMP':
        if (ts === undefined) throw new InvalidArgumentException({ message: 'ShardFilter AT_TIMESTAMP needs Timestamp', ...META });
        return shard.createdAt <= ts && (shard.closedAt === undefined || shard.closedAt > ts);
      case 'FROM_TIMESTAMP':
        if (ts === undefined) throw new InvalidArgumentException({ message: 'ShardFilter FROM_TIMESTAMP needs Timestamp', ...META });
        return shard.closedAt === undefined || shard.closedAt > ts;
      default:
        throw new InvalidArgumentException({ message: `unknown ShardFilter type ${String(filter.Type)}`, ...META });
    }
  }

  private describeShard(s: ShardState): Shard {
    return {
      ShardId: s.shardId,
      ...(s.parentShardId !== undefined && { ParentShardId: s.parentShardId }),
      ...(s.adjacentParentShardId !== undefined && { AdjacentParentShardId: s.adjacentParentShardId }),
      HashKeyRange: { StartingHashKey: s.startHash.toString(), EndingHashKey: s.endHash.toString() },
      SequenceNumberRange: {
        StartingSequenceNumber: s.startingSeq.toString(),
        ...(s.endingSeq !== undefined && { EndingSequenceNumber: s.endingSeq.toString() }),
      },
    };
  }

  private describeSummary(): DescribeStreamSummaryCommandOutput {
    return {
      StreamDescriptionSummary: {
        StreamName: this.streamName,
        StreamARN: this.streamArn,
        StreamStatus: 'ACTIVE',
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        RetentionPeriodHours: 24,
        StreamCreationTimestamp: new Date(this.createdAtMs ?? this.clock.now()),
        EnhancedMonitoring: [],
        OpenShardCount: this.openShardIds().length,
      },
      ...META,
    };
  }

  private putRecord(input: PutRecordCommandInput): PutRecordCommandOutput {
    this.checkStream(input);
    const ack = this.put(input.PartitionKey ?? '', input.Data ?? new Uint8Array(0), input.ExplicitHashKey);
    return { ShardId: ack.shardId, SequenceNumber: ack.sequenceNumber, ...META };
  }

  private openShard(shardId: string): ShardState {
    const shard = this.shards.get(shardId);
    if (shard === undefined || shard.endingSeq !== undefined) throw new InvalidArgumentException({ message: `${shardId} is not an open shard`, ...META });
    return shard;
  }

  private close(shard: ShardState): void {
    shard.endingSeq = this.nextSeq();
    shard.closedAt = this.clock.now();
  }

  private addShard(init: { startHash: bigint; endHash: bigint; parentShardId?: string; adjacentParentShardId?: string }): ShardState {
    const shard: ShardState = {
      shardId: `shardId-${String(this.nextShardNumber++).padStart(12, '0')}`,
      ...init,
      startingSeq: this.nextSeq(),
      createdAt: this.clock.now(),
      records: [],
      children: [],
    };
    this.shards.set(shard.shardId, shard);
    return shard;
  }

  private nextSeq(): bigint {
    this.lastSeq += 1n;
    return this.lastSeq;
  }
}
