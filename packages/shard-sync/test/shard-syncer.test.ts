import { describe, expect, it } from 'vitest';
import { InMemoryLeaseRefresher, type Lease, type NewLease } from '@kcl-ts/leases';
import { ShardSyncer, type ChildShard } from '@kcl-ts/shard-sync';
import { FakeStream, lease, MAX, sid } from './fake-stream.js';

function syncer(stream: FakeStream, refresher: InMemoryLeaseRefresher, initialPosition: 'TRIM_HORIZON' | 'LATEST' | { timestamp: Date } = 'TRIM_HORIZON') {
  return new ShardSyncer({ refresher, detector: stream, initialPosition });
}

async function table(refresher: InMemoryLeaseRefresher): Promise<Map<string, Lease>> {
  return new Map((await refresher.listLeases()).map((l) => [l.leaseKey, l] as const));
}

describe('ShardSyncer.syncShards', () => {
  it('creates a lease per shard with lineage and range, parents before children; a second sync creates nothing', async () => {
    const stream = new FakeStream(2);
    const [, b] = stream.split(sid(0));
    stream.merge(b, sid(1));
    const refresher = new InMemoryLeaseRefresher();
    const order: string[] = [];
    const create = refresher.createLeaseIfNotExists.bind(refresher);
    refresher.createLeaseIfNotExists = async (l: NewLease) => {
      order.push(l.leaseKey);
      return create(l);
    };
    const result = await syncer(stream, refresher).syncShards();
    expect(result.shards).toBe(5);
    expect([...result.leasesCreated].sort()).toEqual([0, 1, 2, 3, 4].map(sid));
    expect(result.holes).toEqual([]);
    expect(result.repairedHoles).toEqual([]);
    expect(result.garbageLeases).toEqual([]);
    expect(order.indexOf(sid(0))).toBeLessThan(order.indexOf(sid(2)));
    expect(order.indexOf(sid(3))).toBeLessThan(order.indexOf(sid(4)));
    expect(order.indexOf(sid(1))).toBeLessThan(order.indexOf(sid(4)));
    const leases = await table(refresher);
    expect(leases.get(sid(4))!.parentShardIds).toEqual([sid(1), sid(3)]);
    expect(leases.get(sid(4))!.hashKeyRange).toEqual(stream.get(sid(4)).hashKeyRange);
    expect(leases.get(sid(0))!.parentShardIds).toEqual([]);

    const again = await syncer(stream, refresher).syncShards();
    expect(again.leasesCreated).toEqual([]);
  });

  it('initial positions: TRIM_HORIZON, LATEST, AT_TIMESTAMP (checkpoint and initialTimestamp)', async () => {
    const ts = new Date('2026-02-03T04:05:06Z');
    for (const [position, checkpoint] of [
      ['TRIM_HORIZON', 'TRIM_HORIZON'],
      ['LATEST', 'LATEST'],
      [{ timestamp: ts }, 'AT_TIMESTAMP'],
    ] as const) {
      const refresher = new InMemoryLeaseRefresher();
      await syncer(new FakeStream(2), refresher, position).syncShards();
      const leases = [...(await table(refresher)).values()];
      expect(leases).toHaveLength(2);
      for (const l of leases) {
        expect(l.checkpoint).toEqual({ sequenceNumber: checkpoint, subSequenceNumber: 0 });
        expect(l.initialTimestamp).toBe(checkpoint === 'AT_TIMESTAMP' ? ts.getTime() : undefined);
      }
    }
  });

  it('LATEST: a child of a shard we read gets TRIM_HORIZON', async () => {
    const stream = new FakeStream(1);
    const refresher = new InMemoryLeaseRefresher();
    await syncer(stream, refresher, 'LATEST').syncShards();
    expect((await refresher.getLease(sid(0)))!.checkpoint.sequenceNumber).toBe('LATEST');
    stream.split(sid(0));
    const result = await syncer(stream, refresher, 'LATEST').syncShards();
    expect([...result.leasesCreated].sort()).toEqual([sid(1), sid(2)]);
    const leases = await table(refresher);
    expect(leases.get(sid(1))!.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
    expect(leases.get(sid(2))!.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
  });

  it('a lease deleted by hand is a hole: the next sync reports it as repaired and re-creates the lease', async () => {
    const stream = new FakeStream(2);
    stream.split(sid(1));
    const refresher = new InMemoryLeaseRefresher();
    await syncer(stream, refresher).syncShards();
    await refresher.deleteLease(sid(3));
    const result = await syncer(stream, refresher).syncShards();
    expect(result.repairedHoles).toEqual([stream.get(sid(3)).hashKeyRange]);
    expect(result.holes).toEqual([]);
    expect(result.leasesCreated).toEqual([sid(3)]);
    const recreated = (await refresher.getLease(sid(3)))!;
    expect(recreated.parentShardIds).toEqual([sid(1)]);
    expect(recreated.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
  });

  it('reports a hole it cannot repair (an open shard whose lease says SHARD_END)', async () => {
    const stream = new FakeStream(2);
    const refresher = new InMemoryLeaseRefresher();
    await syncer(stream, refresher).syncShards();
    refresher.put(lease(sid(1), 'SHARD_END', { hashKeyRange: stream.get(sid(1)).hashKeyRange }));
    const result = await syncer(stream, refresher).syncShards();
    expect(result.holes).toEqual([{ startingHashKey: stream.get(sid(1)).hashKeyRange.startingHashKey, endingHashKey: MAX.toString() }]);
    expect(result.leasesCreated).toEqual([]);
  });

  it('reports garbage leases (shards no longer listed) without deleting them', async () => {
    const stream = new FakeStream(1);
    stream.split(sid(0));
    const refresher = new InMemoryLeaseRefresher();
    await syncer(stream, refresher).syncShards();
    stream.trim(sid(0));
    const result = await syncer(stream, refresher).syncShards();
    expect(result.garbageLeases).toEqual([sid(0)]);
    expect(await refresher.getLease(sid(0))).toBeDefined();
  });

  it('two syncers at once on one table: same leases as one sync, each created once', async () => {
    const stream = new FakeStream(3);
    const [a] = stream.split(sid(0));
    stream.merge(sid(1), sid(2));
    stream.split(a);
    const shared = new InMemoryLeaseRefresher();
    const [r1, r2] = await Promise.all([syncer(stream, shared).syncShards(), syncer(stream, shared).syncShards()]);
    const alone = new InMemoryLeaseRefresher();
    await syncer(stream, alone).syncShards();
    const strip = (m: Map<string, Lease>) => [...m.values()].map(({ leaseKey, parentShardIds, checkpoint, hashKeyRange }) => ({ leaseKey, parentShardIds, checkpoint, hashKeyRange })).sort((x, y) => x.leaseKey.localeCompare(y.leaseKey));
    expect(strip(await table(shared))).toEqual(strip(await table(alone)));
    expect([...r1.leasesCreated, ...r2.leasesCreated].sort()).toEqual([...(await table(alone)).keys()].sort());
  });

  it('rejects bad options with a TypeError naming them', () => {
    const refresher = new InMemoryLeaseRefresher();
    expect(() => new ShardSyncer({ refresher, detector: new FakeStream(1), initialPosition: 'OLDEST' as never })).toThrow(/initialPosition/);
    expect(() => new ShardSyncer({ refresher, detector: {} as never, initialPosition: 'LATEST' })).toThrow(/detector/);
    expect(() => new ShardSyncer({ refresher: {} as never, detector: new FakeStream(1), initialPosition: 'LATEST' })).toThrow(/refresher/);
  });
});

describe('ShardSyncer.createChildLeases', () => {
  it('from ChildShards of a split: TRIM_HORIZON children with parents and ranges; parent records the children', async () => {
    const stream = new FakeStream(1);
    const refresher = new InMemoryLeaseRefresher();
    await syncer(stream, refresher, 'LATEST').syncShards();
    const [a, b] = stream.split(sid(0));
    const children: ChildShard[] = [a, b].map((id) => ({ shardId: id, parentShards: [sid(0)], hashKeyRange: stream.get(id).hashKeyRange }));
    const listCalls = stream.listCalls;
    const created = await syncer(stream, refresher, 'LATEST').createChildLeases((await refresher.getLease(sid(0)))!, children);
    expect(created).toEqual([a, b]);
    expect(stream.listCalls).toBe(listCalls); // ChildShards given: no ListShards
    const leases = await table(refresher);
    expect(leases.get(a)).toMatchObject({ checkpoint: { sequenceNumber: 'TRIM_HORIZON' }, parentShardIds: [sid(0)], hashKeyRange: stream.get(a).hashKeyRange });
    expect(leases.get(sid(0))!.childShardIds).toEqual([a, b]);
    // A second worker doing the same is harmless.
    expect(await syncer(stream, refresher).createChildLeases(leases.get(sid(0))!, children)).toEqual([]);
  });

  it('falls back to ListShards when ChildShards is missing or empty; a merge child records both parents, both parents record it', async () => {
    const stream = new FakeStream(2);
    const refresher = new InMemoryLeaseRefresher();
    await syncer(stream, refresher).syncShards();
    const child = stream.merge(sid(0), sid(1));
    const created = await syncer(stream, refresher).createChildLeases((await refresher.getLease(sid(1)))!, []);
    expect(created).toEqual([child]);
    const leases = await table(refresher);
    expect(leases.get(child)!.parentShardIds).toEqual([sid(0), sid(1)]);
    expect(leases.get(sid(0))!.childShardIds).toEqual([child]);
    expect(leases.get(sid(1))!.childShardIds).toEqual([child]);
    expect(await syncer(stream, refresher).createChildLeases(leases.get(sid(0))!)).toEqual([]);
  });

  it('returns [] when the shard has no children yet', async () => {
    const stream = new FakeStream(1);
    const refresher = new InMemoryLeaseRefresher();
    await syncer(stream, refresher).syncShards();
    expect(await syncer(stream, refresher).createChildLeases((await refresher.getLease(sid(0)))!)).toEqual([]);
    expect((await refresher.listLeases()).length).toBe(1);
  });
});
