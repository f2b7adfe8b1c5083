// The same lineage on kinesalite: no UpdateShardCount, ShardFilter ignored, no ChildShards in
// GetRecords — so child leases come from createChildLeases(parent, undefined) → ListShards.
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryLeaseRefresher } from '@kcl-ts/leases';
import { ResourceNotFoundError } from '@kcl-ts/processor';
import { ShardDetector, ShardHierarchyGate, ShardSyncer } from '@kcl-ts/shard-sync';
import { createStream, testStack, uniqueName } from '../../../test-support/stack.js';
import { endShard, expectLineage, listShards, mergeAdjacent, splitShard } from './kinesis-helpers.js';

const stack = testStack();
const kinesis = stack.kinesisClient('kinesalite');
afterAll(() => kinesis.destroy());

describe('shard sync on kinesalite', () => {
  it('split + merge: child leases from the ListShards fallback, both merge parents gate the child', async () => {
    const name = uniqueName('lite');
    await createStream(kinesis, name, 2);
    const refresher = new InMemoryLeaseRefresher();
    const detector = new ShardDetector({ kinesisClient: kinesis, stream: { streamName: name } });
    const syncer = new ShardSyncer({ refresher, detector, initialPosition: 'TRIM_HORIZON' });
    const gate = new ShardHierarchyGate({ refresher, detector });
    expect((await syncer.syncShards()).leasesCreated).toHaveLength(2);

    const parent = 'shardId-000000000000';
    const children = await splitShard(kinesis, name, parent);
    expect(await syncer.createChildLeases((await refresher.getLease(parent))!, undefined)).toEqual(children);
    expect((await refresher.getLease(parent))!.childShardIds).toEqual(children);
    for (const child of children) {
      const lease = (await refresher.getLease(child))!;
      expect(lease).toMatchObject({ parentShardIds: [parent], checkpoint: { sequenceNumber: 'TRIM_HORIZON' } });
      expect(await gate.canStart(lease)).toBe(false);
    }
    await endShard(refresher, parent);
    for (const child of children) expect(await gate.canStart((await refresher.getLease(child))!)).toBe(true);

    const [a, b, merged] = await mergeAdjacent(kinesis, name);
    expect(await syncer.createChildLeases((await refresher.getLease(a))!)).toEqual([merged]);
    expect(await syncer.createChildLeases((await refresher.getLease(b))!)).toEqual([]); // the other parent's worker: harmless
    const child = (await refresher.getLease(merged))!;
    expect(child.parentShardIds).toEqual([a, b].sort());
    expect((await refresher.getLease(a))!.childShardIds).toEqual([merged]);
    expect((await refresher.getLease(b))!.childShardIds).toEqual([merged]);
    await endShard(refresher, a);
    expect(await gate.canStart(child)).toBe(false); // one parent is not enough
    await endShard(refresher, b);
    expect(await gate.canStart(child)).toBe(true);

    const result = await syncer.syncShards();
    expect(result.leasesCreated).toEqual([]);
    expect(result.holes).toEqual([]);
    expectLineage(await listShards(kinesis, name), await refresher.listLeases());
  });

  it('an unknown stream is a ResourceNotFoundError naming the stream and region', async () => {
    const name = uniqueName('missing');
    const error = await new ShardDetector({ kinesisClient: kinesis, stream: { streamName: name } }).listShards().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect((error as Error).message).toContain(`stream "${name}" not found in region ${stack.region}`);
  });
});
