import { afterAll, describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import type { Worker } from '../src/index.js';
import { Journal, makeWorker, putKeyed, testStack, uniqueName } from './helpers.js';

/**
 * Handovers on the paths where records used to be lost: the first owner's batches keep
 * failing (its sink is down) when it stops gracefully, and its processor checkpoints in
 * shutdownRequested as recommended. The next owner must get every record.
 */
describe('Worker — a handover after failed batches loses nothing', () => {
  const stack = testStack();
  const kinesis = stack.kinesisClient();
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    kinesis.destroy();
  });

  for (const initialPosition of ['TRIM_HORIZON', 'LATEST'] as const) {
    it(`${initialPosition}: the failed batch is not checkpointed on shutdown, and the next owner processes all 20 records`, async () => {
      const stream = uniqueName('failstop');
      const app = uniqueName('failstop-app');
      await createStream(kinesis, stream, 1);
      const failing = new Journal();
      let attempts = 0;
      const first = makeWorker(app, stream, failing, { workerId: 'first', initialPosition }, {
        failOn: () => {
          attempts++;
          return true; // the sink is down: every batch throws
        },
      });
      workers.push(first);
      await first.start();
      await waitFor(() => first.heldShards().length === 1, { timeoutMs: 30_000, message: 'first worker holds the shard' });
      if (initialPosition === 'LATEST') {
        // The first owner's consumer is reading (its start position is resolved) before the puts.
        await waitFor(() => first.leases()[0]?.checkpoint.sequenceNumber !== 'LATEST', { timeoutMs: 30_000, message: 'LATEST resolved' });
      }
      await putKeyed(kinesis, stream, 20, 4);
      await waitFor(() => attempts > 0, { timeoutMs: 30_000, message: 'the first worker tried a batch' });
      await first.shutdown();
      expect(failing.seen).toEqual([]);

      const journal = new Journal();
      const next = makeWorker(app, stream, journal, { workerId: 'next', initialPosition });
      workers.push(next);
      await next.start();
      await waitFor(() => journal.distinct().size === 20, { timeoutMs: 60_000, message: 'the next owner processed all 20 records' });
      expect(journal.orderViolations()).toEqual([]);
    });
  }
});
