// Resharding helpers for the integration tests: every stream operation waits (with a
// deadline) until the stream is ACTIVE again.
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  MergeShardsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { Lease, LeaseRefresher } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import type { ShardInfo } from '@kcl-ts/shard-sync';
import { parentShardIdsOf, shardFromSdk } from '../src/shard-info.js';
import { hashKeyMidpoint } from '../src/hash-key-space.js';
import { expect } from 'vitest';
import { waitFor } from '../../../test-support/stack.js';

export async function waitActive(client: KinesisClient, name: string): Promise<void> {
  await waitFor(
    async () => (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE',
    { timeoutMs: 30_000, message: `stream ${name} ACTIVE` },
  );
}

export async function listShards(client: KinesisClient, name: string): Promise<ShardInfo[]> {
  const out = await client.send(new ListShardsCommand({ StreamName: name }));
  return (out.Shards ?? []).map(shardFromSdk);
}

export function openShards(shards: readonly ShardInfo[]): ShardInfo[] {
  return shards.filter((s) => s.endingSequenceNumber === undefined).sort((a, b) => (BigInt(a.hashKeyRange.startingHashKey) < BigInt(b.hashKeyRange.startingHashKey) ? -1 : 1));
}

/** Splits `shardId` at the midpoint of its range; returns the new shards. */
export async function splitShard(client: KinesisClient, name: string, shardId: string): Promise<string[]> {
  const before = await listShards(client, name);
  const shard = before.find((s) => s.shardId === shardId)!;
  const newStart = (BigInt(hashKeyMidpoint(shard.hashKeyRange)) + 1n).toString();
  await client.send(new SplitShardCommand({ StreamName: name, ShardToSplit: shardId, NewStartingHashKey: newStart }));
  await waitActive(client, name);
  return newShardIds(before, await listShards(client, name));
}

/** Merges the first two ADJACENT open shards (by hash range); returns [parent, adjacent parent, child]. */
export async function mergeAdjacent(client: KinesisClient, name: string): Promise<[string, string, string]> {
  const before = await listShards(client, name);
  const open = openShards(before);
  const i = open.findIndex((s, k) => k + 1 < open.length && BigInt(s.hashKeyRange.endingHashKey) + 1n === BigInt(open[k + 1]!.hashKeyRange.startingHashKey));
  expect(i).toBeGreaterThanOrEqual(0);
  const [a, b] = [open[i]!, open[i + 1]!];
  await client.send(new MergeShardsCommand({ StreamName: name, ShardToMerge: a.shardId, AdjacentShardToMerge: b.shardId }));
  await waitActive(client, name);
  const [child] = newShardIds(before, await listShards(client, name));
  return [a.shardId, b.shardId, child!];
}

export async function updateShardCount(client: KinesisClient, name: string, target: number): Promise<void> {
  await client.send(new UpdateShardCountCommand({ StreamName: name, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
  await waitActive(client, name);
  await waitFor(async () => openShards(await listShards(client, name)).length === target, { message: `${target} open shards` });
}

function newShardIds(before: readonly ShardInfo[], after: readonly ShardInfo[]): string[] {
  const old = new Set(before.map((s) => s.shardId));
  return after.filter((s) => !old.has(s.shardId)).map((s) => s.shardId).sort();
}

/** Sets a lease's checkpoint to SHARD_END the way a worker would: take it, then a fenced update. */
export async function endShard(refresher: LeaseRefresher, leaseKey: string): Promise<void> {
  const current = await refresher.getLease(leaseKey);
  expect(current).toBeDefined();
  const held = await refresher.takeLease(current!, 'test-worker');
  expect(held).toBeDefined();
  const updated = await refresher.updateLease(held!, 'test-worker', { checkpoint: extended('SHARD_END') });
  expect(updated?.checkpoint.sequenceNumber).toBe('SHARD_END');
}

/** The lease table matches the stream's lineage: one lease per shard, parents and ranges as ListShards says. */
export function expectLineage(shards: readonly ShardInfo[], leases: readonly Lease[]): void {
  expect(leases.map((l) => l.leaseKey).sort()).toEqual(shards.map((s) => s.shardId).sort());
  const byKey = new Map(leases.map((l) => [l.leaseKey, l] as const));
  for (const shard of shards) {
    const lease = byKey.get(shard.shardId)!;
    expect({ shard: shard.shardId, parents: [...lease.parentShardIds].sort(), range: lease.hashKeyRange }).toEqual({
      shard: shard.shardId,
      parents: parentShardIdsOf(shard),
      range: shard.hashKeyRange,
    });
  }
}
