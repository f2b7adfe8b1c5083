import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Worker, type KinesisClientRecord } from '../src/index.js';
import { FAST, putKplAggregates, uniqueName, workerTestContext } from './helpers.js';

describe('Worker — KPL-aggregated records end to end', () => {
  const { kinesis, dynamoDb, workers } = workerTestContext();

  it('delivers every user record with its sub-sequence number, and resumes mid-aggregate from a sub-sequence checkpoint', async () => {
    const stream = uniqueName('agg');
    const app = uniqueName('agg-app');
    await createStream(kinesis, stream, 1);
    // 3 aggregates × 10 user records.
    await putKplAggregates(kinesis, stream, 3, 10);

    const first: KinesisClientRecord[] = [];
    const base = { applicationName: app, streamName: stream, kinesisClient: kinesis, dynamoDbClient: dynamoDb, initialPosition: 'TRIM_HORIZON' as const, ...FAST };
    const w1 = new Worker({
      ...base,
      workerId: 'agg-1',
      processorFactory: () => ({
        initialize() {},
        async processRecords({ records, checkpointer }) {
          first.push(...records);
          // Checkpoint in the middle of the second aggregate only.
          const mid = records.find((r) => Buffer.from(r.data).toString() === '1:4');
          if (mid) await checkpointer.checkpoint(mid);
        },
      }),
    });
    workers.push(w1);
    await w1.start();
    await waitFor(() => first.length === 30, { timeoutMs: 30_000, message: '30 user records delivered' });
    expect(first.map((r) => Buffer.from(r.data).toString())).toEqual(Array.from({ length: 30 }, (_, k) => `${Math.floor(k / 10)}:${k % 10}`));
    expect(first.map((r) => r.subSequenceNumber)).toEqual(Array.from({ length: 30 }, (_, k) => k % 10));
    expect(first.map((r) => r.partitionKey).slice(0, 3)).toEqual(['pk-0-0', 'pk-0-1', 'pk-0-2']);
    expect(first.every((r) => r.aggregated)).toBe(true);
    await w1.shutdown();

    const second: KinesisClientRecord[] = [];
    let initializedAt: unknown;
    const w2 = new Worker({
      ...base,
      workerId: 'agg-2',
      processorFactory: () => ({
        initialize({ extendedSequenceNumber }) {
          initializedAt = extendedSequenceNumber;
        },
        processRecords({ records }) {
          second.push(...records);
        },
      }),
    });
    workers.push(w2);
    await w2.start();
    await waitFor(() => second.length >= 15, { timeoutMs: 30_000, message: 'the rest after the sub-sequence checkpoint delivered' });
    const mid = first[14]!;
    expect(initializedAt).toEqual({ sequenceNumber: mid.sequenceNumber, subSequenceNumber: 4 });
    expect(Buffer.from(second[0]!.data).toString()).toBe('1:5');
    expect(second[0]!.subSequenceNumber).toBe(5);
    expect(second.map((r) => Buffer.from(r.data).toString())).toEqual(first.slice(15).map((r) => Buffer.from(r.data).toString()));
  });
});
