/**
 * A KPL-style producer built on the `aws-kinesis-agg` package: it packs several user records
 * into one Kinesis record (an "aggregate"), the way the Kinesis Producer Library does.
 *
 * Like the KPL, it aggregates PER SHARD: every user record of one aggregate hashes into the
 * same shard. That matters because a consumer (kcl-ts, like the Java KCL) drops a user
 * record whose hash key lies outside the range of the shard it was read from — after a
 * split, such a record belongs to the sibling shard. An aggregate mixing keys of different
 * shards would lose records.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { putRecordsBatched, type RecordToPut } from '@kcl-ts/local';

// aws-kinesis-agg is CommonJS and its type declarations reference the v2 SDK; load it untyped.
const require = createRequire(import.meta.url);
const agg = require('aws-kinesis-agg') as {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer } | undefined;
  };
};

/** One application record. */
export interface UserRecord {
  readonly partitionKey: string;
  readonly data: string;
}

/** The 128-bit hash key Kinesis derives from a partition key: MD5, read as an unsigned integer. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

async function openShards(kinesis: KinesisClient, stream: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await kinesis.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: stream }));
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
}

/**
 * Puts `records` as aggregates of at most `perAggregate` user records, grouped by the open
 * shard each partition key hashes to. Returns the number of Kinesis records written.
 */
export async function putAggregated(kinesis: KinesisClient, stream: string, records: readonly UserRecord[], perAggregate: number): Promise<number> {
  const shards = await openShards(kinesis, stream);
  const shardOf = (key: string): string => {
    const h = hashKeyOf(key);
    const shard = shards.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= h && h <= BigInt(s.HashKeyRange!.EndingHashKey!));
    if (!shard) throw new Error(`no open shard covers the hash key of ${key}`);
    return shard.ShardId!;
  };
  const byShard = new Map<string, UserRecord[]>();
  for (const record of records) {
    const id = shardOf(record.partitionKey);
    byShard.set(id, [...(byShard.get(id) ?? []), record]);
  }
  const entries: RecordToPut[] = [];
  for (const group of byShard.values()) {
    for (let i = 0; i < group.length; i += perAggregate) {
      const aggregator = new agg.RecordAggregator();
      for (const r of group.slice(i, i + perAggregate)) aggregator.addUserRecord({ partitionKey: r.partitionKey, data: Buffer.from(r.data) });
      const built = aggregator.build();
      // The aggregate's own partition key is its first user record's, so it lands in that shard.
      if (built) entries.push({ partitionKey: built.partitionKey, data: built.data });
    }
  }
  // At most 500 per call, in order; throttled entries are sent again.
  await putRecordsBatched(kinesis, stream, entries);
  return entries.length;
}
