/**
 * Request counters installed by wrapping an AWS SDK client's `send`.
 *
 * {@link countGetRecords} counts GetRecords calls per shard. A GetRecords
 * request names only an iterator, so the shard is found by following iterators: the one
 * GetShardIterator returned for a shard, then each `NextShardIterator` of its GetRecords.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, type GetRecordsCommandOutput, type GetShardIteratorCommandOutput, type KinesisClient } from '@aws-sdk/client-kinesis';

/** Cumulative GetRecords calls per shard id (`unknown` for an iterator we never saw issued). */
export type GetRecordsCounts = Map<string, number>;

/** Replaces `client.send` with a counting pass-through; returns the live counters. */
export function countGetRecords(client: KinesisClient): GetRecordsCounts {
  const counts: GetRecordsCounts = new Map();
  const shardOf = new Map<string, string>();
  const original = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const wrapped = async (command: unknown, options?: unknown): Promise<unknown> => {
    if (command instanceof GetShardIteratorCommand) {
      const shardId = command.input.ShardId ?? 'unknown';
      const out = (await original(command, options)) as GetShardIteratorCommandOutput;
      if (out.ShardIterator) shardOf.set(out.ShardIterator, shardId);
      return out;
    }
    if (command instanceof GetRecordsCommand) {
      const iterator = command.input.ShardIterator ?? '';
      const shardId = shardOf.get(iterator) ?? 'unknown';
      counts.set(shardId, (counts.get(shardId) ?? 0) + 1);
      const out = (await original(command, options)) as GetRecordsCommandOutput;
      shardOf.delete(iterator);
      if (out.NextShardIterator) shardOf.set(out.NextShardIterator, shardId);
      return out;
    }
    return original(command, options);
  };
  (client as unknown as { send: typeof wrapped }).send = wrapped;
  return counts;
}

/** Cumulative DynamoDB requests per command name (e.g. `ScanCommand`, `UpdateItemCommand`). */
export type DynamoDbCounts = Map<string, number>;

/** Replaces `client.send` with a pass-through that counts requests per command; returns the live counters. */
export function countDynamoDbRequests(client: DynamoDBClient): DynamoDbCounts {
  const counts: DynamoDbCounts = new Map();
  const original = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  const wrapped = (command: unknown, options?: unknown): Promise<unknown> => {
    const name = (command as { constructor?: { name?: string } })?.constructor?.name ?? 'unknown';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return original(command, options);
  };
  (client as unknown as { send: typeof wrapped }).send = wrapped;
  return counts;
}
