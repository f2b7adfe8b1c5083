// Lineage through real resharding on the Kinesis Mock: split, merge of adjacent shards,
// UpdateShardCount up to 8 and back down to 3, with a shard sync after every step.
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryLeaseRefresher, type LeaseRefresher } from '@kcl-ts/leases';
import { ShardDetector, ShardHierarchyGate, ShardSyncer } from '@kcl-ts/shard-sync';
import { createStream, testStack, uniqueName } from '../../../test-support/stack.js';
import { endShard, expectLineage, listShards, mergeAdjacent, splitShard, updateShardCount } from './kinesis-helpers.js';

const stack = testStack();
const kinesis = stack.kinesisClient();
afterAll(() => kinesis.destroy());

/** After a step: sync, check lineage and holes, check the gate before and after the parents end. */
async function syncAndCheck(name: string, refresher: LeaseRefresher, expectBlockedChildren: boolean) {
  const detector = new ShardDetector({ kinesisClient: kinesis, stream: { streamName: name } });
  const syncer = new ShardSyncer({ refresher, detector, initialPosition: 'TRIM_HORIZON' });
  const gate = new ShardHierarchyGate({ refresher, detector });
  const result = await syncer.syncShards();
  expect(result.holes).toEqual([]);
  expect(result.garbageLeases).toEqual([]);
  const shards = await listShards(kinesis, name);
  expect(result.shards).toBe(shards.length);
  const leases = await refresher.listLeases();
  expectLineage(shards, leases);

  // The gate agrees with the parents' checkpoints, lease by lease.
  const ended = new Set(leases.filter((l) => l.checkpoint.sequenceNumber === 'SHARD_END').map((l) => l.leaseKey));
  let blocked = 0;
  for (const lease of leases) {
    const expected = lease.parentShardIds.every((p) => ended.has(p));
    expect({ shard: lease.leaseKey, canStart: await gate.canStart(lease) }).toEqual({ shard: lease.leaseKey, canStart: expected });
    if (!expected) blocked += 1;
  }
  expect(blocked > 0).toBe(expectBlockedChildren);

  // The closed shards are read to their end (SHARD_END): now every child may start.
  for (const shard of shards) {
    if (shard.endingSequenceNumber !== undefined && !ended.has(shard.shardId)) await endShard(refresher, shard.shardId);
  }
  for (const lease of await refresher.listLeases()) expect({ shard: lease.leaseKey, canStart: await gate.canStart(lease) }).toEqual({ shard: lease.leaseKey, canStart: true });
  return result;
}

describe('shard sync through resharding (Kinesis Mock)', () => {
  it('split → merge of adjacent shards → UpdateShardCount 2→4→8→4→3: one lease per shard with its parents, gate follows SHARD_END', async () => {
    const name = uniqueName('reshard');
    await createStream(kinesis, name, 2);
    const refresher = new InMemoryLeaseRefresher();

    const first = await syncAndCheck(name, refresher, false);
    expect(first.leasesCreated).toHaveLength(2);

    const children = await splitShard(kinesis, name, 'shardId-000000000000');
    expect(children).toHaveLength(2);
    expect((await syncAndCheck(name, refresher, true)).leasesCreated).toEqual(children);

    const [p1, p2, merged] = await mergeAdjacent(kinesis, name);
    const afterMerge = await syncAndCheck(name, refresher, true);
    expect(afterMerge.leasesCreated).toEqual([merged]);
    expect((await refresher.getLease(merged))!.parentShardIds).toEqual([p1, p2].sort());

    // The Kinesis Mock (like Kinesis) refuses more than 2x or less than 0.5x per call: 2 → 4 → 8 → 4 → 3.
    for (const target of [4, 8, 4, 3]) {
      await updateShardCount(kinesis, name, target);
      const result = await syncAndCheck(name, refresher, true);
      expect(result.leasesCreated.length).toBeGreaterThan(0);
    }
    const open = (await listShards(kinesis, name)).filter((s) => s.endingSequenceNumber === undefined);
    expect(open).toHaveLength(3);
  });
});
