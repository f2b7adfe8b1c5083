// Shard sync against the Kinesis Mock: ChildShards from a real GetRecords, concurrent syncers,
// hole repair, ARNs, and the failures a user meets first (unknown or deleted stream).
import { DeleteStreamCommand, DescribeStreamSummaryCommand, KinesisClient, GetRecordsCommand, GetShardIteratorCommand, type GetRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDbLeaseRefresher, InMemoryLeaseRefresher, type Lease, type LeaseRefresher } from '@kcl-ts/leases';
import { ResourceNotFoundError } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { PeriodicShardSync, resolveShardSyncConfig, ShardDetector, ShardSyncer, type ShardLister } from '@kcl-ts/shard-sync';
import { childShardsFromSdk } from '../src/shard-info.js';
import { createStream, putRecords, testStack, uniqueName, waitFor } from '../../../test-support/stack.js';
import { expectLineage, listShards, mergeAdjacent, openShards, splitShard } from './kinesis-helpers.js';

const stack = testStack();
const kinesis = stack.kinesisClient();
afterAll(() => kinesis.destroy());

function detectorFor(name: string) {
  return new ShardDetector({ kinesisClient: kinesis, stream: { streamName: name } });
}

const dynamo = stack.dynamoDbClient();
afterAll(() => dynamo.destroy());

/** A fresh DynamoDB lease table (dynalite): real conditional writes between the two "workers". */
async function dynamoRefresher(tableName: string): Promise<LeaseRefresher> {
  const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamo, tableName });
  await refresher.createLeaseTableIfNotExists();
  return refresher;
}

describe('shard sync on the Kinesis Mock', () => {
  it('createChildLeases from the ChildShards of the last GetRecords of a closed shard', async () => {
    const name = uniqueName('children');
    await createStream(kinesis, name, 1);
    const parent = 'shardId-000000000000';
    await putRecords(kinesis, name, [1, 2, 3].map((i) => ({ partitionKey: `k${i}`, data: `r${i}` })));
    const refresher = new InMemoryLeaseRefresher();
    const detector = detectorFor(name);
    let listCalls = 0;
    const counting: ShardLister = {
      streamLabel: detector.streamLabel,
      listShards: (s) => ((listCalls += 1), detector.listShards(s)),
      listChildShards: (p, s) => ((listCalls += 1), detector.listChildShards(p, s)),
    };
    const syncer = new ShardSyncer({ refresher, detector: counting, initialPosition: 'TRIM_HORIZON' });
    await syncer.syncShards();
    const children = await splitShard(kinesis, name, parent);

    // Read the closed parent to its end.
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: name, ShardId: parent, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    let last: GetRecordsCommandOutput | undefined;
    let records = 0;
    await waitFor(
      async () => {
        last = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records += last.Records?.length ?? 0;
        iterator = last.NextShardIterator;
        return iterator === undefined || iterator === null;
      },
      { timeoutMs: 30_000, message: 'the parent shard read to its end' },
    );
    expect(records).toBe(3);
    const childShards = childShardsFromSdk(last!.ChildShards ?? []);
    expect(childShards.map((c) => c.shardId).sort()).toEqual(children);

    listCalls = 0;
    expect((await syncer.createChildLeases((await refresher.getLease(parent))!, childShards)).sort()).toEqual(children);
    expect(listCalls).toBe(0);
    const shards = await listShards(kinesis, name);
    expectLineage(shards, await refresher.listLeases());
    for (const child of children) expect((await refresher.getLease(child))!.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
    expect((await refresher.getLease(parent))!.childShardIds).toEqual(children);
  });

  it('two workers syncing at once on one DynamoDB table create the same leases as one sync, each once', async () => {
    const name = uniqueName('concurrent');
    await createStream(kinesis, name, 2);
    await splitShard(kinesis, name, 'shardId-000000000000');
    await mergeAdjacent(kinesis, name);
    const table = uniqueName('leases');
    const shared = await dynamoRefresher(table);
    const worker = async () => new ShardSyncer({ refresher: await dynamoRefresher(table), detector: detectorFor(name), initialPosition: 'TRIM_HORIZON' });
    const [w1, w2] = await Promise.all([worker(), worker()]);
    const [r1, r2] = await Promise.all([w1.syncShards(), w2.syncShards()]);
    const alone = new InMemoryLeaseRefresher();
    await new ShardSyncer({ refresher: alone, detector: detectorFor(name), initialPosition: 'TRIM_HORIZON' }).syncShards();
    const strip = (leases: Lease[]) =>
      leases.map(({ leaseKey, parentShardIds, checkpoint, hashKeyRange }) => ({ leaseKey, parentShardIds, checkpoint, hashKeyRange })).sort((a, b) => a.leaseKey.localeCompare(b.leaseKey));
    expect(strip(await shared.listLeases())).toEqual(strip(await alone.listLeases()));
    expect([...r1.leasesCreated, ...r2.leasesCreated].sort()).toEqual((await alone.listLeases()).map((l) => l.leaseKey).sort());
    expectLineage(await listShards(kinesis, name), await shared.listLeases());
  });

  it('a lease deleted by hand is a hole that the next sync repairs and reports', async () => {
    const name = uniqueName('hole');
    await createStream(kinesis, name, 2);
    await splitShard(kinesis, name, 'shardId-000000000001');
    const refresher = new InMemoryLeaseRefresher();
    const syncer = new ShardSyncer({ refresher, detector: detectorFor(name), initialPosition: 'LATEST' });
    await syncer.syncShards();
    const victim = openShards(await listShards(kinesis, name)).at(-1)!;
    expect(await refresher.deleteLease(victim.shardId)).toBe(true);
    const result = await syncer.syncShards();
    expect(result.repairedHoles).toEqual([victim.hashKeyRange]);
    expect(result.holes).toEqual([]);
    expect(result.leasesCreated).toEqual([victim.shardId]);
    expect((await refresher.getLease(victim.shardId))!.parentShardIds).toEqual(['shardId-000000000001']);
  });

  it('lists a stream by ARN', async () => {
    const name = uniqueName('arn');
    await createStream(kinesis, name, 2);
    const arn = `arn:aws:kinesis:${stack.region}:000000000000:stream/${name}`;
    const detector = new ShardDetector({ kinesisClient: kinesis, stream: { streamArn: arn } });
    expect(detector.streamLabel).toBe(arn);
    expect((await detector.listShards()).map((s) => s.shardId)).toEqual(['shardId-000000000000', 'shardId-000000000001']);
  });

  it('an unknown stream is a ResourceNotFoundError naming the stream and region', async () => {
    const name = uniqueName('missing');
    const error = await detectorFor(name).listShards().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(error).toMatchObject({ resourceType: 'stream', resourceName: name });
    expect((error as Error).message).toContain(`stream "${name}" not found in region ${stack.region} (endpoint ${stack.kinesisEndpoint}`);
    // The command it suggests creates the stream where the client looked, not on AWS.
    expect((error as Error).message).toContain(`--region ${stack.region} --endpoint-url ${stack.kinesisEndpoint})`);
  });

  it('names the endpoint set by AWS_ENDPOINT_URL_KINESIS (not on the client) where the stream was not found', async () => {
    const name = uniqueName('missing-env');
    const before = process.env['AWS_ENDPOINT_URL_KINESIS'];
    process.env['AWS_ENDPOINT_URL_KINESIS'] = stack.kinesisEndpoint;
    // The local client's HTTP/1.1 handler (the SDK's default for Kinesis is HTTP/2), without its endpoint.
    const local = stack.kinesisClient();
    const client = new KinesisClient({ region: stack.region, credentials: stack.credentials, maxAttempts: 1, requestHandler: local.config.requestHandler });
    try {
      const error = await new ShardDetector({ kinesisClient: client, stream: { streamName: name } }).listShards().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResourceNotFoundError);
      expect((error as Error).message).toContain(`(endpoint ${stack.kinesisEndpoint})`);
      expect((error as Error).message).toContain(`--endpoint-url ${stack.kinesisEndpoint})`);
    } finally {
      client.destroy();
      local.destroy();
      if (before === undefined) delete process.env['AWS_ENDPOINT_URL_KINESIS'];
      else process.env['AWS_ENDPOINT_URL_KINESIS'] = before;
    }
  });

  it('a stream deleted under a running PeriodicShardSync: onError gets ResourceNotFoundError, ListShards calls stay bounded', async () => {
    const name = uniqueName('deleted');
    await createStream(kinesis, name, 1);
    const client = stack.kinesisClient();
    let listShardsCalls = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListShardsCommand') listShardsCalls += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countListShards' },
    );
    const clock = new FakeClock();
    const errors: Error[] = [];
    const detector = new ShardDetector({ kinesisClient: client, stream: { streamName: name }, clock });
    const periodic = new PeriodicShardSync({
      syncer: new ShardSyncer({ refresher: new InMemoryLeaseRefresher(), detector, initialPosition: 'LATEST' }),
      isLeader: () => true,
      config: resolveShardSyncConfig({ intervalMs: 1000 }),
      clock,
      onError: (e) => errors.push(e),
    });
    try {
      expect((await periodic.start()).leasesCreated).toHaveLength(1);
      expect(listShardsCalls).toBe(1);
      await kinesis.send(new DeleteStreamCommand({ StreamName: name }));
      await waitFor(
        async () => {
          try {
            await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
            return false;
          } catch (e) {
            return (e as Error).name === 'ResourceNotFoundException';
          }
        },
        { message: 'stream deleted' },
      );
      // One sync per run and no retry storm: the waits are intervalMs, then intervalMs × 2^(failures − 1).
      const steps: [waitMs: number, errors: number][] = [[1000, 1], [1000, 2], [2000, 3], [4000, 4], [8000, 5]];
      for (const [advanceMs, expected] of steps) {
        await clock.advance(advanceMs - 1);
        expect(listShardsCalls).toBe(expected); // nothing before the backoff is over
        await clock.advance(1);
        await waitFor(() => errors.length === expected, { message: `${expected} errors` });
        expect(listShardsCalls).toBe(expected + 1);
        await waitFor(() => clock.pendingTimers === 1, { message: 'the loop sleeps again' });
      }
      expect(errors.every((e) => e instanceof ResourceNotFoundError)).toBe(true);
      expect(errors[0]!.message).toContain(`stream "${name}" not found in region ${stack.region}`);
    } finally {
      await periodic.stop();
      client.destroy();
    }
  });
});
