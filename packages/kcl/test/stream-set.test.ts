/**
 * StreamSet on a fake clock, a fake Kinesis (DescribeStreamSummary, ListShards) and the
 * in-memory lease table: the tracker's refresh and the deferral of the deletion strategies,
 * step by step, without real time.
 */
import { DescribeStreamSummaryCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { InMemoryLeaseRefresher, type Lease } from '@kcl-ts/leases';
import { silentLogger } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { SHARD_SYNC_DEFAULTS } from '@kcl-ts/shard-sync';
import { describe, expect, it } from 'vitest';
import { resolveStreamsOption, type FormerStreamsLeasesDeletion } from '../src/streams/stream-options.js';
import { StreamSet, type StreamHandle } from '../src/streams/stream-set.js';
import { WorkerMetrics } from '../src/worker-metrics.js';

const MAX = ((1n << 128n) - 1n).toString();

/** One open shard per stream; streams not in `existing` are missing. */
function fakeKinesis(existing: Set<string>): KinesisClient {
  const notFound = (name: string): Error => Object.assign(new Error(`Stream ${name} under account 000000000000 not found.`), { name: 'ResourceNotFoundException' });
  return {
    send: async (command: unknown) => {
      if (command instanceof DescribeStreamSummaryCommand) {
        const name = command.input.StreamName!;
        if (!existing.has(name)) throw notFound(name);
        return { StreamDescriptionSummary: { StreamName: name, StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`, StreamCreationTimestamp: new Date(1_767_225_600_500) } };
      }
      if (command instanceof ListShardsCommand) {
        const name = command.input.StreamName!;
        if (!existing.has(name)) throw notFound(name);
        return { Shards: [{ ShardId: 'shardId-000000000000', HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX }, SequenceNumberRange: { StartingSequenceNumber: '1' } }] };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as KinesisClient;
}

async function setup(deletion: FormerStreamsLeasesDeletion, options: { leader?: boolean; existing?: string[] } = {}) {
  const clock = new FakeClock();
  const store = new InMemoryLeaseRefresher();
  const names = { list: ['orders', 'clicks'] };
  const existing = new Set(options.existing ?? ['orders', 'clicks']);
  const streams = resolveStreamsOption({ streams: { list: () => names.list.map((streamName) => ({ streamName })), refreshIntervalMs: 1_000, formerStreamsLeasesDeletion: deletion } }, 'TRIM_HORIZON')!;
  let latest: Lease[] = [];
  const removed: string[] = [];
  const errors: string[] = [];
  const controller = new AbortController();
  const set = new StreamSet({
    kinesisClient: fakeKinesis(existing),
    refresher: store,
    streams,
    single: undefined,
    shardSync: SHARD_SYNC_DEFAULTS,
    clock,
    logger: silentLogger(),
    metrics: new WorkerMetrics(undefined, 'w1', undefined),
    signal: controller.signal,
    isLeader: () => options.leader ?? true,
    latestLeases: () => latest,
    prepare: async () => undefined,
    onStreamRemoved: async (handle: StreamHandle) => void removed.push(handle.streamName),
    onStreamError: (label) => void errors.push(label),
    onError: (error) => void errors.push(error.message),
    onSyncRun: () => undefined,
  });
  /** Advances the clock by whole refresh intervals, with a fresh scan before each (as the taker keeps one). */
  const refreshes = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      latest = await store.listLeases();
      await clock.advance(1_000);
    }
  };
  const keys = async () => (await store.listLeases()).map((l) => l.leaseKey).sort();
  return { set, store, names, existing, removed, errors, refreshes, keys, controller };
}

const ORDERS = '000000000000:orders:1767225600:shardId-000000000000';
const CLICKS = '000000000000:clicks:1767225600:shardId-000000000000';

describe('StreamSet', () => {
  it('keys each stream by account, name and creation epoch in seconds, and stops a stream that leaves the list', async () => {
    const { set, names, removed, refreshes, keys } = await setup({ strategy: 'none' });
    await set.start();
    expect(await keys()).toEqual([CLICKS, ORDERS]);
    expect(set.handles().map((h) => h.streamIdentifier).sort()).toEqual(['000000000000:clicks:1767225600', '000000000000:orders:1767225600']);
    names.list = ['orders'];
    await refreshes(1);
    expect(removed).toEqual(['clicks']);
    expect(set.handleOf({ streamIdentifier: '000000000000:clicks:1767225600' })).toBeUndefined();
    await refreshes(5);
    expect(await keys()).toEqual([CLICKS, ORDERS]); // strategy none: kept
    await set.stop();
  });

  it('auto: deletes a former stream’s leases only once it has been unlisted for waitMs, and only on the leader', async () => {
    const { set, names, refreshes, keys } = await setup({ strategy: 'auto', waitMs: 5_000 });
    await set.start();
    names.list = ['orders'];
    await refreshes(5); // first seen as former at the first refresh: 4 s later, still kept
    expect(await keys()).toEqual([CLICKS, ORDERS]);
    await refreshes(2);
    expect(await keys()).toEqual([ORDERS]);
    await set.stop();

    const follower = await setup({ strategy: 'auto', waitMs: 0 }, { leader: false });
    await follower.set.start();
    follower.names.list = ['orders'];
    await follower.refreshes(5);
    expect(await follower.keys()).toEqual([CLICKS, ORDERS]);
    await follower.set.stop();
  });

  it('auto: a stream listed again before the deferral ends keeps its leases', async () => {
    const { set, names, refreshes, keys } = await setup({ strategy: 'auto', waitMs: 5_000 });
    await set.start();
    names.list = ['orders'];
    await refreshes(3);
    names.list = ['orders', 'clicks'];
    await refreshes(10);
    expect(await keys()).toEqual([CLICKS, ORDERS]);
    expect(set.handles()).toHaveLength(2);
    await set.stop();
  });

  it('auto: a listed stream whose DescribeStreamSummary fails is not former', async () => {
    // clicks is listed and has leases, but Kinesis does not describe it (deleted, or throttled):
    // it is reported every refresh, and its leases stay.
    const { set, store, refreshes, keys, errors } = await setup({ strategy: 'auto', waitMs: 0 }, { existing: ['orders'] });
    await store.createLeaseIfNotExists({ leaseKey: CLICKS, streamIdentifier: '000000000000:clicks:1767225600', shardId: 'shardId-000000000000', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
    await set.start();
    await refreshes(5);
    expect(await keys()).toEqual([CLICKS, ORDERS]);
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(new Set(errors)).toEqual(new Set(['clicks']));
    await set.stop();
  });

  it('provided: deletes only the named streams, after waitMs', async () => {
    const { set, names, refreshes, keys } = await setup({ strategy: 'provided', waitMs: 2_000, streams: () => [{ streamName: 'clicks' }] });
    await set.start();
    names.list = [];
    await refreshes(2);
    expect(await keys()).toEqual([CLICKS, ORDERS]);
    await refreshes(2);
    expect(await keys()).toEqual([ORDERS]);
    await set.stop();
  });
});
