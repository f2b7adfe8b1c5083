/**
 * `toLambdaHandler`: runs a {@link ShardRecordProcessor} — the same one a Worker runs — as a
 * Lambda handler for Kinesis events, with the checkpointer mapped to the partial batch
 * response (`ReportBatchItemFailures`).
 *
 * Per shard in the event, per invocation: a new processor from the factory, `initialize`,
 * one `processRecords` with every (deaggregated) record, then `shutdownRequested` — the
 * invocation is a holding that ends, so a buffering processor flushes and checkpoints there.
 * The response names the first record after the last checkpoint as the failure, so Lambda
 * resumes right there; a shard whose records are all checkpointed reports nothing.
 * `leaseLost` and `shardEnded` are never called: Lambda has no leases and handles the end of
 * a shard itself.
 * @module
 */
import {
  AbortError,
  assertClock,
  assertLogger,
  compareExtended,
  extended,
  silentLogger,
  systemClock,
  type Clock,
  type ExtendedSequenceNumber,
  type Logger,
  type ShardRecordProcessorFactory,
} from '@kcl-ts/processor';
import { errorSummary } from '../errors.js';
import { checkInteger, checkObject } from '../options.js';
import { LambdaCheckpointer } from './checkpointer.js';
import { decodeEvent, type LambdaBatchResponse, type LambdaKinesisEvent, type ShardRecords } from './event.js';

/** How far Lambda may advance when a processor returns. */
export type LambdaAdvance = 'checkpoint' | 'processed';

/** Options of {@link toLambdaHandler}. */
export interface LambdaHandlerOptions {
  /**
   * - `checkpoint` (default): Lambda advances to the last checkpoint, exactly as a Worker's
   *   next owner resumes there. Records after it are reported as failed and delivered again.
   *   A processor that never checkpoints is redelivered its batch forever (until the event
   *   source mapping's retry limit): checkpoint, or use `processed`.
   * - `processed`: a batch whose `processRecords` returned counts as done, as if it ended with
   *   `checkpoint()`; only a batch that threw is cut at its last checkpoint.
   * @default 'checkpoint'
   */
  readonly advanceOn?: LambdaAdvance;
  /**
   * The batch's `signal` aborts this many ms before the invocation's deadline
   * (`context.getRemainingTimeInMillis()`), leaving time to answer. @default 1000
   */
  readonly timeoutMarginMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Errors of processors are logged here (record content never above `debug`). @default silent */
  readonly logger?: Logger;
}

/** The part of Lambda's `Context` the adapter reads. */
export interface LambdaContextLike {
  getRemainingTimeInMillis?(): number;
  readonly awsRequestId?: string;
}

/** The handler {@link toLambdaHandler} returns; assignable to `KinesisStreamHandler` of `@types/aws-lambda`. */
export type LambdaKinesisHandler = (event: LambdaKinesisEvent, context?: LambdaContextLike) => Promise<LambdaBatchResponse>;

interface ResolvedOptions {
  readonly advanceOn: LambdaAdvance;
  readonly timeoutMarginMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

function resolveOptions(options: LambdaHandlerOptions | undefined): ResolvedOptions {
  const o = checkObject('options', options);
  const advanceOn = o.advanceOn ?? 'checkpoint';
  if (advanceOn !== 'checkpoint' && advanceOn !== 'processed') throw new TypeError(`advanceOn must be 'checkpoint' or 'processed', got ${JSON.stringify(advanceOn)}`);
  const clock = o.clock ?? systemClock;
  assertClock(clock, 'clock');
  const logger = o.logger ?? silentLogger();
  assertLogger(logger, 'logger');
  return { advanceOn, timeoutMarginMs: checkInteger('timeoutMarginMs', o.timeoutMarginMs, 0) ?? 1_000, clock, logger };
}

/**
 * Wraps `processorFactory` as a Lambda handler for a Kinesis event source mapping. Enable
 * `FunctionResponseTypes: ['ReportBatchItemFailures']` on the mapping, or Lambda ignores the
 * response and retries the whole batch whenever the handler reports a failure.
 *
 * ```ts
 * export const handler = toLambdaHandler(batchingProcessorFactory({ sink, transform }));
 * ```
 * @throws TypeError naming the bad option.
 */
export function toLambdaHandler(processorFactory: ShardRecordProcessorFactory, options?: LambdaHandlerOptions): LambdaKinesisHandler {
  if (typeof processorFactory !== 'function') throw new TypeError(`processorFactory must be a function, got ${processorFactory === null ? 'null' : typeof processorFactory}`);
  const config = resolveOptions(options);
  return async (event, context) => {
    const shards = decodeEvent(event, config.logger);
    const deadline = new AbortController();
    const stopTimer = new AbortController();
    const remaining = context?.getRemainingTimeInMillis?.();
    if (remaining !== undefined) {
      config.clock.sleep(Math.max(0, remaining - config.timeoutMarginMs), stopTimer.signal).then(
        () => deadline.abort(new AbortError('the Lambda invocation is about to time out')),
        () => undefined,
      );
    }
    try {
      const failures = await Promise.all(shards.map((shard) => runShard(shard, processorFactory, config, deadline.signal)));
      return { batchItemFailures: failures.flatMap((f) => (f === undefined ? [] : [{ itemIdentifier: f }])) };
    } finally {
      stopTimer.abort();
    }
  };
}

/** Runs one shard's records through a new processor; returns the sequence number to resume at, if any. */
async function runShard(shard: ShardRecords, factory: ShardRecordProcessorFactory, config: ResolvedOptions, signal: AbortSignal): Promise<string | undefined> {
  const { shardId, streamName, records } = shard;
  const log = config.logger.child({ component: 'lambda-adapter', shardId });
  if (records.length === 0) return undefined; // only empty aggregates: nothing to process
  const checkpointer = new LambdaCheckpointer(shardId, records);
  let returned = false;
  try {
    const processor = await factory(shardId, { shardId, streamName, streamIdentifier: streamName });
    await processor.initialize({ shardId, streamName, streamIdentifier: streamName, extendedSequenceNumber: extended('TRIM_HORIZON') });
    checkpointer.beginProcessing();
    try {
      await processor.processRecords({ records, checkpointer, shardId, streamName, streamIdentifier: streamName, signal });
      returned = true;
    } catch (error) {
      log.debug({ err: error }, 'processRecords error in full');
      log.error({ error: errorSummary(error), records: records.length, first: records[0]!.sequenceNumber }, 'processRecords threw; the records after the last checkpoint are reported as failed');
    } finally {
      checkpointer.endProcessing(returned);
    }
    try {
      await processor.shutdownRequested?.({ shardId, checkpointer });
    } catch (error) {
      log.error({ error: errorSummary(error) }, 'shutdownRequested threw; the records after the last checkpoint are reported as failed');
    }
  } catch (error) {
    log.error({ error: errorSummary(error) }, 'the processor could not be created or initialized; the whole batch of this shard is reported as failed');
  } finally {
    checkpointer.revoke();
  }
  const done: ExtendedSequenceNumber = returned && config.advanceOn === 'processed' ? extended(records.at(-1)!.sequenceNumber, records.at(-1)!.subSequenceNumber ?? 0) : checkpointer.lastCheckpoint;
  const next = records.find((r) => compareExtended(extended(r.sequenceNumber, r.subSequenceNumber ?? 0), done) > 0);
  if (next !== undefined) log.info({ resumeAt: next.sequenceNumber, checkpoint: done.sequenceNumber }, 'reporting a partial batch failure');
  return next?.sequenceNumber;
}
