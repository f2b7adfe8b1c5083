import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { ResourceNotFoundError, Worker, type WorkerOptions } from '../src/index.js';
import { FAST, Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

describe('Worker — errors and bad input', () => {
  const { kinesis, dynamoDb, workers } = workerTestContext();

  const valid = (): WorkerOptions => ({
    applicationName: 'app-x',
    streamName: 'stream-x',
    kinesisClient: kinesis,
    dynamoDbClient: dynamoDb,
    processorFactory: () => ({ initialize() {}, processRecords() {} }),
  });

  it.each([
    ['applicationName', { applicationName: '' }],
    ['applicationName', { applicationName: 'has space' }],
    ['streamName', { streamName: undefined }],
    ['streamArn', { streamName: undefined, streamArn: 'arn:aws:s3:::bucket' }],
    ['processorFactory', { processorFactory: 'nope' }],
    ['initialPosition', { initialPosition: 'EARLIEST' }],
    ['initialPosition', { initialPosition: { timestamp: new Date('nope') } }],
    ['leaseDurationMs', { leaseDurationMs: -1 }],
    ['maxRecords', { maxRecords: 0 }],
    ['maxGetRecordsPerSecond', { maxGetRecordsPerSecond: 6 }],
    ['shutdownTimeoutMs', { shutdownTimeoutMs: 1.5 }],
    ['maxConcurrentProcessors', { maxConcurrentProcessors: 0 }],
    ['kinesisClient', { kinesisClient: {} }],
  ])('rejects a bad %s with a TypeError naming it', (name, patch) => {
    expect(() => new Worker({ ...valid(), ...(patch as Partial<WorkerOptions>) })).toThrow(TypeError);
    expect(() => new Worker({ ...valid(), ...(patch as Partial<WorkerOptions>) })).toThrow(name);
  });

  it('start() rejects with a clear error for a missing stream, and the worker does not hang', async () => {
    const stream = uniqueName('missing');
    const worker = new Worker({ ...valid(), ...FAST, applicationName: uniqueName('app'), streamName: stream });
    workers.push(worker);
    const error = await worker.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(String((error as Error).message)).toContain(stream);
    expect(worker.state).toBe('STOPPED');
    await worker.shutdown();
  });

  it('a processor that throws on a record gets the same batch again: nothing skipped, the worker keeps running', async () => {
    const stream = uniqueName('throws');
    await createStream(kinesis, stream, 1);
    await putKeyed(kinesis, stream, 100, 5);
    const journal = new Journal();
    const errors: unknown[] = [];
    // key-3#7 fails on its first two deliveries, then succeeds.
    const worker = makeWorker(uniqueName('app'), stream, journal, { workerId: 'thrower' }, { failOn: (s, attempt) => s.key === 'key-3' && s.n === 7 && attempt <= 2 });
    workers.push(worker);
    worker.on('processorError', ({ error }) => errors.push(error));
    await worker.start();
    await waitFor(() => journal.distinct().size === 100, { timeoutMs: 30_000, message: 'all 100 records processed' });
    expect(errors).toHaveLength(2);
    expect(String(errors[0])).toContain('injected failure at key-3#7');
    expect(journal.orderViolations()).toEqual([]);
    expect(journal.duplicates()).toBe(0); // the failing batch threw before recording anything
    await putKeyed(kinesis, stream, 20, 5, 100);
    await waitFor(() => journal.distinct().size === 120, { timeoutMs: 30_000, message: 'the worker keeps consuming' });
  });

  it('onProcessorError can decide to skip a batch explicitly', async () => {
    const stream = uniqueName('skip');
    await createStream(kinesis, stream, 1);
    await putKeyed(kinesis, stream, 10, 1);
    const journal = new Journal();
    const decisions: number[] = [];
    const worker = makeWorker(
      uniqueName('app'),
      stream,
      journal,
      { workerId: 'skipper', retrieval: { polling: { maxRecords: 5 } }, processing: { onProcessorError: (_e, ctx) => (decisions.push(ctx.attempt), ctx.attempt >= 3 ? 'skip' : 'retry') } },
      { failOn: (s) => s.n === 2 },
    );
    workers.push(worker);
    await worker.start();
    await putKeyed(kinesis, stream, 5, 1, 10);
    await waitFor(() => journal.distinct().has('key-0#14'), { timeoutMs: 30_000, message: 'records after the skipped batch processed' });
    expect(decisions).toEqual([1, 2, 3]);
    expect(journal.distinct().has('key-0#2')).toBe(false);
  });

  it('a processor factory that throws surfaces as processorError and the worker still shuts down', async () => {
    const stream = uniqueName('factory');
    await createStream(kinesis, stream, 1);
    const worker = new Worker({
      ...valid(),
      ...FAST,
      applicationName: uniqueName('app'),
      streamName: stream,
      processorFactory: () => {
        throw new Error('factory exploded');
      },
    });
    workers.push(worker);
    const errors: unknown[] = [];
    worker.on('processorError', ({ error }) => errors.push(error));
    await worker.start();
    await waitFor(() => errors.length > 0, { timeoutMs: 20_000, message: 'factory error reported' });
    expect(String(errors[0])).toContain('factory exploded');
    await worker.shutdown();
    expect(worker.state).toBe('STOPPED');
  });

  const atOnce = async (): Promise<void> => undefined;
  // A timer and a resolved promise first: the call then runs in a later macrotask.
  const afterAwaits = async (): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await Promise.resolve();
  };
  it.each([
    ['at once', atOnce],
    ['after its own awaits', afterAwaits],
  ])('shutdown() called from inside processRecords (%s) does not deadlock, and the shard is still checkpointed', async (_when, before) => {
    const stream = uniqueName('self-stop');
    await createStream(kinesis, stream, 1);
    await putKeyed(kinesis, stream, 10, 2);
    let worker: Worker | undefined;
    let shutdownReturned = false;
    let checkpointedInShutdown = false;
    worker = new Worker({
      ...valid(),
      ...FAST,
      applicationName: uniqueName('app'),
      streamName: stream,
      initialPosition: 'TRIM_HORIZON',
      processorFactory: () => ({
        initialize() {},
        async processRecords() {
          await before();
          await worker!.shutdown(); // must return although this batch is still in flight
          shutdownReturned = true;
        },
        async shutdownRequested({ checkpointer }) {
          await checkpointer.checkpoint();
          checkpointedInShutdown = true;
        },
      }),
    });
    workers.push(worker);
    const stopped = new Promise<void>((resolve) => worker!.once('stopped', () => resolve()));
    await worker.start();
    await stopped;
    expect(shutdownReturned).toBe(true);
    expect(checkpointedInShutdown).toBe(true);
    expect(worker.state).toBe('STOPPED');
  });
});
