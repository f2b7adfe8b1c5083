import { describe, expect, it } from 'vitest';
import type { NewLease } from '@kcl-ts/leases';
import { planNewLeases } from '../src/lease-plan.js';
import { FakeStream, lease, sid } from './fake-stream.js';

const TS = new Date('2026-03-01T12:00:00Z');

/** shardId → checkpoint of the planned leases. */
function starts(levels: readonly (readonly NewLease[])[]): Record<string, string> {
  return Object.fromEntries(levels.flat().map((l) => [l.leaseKey, l.checkpoint.sequenceNumber]));
}

/** 0,1 → split 0 into 2,3 → merge 3+1 into 4. Open: 2, 4. */
async function splitThenMerge(): Promise<FakeStream> {
  const stream = new FakeStream(2);
  const [, b] = stream.split(sid(0));
  stream.merge(b, sid(1));
  return stream;
}

describe('planNewLeases on an empty table', () => {
  it('TRIM_HORIZON: every shard, closed ancestors included, parents in earlier levels than children', async () => {
    const stream = await splitThenMerge();
    const plan = planNewLeases(await stream.listShards(), [], 'TRIM_HORIZON');
    expect(plan.levels.map((level) => level.map((l) => l.leaseKey))).toEqual([[sid(0), sid(1)], [sid(2), sid(3)], [sid(4)]]);
    expect(new Set(Object.values(starts(plan.levels)))).toEqual(new Set(['TRIM_HORIZON']));
    const merged = plan.levels[2]![0]!;
    expect(merged.parentShardIds).toEqual([sid(1), sid(3)]);
    expect(merged.hashKeyRange).toEqual(stream.get(sid(4)).hashKeyRange);
    expect(plan.levels[1]![0]!.parentShardIds).toEqual([sid(0)]);
    expect(plan.skipped).toEqual([]);
  });

  it('LATEST: only the open shards, at LATEST; closed ancestors are skipped', async () => {
    const stream = await splitThenMerge();
    const plan = planNewLeases(await stream.listShards(), [], 'LATEST');
    expect(starts(plan.levels)).toEqual({ [sid(2)]: 'LATEST', [sid(4)]: 'LATEST' });
    expect(plan.skipped.map((s) => s.shardId).sort()).toEqual([sid(0), sid(1), sid(3)]);
    expect(plan.levels.flat().find((l) => l.leaseKey === sid(4))!.parentShardIds).toEqual([sid(1), sid(3)]);
  });

  it('AT_TIMESTAMP: roots at AT_TIMESTAMP with initialTimestamp; their new descendants inherit it', async () => {
    const stream = await splitThenMerge();
    const plan = planNewLeases(await stream.listShards(), [], { timestamp: TS });
    const all = plan.levels.flat();
    expect(all).toHaveLength(5);
    for (const l of all) {
      expect(l.checkpoint.sequenceNumber).toBe('AT_TIMESTAMP');
      expect(l.initialTimestamp).toBe(TS.getTime());
    }
  });
});

describe('planNewLeases with leases in the table', () => {
  it('a descendant of a shard we read starts at TRIM_HORIZON even with LATEST', async () => {
    const stream = new FakeStream(2);
    const leases = [lease(sid(0), '49000000000000000000001'), lease(sid(1), 'LATEST')];
    stream.split(sid(0));
    const plan = planNewLeases(await stream.listShards(), leases, 'LATEST');
    expect(starts(plan.levels)).toEqual({ [sid(2)]: 'TRIM_HORIZON', [sid(3)]: 'TRIM_HORIZON' });
  });

  it('with LATEST, a closed shard below a leased ancestor is created (TRIM_HORIZON), grandchildren too', async () => {
    const stream = new FakeStream(1);
    const leases = [lease(sid(0), '49000000000000000000001')];
    const [c1] = stream.split(sid(0));
    stream.split(c1); // shards 3 and 4 under 1
    const plan = planNewLeases(await stream.listShards(), leases, 'LATEST');
    expect(starts(plan.levels)).toEqual({ [sid(1)]: 'TRIM_HORIZON', [sid(2)]: 'TRIM_HORIZON', [sid(3)]: 'TRIM_HORIZON', [sid(4)]: 'TRIM_HORIZON' });
    expect(plan.levels.map((l) => l.map((x) => x.leaseKey))).toEqual([[sid(1), sid(2)], [sid(3), sid(4)]]);
  });

  it('a merge child with one read parent starts at TRIM_HORIZON', async () => {
    const stream = new FakeStream(2);
    stream.merge(sid(0), sid(1));
    const plan = planNewLeases(await stream.listShards(), [lease(sid(1), 'SHARD_END')], 'LATEST');
    expect(starts(plan.levels)).toEqual({ [sid(2)]: 'TRIM_HORIZON' });
    expect(plan.skipped).toEqual([{ shardId: sid(0), reason: 'latest' }]);
  });

  it('a closed shard whose descendants progressed (read, then deleted) is not re-created', async () => {
    const stream = new FakeStream(1);
    const [a, b] = stream.split(sid(0));
    const [a1] = stream.split(a);
    // 0 and a were read and cleaned up; b progressed; a1 progressed; a2 is new.
    const leases = [lease(b, '49000000000000000000002'), lease(a1, 'SHARD_END')];
    const plan = planNewLeases(await stream.listShards(), leases, 'TRIM_HORIZON');
    expect(starts(plan.levels)).toEqual({ [sid(4)]: 'TRIM_HORIZON' });
    expect(plan.skipped).toEqual([
      { shardId: sid(0), reason: 'completed' },
      { shardId: a, reason: 'completed' },
    ]);
  });

  it('with TRIM_HORIZON, a closed ancestor whose descendants have not progressed is created first', async () => {
    const stream = new FakeStream(1);
    const [a, b] = stream.split(sid(0));
    const plan = planNewLeases(await stream.listShards(), [lease(a, 'LATEST'), lease(b, 'TRIM_HORIZON')], 'TRIM_HORIZON');
    expect(starts(plan.levels)).toEqual({ [sid(0)]: 'TRIM_HORIZON' });
  });

  it('with LATEST, a later sync still skips the closed ancestors of LATEST leases', async () => {
    const stream = await splitThenMerge();
    const plan = planNewLeases(await stream.listShards(), [lease(sid(2), 'LATEST'), lease(sid(4), 'LATEST')], 'LATEST');
    expect(plan.levels).toEqual([]);
  });

  it('a parent past retention counts through its lease; without a lease the initial position applies', async () => {
    const stream = new FakeStream(2);
    stream.split(sid(0));
    stream.split(sid(1));
    stream.trim(sid(0));
    stream.trim(sid(1));
    const plan = planNewLeases(await stream.listShards(), [lease(sid(0), 'SHARD_END')], 'LATEST');
    expect(starts(plan.levels)).toEqual({ [sid(2)]: 'TRIM_HORIZON', [sid(3)]: 'TRIM_HORIZON', [sid(4)]: 'LATEST', [sid(5)]: 'LATEST' });
  });

  it('is a no-op when every shard has a lease', async () => {
    const stream = await splitThenMerge();
    const shards = await stream.listShards();
    expect(planNewLeases(shards, shards.map((s) => lease(s.shardId, 'TRIM_HORIZON')), 'TRIM_HORIZON').levels).toEqual([]);
  });
});
