/**
 * Registration of an enhanced fan-out stream consumer (RegisterStreamConsumer), idempotent
 * across a fleet that starts at once, waiting until the consumer is ACTIVE.
 * @module
 */
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  type Consumer,
  type ConsumerDescription,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import {
  awsErrorName,
  classifyAwsError,
  DependencyError,
  exponentialDelay,
  InvalidStateError,
  ResourceNotFoundError,
  silentLogger,
  systemClock,
  toAbortError,
  withRetries,
  type Clock,
  type Logger,
} from '@kcl-ts/processor';
import { errorText } from './shard-records.js';

/** The calls a registration makes; a `KinesisClient` fits. */
export type StreamConsumerClient = Pick<KinesisClient, 'send'>;

/** What {@link registerStreamConsumer} needs. */
export interface StreamConsumerRegistrationOptions {
  /** Any Kinesis client (HTTP/1.1 is fine: these are plain request/response calls). */
  readonly kinesisClient: StreamConsumerClient;
  /** The stream, by name (its ARN is looked up with DescribeStreamSummary) or ARN. */
  readonly stream: { readonly streamName: string } | { readonly streamArn: string };
  /** The consumer's name (the Worker uses `retrieval.fanOut.consumerName`, by default the application name). */
  readonly consumerName: string;
  /** How long to wait for the consumer to become ACTIVE before failing with a clear error. */
  readonly timeoutMs: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
  /** Abandons the registration (the Worker's shutdown). */
  readonly signal?: AbortSignal;
  /** Source of randomness for backoff jitter (tests). @default Math.random */
  readonly random?: () => number;
}

/** A registered, ACTIVE stream consumer. */
export interface RegisteredStreamConsumer {
  readonly consumerArn: string;
  readonly consumerName: string;
  readonly streamArn: string;
}

/** First pause between two DescribeStreamConsumer calls while the consumer is not ACTIVE; doubles up to {@link MAX_POLL_MS}. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5_000;

/**
 * Registers the consumer `consumerName` on the stream and waits until it is ACTIVE.
 *
 * Idempotent: when the consumer exists already (a peer registered it first, or a previous run
 * did), RegisterStreamConsumer answers `ResourceInUseException` and the existing consumer is
 * described instead. A consumer in DELETING is waited out and registered again once gone.
 * The consumer is never deregistered by kcl-ts (`kcl consumers deregister` does it).
 *
 * @throws InvalidStateError when the consumer is still not ACTIVE after `timeoutMs` (the message
 *   says what to do); `ResourceNotFoundError` for a missing stream; `DependencyError` when a call
 *   fails for good (access denied, the 20-consumers-per-stream limit until the deadline...).
 */
export async function registerStreamConsumer(options: StreamConsumerRegistrationOptions): Promise<RegisteredStreamConsumer> {
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? silentLogger()).child({ component: 'stream-consumer-registration', consumerName: options.consumerName });
  const client = options.kinesisClient;
  const { consumerName, timeoutMs } = options;
  const deadline = new AbortController();
  const timer = new AbortController();
  void clock.sleep(timeoutMs, timer.signal).then(
    () => deadline.abort(new Error('deadline')),
    () => undefined,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  const label = 'streamName' in options.stream ? options.stream.streamName : options.stream.streamArn;
  let lastStatus: string | undefined;
  let lastError: unknown;

  const call = <T>(operation: string, fn: () => Promise<T>): Promise<T> =>
    withRetries(operation, fn, {
      clock,
      signal,
      maxRetries: 10,
      maxThrottleRetries: Number.POSITIVE_INFINITY,
      baseDelayMs: 100,
      maxDelayMs: 2_000,
      random: options.random,
      logger: log,
      onRetry: (_kind, error) => {
        lastError = error;
      },
    });

  const describe = async (streamArn: string): Promise<ConsumerDescription | undefined> => {
    try {
      const out = await call('DescribeStreamConsumer', () => client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName })));
      return out.ConsumerDescription;
    } catch (error) {
      if (classifyAwsError(error) === 'not-found') return undefined;
      throw error;
    }
  };

  /** Registers, or describes the consumer that exists already; undefined if neither worked yet. */
  const registerOrDescribe = async (streamArn: string): Promise<Consumer | ConsumerDescription | undefined> => {
    try {
      const out = await call('RegisterStreamConsumer', () => client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName })));
      log.info({ streamArn }, 'registered the stream consumer');
      return out.Consumer;
    } catch (error) {
      if (classifyAwsError(error) !== 'in-use') throw error;
      // It exists (a peer registered it, or it is being deleted), or the stream is UPDATING.
      lastError = error;
      return describe(streamArn);
    }
  };

  try {
    const streamArn = 'streamArn' in options.stream ? options.stream.streamArn : await describeStreamArn(options.stream.streamName, call, client);
    let consumer = await registerOrDescribe(streamArn);
    for (let round = 0; ; round++) {
      const status = consumer?.ConsumerStatus;
      if (status === 'ACTIVE' && consumer?.ConsumerARN) {
        log.debug({ consumerArn: consumer.ConsumerARN }, 'the stream consumer is ACTIVE');
        return { consumerArn: consumer.ConsumerARN, consumerName, streamArn };
      }
      lastStatus = status;
      await clock.sleep(exponentialDelay(round, FIRST_POLL_MS, MAX_POLL_MS), signal);
      // Gone (it was DELETING, or the stream was UPDATING): register it again.
      consumer = (await describe(streamArn)) ?? (await registerOrDescribe(streamArn));
    }
  } catch (error) {
    if (options.signal?.aborted) throw toAbortError(options.signal, error);
    if (deadline.signal.aborted) throw deadlineError(consumerName, label, timeoutMs, lastStatus, lastError);
    switch (classifyAwsError(error)) {
      case 'not-found':
        throw new ResourceNotFoundError('stream', label, `stream ${label} was not found while registering the fan-out consumer ${consumerName}: ${errorText(error)}`, { cause: error });
      default:
        throw new DependencyError(
          'kinesis',
          'RegisterStreamConsumer',
          `registering the fan-out consumer ${consumerName} of stream ${label} failed: ${errorText(error)}${hint(error)}`,
          { cause: error },
        );
    }
  } finally {
    timer.abort();
  }
}

async function describeStreamArn(
  streamName: string,
  call: <T>(operation: string, fn: () => Promise<T>) => Promise<T>,
  client: StreamConsumerClient,
): Promise<string> {
  const out = await call('DescribeStreamSummary', () => client.send(new DescribeStreamSummaryCommand({ StreamName: streamName })));
  const arn = out.StreamDescriptionSummary?.StreamARN;
  if (!arn) throw new DependencyError('kinesis', 'DescribeStreamSummary', `DescribeStreamSummary returned no StreamARN for ${streamName}`);
  return arn;
}

/** The error for a consumer that did not become ACTIVE in time: says what to do. */
function deadlineError(consumerName: string, stream: string, timeoutMs: number, status: string | undefined, lastError: unknown): Error {
  const base = `the fan-out consumer ${consumerName} of stream ${stream} did not become ACTIVE within ${timeoutMs} ms (fanOut.registrationTimeoutMs)`;
  switch (status) {
    case 'DELETING':
      return new InvalidStateError(
        `${base}: it is DELETING (it was deregistered). Wait until \`kcl consumers list --stream ${stream}\` no longer shows it and start again, or choose another retrieval.fanOut.consumerName.`,
      );
    case 'CREATING':
      return new InvalidStateError(
        `${base}: it is still CREATING. Start again later or raise fanOut.registrationTimeoutMs; if it stays CREATING, deregister it (\`kcl consumers deregister --stream ${stream} --name ${consumerName}\`) and start again.`,
      );
    default:
      return new DependencyError(
        'kinesis',
        'RegisterStreamConsumer',
        `${base}${status ? ` (status ${status})` : ''}${lastError ? `; last error: ${errorText(lastError)}${hint(lastError)}` : ''}`,
        { cause: lastError, retryable: true },
      );
  }
}

function hint(error: unknown): string {
  switch (awsErrorName(error)) {
    case 'LimitExceededException':
      return ' (a stream has at most 20 registered consumers, and RegisterStreamConsumer is limited to 5 calls per second per account: see `kcl consumers list`)';
    case 'AccessDeniedException':
      return ' (fan-out needs kinesis:RegisterStreamConsumer, kinesis:DescribeStreamConsumer, kinesis:DescribeStreamSummary and kinesis:SubscribeToShard: see docs/operations.md)';
    default:
      return '';
  }
}
