import { it } from 'vitest';
import { pino } from 'pino';
import { createStream } from '../../../test-support/stack.js';
import { Journal, makeWorker, putKeyed, testStack, uniqueName } from './helpers.js';

it('debug', async () => {
  const stack = testStack();
  const kinesis = stack.kinesisClient();
  const stream = uniqueName('fleet');
  const app = uniqueName('fleet-app');
  await createStream(kinesis, stream, 4);
  const journal = new Journal();
  const logger = pino({ level: 'debug' }, pino.destination('/tmp/fleet.log'));
  const workers = ['w1', 'w2', 'w3'].map((id) => makeWorker(app, stream, journal, { workerId: id, logger }));
  await Promise.all(workers.map((w) => w.start()));
  await putKeyed(kinesis, stream, 5_000, 200);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    console.log(i, journal.distinct().size, workers.map((w) => w.heldShards().join(',')).join(' | '));
  }
  await Promise.all(workers.map((w) => w.shutdown()));
}, 120_000);
