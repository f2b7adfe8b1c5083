import { ListShardsCommand, SplitShardCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { afterAll, it } from 'vitest';
import { waitUntil } from '@kcl-ts/fleet';
import { startFaultProxy, type FaultProxy } from '../../src/fault-proxy.js';
import { describeModes, expectClean, scenarioFrame } from './support.js';

describeModes([], ['polling'])('chaos 8 — the SHARD_END checkpoint fails for a while (lease table errors at a shard end) [%s]', (retrieval) => {
  const frame = scenarioFrame();
  const proxies: FaultProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
  });

  for (const naive of [false, true]) {
    it(`${naive ? 'a processor whose shardEnded throws' : 'a processor that swallows the failure'}: the children still start once the table recovers`, async () => {
      const proxy = await startFaultProxy({ target: frame.stack.dynamoDbEndpoint, kind: 'dynamodb' });
      proxies.push(proxy);
      const sc = await frame.create({ retrieval, name: naive ? 'shard-end-naive' : 'shard-end', shards: 1, keys: 10, workerDynamoDbEndpoint: proxy.endpoint, naiveShardEnd: naive });
      const kinesis = frame.stack.kinesisClient();
      try {
        const [parent] = await sc.openShards();
        sc.spawn('a');
        await sc.waitHolding('a', 1, 60_000);
        await sc.producer.putRounds(5);
        await sc.waitAllProcessed(60_000);

        // Every write of SHARD_END fails (renewals and batch checkpoints still work).
        const rule = proxy.addRule({ kind: 'error5xx', operation: 'UpdateItem', bodyContains: 'SHARD_END' });
        const shard = (await kinesis.send(new ListShardsCommand({ StreamName: sc.streamName }))).Shards![0]!;
        const mid = (BigInt(shard.HashKeyRange!.StartingHashKey!) + BigInt(shard.HashKeyRange!.EndingHashKey!)) / 2n;
        await kinesis.send(new SplitShardCommand({ StreamName: sc.streamName, ShardToSplit: parent!, NewStartingHashKey: mid.toString() }));
        await waitUntil(async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: sc.streamName }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE', {
          timeoutMs: 60_000,
          message: 'ACTIVE after the split',
        });
        await sc.waitForLine((l) => l.type === 'checkpoint-failed' && l.phase === 'shard-end', 120_000, 'a SHARD_END checkpoint failed');
        proxy.removeRule(rule);

        // The table is healthy again: records put into the children must be processed.
        await sc.producer.putRounds(5);
        await sc.waitAllProcessed(60_000);
        const verdict = await sc.finish();
        expectClean(verdict, `SHARD_END writes failed: ${proxy.injected('error5xx')}`);
      } finally {
        kinesis.destroy();
      }
    }, 300_000);
  }

  it('a processor whose shardEnded throws once (its flush failed): the worker calls it again and the children start', async () => {
    const sc = await frame.create({ retrieval, name: 'shard-end-throws', shards: 1, keys: 10, failShardEndedTimes: 1 });
    const kinesis = frame.stack.kinesisClient();
    try {
      const [parent] = await sc.openShards();
      sc.spawn('a');
      await sc.waitHolding('a', 1, 60_000);
      await sc.producer.putRounds(5);
      await sc.waitAllProcessed(60_000);
      const shard = (await kinesis.send(new ListShardsCommand({ StreamName: sc.streamName }))).Shards![0]!;
      const mid = (BigInt(shard.HashKeyRange!.StartingHashKey!) + BigInt(shard.HashKeyRange!.EndingHashKey!)) / 2n;
      await kinesis.send(new SplitShardCommand({ StreamName: sc.streamName, ShardToSplit: parent!, NewStartingHashKey: mid.toString() }));
      await sc.waitForLine((l) => l.type === 'processor-error' && l.shard === parent, 60_000, 'shardEnded threw');
      await sc.producer.putRounds(5);
      await sc.waitAllProcessed(60_000);
      const verdict = await sc.finish();
      expectClean(verdict);
    } finally {
      kinesis.destroy();
    }
  }, 300_000);
});
