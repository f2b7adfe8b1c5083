/**
 * Fan-out with the Worker's own clients pointed at the Kinesis Mock only through the
 * environment (`AWS_ENDPOINT_URL_KINESIS`, as `kcl-local up` prints it): SubscribeToShard must
 * go over the plain-HTTP port on HTTP/1.1, as with `clientConfig.kinesisEndpoint`. Its own file:
 * the environment is this process's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Worker } from '../src/index.js';
import { FAST, Journal, mergeOptions, putKeyed, testStack, uniqueName } from './helpers.js';

const stack = testStack();
const kinesis = stack.kinesisClient();
const saved = { kinesis: process.env['AWS_ENDPOINT_URL_KINESIS'], dynamoDb: process.env['AWS_ENDPOINT_URL_DYNAMODB'] };
let worker: Worker | undefined;

afterAll(async () => {
  await worker?.shutdown();
  kinesis.destroy();
  for (const [name, value] of [['AWS_ENDPOINT_URL_KINESIS', saved.kinesis], ['AWS_ENDPOINT_URL_DYNAMODB', saved.dynamoDb]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('fan-out against an emulator named only in the environment', () => {
  it('delivers every record (SubscribeToShard over the plain-HTTP port)', async () => {
    const stream = uniqueName('fo-env');
    await createStream(kinesis, stream, 2);
    process.env['AWS_ENDPOINT_URL_KINESIS'] = stack.kinesisEndpoint;
    process.env['AWS_ENDPOINT_URL_DYNAMODB'] = stack.dynamoDbEndpoint;
    const journal = new Journal();
    worker = new Worker(
      mergeOptions(
        {
          applicationName: uniqueName('fo-env-app'),
          streamName: stream,
          initialPosition: 'TRIM_HORIZON',
          processorFactory: (shardId: string) => journal.processor('e1', shardId),
          clientConfig: { region: stack.region, credentials: stack.credentials },
          retrieval: { mode: 'fanout' },
        },
        FAST,
        { workerId: 'e1' },
      ),
    );
    const errors: Error[] = [];
    worker.on('streamError', ({ error }) => errors.push(error));
    await worker.start();
    await putKeyed(kinesis, stream, 200, 10);
    await waitFor(() => journal.distinct().size === 200, { timeoutMs: 45_000, message: 'all 200 records processed through SubscribeToShard' });
    expect(journal.duplicates()).toBe(0);
    expect(errors).toEqual([]);
  });
});
