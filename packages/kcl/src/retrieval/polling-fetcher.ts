/**
 * Polling retrieval of one shard: GetShardIterator + GetRecords in a background loop that
 * prefetches into a bounded queue.
 * @module
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { HashKeyRange } from '@kcl-ts/leases';
import {
  classifyAwsError,
  raceAbort,
  DependencyError,
  InvalidStateError,
  ResourceNotFoundError,
  ShutdownError,
  silentLogger,
  systemClock,
  withRetries,
  type Clock,
  type KinesisClientRecord,
  type Logger,
} from '@kcl-ts/processor';
import type { PrefetchBudget } from './prefetch-budget.js';
import type { RetrievalConfig } from './options.js';
import { prefetchBoundsOf, PrefetchQueue } from './prefetcher.js';
import { atSequence, errorText as message, resolveShardStart, toChildShards, UserRecordConverter, type DropFilter, type ShardStart } from './shard-records.js';
import type { RecordsBatch, RetrievalStats, StartPosition } from './types.js';

/** What a {@link PollingRecordsFetcher} needs. */
export interface PollingRecordsFetcherDeps {
  /** The caller's Kinesis client; never destroyed by the fetcher. */
  readonly kinesisClient: KinesisClient;
  /** The stream, by name or ARN. */
  readonly stream: { readonly streamName: string } | { readonly streamArn: string };
  /** The shard to read. */
  readonly shardId: string;
  /**
   * The shard's hash-key range; when given, aggregated user records of other shards are
   * dropped. A malformed range throws a `TypeError` from the constructor.
   */
  readonly hashKeyRange?: HashKeyRange;
  /** Where to start (the lease's checkpoint). */
  readonly start: StartPosition;
  /** Resolved retrieval options (`resolveRetrievalConfig`). */
  readonly config: RetrievalConfig;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
  /** Source of randomness for backoff jitter (tests). @default Math.random */
  readonly random?: () => number;
  /** Queue batches with no records too (`RecordSourceRequest.emptyBatches`). @default false */
  readonly deliverEmptyBatches?: boolean;
  /** A prefetch memory budget shared with the worker's other shards (`prefetchMaxBytesPerWorker`). */
  readonly budget?: PrefetchBudget;
}

/** How to obtain a shard iterator, and what to drop from what it returns. */
interface IteratorRequest {
  readonly params: Pick<GetShardIteratorCommandInput, 'ShardIteratorType' | 'StartingSequenceNumber' | 'Timestamp'>;
  readonly drop?: DropFilter;
}

/**
 * On a caught-up shard, polls are spaced for about this many records to arrive each (never
 * closer than `idleTimeBetweenReadsMs` nor further than `maxIdleTimeBetweenReadsMs`).
 */
const RECORDS_PER_SPARSE_POLL = 3;

/** Internal signal: GetRecords said the iterator expired. */
class IteratorExpired extends Error {}

/**
 * Reads one shard by polling, in the background, into a bounded prefetch queue.
 *
 * - Starts with GetShardIterator at the start position. For a sequence-number checkpoint it
 *   uses `AT_SEQUENCE_NUMBER` and drops every user record up to and including the checkpoint
 *   (sub-sequence numbers included), which resumes correctly in the middle of a KPL aggregate.
 * - Deaggregates every record, dropping aggregated user records outside the shard's hash-key range.
 * - Polls again at once while the shard is behind (a full batch, or `MillisBehindLatest` > 0),
 *   waits `idleTimeBetweenReadsMs` when caught up, and never starts GetRecords calls closer
 *   than `1000 / maxGetRecordsPerSecond` ms apart.
 * - Pauses while the queue holds `prefetchMaxBatches` batches, `prefetchMaxRecords` records or
 *   `prefetchMaxBytes` bytes. Empty batches are not queued (their `MillisBehindLatest` still
 *   updates {@link PollingRecordsFetcher.stats}); a shard-end batch is, even when empty.
 * - Throttling: backoff with full jitter, retried without limit. 5xx/network: retried up to
 *   `maxRetries` times in a row. Expired iterator: undelivered batches are discarded and
 *   reading resumes right after the last *delivered* record. Missing shard or stream:
 *   `next()` rejects with `ResourceNotFoundError` (the stream was deleted, or the shard is past its retention period).
 *
 * After the shard-end batch has been delivered, `next()` rejects with `InvalidStateError`.
 * After `stop()`, `next()` rejects with `ShutdownError`.
 */
export class PollingRecordsFetcher {
  private readonly client: KinesisClient;
  private readonly streamParams: { StreamName: string } | { StreamARN: string };
  private readonly streamLabel: string;
  private readonly shardId: string;
  private readonly start_: StartPosition;
  private readonly config: RetrievalConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: (() => number) | undefined;
  private readonly deliverEmptyBatches: boolean;
  private readonly converter: UserRecordConverter;
  private readonly backoff: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  private readonly minCallSpacingMs: number;
  private readonly controller = new AbortController();
  private readonly queue: PrefetchQueue;
  private readonly budget: PrefetchBudget | undefined;
  private readonly counters: { -readonly [K in keyof RetrievalStats]: RetrievalStats[K] } = {
    getRecordsCalls: 0,
    getRecordsTimeMs: 0,
    getRecordsFailures: 0,
    throttled: 0,
    expiredIterators: 0,
    recordsFetched: 0,
    bytesFetched: 0,
  };
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private lastDelivered: KinesisClientRecord | undefined;
  private lastCallStart = Number.NEGATIVE_INFINITY;
  private previousCallStart = Number.NEGATIVE_INFINITY;
  /** Smoothed arrival rate of records on a caught-up shard (records per ms); 0 before any. */
  private arrivalsPerMs = 0;
  /** The current idle pause: grows over consecutive empty polls (adaptive idle backoff). */
  private idlePauseMs: number;

  constructor(deps: PollingRecordsFetcherDeps) {
    this.client = deps.kinesisClient;
    this.streamParams = 'streamArn' in deps.stream ? { StreamARN: deps.stream.streamArn } : { StreamName: deps.stream.streamName };
    this.streamLabel = 'streamArn' in deps.stream ? deps.stream.streamArn : deps.stream.streamName;
    this.shardId = deps.shardId;
    this.start_ = deps.start;
    this.config = deps.config;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random;
    this.deliverEmptyBatches = deps.deliverEmptyBatches ?? false;
    this.log = (deps.logger ?? silentLogger()).child({ component: 'polling-fetcher', shardId: deps.shardId });
    this.converter = new UserRecordConverter(deps.hashKeyRange, this.log, this.clock);
    this.backoff = { baseDelayMs: deps.config.retryBaseDelayMs, maxDelayMs: deps.config.retryMaxDelayMs };
    this.minCallSpacingMs = 1000 / deps.config.polling.maxGetRecordsPerSecond;
    this.idlePauseMs = deps.config.polling.idleTimeBetweenReadsMs;
    this.budget = deps.budget;
    this.queue = new PrefetchQueue(
      prefetchBoundsOf(deps.config),
      (batch) => {
        const last = batch.records.at(-1);
        if (last !== undefined) this.lastDelivered = last;
      },
      deps.budget,
    );
    this.initialRequest(); // validates the start position
  }

  /** Counters of this fetcher (live view). */
  get stats(): RetrievalStats {
    return this.counters;
  }

  /** Starts the background fetch loop. Idempotent; does nothing after {@link PollingRecordsFetcher.stop}. */
  start(): void {
    if (this.loop !== undefined || this.stopping !== undefined) return;
    this.loop = this.run();
  }

  /**
   * The next batch, in shard order; waits while none is ready (starting the loop if needed).
   * A batch returned here counts as delivered: an expired iterator resumes after its last record.
   * Rejects with the fetch error once fetching failed for good (`ResourceNotFoundError` for a
   * vanished shard or stream, `DependencyError` otherwise), with `InvalidStateError` after the
   * shard-end batch, with `ShutdownError` after {@link PollingRecordsFetcher.stop}, and with an
   * `AbortError` when `signal` aborts (no batch is lost then).
   */
  next(signal?: AbortSignal): Promise<RecordsBatch> {
    this.start();
    return this.queue.take(signal);
  }

  /** Stops fetching: aborts the in-flight call or sleep and rejects pending `next()` calls. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.controller.abort(new ShutdownError('the record fetcher was stopped'));
      this.queue.clear();
      this.queue.close(new ShutdownError(`the record fetcher of shard ${this.shardId} was stopped`));
      await this.loop;
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const unregister = this.budget?.register();
    let inFlight: (() => void) | undefined;
    try {
      let request = this.initialRequest();
      if (request === undefined) {
        // Checkpointed SHARD_END: the shard was read to its end before; nothing to fetch.
        this.queue.put({ records: [], shardEnded: true, bytes: 0 });
        this.queue.close(this.endedError());
        return;
      }
      let iterator = await this.getIterator(request, signal);
      this.converter.drop = request.drop;
      for (;;) {
        if (this.queue.isFull()) await this.queue.waitForSpace(signal);
        const limit = this.budget?.recordLimit(this.config.polling.maxRecords) ?? this.config.polling.maxRecords;
        // The page in flight counts against the worker's budget from the call until it is queued.
        inFlight = await this.budget?.acquire(this.budget.estimate(limit), signal, () => this.queue.holdsNothing);
        let response: GetRecordsCommandOutput;
        try {
          response = await this.getRecords(iterator, limit, signal);
        } catch (err) {
          inFlight?.();
          if (!(err instanceof IteratorExpired)) throw err;
          this.counters.expiredIterators++;
          const dropped = this.queue.clear();
          request = this.resumeRequest(dropped);
          this.log.info({ droppedBatches: dropped.length, resumeAt: request.params }, 'shard iterator expired; resuming after the last delivered record');
          iterator = await this.getIterator(request, signal);
          this.converter.drop = request.drop;
          continue;
        }
        const records = response.Records ?? [];
        const { userRecords: batchRecords, bytes } = this.converter.convert(records);
        this.budget?.observe(records.length, bytes);
        this.counters.bytesFetched += bytes;
        this.counters.recordsFetched += batchRecords.length;
        const millisBehindLatest = response.MillisBehindLatest;
        if (millisBehindLatest !== undefined) this.counters.lastMillisBehindLatest = millisBehindLatest;
        const shardEnded = response.NextShardIterator === undefined || response.NextShardIterator === null;
        if (batchRecords.length > 0 || shardEnded || this.deliverEmptyBatches) {
          const childShards = shardEnded ? toChildShards(response.ChildShards) : undefined;
          this.queue.put({
            records: batchRecords,
            shardEnded,
            bytes,
            receivedAt: this.clock.elapsed(),
            ...(millisBehindLatest !== undefined && { millisBehindLatest }),
            ...(childShards !== undefined && { childShards }),
          });
        }
        inFlight?.();
        if (shardEnded) {
          this.log.info({ childShards: response.ChildShards?.map((c) => c.ShardId) }, 'reached the end of the shard');
          this.queue.close(this.endedError());
          return;
        }
        iterator = response.NextShardIterator!;
        const behind = records.length >= limit || (millisBehindLatest ?? 0) > 0;
        if (!behind) await this.clock.sleep(this.pauseAfter(records.length), signal);
      }
    } catch (err) {
      if (signal.aborted) return;
      this.log.warn({ err }, 'record fetching failed');
      this.queue.close(err instanceof Error ? err : new DependencyError('kinesis', 'GetRecords', String(err), { cause: err }));
    } finally {
      inFlight?.();
      unregister?.();
    }
  }

  /**
   * The pause before the next call on a caught-up shard (adaptive polling):
   * - after records, long enough for about {@link RECORDS_PER_SPARSE_POLL} records to arrive at
   *   the shard's recent rate, within `[idleTimeBetweenReadsMs, maxIdleTimeBetweenReadsMs]`: a
   *   busy shard keeps the short pause (and its latency), a sparse one is polled less often, so
   *   the shard's 5 calls/s stay shared with other applications and calls bring records;
   * - after an empty poll, the pause doubles (from `idleTimeBetweenReadsMs`), up to the bound.
   */
  private pauseAfter(records: number): number {
    const { idleTimeBetweenReadsMs: base, maxIdleTimeBetweenReadsMs: max } = this.config.polling;
    const interval = this.lastCallStart - this.previousCallStart;
    this.previousCallStart = this.lastCallStart;
    if (records === 0) {
      const pause = this.idlePauseMs;
      this.idlePauseMs = Math.min(max, Math.max(1, pause) * 2);
      this.arrivalsPerMs /= 2;
      return pause;
    }
    // Records per ms over the window this call collected, smoothed over recent polls.
    const rate = records / Math.max(1, Math.min(interval, max));
    this.arrivalsPerMs = this.arrivalsPerMs === 0 ? rate : this.arrivalsPerMs + (rate - this.arrivalsPerMs) / 2;
    this.idlePauseMs = Math.round(Math.min(max, Math.max(base, RECORDS_PER_SPARSE_POLL / this.arrivalsPerMs)));
    return this.idlePauseMs;
  }

  /** The iterator request of the start position; `undefined` for a `SHARD_END` checkpoint. */
  private initialRequest(): IteratorRequest | undefined {
    const start = resolveShardStart(this.start_);
    return start && toIteratorRequest(start);
  }

  /** Where to resume after the iterator expired and `dropped` undelivered batches were discarded. */
  private resumeRequest(dropped: readonly RecordsBatch[]): IteratorRequest {
    const last = this.lastDelivered;
    if (last !== undefined) return toIteratorRequest(atSequence(last.sequenceNumber, last.subSequenceNumber ?? 0));
    // Nothing delivered yet: re-read from the first discarded record (keeping the start
    // position's filter), or from the start position itself.
    const initial = this.initialRequest()!; // not SHARD_END: run() never fetches then
    const first = dropped.find((b) => b.records.length > 0)?.records[0];
    if (first === undefined) return initial;
    return { params: { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: first.sequenceNumber }, ...(initial.drop && { drop: initial.drop }) };
  }

  private async getIterator(request: IteratorRequest, signal: AbortSignal): Promise<string> {
    const output = await this.withRetries('GetShardIterator', signal, () =>
      raceAbort(this.client.send(new GetShardIteratorCommand({ ...this.streamParams, ShardId: this.shardId, ...request.params })), signal),
    );
    if (output.ShardIterator === undefined) {
      throw new DependencyError('kinesis', 'GetShardIterator', `GetShardIterator returned no iterator for shard ${this.shardId}`, { retryable: true });
    }
    return output.ShardIterator;
  }

  private getRecords(iterator: string, limit: number, signal: AbortSignal): Promise<GetRecordsCommandOutput> {
    return this.withRetries('GetRecords', signal, async () => {
      const wait = this.lastCallStart + this.minCallSpacingMs - this.clock.elapsed();
      if (wait > 0) await this.clock.sleep(wait, signal);
      const startedAt = this.clock.elapsed();
      this.lastCallStart = startedAt;
      this.counters.getRecordsCalls++;
      try {
        return await raceAbort(
          this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit, ...('StreamARN' in this.streamParams && this.streamParams) })),
          signal,
        );
      } catch (error) {
        this.counters.getRecordsFailures++;
        throw error;
      } finally {
        this.counters.getRecordsTimeMs += this.clock.elapsed() - startedAt;
      }
    });
  }

  /**
   * Runs `call` through the one retry layer: throttling is retried without limit, transient
   * failures up to `maxRetries` in a row; the final error is translated here.
   */
  private async withRetries<T>(operation: string, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(operation, () => call(), {
        clock: this.clock,
        signal,
        maxRetries: this.config.maxRetries,
        maxThrottleRetries: Number.POSITIVE_INFINITY,
        baseDelayMs: this.backoff.baseDelayMs,
        maxDelayMs: this.backoff.maxDelayMs,
        random: this.random,
        logger: this.log,
        onRetry: (kind) => {
          if (kind === 'throttled') this.counters.throttled++;
        },
      });
    } catch (err) {
      if (signal.aborted) throw err;
      switch (classifyAwsError(err)) {
        case 'transient':
          throw new DependencyError('kinesis', operation, `${operation} failed ${this.config.maxRetries + 1} times in a row on shard ${this.shardId}: ${message(err)}`, { cause: err, retryable: true });
        case 'expired-iterator':
          if (operation === 'GetRecords') throw new IteratorExpired();
          throw new DependencyError('kinesis', operation, `${operation} failed on shard ${this.shardId}: ${message(err)}`, { cause: err });
        case 'not-found':
          throw new ResourceNotFoundError(
            'shard',
            this.shardId,
            `shard ${this.shardId} of stream ${this.streamLabel} was not found (${operation}: ${message(err)}); the stream was deleted, or the shard is past its retention period`,
            { cause: err },
          );
        default:
          throw new DependencyError('kinesis', operation, `${operation} failed on shard ${this.shardId}: ${message(err)}`, { cause: err });
      }
    }
  }

  private endedError(): InvalidStateError {
    return new InvalidStateError(`shard ${this.shardId} has ended: its last batch was already delivered`);
  }
}

/** The GetShardIterator parameters of a resolved start. */
function toIteratorRequest(start: ShardStart): IteratorRequest {
  switch (start.type) {
    case 'AT_SEQUENCE_NUMBER':
      return { params: { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: start.sequenceNumber }, drop: start.drop };
    case 'AT_TIMESTAMP':
      return { params: { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: start.timestamp } };
    default:
      return { params: { ShardIteratorType: start.type } };
  }
}
