import { describe, expect, it } from 'vitest';
import { FakeClock, ResourceNotFoundError, ShutdownError, flushMicrotasks } from '@kcl-ts/processor';
import { PeriodicShardSync, resolveShardSyncConfig, type ShardSyncOptions, type ShardSyncResult } from '@kcl-ts/shard-sync';

const OK: ShardSyncResult = { shards: 1, leasesCreated: [], holes: [], repairedHoles: [], garbageLeases: [] };

function harness(options: { leader?: boolean; failWith?: () => Error | undefined; intervalMs?: number } = {}) {
  const clock = new FakeClock();
  const state = { leader: options.leader ?? true, syncs: 0, cleanups: 0, errors: [] as Error[] };
  const sync = new PeriodicShardSync({
    syncer: {
      syncShards: async () => {
        state.syncs += 1;
        const error = options.failWith?.();
        if (error) throw error;
        return { ...OK, shards: state.syncs };
      },
    },
    cleanup: { run: async () => ((state.cleanups += 1), { deleted: [] }) },
    isLeader: () => state.leader,
    config: resolveShardSyncConfig({ intervalMs: options.intervalMs ?? 1000, maxBackoffMs: 8000, minRequestIntervalMs: 100 }),
    clock,
    onError: (e) => state.errors.push(e),
  });
  return { clock, state, sync };
}

describe('PeriodicShardSync', () => {
  it('start() syncs at once even when not leader, then only the leader syncs every intervalMs', async () => {
    const { clock, state, sync } = harness({ leader: false });
    expect(await sync.start()).toMatchObject({ shards: 1 });
    expect(state).toMatchObject({ syncs: 1, cleanups: 1 });
    expect(await sync.start()).toMatchObject({ shards: 1 }); // idempotent
    await clock.advance(5000);
    expect(state.syncs).toBe(1);
    state.leader = true;
    await clock.advance(999);
    expect(state.syncs).toBe(1);
    await clock.advance(1);
    expect(state).toMatchObject({ syncs: 2, cleanups: 2 });
    await clock.advance(3000);
    expect(state.syncs).toBe(5);
    await sync.stop();
  });

  it('requestSync() runs soon on any worker, no sooner than minRequestIntervalMs after the last run', async () => {
    const { clock, state, sync } = harness({ leader: false, intervalMs: 60_000 });
    await sync.start();
    sync.requestSync();
    await clock.advance(99);
    expect(state.syncs).toBe(1);
    await clock.advance(1);
    expect(state.syncs).toBe(2);
    sync.requestSync();
    sync.requestSync(); // coalesced
    await clock.advance(1000);
    expect(state.syncs).toBe(3);
    await sync.stop();
  });

  it('a missing stream surfaces via onError, and failures back off (interval × 2^n, capped): no busy loop', async () => {
    let fail = false;
    const { clock, state, sync } = harness({ failWith: () => (fail ? new ResourceNotFoundError('stream', 's', 'stream "s" not found') : undefined) });
    await sync.start();
    fail = true;
    const syncsAt = (ms: number) => clock.advanceTo(ms).then(() => state.syncs);
    // runs at 1000 (fail), then waits 1000, 2000, 4000, 8000, 8000 ...
    expect(await syncsAt(1000)).toBe(2);
    expect(state.errors).toHaveLength(1);
    expect(state.errors[0]).toBeInstanceOf(ResourceNotFoundError);
    expect(await syncsAt(1999)).toBe(2);
    expect(await syncsAt(2000)).toBe(3);
    expect(await syncsAt(3999)).toBe(3);
    expect(await syncsAt(4000)).toBe(4);
    expect(await syncsAt(8000)).toBe(5);
    expect(await syncsAt(16_000)).toBe(6);
    expect(await syncsAt(24_000)).toBe(7);
    sync.requestSync(); // does not cut the backoff short
    expect(await syncsAt(31_999)).toBe(7);
    fail = false;
    expect(await syncsAt(32_000)).toBe(8);
    expect(state.errors).toHaveLength(6);
    expect(await syncsAt(33_000)).toBe(9); // healthy again: back to intervalMs
    await sync.stop();
  });

  it('start() rejects when the first sync fails and may be called again', async () => {
    let fail = true;
    const { state, sync } = harness({ failWith: () => (fail ? new Error('boom') : undefined) });
    await expect(sync.start()).rejects.toThrow('boom');
    fail = false;
    await expect(sync.start()).resolves.toMatchObject({ shards: 2 });
    expect(state.errors).toHaveLength(0); // start() reports to the caller, not onError
    await sync.stop();
  });

  it('stop() is idempotent, cancels the timer, and a stopped instance refuses to start', async () => {
    const { clock, state, sync } = harness();
    await sync.start();
    await flushMicrotasks();
    expect(clock.pendingTimers).toBe(1);
    const a = sync.stop();
    const b = sync.stop();
    expect(a).toBe(b);
    await a;
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10_000);
    expect(state.syncs).toBe(1);
    await expect(sync.start()).rejects.toBeInstanceOf(ShutdownError);
    await expect(sync.runOnce()).rejects.toBeInstanceOf(ShutdownError);
  });

  it('stop() aborts a sync in progress', async () => {
    const clock = new FakeClock();
    let seen: AbortSignal | undefined;
    const sync = new PeriodicShardSync({
      syncer: {
        syncShards: (signal?: AbortSignal) =>
          new Promise<ShardSyncResult>((_, reject) => {
            seen = signal;
            signal?.addEventListener('abort', () => reject(signal.reason));
          }),
      },
      isLeader: () => true,
      clock,
    });
    const started = sync.start();
    await flushMicrotasks();
    expect(seen?.aborted).toBe(false);
    await sync.stop();
    expect(seen?.aborted).toBe(true);
    await expect(started).rejects.toBeInstanceOf(ShutdownError);
  });

  it('rejects bad options with a TypeError naming them', () => {
    const syncer = { syncShards: async () => OK };
    expect(() => resolveShardSyncConfig({ intervalMs: 0 })).toThrow(/^shardSync\.intervalMs must be a positive integer of milliseconds/);
    expect(() => resolveShardSyncConfig({ interval: 5 } as ShardSyncOptions)).toThrow(/^shardSync\.interval is not an option/);
    expect(() => new PeriodicShardSync({ syncer, isLeader: undefined as never })).toThrow(/isLeader/);
    expect(() => new PeriodicShardSync({ syncer: {} as never, isLeader: () => true })).toThrow(/syncer/);
  });
});
