import { ListShardsCommand, MergeShardsCommand, SplitShardCommand, DescribeStreamSummaryCommand, type Shard } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

describe('Worker — resharding during consumption', () => {
  const { kinesis, workers } = workerTestContext();

  async function shards(stream: string): Promise<Shard[]> {
    return (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  }
  async function active(stream: string): Promise<boolean> {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    return s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
  }

  it('follows a split and a merge with no loss and no child record before its parents’ last record', async () => {
    const stream = uniqueName('reshard');
    await createStream(kinesis, stream, 2);
    const journal = new Journal();
    const app = uniqueName('app');
    for (const id of ['r1', 'r2']) workers.push(makeWorker(app, stream, journal, { workerId: id }));
    await Promise.all(workers.map((w) => w.start()));
    let put = 0;
    const produce = async (n: number): Promise<void> => {
      await putKeyed(kinesis, stream, n, 40, put);
      put += n;
    };
    await produce(400);

    // Split shard 0 at the middle of its range.
    const [first] = await shards(stream);
    const start = BigInt(first!.HashKeyRange!.StartingHashKey!);
    const end = BigInt(first!.HashKeyRange!.EndingHashKey!);
    await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: first!.ShardId!, NewStartingHashKey: ((start + end) / 2n).toString() }));
    await waitFor(() => active(stream), { timeoutMs: 30_000, message: 'stream ACTIVE after split' });
    await produce(400);

    // Merge the two children of the split (adjacent, open).
    const open = (await shards(stream)).filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
    const children = open.filter((s) => s.ParentShardId === first!.ShardId).sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
    expect(children).toHaveLength(2);
    await kinesis.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: children[0]!.ShardId!, AdjacentShardToMerge: children[1]!.ShardId! }));
    await waitFor(() => active(stream), { timeoutMs: 30_000, message: 'stream ACTIVE after merge' });
    await produce(400);

    await waitFor(() => journal.distinct().size === put, { timeoutMs: 90_000, message: `all ${put} records processed` });
    expect(journal.orderViolations()).toEqual([]);

    // No record of a child before every record of its parents.
    const all = await shards(stream);
    for (const shard of all) {
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => Boolean(p));
      const firstOfChild = journal.seen.findIndex((s) => s.shardId === shard.ShardId);
      if (parents.length === 0 || firstOfChild < 0) continue;
      for (const parent of parents) {
        const lastOfParent = journal.seen.map((s) => s.shardId).lastIndexOf(parent);
        expect(lastOfParent, `${shard.ShardId} started before ${parent} finished`).toBeLessThan(firstOfChild);
        expect(journal.ended.has(parent), `${parent} ended`).toBe(true);
      }
    }
    expect(journal.ended.size).toBe(3); // shard 0, and both children of the split
  });

  it('calls a shardEnded that threw again, so the children still start', async () => {
    const stream = uniqueName('end-throws');
    await createStream(kinesis, stream, 1);
    const journal = new Journal();
    let endCalls = 0;
    const worker = makeWorker(uniqueName('app'), stream, journal, {
      workerId: 'e1',
      processorFactory: (shardId) => {
        const inner = journal.processor('e1', shardId);
        return {
          ...inner,
          shardEnded: async (input) => {
            endCalls++;
            if (endCalls === 1) throw new Error('sink unavailable');
            await inner.shardEnded!(input);
          },
        };
      },
    });
    workers.push(worker);
    await worker.start();
    await putKeyed(kinesis, stream, 50, 10);
    const [parent] = await shards(stream);
    const start = BigInt(parent!.HashKeyRange!.StartingHashKey!);
    const end = BigInt(parent!.HashKeyRange!.EndingHashKey!);
    await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: parent!.ShardId!, NewStartingHashKey: ((start + end) / 2n).toString() }));
    await waitFor(() => active(stream), { timeoutMs: 30_000, message: 'stream ACTIVE after split' });
    await putKeyed(kinesis, stream, 50, 10, 50);
    await waitFor(() => journal.distinct().size === 100, { timeoutMs: 60_000, message: 'records of the children processed' });
    expect(endCalls).toBe(2);
    expect(journal.ended.has(parent!.ShardId!)).toBe(true);
    expect(journal.orderViolations()).toEqual([]);
  });
});
