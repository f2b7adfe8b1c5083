import { describe, expect, it } from 'vitest';
import { InMemoryLeaseRefresher } from '@kcl-ts/leases';
import { FakeClock } from '@kcl-ts/processor/testing';
import { LeaseCleanup, ShardSyncer } from '@kcl-ts/shard-sync';
import { FakeStream, lease, sid } from './fake-stream.js';

async function setup(build: (stream: FakeStream) => void, shardCount = 2, garbageRetentionMs = 1000) {
  const stream = new FakeStream(shardCount);
  build(stream);
  const refresher = new InMemoryLeaseRefresher();
  await new ShardSyncer({ refresher, detector: stream, initialPosition: 'TRIM_HORIZON' }).syncShards();
  const clock = new FakeClock();
  const cleanup = new LeaseCleanup({ refresher, detector: stream, clock, garbageRetentionMs });
  const set = async (key: string, checkpoint: string) => refresher.put({ ...(await refresher.getLease(key))!, checkpoint: { sequenceNumber: checkpoint, subSequenceNumber: 0 } });
  const keys = async () => (await refresher.listLeases()).map((l) => l.leaseKey).sort();
  return { stream, refresher, clock, cleanup, set, keys };
}

describe('LeaseCleanup', () => {
  it('keeps a SHARD_END parent until ALL its children progressed past their start', async () => {
    const { cleanup, set, keys } = await setup((s) => s.split(sid(0)));
    await set(sid(0), 'SHARD_END');
    expect((await cleanup.run()).deleted).toEqual([]); // children at TRIM_HORIZON
    await set(sid(2), '49000000000000000000000000000001');
    await set(sid(3), 'AT_TIMESTAMP');
    expect((await cleanup.run()).deleted).toEqual([]); // one child not started
    await set(sid(3), 'SHARD_END');
    expect((await cleanup.run()).deleted).toEqual([sid(0)]);
    expect(await keys()).toEqual([sid(1), sid(2), sid(3)]);
  });

  it('merge: both parents are deleted once the one child progressed, not before', async () => {
    const { cleanup, set, keys } = await setup((s) => s.merge(sid(0), sid(1)));
    await set(sid(0), 'SHARD_END');
    await set(sid(1), 'SHARD_END');
    await set(sid(2), 'LATEST');
    expect((await cleanup.run()).deleted).toEqual([]);
    await set(sid(2), '49000000000000000000000000000007');
    expect((await cleanup.run()).deleted.sort()).toEqual([sid(0), sid(1)]);
    expect(await keys()).toEqual([sid(2)]);
  });

  it('never deletes an unfinished parent, nor a SHARD_END lease with no known child', async () => {
    const { cleanup, set, refresher } = await setup((s) => s.split(sid(0)), 2);
    await set(sid(2), '49000000000000000000000000000001');
    await set(sid(3), '49000000000000000000000000000001');
    await set(sid(1), 'SHARD_END'); // open shard (inconsistent), no children
    expect((await cleanup.run()).deleted).toEqual([]); // parent 0 is still at TRIM_HORIZON
    expect(await refresher.getLease(sid(0))).toBeDefined();
  });

  it('a child whose own lease is already gone after completion counts as progressed', async () => {
    const { cleanup, set, refresher, stream } = await setup((s) => {
      const [a] = s.split(sid(0));
      s.split(a);
    }, 1);
    // 0 → 1, 2; 1 → 3, 4. 1 was read and deleted; 3, 4 progressed; 2 progressed.
    await set(sid(0), 'SHARD_END');
    await refresher.deleteLease(sid(1));
    for (const k of [sid(2), sid(3), sid(4)]) await set(k, '49000000000000000000000000000009');
    expect(stream.get(sid(1)).endingSequenceNumber).toBeDefined();
    expect((await cleanup.run()).deleted).toEqual([sid(0)]);
  });

  it('garbage at SHARD_END is deleted at once; unfinished garbage only when missing in two runs garbageRetentionMs apart', async () => {
    const { cleanup, set, stream, clock, keys } = await setup((s) => s.split(sid(0)));
    await set(sid(0), 'SHARD_END');
    stream.trim(sid(0));
    stream.trim(sid(1)); // its lease is not SHARD_END
    expect((await cleanup.run()).deleted).toEqual([sid(0)]);
    await clock.advance(999);
    expect((await cleanup.run()).deleted).toEqual([]); // second run, but too soon
    await clock.advance(1);
    expect((await cleanup.run()).deleted).toEqual([sid(1)]);
    expect(await keys()).toEqual([sid(2), sid(3)]);
  });

  it('an unfinished lease whose shard reappears in the listing starts over', async () => {
    const refresher = new InMemoryLeaseRefresher();
    const stream = new FakeStream(2);
    refresher.put(lease(sid(0), '49000000000000000000000000000001'));
    refresher.put(lease(sid(1), '49000000000000000000000000000001'));
    let hidden = true;
    const flaky = {
      streamLabel: 'flaky',
      listShards: async () => (await stream.listShards()).filter((s) => !(hidden && s.shardId === sid(1))),
      listChildShards: async () => [],
    };
    const cleanup = new LeaseCleanup({ refresher, detector: flaky, clock: new FakeClock(), garbageRetentionMs: 0 });
    expect((await cleanup.run()).deleted).toEqual([]); // missing once
    hidden = false;
    expect((await cleanup.run()).deleted).toEqual([]); // back
    hidden = true;
    expect((await cleanup.run()).deleted).toEqual([]); // missing once again
    expect((await cleanup.run()).deleted).toEqual([sid(1)]); // missing twice in a row
    expect((await refresher.listLeases()).map((l) => l.leaseKey)).toEqual([sid(0)]);
  });

  it('rejects a bad garbageRetentionMs', () => {
    expect(() => new LeaseCleanup({ refresher: new InMemoryLeaseRefresher(), detector: new FakeStream(1), garbageRetentionMs: -1 })).toThrow(/garbageRetentionMs/);
  });
});
