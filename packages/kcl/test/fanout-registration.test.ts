/**
 * Stream consumer registration against a stub client on a FakeClock, the fan-out options'
 * validation, and the HTTP/2 check of a given Kinesis client.
 */
import { KinesisClient, ResourceInUseException, ResourceNotFoundException, type ConsumerStatus } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it } from 'vitest';
import { FakeClock, InvalidStateError } from '@kcl-ts/processor';
import { registerStreamConsumer, resolveWorkerConfig, Worker, type WorkerOptions } from '../src/index.js';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';
const CONSUMER_ARN = `${STREAM_ARN}/consumer/billing:1700000000`;

/** A stub of the registration calls: the consumer's status follows `statuses` (one per describe). */
class StubKinesis {
  readonly calls: string[] = [];
  exists = false;
  statuses: (ConsumerStatus | 'GONE')[] = [];
  status: ConsumerStatus | 'GONE' = 'CREATING';

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const op = command.constructor.name.replace(/Command$/, '');
    this.calls.push(op);
    switch (op) {
      case 'DescribeStreamSummary':
        return { StreamDescriptionSummary: { StreamARN: STREAM_ARN } };
      case 'RegisterStreamConsumer':
        if (this.exists) throw new ResourceInUseException({ message: 'Consumer billing exists', $metadata: {} });
        this.exists = true;
        this.status = 'CREATING';
        return { Consumer: { ConsumerName: 'billing', ConsumerARN: CONSUMER_ARN, ConsumerStatus: 'CREATING' } };
      case 'DescribeStreamConsumer': {
        this.status = this.statuses.shift() ?? this.status;
        if (this.status === 'GONE' || !this.exists) {
          this.exists = false;
          throw new ResourceNotFoundException({ message: 'Consumer not found', $metadata: {} });
        }
        return { ConsumerDescription: { ConsumerName: 'billing', ConsumerARN: CONSUMER_ARN, ConsumerStatus: this.status, StreamARN: STREAM_ARN } };
      }
      default:
        throw new Error(`unexpected ${op}`);
    }
  }
}

/** Runs `promise` to its end, moving the fake clock on in steps. */
async function drive<T>(clock: FakeClock, promise: Promise<T>, stepMs = 250, maxMs = 600_000): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined);
  for (let t = 0; t <= maxMs && !settled; t += stepMs) await clock.advance(stepMs);
  return tracked;
}

describe('registerStreamConsumer (stub client, fake clock)', () => {
  it('registers, looks the stream ARN up by name, and waits for ACTIVE', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis();
    stub.statuses = ['CREATING', 'CREATING', 'ACTIVE'];
    const result = await drive(clock, registerStreamConsumer({ kinesisClient: stub as never, stream: { streamName: 'orders' }, consumerName: 'billing', timeoutMs: 60_000, clock }));
    expect(result).toEqual({ consumerArn: CONSUMER_ARN, consumerName: 'billing', streamArn: STREAM_ARN });
    expect(stub.calls.slice(0, 2)).toEqual(['DescribeStreamSummary', 'RegisterStreamConsumer']);
    expect(stub.calls.filter((c) => c === 'DescribeStreamConsumer')).toHaveLength(3);
  });

  it('is idempotent: ResourceInUseException (a peer registered first) describes the existing consumer', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis();
    stub.exists = true;
    stub.status = 'ACTIVE';
    const result = await drive(clock, registerStreamConsumer({ kinesisClient: stub as never, stream: { streamArn: STREAM_ARN }, consumerName: 'billing', timeoutMs: 60_000, clock }));
    expect(result.consumerArn).toBe(CONSUMER_ARN);
    expect(stub.calls).toEqual(['RegisterStreamConsumer', 'DescribeStreamConsumer']);
  });

  it('registers again once a DELETING consumer is gone', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis();
    stub.exists = true;
    stub.statuses = ['DELETING', 'DELETING', 'GONE', 'ACTIVE'];
    const result = await drive(clock, registerStreamConsumer({ kinesisClient: stub as never, stream: { streamArn: STREAM_ARN }, consumerName: 'billing', timeoutMs: 60_000, clock }));
    expect(result.consumerArn).toBe(CONSUMER_ARN);
    expect(stub.calls.filter((c) => c === 'RegisterStreamConsumer')).toHaveLength(2);
  });

  it('fails with a clear error for a consumer stuck in CREATING past the deadline', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis();
    const failure = drive(clock, registerStreamConsumer({ kinesisClient: stub as never, stream: { streamArn: STREAM_ARN }, consumerName: 'billing', timeoutMs: 10_000, clock }));
    await expect(failure).rejects.toBeInstanceOf(InvalidStateError);
    await expect(failure).rejects.toThrow(/still CREATING.*fanOut\.registrationTimeoutMs.*kcl consumers deregister/s);
  });

  it('fails with a clear error for a consumer stuck in DELETING past the deadline', async () => {
    const clock = new FakeClock();
    const stub = new StubKinesis();
    stub.exists = true;
    stub.status = 'DELETING';
    const failure = drive(clock, registerStreamConsumer({ kinesisClient: stub as never, stream: { streamArn: STREAM_ARN }, consumerName: 'billing', timeoutMs: 10_000, clock }));
    await expect(failure).rejects.toThrow(/DELETING.*another fanOut\.consumerName/s);
  });
});

describe('fan-out options', () => {
  const base: WorkerOptions = { applicationName: 'billing', streamName: 'orders', processorFactory: () => ({ initialize: () => undefined, processRecords: () => undefined }) };

  it('defaults to polling, and the consumer name to the application name', () => {
    const config = resolveWorkerConfig(base);
    expect(config.retrieval.mode).toBe('polling');
    expect(config.retrieval.fanOut).toEqual({ consumerName: 'billing', consumerArn: undefined, registrationTimeoutMs: 120_000 });
    expect(resolveWorkerConfig({ ...base, retrieval: { mode: 'fanout', fanOut: { consumerArn: CONSUMER_ARN } } }).retrieval.fanOut.consumerName).toBe('billing');
  });

  it.each([
    [{ retrieval: { mode: 'push' } }, /^retrieval\.mode must be one of 'polling', 'fanout', got "push"/],
    [{ retrieval: { fanOut: 'billing' } }, /^retrieval\.fanOut must be an object/],
    [{ retrieval: { fanOut: { consumerName: 'bad name' } } }, /^retrieval\.fanOut\.consumerName must be 1–128 characters/],
    [{ retrieval: { fanOut: { consumerArn: 'arn:nope' } } }, /^retrieval\.fanOut\.consumerArn must be a stream consumer ARN/],
    [{ retrieval: { fanOut: { consumerName: 'a', consumerArn: CONSUMER_ARN } } }, /retrieval\.fanOut\.consumerName or retrieval\.fanOut\.consumerArn, not both/],
    [{ retrieval: { fanOut: { registrationTimeoutMs: -1 } } }, /^retrieval\.fanOut\.registrationTimeoutMs must be a positive integer/],
    [{ retrieval: { fanout: {} } }, /^retrieval\.fanout is not an option/],
  ])('rejects %j', (extra, message) => {
    expect(() => resolveWorkerConfig({ ...base, ...(extra as Partial<WorkerOptions>) })).toThrow(TypeError);
    expect(() => resolveWorkerConfig({ ...base, ...(extra as Partial<WorkerOptions>) })).toThrow(message);
  });

  it('start() fails clearly when a given client is known to speak HTTP/1.1 to AWS', async () => {
    const kinesisClient = new KinesisClient({ region: 'us-east-1', requestHandler: new NodeHttpHandler(), credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const worker = new Worker({ ...base, retrieval: { mode: 'fanout' }, kinesisClient, metrics: { publisher: false }, clientConfig: { region: 'us-east-1' } });
    await expect(worker.start()).rejects.toThrow(/needs an HTTP\/2 Kinesis client on AWS.*NodeHttp2Handler/);
    kinesisClient.destroy();
  });
});
