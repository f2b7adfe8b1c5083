import { DescribeStreamSummaryCommand, ListShardsCommand, MergeShardsCommand, SplitShardCommand, UpdateShardCountCommand, type Shard } from '@aws-sdk/client-kinesis';
import { expect, it } from 'vitest';
import { linesOf, waitUntil } from '@kcl-ts/fleet';
import { FULL, describeModes, expectClean, pick, scenarioFrame } from './support.js';

describeModes(['polling'], ['polling', 'fanout'])('chaos 5 — split, merge and UpdateShardCount under load [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it('children wait for every parent, per-key order survives, nothing is lost', async () => {
    const kinesis = frame.stack.kinesisClient();
    try {
      const sc = await frame.create({ retrieval, name: 'reshard', shards: 2, keys: 20, recordDelayMs: 1 });
      const shards = await sc.openShards();
      for (const id of pick(['a', 'b'], ['a', 'b', 'c'])) sc.spawn(id);
      await sc.waitBalanced(shards, 60_000);

      const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: pick(400, 1_500) });
      const listShards = async (): Promise<Shard[]> => (await kinesis.send(new ListShardsCommand({ StreamName: sc.streamName }))).Shards ?? [];
      const open = async (): Promise<Shard[]> => (await listShards()).filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
      const active = async (): Promise<boolean> =>
        (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: sc.streamName }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
      const byStart = (a: Shard, b: Shard): number => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1);
      /** Lets the fleet process some records put after a reshard before the next one. */
      const progress = async (): Promise<void> => {
        const target = sc.fleet.processedIds().size + 100;
        await sc.waitProcessed(target, 90_000);
      };
      await progress();

      // Split the lowest shard in the middle of its range.
      const [first] = (await open()).sort(byStart);
      const lo = BigInt(first!.HashKeyRange!.StartingHashKey!);
      const hi = BigInt(first!.HashKeyRange!.EndingHashKey!);
      await kinesis.send(new SplitShardCommand({ StreamName: sc.streamName, ShardToSplit: first!.ShardId!, NewStartingHashKey: ((lo + hi) / 2n).toString() }));
      await waitUntil(active, { timeoutMs: 60_000, message: 'ACTIVE after the split' });
      await progress();

      // Merge the two children of the split back together.
      const children = (await open()).filter((s) => s.ParentShardId === first!.ShardId).sort(byStart);
      expect(children).toHaveLength(2);
      await kinesis.send(new MergeShardsCommand({ StreamName: sc.streamName, ShardToMerge: children[0]!.ShardId!, AdjacentShardToMerge: children[1]!.ShardId! }));
      await waitUntil(active, { timeoutMs: 60_000, message: 'ACTIVE after the merge' });
      await progress();

      if (FULL) {
        // A crash in the middle of the resharding: kill -9 the busiest worker, start a new one.
        const [victim] = [...sc.holdings().entries()].sort((x, y) => y[1].size - x[1].size)[0]!;
        sc.fleet.get(victim).kill9();
        await sc.fleet.get(victim).exited;
        sc.spawn('d');
        await progress();
      }

      // Scale up, then (full profile) back down, with UpdateShardCount.
      await kinesis.send(new UpdateShardCountCommand({ StreamName: sc.streamName, TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' }));
      await waitUntil(active, { timeoutMs: 60_000, message: 'ACTIVE after UpdateShardCount 4' });
      await waitUntil(async () => (await open()).length === 4, { timeoutMs: 60_000, message: '4 open shards' });
      await progress();
      if (FULL) {
        await kinesis.send(new UpdateShardCountCommand({ StreamName: sc.streamName, TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' }));
        await waitUntil(active, { timeoutMs: 60_000, message: 'ACTIVE after UpdateShardCount 2' });
        await progress();
      }

      await production.stop();
      await sc.waitAllProcessed(180_000);
      const verdict = await sc.finish();
      const ended = new Set(linesOf(sc.journals(), 'event').filter((e) => e.event === 'shardEnded').map((e) => e.shard));
      const lineage = await listShards();
      const closed = lineage.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber).map((s) => s.ShardId!);
      expectClean(verdict, `shards: ${lineage.length} (${closed.length} closed, ${ended.size} ended by the fleet)`);
      // Every closed shard was read to its end and checkpointed SHARD_END by the fleet.
      expect([...ended].sort()).toEqual([...closed].sort());
      expect(lineage.some((s) => s.AdjacentParentShardId)).toBe(true); // a merge happened
    } finally {
      kinesis.destroy();
    }
  }, pick(300_000, 600_000));
});
