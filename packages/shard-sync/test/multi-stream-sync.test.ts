// Two streams in one lease table: shard sync, child leases, the parent gate and cleanup of
// one stream see and change only that stream's leases, though both have the same shard ids.
import { describe, expect, it } from 'vitest';
import { InMemoryLeaseRefresher, multiStreamScope, type Lease } from '@kcl-ts/leases';
import { FakeClock } from '@kcl-ts/processor/testing';
import { LeaseCleanup, ShardHierarchyGate, ShardSyncer } from '@kcl-ts/shard-sync';
import { FakeStream, sid } from './fake-stream.js';

const A = '000000000000:orders:1767225600';
const B = '000000000000:clicks:1767225601';

async function setup() {
  const refresher = new InMemoryLeaseRefresher();
  const streams: Record<string, FakeStream> = { [A]: new FakeStream(2), [B]: new FakeStream(2) };
  const parts = (id: string) => {
    const scope = multiStreamScope(id);
    const detector = streams[id]!;
    return {
      stream: detector,
      scope,
      syncer: new ShardSyncer({ refresher, detector, initialPosition: 'TRIM_HORIZON', scope }),
      cleanup: new LeaseCleanup({ refresher, detector, scope, clock: new FakeClock(), garbageRetentionMs: 0 }),
      gate: new ShardHierarchyGate({ refresher, detector, scope }),
    };
  };
  const a = parts(A);
  const b = parts(B);
  const snapshot = async () => (await refresher.listLeases()).map((l) => [l.leaseKey, l.checkpoint.sequenceNumber, l.childShardIds.join(',')].join(' ')).sort();
  const set = async (key: string, checkpoint: string) => refresher.put({ ...(await refresher.getLease(key))!, checkpoint: { sequenceNumber: checkpoint, subSequenceNumber: 0 } });
  return { refresher, a, b, snapshot, set };
}

describe('shard sync of several streams in one table', () => {
  it('creates each stream\'s leases under its own keys, with the stream and shard attributes', async () => {
    const { refresher, a, b } = await setup();
    expect((await a.syncer.syncShards()).leasesCreated).toEqual([`${A}:${sid(0)}`, `${A}:${sid(1)}`]);
    expect((await b.syncer.syncShards()).leasesCreated).toEqual([`${B}:${sid(0)}`, `${B}:${sid(1)}`]);
    const lease = (await refresher.getLease(`${B}:${sid(1)}`))!;
    expect(lease).toMatchObject({ streamIdentifier: B, shardId: sid(1), checkpoint: { sequenceNumber: 'TRIM_HORIZON' } });
    // A second sync of either stream finds nothing to do and no garbage in the other's leases.
    const again = await a.syncer.syncShards();
    expect(again.leasesCreated).toEqual([]);
    expect(again.garbageLeases).toEqual([]);
  });

  it('a split of one stream creates, gates and cleans up only that stream\'s leases', async () => {
    const { refresher, a, b, snapshot, set } = await setup();
    await a.syncer.syncShards();
    await b.syncer.syncShards();
    const before = (await snapshot()).filter((row) => row.startsWith(B));

    const [c1, c2] = a.stream.split(sid(0));
    await set(`${A}:${sid(0)}`, 'SHARD_END');
    await a.syncer.syncShards();
    const parentLease = (await refresher.getLease(`${A}:${sid(0)}`)) as Lease;
    expect(await a.syncer.createChildLeases(parentLease)).toEqual([]); // the sync above created them already
    const child = (await refresher.getLease(`${A}:${c1}`))!;
    expect(child.parentShardIds).toEqual([sid(0)]); // parents are shard ids, as in Java's multi-stream leases
    expect(await a.gate.canStart(child)).toBe(true); // parent at SHARD_END, found under its stream's key
    // The other stream's shardId-000000000000 is not the parent: still TRIM_HORIZON, and it gates nothing.
    await set(`${A}:${sid(0)}`, 'TRIM_HORIZON');
    expect(await a.gate.canStart(child)).toBe(false);
    await set(`${A}:${sid(0)}`, 'SHARD_END');

    await set(`${A}:${c1}`, '49000000000000000000000000000001');
    await set(`${A}:${c2}`, '49000000000000000000000000000002');
    expect((await a.cleanup.run()).deleted).toEqual([`${A}:${sid(0)}`]);
    expect((await b.cleanup.run()).deleted).toEqual([]);
    expect((await snapshot()).filter((row) => row.startsWith(B))).toEqual(before);
  });

  it('cleanup of one stream never takes the other stream\'s leases for garbage', async () => {
    const { a, b, snapshot } = await setup();
    await a.syncer.syncShards();
    await b.syncer.syncShards();
    const all = await snapshot();
    // Run cleanup twice (garbage needs two sightings) on each stream: nothing is deleted.
    for (let i = 0; i < 2; i++) {
      expect((await a.cleanup.run()).deleted).toEqual([]);
      expect((await b.cleanup.run()).deleted).toEqual([]);
    }
    expect(await snapshot()).toEqual(all);
  });
});
