/**
 * What the scenarios read at the end of a run, straight from the services (not through the
 * library under test): the stream's shard lineage and the raw lease table.
 * @module
 */
import { GetItemCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { shardKey } from './journal.js';
import type { LeaseRow, ShardLineage } from './oracle.js';

/** Every shard of the stream (closed ones included), via paged ListShards. */
export async function listShards(client: KinesisClient, streamName: string): Promise<Shard[]> {
  const out: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }));
    out.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

/** True for a shard that still takes writes (no ending sequence number). */
export const isOpen = (s: Shard): boolean => s.SequenceNumberRange?.EndingSequenceNumber === undefined;

/**
 * Every shard of `streams` with its parents. With several streams each shard names its stream
 * (the oracle keys shards by (stream, shard)).
 */
export async function listStreamsLineage(client: KinesisClient, streams: readonly string[]): Promise<ShardLineage[]> {
  const each = await Promise.all(
    streams.map(async (stream) =>
      (await listShards(client, stream)).map((s) => ({
        ...(streams.length > 1 && { stream }),
        shardId: s.ShardId!,
        ...(s.ParentShardId && { parentShardId: s.ParentShardId }),
        ...(s.AdjacentParentShardId && { adjacentParentShardId: s.AdjacentParentShardId }),
      })),
    ),
  );
  return each.flat();
}

/** Every shard of `streams`; with several streams each `ShardId` is its {@link shardKey} (`stream/shard`). */
export async function listStreamsShards(client: KinesisClient, streams: readonly string[]): Promise<Shard[]> {
  const each = await Promise.all(streams.map(async (stream) => (await listShards(client, stream)).map((s) => (streams.length > 1 ? { ...s, ShardId: shardKey(stream, s.ShardId!) } : s))));
  return each.flat();
}

/** Every item of the lease table, read with a strongly consistent scan, as raw Java-KCL attributes. */
export async function scanLeaseTable(client: DynamoDBClient, tableName: string): Promise<LeaseRow[]> {
  const rows: LeaseRow[] = [];
  let startKey: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(startKey && { ExclusiveStartKey: startKey }) }));
    for (const item of page.Items ?? []) {
      const sub = item['checkpointSubSequenceNumber']?.N;
      rows.push({
        leaseKey: item['leaseKey']!.S!,
        ...(item['leaseOwner']?.S !== undefined && { leaseOwner: item['leaseOwner'].S }),
        ...(item['leaseCounter']?.N !== undefined && { leaseCounter: Number(item['leaseCounter'].N) }),
        checkpoint: item['checkpoint']?.S ?? 'TRIM_HORIZON',
        ...(sub !== undefined && { checkpointSubSequenceNumber: Number(sub) }),
        ...(item['handoffTo']?.S !== undefined && { handoffTo: item['handoffTo'].S }),
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
}

/** What the lease table says about a coordinator role (`leaseKey` `kcl-ts:role:<name>`). */
export interface RoleRow {
  /** The `roleHolder` attribute: the worker that holds (or last held) the role; absent while free. */
  readonly holder: string | undefined;
  /** The `roleCounter` attribute: bumped by every renewal and every take. */
  readonly counter: number;
}

/**
 * The coordinator role item (`kcl-ts:role:scanner` by default) read with a strongly consistent
 * GetItem, as raw attributes; undefined while the item does not exist. The holder is the
 * table's word, not a liveness check: a killed holder stays recorded until a peer takes the role.
 */
export async function readRoleItem(client: DynamoDBClient, tableName: string, role = 'scanner'): Promise<RoleRow | undefined> {
  const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: `kcl-ts:role:${role}` } }, ConsistentRead: true }));
  if (!Item) return undefined;
  return { holder: Item['roleHolder']?.S, counter: Number(Item['roleCounter']?.N ?? 0) };
}
