/**
 * Helpers for integration tests against the local emulators started once per test run by
 * global-setup.ts. Tests share the stack, so they isolate by unique names (`uniqueName`)
 * and never restart it.
 *
 *   const stack = testStack();
 *   const kinesis = stack.kinesisClient();            // or stack.kinesisClient('kinesalite')
 *   const name = uniqueName('orders');
 *   await createStream(kinesis, name, 2);
 *   await putRecords(kinesis, name, [{ partitionKey: 'a', data: 'hello' }]);
 *   await waitFor(async () => (await count()) === 1, { message: 'record processed' });
 */
import { inject } from 'vitest';
import {
  createLocalDynamoDbClient,
  createLocalKinesisClient,
  createStreamAndWait,
  putRecordsBatched,
  type PutRecordResult,
  type RecordToPut,
} from '../packages/local/src/index.js';
import type { KclStackInfo } from './global-setup.js';

/** The SDK client types, named without importing the SDK from this folder. */
export type KinesisClient = ReturnType<typeof createLocalKinesisClient>;
export type DynamoDBClient = ReturnType<typeof createLocalDynamoDbClient>;

/** Which Kinesis emulator a client talks to. */
export type KinesisKind = 'kinesis-mock' | 'kinesalite';

/** The shared stack, as seen from a test. */
export interface TestStack extends KclStackInfo {
  /** A NEW KinesisClient (HTTP/1.1 handler) for the chosen emulator; destroy it in afterAll. */
  kinesisClient(kind?: KinesisKind): KinesisClient;
  /** A NEW DynamoDBClient (HTTP/1.1 handler) for dynalite; destroy it in afterAll. */
  dynamoDbClient(): DynamoDBClient;
}

/** The stack started by the globalSetup. */
export function testStack(): TestStack {
  const info = inject('kclStack');
  if (info === undefined) throw new Error('kclStack not provided: is test-support/global-setup.ts the globalSetup?');
  return {
    ...info,
    kinesisClient: (kind: KinesisKind = 'kinesis-mock') =>
      createLocalKinesisClient({
        endpoint: kind === 'kinesalite' ? info.kinesaliteEndpoint : info.kinesisEndpoint,
        region: info.region,
        credentials: info.credentials,
      }),
    dynamoDbClient: () =>
      createLocalDynamoDbClient({ endpoint: info.dynamoDbEndpoint, region: info.region, credentials: info.credentials }),
  };
}

let counter = 0;
const runId = Math.random().toString(36).slice(2, 8);

/**
 * A name unique in this test run, valid for streams and tables ([a-zA-Z0-9_.-], ≤ 128):
 * `prefix-<run id>-<worker>-<counter>`. Characters outside the allowed set become '-'.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  const clean = prefix.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 96) || 'x';
  return `${clean}-${runId}-${process.pid.toString(36)}-${counter}`;
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** @default 20000 */
  readonly timeoutMs?: number;
  /** @default 100 */
  readonly intervalMs?: number;
  /** Says what was awaited, in the failure. */
  readonly message?: string;
}

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Polls `fn` until it returns a truthy value (which is returned) or the deadline passes,
 * then fails with `message` and the last value or error. A throwing `fn` counts as "not yet".
 */
export async function waitFor<T>(fn: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = performance.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } = { value: undefined };
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (performance.now() >= deadline) {
      const lastText = 'error' in last ? `last error: ${show(last.error)}` : `last value: ${show(last.value)}`;
      throw new Error(`waitFor timed out after ${timeoutMs} ms: ${options.message ?? 'condition not met'} (${lastText})`, {
        cause: 'error' in last ? last.error : undefined,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Creates a stream with `shardCount` shards and waits (with a deadline) until it is ACTIVE. */
export async function createStream(client: KinesisClient, name: string, shardCount: number): Promise<void> {
  await createStreamAndWait(client, name, shardCount, { timeoutMs: 60_000 });
}

/**
 * PutRecords in batches of ≤ 500, retrying failed entries; resolves each record's shard and
 * sequence number in input order.
 */
export async function putRecords(
  client: KinesisClient,
  streamName: string,
  records: readonly RecordToPut[],
): Promise<PutRecordResult[]> {
  return putRecordsBatched(client, streamName, records);
}

export type { PutRecordResult, RecordToPut };
