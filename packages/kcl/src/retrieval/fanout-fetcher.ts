/**
 * Enhanced fan-out retrieval of one shard: SubscribeToShard event streams read into the same
 * bounded prefetch queue as polling.
 * @module
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  SubscribeToShardCommand,
  type KinesisClient,
  type StartingPosition,
  type SubscribeToShardCommandOutput,
  type SubscribeToShardEvent,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import type { HashKeyRange } from '@kcl-ts/leases';
import {
  backoffDelay,
  classifyAwsError,
  raceAbort,
  DependencyError,
  InvalidStateError,
  ResourceNotFoundError,
  ShutdownError,
  silentLogger,
  systemClock,
  withRetries,
  type AwsErrorKind,
  type Clock,
  type Logger,
} from '@kcl-ts/processor';
import type { RetrievalConfig } from './options.js';
import type { PrefetchBudget } from './prefetch-budget.js';
import { prefetchBoundsOf, PrefetchQueue } from './prefetcher.js';
import { errorText, resolveShardStart, toChildShards, UserRecordConverter, type ShardStart } from './shard-records.js';
import type { RecordsBatch, RetrievalStats, StartPosition } from './types.js';

/** The one call a {@link FanOutRecordsFetcher} makes: a `KinesisClient` fits (HTTP/2 on AWS). */
export interface SubscribeToShardClient {
  send(command: SubscribeToShardCommand, options?: { abortSignal?: AbortSignal }): Promise<SubscribeToShardCommandOutput>;
}

/**
 * Why a subscription was (re)started:
 * - `initial`: the first subscription of this fetcher;
 * - `stream-ended`: the event stream ended normally (AWS ends it about every 5 minutes);
 * - `stream-failed`: the event stream failed (network error, `InternalFailure` event…);
 * - `resumed`: a reader came back after it had stopped waiting (see {@link FanOutRecordsFetcher.next}).
 */
export type SubscriptionReason = 'initial' | 'stream-ended' | 'stream-failed' | 'stream-silent' | 'resumed';

/** Receives the events of a {@link FanOutRecordsFetcher} worth counting (the Worker's metrics). */
export interface FanOutListener {
  /** A SubscribeToShard call succeeded: a new event stream is open. */
  subscribed?(reason: SubscriptionReason): void;
  /** SubscribeToShard answered `ResourceInUseException` (a subscription of the consumer to the shard is still open, or the last one is less than 5 s old), or an open event stream ended with it (a later subscription took it over). */
  resourceInUse?(): void;
  /** SubscribeToShard answered `LimitExceededException` (or another throttling error). */
  limitExceeded?(): void;
}

/** Counters of a {@link FanOutRecordsFetcher}: the polling ones (GetRecords counters stay 0) and the subscription ones. */
export interface FanOutStats extends RetrievalStats {
  /** SubscribeToShard calls started. */
  readonly subscribeCalls: number;
  /** Event streams opened (successful SubscribeToShard calls). */
  readonly subscriptions: number;
  /** `SubscribeToShardEvent`s received. */
  readonly events: number;
  /** `ResourceInUseException` answers, and event streams ended by one (taken over). */
  readonly resourceInUse: number;
}

/** What a {@link FanOutRecordsFetcher} needs. */
export interface FanOutRecordsFetcherDeps {
  /** The client for SubscribeToShard (HTTP/2 against AWS; HTTP/1.1 works against the Kinesis Mock). Never destroyed by the fetcher. */
  readonly kinesisClient: SubscribeToShardClient;
  /** The registered stream consumer (`RegisterStreamConsumer`), ACTIVE. */
  readonly consumerArn: string;
  /** The shard to read. */
  readonly shardId: string;
  /** The shard's hash-key range; aggregated user records of other shards are dropped. A malformed range throws a `TypeError`. */
  readonly hashKeyRange?: HashKeyRange;
  /** Where to start (the lease's checkpoint). */
  readonly start: StartPosition;
  /** Resolved retrieval options: the prefetch bounds, `maxRetries` and the backoff apply. */
  readonly config: RetrievalConfig;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
  /** Source of randomness for backoff jitter (tests). @default Math.random */
  readonly random?: () => number;
  /** Queue events with no records too (`RecordSourceRequest.emptyBatches`). @default false */
  readonly deliverEmptyBatches?: boolean;
  /** A prefetch memory budget shared with the worker's other shards. */
  readonly budget?: PrefetchBudget;
  /** Counts subscriptions and SubscribeToShard errors. */
  readonly listener?: FanOutListener;
  /**
   * Shard-end probe, for endpoints that never send the final event with `ChildShards` (the
   * Kinesis Mock 0.6.2 goes on sending empty events for a closed shard): while the shard is
   * idle at the tip, one GetShardIterator + GetRecords (limit 1) after the last event's
   * continuation every `shardEndProbeIntervalMs` tells whether the shard is closed and fully
   * read. Without it, a closed shard ends only through the final event, as on AWS.
   */
  readonly shardEndProbe?: {
    /** Any Kinesis client (HTTP/1.1 is fine). */
    readonly kinesisClient: Pick<KinesisClient, 'send'>;
    /** The stream, by name or ARN. */
    readonly stream: { readonly streamName: string } | { readonly streamArn: string };
    /** @default 10_000 */
    readonly intervalMs?: number;
  };
}

/** Kinesis refuses a SubscribeToShard of a consumer to a shard within 5 s of the previous one; this spacing keeps us at one per second. */
export const MIN_SUBSCRIBE_SPACING_MS = 1_000;

/**
 * How long an open event stream may stay silent while the fetcher waits for its next event
 * before it is closed and the shard subscribed again from the last event received. Kinesis
 * sends events on an idle shard too; a stream that sends nothing for this long is dead (a
 * connection lost without a reset), and waiting on it would stall the shard while its lease
 * is renewed. The Java KCL restarts a subscription after the same 60 s without a response.
 */
export const MAX_EVENT_SILENCE_MS = 60_000;

/** {@link FanOutRecordsFetcher.nextEvent}'s answer when the stream stayed silent. */
const SILENT = Symbol('silent');

/** How one event stream ended. */
type StreamOutcome = { readonly kind: 'shard-end' } | { readonly kind: 'ended' } | { readonly kind: 'silent' } | { readonly kind: 'failed'; readonly error: unknown; readonly progressed: boolean };

/**
 * Reads one shard through enhanced fan-out: one SubscribeToShard event stream at a time,
 * pushed by Kinesis, into a bounded prefetch queue (the `RecordSource` a `ShardConsumer` reads).
 *
 * - Starts at the lease's checkpoint (`AT_SEQUENCE_NUMBER` plus the drop filter of the shared
 *   start rules, which resumes inside a KPL aggregate) or at the initial position.
 * - When an event stream ends (AWS ends each after about 5 minutes), resubscribes
 *   `AFTER_SEQUENCE_NUMBER` the `ContinuationSequenceNumber` of the last event received: every
 *   received event is queued (never dropped), so there is no gap and no duplicate.
 * - At most one SubscribeToShard per second. `ResourceInUseException` (the previous owner's
 *   subscription is still open, e.g. after a failover) and throttling (`LimitExceededException`)
 *   are retried without limit with backoff; other transient failures up to `maxRetries` times
 *   in a row without an event in between.
 * - Backpressure: while the queue is at a per-shard bound or the worker-wide budget, the event
 *   stream's iterator is not pulled, so HTTP flow control holds Kinesis back.
 * - The last event of a closed shard (no continuation, with `ChildShards`) becomes the
 *   shard-end batch.
 * - `stop()` aborts the SubscribeToShard request, closing the event stream at once.
 */
export class FanOutRecordsFetcher {
  private readonly client: SubscribeToShardClient;
  private readonly consumerArn: string;
  private readonly shardId: string;
  private readonly start_: StartPosition;
  private readonly config: RetrievalConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly deliverEmptyBatches: boolean;
  private readonly listener: FanOutListener;
  private readonly probe: FanOutRecordsFetcherDeps['shardEndProbe'];
  private readonly converter: UserRecordConverter;
  private readonly controller = new AbortController();
  private readonly queue: PrefetchQueue;
  private readonly counters: { -readonly [K in keyof FanOutStats]: FanOutStats[K] } = {
    getRecordsCalls: 0,
    getRecordsTimeMs: 0,
    getRecordsFailures: 0,
    throttled: 0,
    expiredIterators: 0,
    recordsFetched: 0,
    bytesFetched: 0,
    subscribeCalls: 0,
    subscriptions: 0,
    events: 0,
    resourceInUse: 0,
  };
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private lastSubscribeStart = Number.NEGATIVE_INFINITY;
  /** `ContinuationSequenceNumber` of the last event received (and queued). */
  private continuation: string | undefined;
  /** Aborts the current event stream's request (suspension); the fetcher's own signal aborts it too. */
  private subscription: AbortController | undefined;
  /** When the shard-end probe may run next (clock `elapsed()`). */
  private nextProbeAt: number;
  /** Set while no reader waits: the event stream is closed until the next `next()`. */
  private suspended: { readonly promise: Promise<void>; readonly resume: () => void } | undefined;

  constructor(deps: FanOutRecordsFetcherDeps) {
    if (typeof deps.consumerArn !== 'string' || deps.consumerArn.length === 0) throw new TypeError(`consumerArn must be a consumer ARN, got ${JSON.stringify(deps.consumerArn)}`);
    this.client = deps.kinesisClient;
    this.consumerArn = deps.consumerArn;
    this.shardId = deps.shardId;
    this.start_ = deps.start;
    this.config = deps.config;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.deliverEmptyBatches = deps.deliverEmptyBatches ?? false;
    this.listener = deps.listener ?? {};
    this.probe = deps.shardEndProbe;
    this.nextProbeAt = this.clock.elapsed() + (deps.shardEndProbe?.intervalMs ?? 10_000);
    this.log = (deps.logger ?? silentLogger()).child({ component: 'fanout-fetcher', shardId: deps.shardId });
    this.converter = new UserRecordConverter(deps.hashKeyRange, this.log, this.clock);
    this.queue = new PrefetchQueue(
      prefetchBoundsOf(deps.config),
      undefined,
      deps.budget,
    );
    resolveShardStart(this.start_); // validates the start position
  }

  /** Counters of this fetcher (live view). */
  get stats(): FanOutStats {
    return this.counters;
  }

  /** Starts the background subscription loop. Idempotent; does nothing after {@link FanOutRecordsFetcher.stop}. */
  start(): void {
    if (this.loop !== undefined || this.stopping !== undefined) return;
    this.loop = this.run();
  }

  /**
   * The next batch (one event's records), in shard order; waits while none is ready. Rejects
   * like the polling fetcher's: the fetch error once reading failed for good
   * (`ResourceNotFoundError` for a vanished shard, stream or consumer), `InvalidStateError` after
   * the shard-end batch, `ShutdownError` after `stop()`, an `AbortError` when `signal` aborts.
   *
   * A reader that gives up (its `signal` aborts: the consumer is stopping, its lease was lost)
   * also closes the event stream at once, so it neither goes on delivering nor keeps the
   * shard's subscription from the next owner; the next call subscribes again from where the
   * last event left off (nothing is lost).
   */
  next(signal?: AbortSignal): Promise<RecordsBatch> {
    this.start();
    this.resume();
    const batch = this.queue.take(signal);
    if (signal !== undefined) {
      batch.catch(() => {
        if (signal.aborted) this.suspend();
      });
    }
    return batch;
  }

  /** Cancels the subscription (aborting its request) and rejects pending `next()` calls. Idempotent. */
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
    try {
      const start = resolveShardStart(this.start_);
      if (start === undefined) {
        // Checkpointed SHARD_END: nothing to read.
        this.queue.put({ records: [], shardEnded: true, bytes: 0 });
        this.queue.close(this.endedError());
        return;
      }
      this.converter.drop = start.drop;
      let reason: SubscriptionReason = 'initial';
      let failures = 0;
      for (;;) {
        if (this.suspended !== undefined) {
          await raceAbort(this.suspended.promise, signal);
          reason = 'resumed';
        }
        const position = this.position(start);
        const subscription = new AbortController();
        this.subscription = subscription;
        const streamSignal = AbortSignal.any([signal, subscription.signal]);
        let outcome: StreamOutcome;
        try {
          const stream = await this.subscribe(position, streamSignal);
          this.counters.subscriptions++;
          this.listener.subscribed?.(reason);
          this.log.debug({ reason, position }, 'subscribed to the shard');
          outcome = await this.consume(stream, streamSignal);
        } catch (err) {
          if (signal.aborted || !subscription.signal.aborted) throw err;
          continue; // suspended while subscribing
        } finally {
          // Closes this event stream's request, whatever ended it.
          subscription.abort(new ShutdownError('the event stream was closed'));
        }
        if (outcome.kind === 'shard-end') return;
        if (signal.aborted) return;
        if (this.suspended !== undefined) continue;
        if (outcome.kind === 'ended') {
          reason = 'stream-ended';
          failures = 0;
          continue;
        }
        if (outcome.kind === 'silent') {
          this.log.warn({ silentMs: MAX_EVENT_SILENCE_MS }, 'the event stream sent nothing for too long; subscribing again after the last event received');
          reason = 'stream-silent';
          continue;
        }
        failures = outcome.progressed ? 1 : failures + 1;
        const kind = classifyStreamError(outcome.error);
        if (kind !== 'throttled' && kind !== 'transient') throw this.translate(outcome.error, kind);
        // A ResourceInUseException event: a later subscription to the shard took this one over.
        if (classifyAwsError(outcome.error) === 'in-use') this.resourceInUse();
        else if (kind === 'throttled') this.throttled();
        else if (failures > this.config.maxRetries) throw this.translate(outcome.error, kind);
        this.log.info({ err: outcome.error, failures }, 'the event stream failed; resubscribing after the last event received');
        reason = 'stream-failed';
        await this.clock.sleep(backoffDelay(failures - 1, this.config.retryBaseDelayMs, this.config.retryMaxDelayMs, this.random), signal);
      }
    } catch (err) {
      if (signal.aborted) return;
      this.log.warn({ err }, 'record fetching failed');
      this.queue.close(err instanceof Error ? err : new DependencyError('kinesis', 'SubscribeToShard', String(err), { cause: err }));
    }
  }

  /** Where the next subscription starts: after the last event received, or at the start position. */
  private position(start: ShardStart): StartingPosition {
    if (this.continuation !== undefined) return { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.continuation };
    switch (start.type) {
      case 'AT_SEQUENCE_NUMBER':
        return { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: start.sequenceNumber };
      case 'AT_TIMESTAMP':
        return { Type: 'AT_TIMESTAMP', Timestamp: start.timestamp };
      default:
        return { Type: start.type };
    }
  }

  /** One SubscribeToShard through the one retry layer, at most one per {@link MIN_SUBSCRIBE_SPACING_MS}. */
  private async subscribe(position: StartingPosition, signal: AbortSignal): Promise<AsyncIterable<SubscribeToShardEventStream>> {
    try {
      return await withRetries(
        'SubscribeToShard',
        async () => {
          const wait = this.lastSubscribeStart + MIN_SUBSCRIBE_SPACING_MS - this.clock.elapsed();
          if (wait > 0) await this.clock.sleep(wait, signal);
          this.lastSubscribeStart = this.clock.elapsed();
          this.counters.subscribeCalls++;
          // A per-call signal (not `raceAbort`): the event stream lives on after the call
          // resolves, and aborting its request is what closes it.
          const output = await this.client.send(new SubscribeToShardCommand({ ConsumerARN: this.consumerArn, ShardId: this.shardId, StartingPosition: position }), { abortSignal: signal });
          if (output.EventStream === undefined) throw new DependencyError('kinesis', 'SubscribeToShard', `SubscribeToShard returned no event stream for shard ${this.shardId}`, { retryable: true });
          return output.EventStream;
        },
        {
          clock: this.clock,
          signal,
          maxRetries: this.config.maxRetries,
          maxThrottleRetries: Number.POSITIVE_INFINITY,
          // ResourceInUse: the previous subscription (ours, or the previous owner's) is still
          // open; it closes within 5 minutes at most, so wait for it like for throttling.
          classify: (error) => {
            const kind = classifyAwsError(error);
            if (kind === 'in-use') {
              this.resourceInUse();
              return 'throttled';
            }
            if (kind === 'throttled') this.throttled();
            return kind;
          },
          baseDelayMs: this.config.retryBaseDelayMs,
          maxDelayMs: this.config.retryMaxDelayMs,
          random: this.random,
          logger: this.log,
        },
      );
    } catch (err) {
      if (signal.aborted) throw err;
      throw this.translate(err, classifyAwsError(err));
    }
  }

  /** Reads one event stream into the queue, pulling only while the queue has room. */
  private async consume(stream: AsyncIterable<SubscribeToShardEventStream>, signal: AbortSignal): Promise<StreamOutcome> {
    const iterator = stream[Symbol.asyncIterator]();
    let progressed = false;
    try {
      for (;;) {
        if (this.queue.isFull()) await this.queue.waitForSpace(signal);
        const result = await this.nextEvent(iterator, signal);
        if (result === SILENT) return { kind: 'silent' };
        if (result.done === true) return { kind: 'ended' };
        const event = result.value;
        if (event.SubscribeToShardEvent !== undefined) {
          progressed = true;
          if (this.onEvent(event.SubscribeToShardEvent)) return { kind: 'shard-end' };
          if (this.probeDue(event.SubscribeToShardEvent) && (await this.probeShardEnd(signal))) return { kind: 'shard-end' };
          continue;
        }
        // An exception member of the event stream (the SDK usually throws these instead).
        const [name, value] = Object.entries(event).find(([, v]) => v !== undefined) ?? ['$unknown', undefined];
        const error = value instanceof Error ? value : Object.assign(new Error(`${name} in the SubscribeToShard event stream`), { name });
        return { kind: 'failed', error, progressed };
      }
    } catch (error) {
      return { kind: 'failed', error, progressed };
    } finally {
      // Ends the event stream we stop reading (its request is aborted with the fetcher).
      void Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => undefined);
    }
  }

  /** The stream's next event, or {@link SILENT} when none came within {@link MAX_EVENT_SILENCE_MS}. */
  private async nextEvent(iterator: AsyncIterator<SubscribeToShardEventStream>, signal: AbortSignal): Promise<IteratorResult<SubscribeToShardEventStream> | typeof SILENT> {
    const answered = new AbortController();
    // Ended in `finally` whatever settles first (the signal's abort settles the race too).
    const silence = this.clock.sleep(MAX_EVENT_SILENCE_MS, answered.signal).then(
      (): typeof SILENT => SILENT,
      () => new Promise<never>(() => undefined),
    );
    try {
      return await Promise.race([raceAbort(iterator.next(), signal), silence]);
    } finally {
      answered.abort();
    }
  }

  /** Queues one event's records; true when it was the last event of a closed shard. */
  private onEvent(event: SubscribeToShardEvent): boolean {
    const receivedAt = this.clock.elapsed();
    this.counters.events++;
    const { userRecords, bytes } = this.converter.convert(event.Records ?? []);
    this.counters.bytesFetched += bytes;
    this.counters.recordsFetched += userRecords.length;
    const millisBehindLatest = event.MillisBehindLatest;
    if (millisBehindLatest !== undefined) this.counters.lastMillisBehindLatest = millisBehindLatest;
    const continuation = event.ContinuationSequenceNumber;
    const shardEnded = continuation === undefined || continuation === null;
    if (userRecords.length > 0 || shardEnded || this.deliverEmptyBatches) {
      const childShards = shardEnded ? toChildShards(event.ChildShards) : undefined;
      this.queue.put({
        records: userRecords,
        shardEnded,
        bytes,
        receivedAt,
        ...(millisBehindLatest !== undefined && { millisBehindLatest }),
        ...(childShards !== undefined && { childShards }),
      });
    }
    if (shardEnded) {
      this.log.info({ childShards: event.ChildShards?.map((c) => c.ShardId) }, 'reached the end of the shard');
      this.queue.close(this.endedError());
      return true;
    }
    this.continuation = continuation;
    return false;
  }

  /** True when an idle event at the tip makes the shard-end probe due. */
  private probeDue(event: SubscribeToShardEvent): boolean {
    if (this.probe === undefined || (event.Records?.length ?? 0) > 0 || (event.MillisBehindLatest ?? 0) > 0) return false;
    return this.clock.elapsed() >= this.nextProbeAt;
  }

  /**
   * Reads one record after the last continuation by polling: no record and no next iterator
   * means the shard is closed and fully read, so the shard-end batch is queued (with the
   * `ChildShards` of that response). Best effort: a failed probe is tried again later.
   */
  private async probeShardEnd(signal: AbortSignal): Promise<boolean> {
    const probe = this.probe!;
    this.nextProbeAt = this.clock.elapsed() + (probe.intervalMs ?? 10_000);
    const stream = 'streamArn' in probe.stream ? { StreamARN: probe.stream.streamArn } : { StreamName: probe.stream.streamName };
    try {
      const position = this.continuation === undefined ? undefined : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: this.continuation };
      if (position === undefined) return false;
      const iterator = await raceAbort(probe.kinesisClient.send(new GetShardIteratorCommand({ ...stream, ShardId: this.shardId, ...position })), signal);
      if (!iterator.ShardIterator) return false;
      const page = await raceAbort(probe.kinesisClient.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 1 })), signal);
      if ((page.Records?.length ?? 0) > 0 || page.NextShardIterator) return false;
      const childShards = toChildShards(page.ChildShards);
      this.log.info({ childShards: page.ChildShards?.map((c) => c.ShardId) }, 'reached the end of the shard (found by the shard-end probe)');
      this.queue.put({ records: [], shardEnded: true, bytes: 0, ...(childShards !== undefined && { childShards }) });
      this.queue.close(this.endedError());
      return true;
    } catch (err) {
      if (signal.aborted) throw err;
      this.log.debug({ err }, 'the shard-end probe failed; trying again later');
      return false;
    }
  }

  /** No reader waits any more: close the event stream until the next `next()`. */
  private suspend(): void {
    if (this.stopping !== undefined || this.suspended !== undefined || this.loop === undefined) return;
    let resume!: () => void;
    const promise = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.suspended = { promise, resume };
    this.subscription?.abort(new ShutdownError('no reader is waiting; the event stream is closed until the next read'));
    this.log.debug('reader stopped waiting; closed the event stream');
  }

  private resume(): void {
    const suspended = this.suspended;
    this.suspended = undefined;
    suspended?.resume();
  }

  private resourceInUse(): void {
    this.counters.resourceInUse++;
    this.listener.resourceInUse?.();
  }

  private throttled(): void {
    this.counters.throttled++;
    this.listener.limitExceeded?.();
  }

  /** The error `next()` reports once reading failed for good. */
  private translate(err: unknown, kind: AwsErrorKind): Error {
    switch (kind) {
      case 'not-found':
        return new ResourceNotFoundError(
          'shard',
          this.shardId,
          `SubscribeToShard: shard ${this.shardId} or consumer ${this.consumerArn} was not found (${errorText(err)}); the stream or consumer was deleted, or the shard is past retention`,
          { cause: err },
        );
      case 'transient':
        return new DependencyError('kinesis', 'SubscribeToShard', `SubscribeToShard failed ${this.config.maxRetries + 1} times in a row on shard ${this.shardId}: ${errorText(err)}`, { cause: err, retryable: true });
      default:
        return new DependencyError('kinesis', 'SubscribeToShard', `SubscribeToShard failed on shard ${this.shardId}: ${errorText(err)}`, { cause: err });
    }
  }

  private endedError(): InvalidStateError {
    return new InvalidStateError(`shard ${this.shardId} has ended: its last batch was already delivered`);
  }
}

/** An event stream failure: `in-use` counts as waiting (like throttling); an unnamed failure of the stream as transient. */
function classifyStreamError(error: unknown): AwsErrorKind {
  const kind = classifyAwsError(error);
  if (kind === 'in-use') return 'throttled';
  if (kind === 'fatal' && isStreamBreak(error)) return 'transient';
  return kind;
}

/** A broken connection or an aborted/ended HTTP stream (errors the SDK does not name as AWS errors). */
function isStreamBreak(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  return (
    (typeof e.code === 'string' && /^(ECONNRESET|EPIPE|ETIMEDOUT|ERR_STREAM_PREMATURE_CLOSE|ERR_HTTP2_STREAM_ERROR|ERR_HTTP2_STREAM_CANCEL|ERR_HTTP2_SESSION_ERROR|ERR_HTTP2_GOAWAY_SESSION)$/.test(e.code)) ||
    e.name === 'InternalFailureException' ||
    e.name === 'TimeoutError'
  );
}
