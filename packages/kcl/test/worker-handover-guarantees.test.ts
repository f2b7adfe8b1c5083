import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

/**
 * Handovers on the paths where records used to be lost: the first owner's batches keep
 * failing (its sink is down) when it stops gracefully, and its processor checkpoints in
 * shutdownRequested as recommended. The next owner must get every record.
 */
describe('Worker — a handover after failed batches loses nothing', () => {
  const { kinesis, workers } = workerTestContext();

  for (const initialPosition of ['TRIM_HORIZON', 'LATEST'] as const) {
    it(`${initialPosition}: no failed batch is checkpointed on shutdown, and the next owner processes every record the first one tried`, async () => {
      const stream = uniqueName('failstop');
      const app = uniqueName('failstop-app');
      await createStream(kinesis, stream, 1);
      const failing = new Journal();
      const tried = new Set<string>();
      const first = makeWorker(app, stream, failing, { workerId: 'first', initialPosition }, {
        failOn: (s) => {
          tried.add(`${s.key}#${s.n}`);
          return true; // the sink is down: every batch throws
        },
      });
      workers.push(first);
      await first.start();
      await waitFor(() => first.heldShards().length === 1, { timeoutMs: 30_000, message: 'first worker holds the shard' });
      // Put records until the first owner has tried some (with LATEST, those put before its
      // first read are nobody's), then 20 more.
      let offset = 0;
      await waitFor(
        async () => {
          if (tried.size > 0) return true;
          await putKeyed(kinesis, stream, 4, 4, offset);
          offset += 4;
          return false;
        },
        { timeoutMs: 30_000, message: 'the first worker tried a batch' },
      );
      await putKeyed(kinesis, stream, 20, 4, offset);
      const expected = new Set([...tried]);
      for (let i = offset; i < offset + 20; i++) expected.add(`key-${i % 4}#${Math.floor(i / 4)}`);
      await first.shutdown();
      expect(failing.seen).toEqual([]);

      const journal = new Journal();
      const next = makeWorker(app, stream, journal, { workerId: 'next', initialPosition });
      workers.push(next);
      await next.start();
      await waitFor(() => [...expected].every((id) => journal.distinct().has(id)), { timeoutMs: 60_000, message: `the next owner processed all ${expected.size} records` });
      expect(journal.orderViolations()).toEqual([]);
    });
  }
});
