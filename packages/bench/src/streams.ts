/**
 * Stream and lease-table fixtures of the benchmarks: create and delete streams, list shards,
 * pre-load records, seed a lease table with owners, and steady producers.
 * @module
 */
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { DynamoDbLeaseRefresher } from '@kcl-ts/leases';
import { createStreamAndWait, putRecordsBatched, type RecordToPut } from '@kcl-ts/local';
import { encodePayload } from '@kcl-ts/fleet/payload';
import { KeyedProducer, listShards, type BackgroundProduction } from '@kcl-ts/fleet';
import type { KinesisTarget } from './context.js';

/** Creates a stream with `shards` shards, waits for ACTIVE, and returns its shards in id order. */
export async function createStream(client: KinesisClient, name: string, shards: number): Promise<Shard[]> {
  await createStreamAndWait(client, name, shards, { timeoutMs: 60_000 });
  return (await listShards(client, name)).sort((a, b) => (a.ShardId! < b.ShardId! ? -1 : 1));
}

/** Deletes a stream and a table, ignoring failures (cleanup between runs). */
export async function dropStreamAndTable(kinesis: KinesisClient, dynamoDb: DynamoDBClient, stream: string, table?: string): Promise<void> {
  await kinesis.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true })).catch(() => undefined);
  if (table) await dynamoDb.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
}

/** Deletes a table, ignoring failures. */
export async function dropTable(dynamoDb: DynamoDBClient, table: string): Promise<void> {
  await dynamoDb.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
}

/**
 * Creates a stream of `shardCount` shards and writes `perShard` records of about `bytes` bytes
 * to every shard (explicit hash keys), saying so through `log`; resolves how many records.
 */
export async function preloadedStream(kinesis: KinesisTarget, stream: string, shardCount: number, perShard: number, bytes: number, log: (message: string) => void): Promise<number> {
  const shards = await createStream(kinesis.client, stream, shardCount);
  log(`pre-loading ${shardCount} × ${perShard} records of ${bytes} B into ${kinesis.label}`);
  const t0 = Date.now();
  const records: RecordToPut[] = [];
  const t = Date.now();
  for (let n = 0; n < perShard; n++) {
    shards.forEach((shard, i) => {
      const k = `s${i}`;
      records.push({ partitionKey: k, explicitHashKey: shard.HashKeyRange!.StartingHashKey!, data: encodePayload({ k, n, t }, bytes) });
    });
  }
  for (let start = 0; start < records.length; start += 5_000) {
    await putRecordsBatched(kinesis.client, stream, records.slice(start, start + 5_000), { maxAttempts: 50 });
  }
  log(`pre-loaded ${records.length} records in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return records.length;
}

/** Creates the lease table (if needed) and, when `owners` is given, one lease per shard owned round-robin by them. */
export async function seedLeaseTable(dynamoDb: DynamoDBClient, table: string, shards: readonly Shard[], owners?: readonly string[], checkpoint: 'LATEST' | 'TRIM_HORIZON' = 'TRIM_HORIZON'): Promise<void> {
  const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
  await refresher.createLeaseTableIfNotExists();
  if (!owners) return;
  await Promise.all(
    shards.map(async (shard, i) => {
      const leaseKey = shard.ShardId!;
      await refresher.createLeaseIfNotExists({
        leaseKey,
        checkpoint: { sequenceNumber: checkpoint, subSequenceNumber: 0 },
        hashKeyRange: { startingHashKey: shard.HashKeyRange!.StartingHashKey!, endingHashKey: shard.HashKeyRange!.EndingHashKey! },
      });
      const lease = await refresher.getLease(leaseKey);
      if (!lease) throw new Error(`lease ${leaseKey} vanished`);
      const taken = await refresher.takeLease(lease, owners[i % owners.length]!);
      if (!taken) throw new Error(`could not seed the owner of ${leaseKey}`);
    }),
  );
}

/** A producer running in the background until `stop()` (which never rejects). */
export interface Producer {
  /** Records put successfully so far. */
  readonly put: () => number;
  stop(): Promise<void>;
}

/** A background production of the fleet harness's keyed producer (100-byte payloads), until stopped. */
function produce(keyed: KeyedProducer, start: (keyed: KeyedProducer) => BackgroundProduction): Producer & { readonly keyed: KeyedProducer } {
  const production = start(keyed);
  return { keyed, put: () => keyed.acked.length, stop: () => production.stop().catch(() => undefined) };
}

/** Every `intervalMs`, one record per shard (one key per shard with its explicit hash key), until stopped. */
export function startShardProducer(client: KinesisClient, stream: string, shards: readonly Shard[], intervalMs: number): Producer & { readonly keyed: KeyedProducer } {
  const keyed = new KeyedProducer(client, stream, { hashKeys: shards.map((s) => s.HashKeyRange!.StartingHashKey!), payloadBytes: 100 });
  return produce(keyed, (k) => k.startRounds({ intervalMs, maxRounds: Number.POSITIVE_INFINITY }));
}

/**
 * `ratePerSecond` records a second over 1,000 keys taken round-robin, a PutRecords call every
 * 20 ms; each payload carries the epoch ms at which its call started. Until stopped.
 */
export function startRateProducer(client: KinesisClient, stream: string, ratePerSecond: number): Producer & { readonly keyed: KeyedProducer } {
  return produce(new KeyedProducer(client, stream, { keys: 1_000, payloadBytes: 100 }), (k) => k.startRate({ rate: ratePerSecond, tickMs: 20 }));
}
