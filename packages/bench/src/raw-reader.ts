/**
 * The throughput baseline: a plain AWS SDK loop, GetShardIterator(TRIM_HORIZON) then
 * GetRecords in a tight loop per shard, all shards concurrently, until the shard is caught up
 * (an empty batch with MillisBehindLatest 0) or every expected record was read.
 * @module
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type Shard, type _Record } from '@aws-sdk/client-kinesis';

/** Result of {@link readAllRaw}. */
export interface RawReadResult {
  readonly startAt: number;
  readonly firstRecordAt: number;
  readonly lastRecordAt: number;
  readonly records: number;
  readonly calls: number;
}

/** Reads the whole stream as fast as the emulator serves it; `onRecords` sees every non-empty page. */
export async function readAllRaw(
  client: KinesisClient,
  streamName: string,
  expectedRecords: number,
  limit: number,
  onRecords?: (shardId: string, records: readonly _Record[]) => void,
): Promise<RawReadResult> {
  const startAt = Date.now();
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const out = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }));
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  let records = 0;
  let calls = 0;
  let firstRecordAt = 0;
  let lastRecordAt = 0;
  await Promise.all(
    shards.map(async (shard) => {
      const it = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      let iterator = it.ShardIterator;
      while (iterator && records < expectedRecords) {
        const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
        calls++;
        const n = out.Records?.length ?? 0;
        if (n > 0) {
          // Touch every payload, as a consumer would.
          let bytes = 0;
          for (const r of out.Records!) bytes += r.Data?.byteLength ?? 0;
          if (bytes < 0) throw new Error('unreachable');
          records += n;
          onRecords?.(shard.ShardId!, out.Records!);
          lastRecordAt = Date.now();
          if (firstRecordAt === 0) firstRecordAt = lastRecordAt;
        }
        iterator = out.NextShardIterator;
        if (n === 0 && out.MillisBehindLatest === 0) break;
      }
    }),
  );
  return { startAt, firstRecordAt, lastRecordAt, records, calls };
}
