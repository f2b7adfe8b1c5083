import { describe, expect, it } from 'vitest';
import { InMemoryLeaseRefresher } from '@kcl-ts/leases';
import { AbortError } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { ShardHierarchyGate, ShardSyncer } from '@kcl-ts/shard-sync';
import { FakeStream, lease, sid } from './fake-stream.js';

async function setup(build: (stream: FakeStream) => void, shardCount = 2) {
  const stream = new FakeStream(shardCount);
  build(stream);
  const refresher = new InMemoryLeaseRefresher();
  await new ShardSyncer({ refresher, detector: stream, initialPosition: 'TRIM_HORIZON' }).syncShards();
  const clock = new FakeClock();
  const gate = new ShardHierarchyGate({ refresher, detector: stream, clock });
  const end = async (key: string) => refresher.put({ ...(await refresher.getLease(key))!, checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 } });
  const get = async (key: string) => (await refresher.getLease(key))!;
  return { stream, refresher, clock, gate, end, get };
}

describe('ShardHierarchyGate.canStart', () => {
  it('a lease without parents can start', async () => {
    const { gate, get } = await setup(() => undefined);
    expect(await gate.canStart(await get(sid(0)))).toBe(true);
  });

  it('split: the children wait for the parent SHARD_END', async () => {
    const { gate, get, end } = await setup((s) => s.split(sid(0)));
    expect(await gate.canStart(await get(sid(2)))).toBe(false);
    expect(await gate.canStart(await get(sid(3)))).toBe(false);
    await end(sid(0));
    expect(await gate.canStart(await get(sid(2)))).toBe(true);
    expect(await gate.canStart(await get(sid(3)))).toBe(true);
  });

  it('merge: the child waits for BOTH parents', async () => {
    const { gate, get, end } = await setup((s) => s.merge(sid(0), sid(1)));
    const child = await get(sid(2));
    expect(child.parentShardIds).toEqual([sid(0), sid(1)]);
    await end(sid(1));
    expect(await gate.canStart(child)).toBe(false);
    await end(sid(0));
    expect(await gate.canStart(child)).toBe(true);
  });

  it('a missing parent lease counts as finished when ListShards shows the parent closed or gone', async () => {
    const { gate, get, refresher, stream, end } = await setup((s) => s.merge(sid(0), sid(1)));
    await end(sid(0));
    await refresher.deleteLease(sid(1)); // parent 1 read and cleaned up
    expect(await gate.canStart(await get(sid(2)))).toBe(true);
    stream.trim(sid(0));
    await refresher.deleteLease(sid(0)); // past retention
    expect(await gate.canStart(await get(sid(2)))).toBe(true);
  });

  it('a closed parent without a lease yet, descending from a leased shard, blocks the child until its lease exists and ends (simulation seed 20319)', async () => {
    // 0 splits into 2 and 3; then 3 and 1 merge into 4. The lease of 4 exists (created at the
    // end of 1, from its ChildShards), but shard sync has not created the lease of 3 yet.
    const { gate, refresher, stream, end } = await setup((s) => {
      s.split(sid(0));
      s.merge(sid(3), sid(1));
    });
    await refresher.deleteLease(sid(3));
    await end(sid(0));
    await end(sid(1));
    const child = (await refresher.getLease(sid(4)))!;
    expect(child.parentShardIds).toEqual([sid(1), sid(3)].sort());
    expect(await gate.canStart(child)).toBe(false);
    await new ShardSyncer({ refresher, detector: stream, initialPosition: 'TRIM_HORIZON' }).syncShards();
    expect(await refresher.getLease(sid(3))).toBeDefined();
    expect(await gate.canStart(child)).toBe(false);
    await end(sid(3));
    expect(await gate.canStart(child)).toBe(true);
  });

  it('a closed parent the initial position skipped (no leased ancestor) does not block; a child that progressed is never blocked', async () => {
    const { gate, refresher, get } = await setup((s) => s.merge(sid(0), sid(1)));
    await refresher.deleteLease(sid(0));
    await refresher.deleteLease(sid(1));
    expect(await gate.canStart(await get(sid(2)))).toBe(true);
    const progressed = { ...(await get(sid(2))), checkpoint: { sequenceNumber: '12345', subSequenceNumber: 0 } };
    expect(await gate.canStart(progressed)).toBe(true);
  });

  it('a missing parent lease of a shard that ListShards shows OPEN blocks the child; the list is cached', async () => {
    const { gate, refresher, stream, clock } = await setup(() => undefined);
    const child = lease('shardId-x', 'TRIM_HORIZON', { parentShardIds: [sid(1)] });
    await refresher.deleteLease(sid(1));
    expect(await gate.canStart(child)).toBe(false);
    const calls = stream.listCalls;
    expect(await gate.canStart(child)).toBe(false);
    expect(stream.listCalls).toBe(calls); // cache younger than shardListMaxAgeMs
    await clock.advance(5000);
    expect(await gate.canStart(child)).toBe(false);
    expect(stream.listCalls).toBe(calls + 1);
  });

  it('without a detector a missing parent lease counts as finished', async () => {
    const refresher = new InMemoryLeaseRefresher();
    const gate = new ShardHierarchyGate({ refresher });
    expect(await gate.canStart(lease('c', 'TRIM_HORIZON', { parentShardIds: ['gone'] }))).toBe(true);
    refresher.put(lease('p', '123'));
    expect(await gate.canStart(lease('c', 'TRIM_HORIZON', { parentShardIds: ['p', 'gone'] }))).toBe(false);
  });
});

describe('ShardHierarchyGate.waitUntilCanStart', () => {
  it('polls the parents every pollIntervalMs on the clock', async () => {
    const { gate, get, end, refresher, clock } = await setup((s) => s.split(sid(0)));
    const child = await get(sid(2));
    let done = false;
    const waiting = gate.waitUntilCanStart(child, { pollIntervalMs: 1000 }).then(() => (done = true));
    await clock.advance(0);
    const reads = refresher.calls.getLease ?? 0;
    await clock.advance(999);
    expect(refresher.calls.getLease).toBe(reads);
    await clock.advance(1);
    expect(refresher.calls.getLease).toBe(reads + 1); // one consistent read of the one parent
    await end(sid(0));
    expect(done).toBe(false);
    await clock.advance(1000);
    await waiting;
    expect(done).toBe(true);
  });

  it('notifyShardEnded wakes the wait at once, without the clock moving', async () => {
    const { gate, get, end, clock } = await setup((s) => s.merge(sid(0), sid(1)));
    const child = await get(sid(2));
    let done = false;
    const waiting = gate.waitUntilCanStart(child, { pollIntervalMs: 60_000 }).then(() => (done = true));
    await clock.advance(0);
    await end(sid(0));
    gate.notifyShardEnded(sid(0));
    await clock.advance(0);
    expect(done).toBe(false); // the other parent is still running
    await end(sid(1));
    gate.notifyShardEnded(sid(1));
    await waiting;
    expect(done).toBe(true);
    expect(clock.elapsed()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a notification that arrives during a check is not lost', async () => {
    const { gate, get, end, refresher, clock } = await setup((s) => s.split(sid(0)));
    const child = await get(sid(2));
    const getLease = refresher.getLease.bind(refresher);
    let first = true;
    refresher.getLease = async (key: string) => {
      const result = await getLease(key);
      if (first) {
        first = false;
        await end(sid(0)); // the parent ends right after we read it
        gate.notifyShardEnded(sid(0));
      }
      return result;
    };
    await gate.waitUntilCanStart(child, { pollIntervalMs: 60_000 });
    expect(clock.elapsed()).toBe(0);
  });

  it('aborts with AbortError and leaves no timer behind', async () => {
    const { gate, get, clock } = await setup((s) => s.split(sid(0)));
    const controller = new AbortController();
    const waiting = gate.waitUntilCanStart(await get(sid(2)), { signal: controller.signal });
    await clock.advance(0);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a bad pollIntervalMs', async () => {
    const { gate, get } = await setup(() => undefined);
    await expect(gate.waitUntilCanStart(await get(sid(0)), { pollIntervalMs: 0 })).rejects.toThrow(/pollIntervalMs/);
  });
});
