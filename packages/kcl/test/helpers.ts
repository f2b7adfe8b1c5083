import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createRequire } from 'node:module';
import { afterAll } from 'vitest';
import { Worker, type WorkerOptions } from '../src/index.js';
import { putRecords, testStack, uniqueName } from '../../../test-support/stack.js';

export { Journal } from './journal.js';
import type { Journal } from './journal.js';

/**
 * The emulator clients of a test file and the workers it starts: after all its tests, every
 * worker is shut down and both clients destroyed. Call it at the top of a file or `describe`.
 */
export function workerTestContext(): { stack: ReturnType<typeof testStack>; kinesis: KinesisClient; dynamoDb: DynamoDBClient; workers: Worker[] } {
  const stack = testStack();
  const kinesis = stack.kinesisClient();
  const dynamoDb = stack.dynamoDbClient();
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    kinesis.destroy();
    dynamoDb.destroy();
  });
  return { stack, kinesis, dynamoDb, workers };
}

/** Puts `count` records spread over `keys` partition keys; each payload carries its per-key number. */
export async function putKeyed(client: KinesisClient, streamName: string, count: number, keys: number, offset = 0): Promise<void> {
  const records = [];
  for (let i = offset; i < offset + count; i++) {
    const k = `key-${i % keys}`;
    records.push({ partitionKey: k, data: Buffer.from(JSON.stringify({ k, n: Math.floor(i / keys) })) });
  }
  await putRecords(client, streamName, records);
}

const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer } | undefined;
  };
};

/** Puts `aggregates` KPL aggregates (built with aws-kinesis-agg) of `perAggregate` user records each: partition key `pk-<a>-<i>`, data `<a>:<i>`. */
export async function putKplAggregates(client: KinesisClient, streamName: string, aggregates: number, perAggregate: number): Promise<void> {
  for (let a = 0; a < aggregates; a++) {
    const aggregator = new agg.RecordAggregator();
    for (let i = 0; i < perAggregate; i++) aggregator.addUserRecord({ partitionKey: `pk-${a}-${i}`, data: Buffer.from(`${a}:${i}`) });
    const built = aggregator.build()!;
    await client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: built.partitionKey, Data: built.data }));
  }
}

/** Fast settings for integration tests on a shared, slow machine (correctness does not depend on them). */
export const FAST = {
  leases: { leaseDurationMs: 3_000, takerIntervalMs: 500 },
  retrieval: { polling: { idleTimeBetweenReadsMs: 100 } },
  shardSync: { intervalMs: 2_000, parentPollIntervalMs: 250 },
  processing: { retryBaseMs: 50, retryMaxMs: 200, shutdownTimeoutMs: 15_000 },
  metrics: { publisher: false },
} as const satisfies Partial<WorkerOptions>;

const GROUPS = ['leases', 'leaseTable', 'retrieval', 'shardSync', 'processing', 'metrics'] as const;

/** `parts` merged left to right, group by group (and `retrieval.polling` / `retrieval.fanOut` key by key). */
export function mergeOptions<T extends Partial<WorkerOptions>>(...parts: readonly Partial<WorkerOptions>[]): T {
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      const group = (GROUPS as readonly string[]).includes(key) && typeof value === 'object' && value !== null;
      out[key] = group ? { ...(out[key] as object), ...value } : value;
    }
  }
  const retrieval = parts.map((p) => p.retrieval).filter((r) => r !== undefined);
  if (retrieval.length > 0) {
    const polling = Object.assign({}, ...retrieval.map((r) => r.polling));
    const fanOut = Object.assign({}, ...retrieval.map((r) => r.fanOut));
    out['retrieval'] = { ...(out['retrieval'] as object), polling, ...(Object.keys(fanOut).length > 0 && { fanOut }) };
  }
  return out as T;
}

/** Builds a Worker against the test stack. */
export function makeWorker(applicationName: string, streamName: string, journal: Journal, extra: Partial<WorkerOptions> & { workerId: string }, processorOpts?: Parameters<Journal['processor']>[2]): Worker {
  const stack = testStack();
  return new Worker({
    kinesisClient: stack.kinesisClient(),
    dynamoDbClient: stack.dynamoDbClient(),
    initialPosition: 'TRIM_HORIZON',
    ...mergeOptions<WorkerOptions>({ applicationName, streamName, processorFactory: (shardId: string) => journal.processor(extra.workerId, shardId, processorOpts) }, FAST, extra),
  });
}

export { testStack, uniqueName };
