import {
  DescribeStreamSummaryCommand,
  ExpiredIteratorException,
  InternalFailureException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandOutput,
  type ListShardsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { MemoryKinesis, partitionKeyHash, type MemoryKinesisOptions } from '../src/memory-kinesis.js';
import { SeededRandom } from '../src/random.js';
import { SimTimeline } from '../src/timeline.js';

const STREAM = 'orders';
const data = (text: string): Uint8Array => new TextEncoder().encode(text);

function stream(options: Partial<MemoryKinesisOptions> = {}): { kinesis: MemoryKinesis; timeline: SimTimeline } {
  const timeline = new SimTimeline();
  const kinesis = new MemoryKinesis({ streamName: STREAM, shardCount: 2, clock: timeline.clock('kinesis'), random: new SeededRandom(1), ...options });
  return { kinesis, timeline };
}

async function iterator(kinesis: MemoryKinesis, shardId: string, type: string, extra: object = {}): Promise<string> {
  const out = (await kinesis.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: type as 'LATEST', ...extra }))) as GetShardIteratorCommandOutput;
  return out.ShardIterator!;
}

async function read(kinesis: MemoryKinesis, it: string, limit?: number): Promise<GetRecordsCommandOutput> {
  return (await kinesis.send(new GetRecordsCommand({ ShardIterator: it, ...(limit !== undefined && { Limit: limit }) }))) as GetRecordsCommandOutput;
}

async function listAll(kinesis: MemoryKinesis, filter?: object): Promise<ListShardsCommandOutput['Shards']> {
  const shards: NonNullable<ListShardsCommandOutput['Shards']> = [];
  let out = (await kinesis.send(new ListShardsCommand({ StreamName: STREAM, ...(filter && { ShardFilter: filter as never }) }))) as ListShardsCommandOutput;
  shards.push(...(out.Shards ?? []));
  while (out.NextToken !== undefined) {
    out = (await kinesis.send(new ListShardsCommand({ NextToken: out.NextToken }))) as ListShardsCommandOutput;
    shards.push(...(out.Shards ?? []));
  }
  return shards;
}

describe('MemoryKinesis', () => {
  it('routes a put by the MD5 of its partition key, as Kinesis does, with increasing sequence numbers', async () => {
    const { kinesis } = stream();
    // MD5 of the UTF-8 key as a 128-bit integer (values from `md5sum`).
    const md5 = { a: '0cc175b9c0f1b6a831c399e269772661', b: '92eb5ffee6ae2fec3ad71c777531578f', 'order-17': '0093144d3954b7c323f4947e903670f3', zzz: 'f3abb86bd34cf4d52698f14c0da1dc60' };
    for (const [key, hex] of Object.entries(md5)) expect(partitionKeyHash(key)).toBe(BigInt(`0x${hex}`));
    const acks = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => kinesis.put(k, data(k)));
    for (const [i, ack] of acks.entries()) {
      const expected = partitionKeyHash('abcdef'[i]!) < 1n << 127n ? 'shardId-000000000000' : 'shardId-000000000001';
      expect(ack.shardId).toBe(expected);
      if (i > 0) expect(BigInt(ack.sequenceNumber)).toBeGreaterThan(BigInt(acks[i - 1]!.sequenceNumber));
    }
    const out = (await kinesis.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'a', Data: data('x') }))) as { ShardId: string; SequenceNumber: string };
    expect(out.ShardId).toBe(acks[0]!.shardId);
  });

  it('changes the length of sequence numbers early in a run (they must be compared as BigInt)', () => {
    const { kinesis } = stream({ shardCount: 1 });
    const seqs = Array.from({ length: 60 }, (_, i) => kinesis.put(`k${i}`, data('x')).sequenceNumber);
    expect(new Set(seqs.map((s) => s.length)).size).toBe(2);
  });

  it('serves TRIM_HORIZON, LATEST, AT/AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP iterators, with Limit and MillisBehindLatest', async () => {
    const { kinesis, timeline } = stream({ shardCount: 1 });
    const shard = 'shardId-000000000000';
    const first = kinesis.put('a', data('1'));
    await timeline.runUntil(1_000);
    const second = kinesis.put('a', data('2'));
    const latest = await iterator(kinesis, shard, 'LATEST');
    const third = kinesis.put('a', data('3'));

    const page = await read(kinesis, await iterator(kinesis, shard, 'TRIM_HORIZON'), 2);
    expect(page.Records!.map((r) => r.SequenceNumber)).toEqual([first.sequenceNumber, second.sequenceNumber]);
    expect(page.MillisBehindLatest).toBeGreaterThan(0);
    expect(page.NextShardIterator).toBeDefined();
    const rest = await read(kinesis, page.NextShardIterator!);
    expect(rest.Records!.map((r) => r.SequenceNumber)).toEqual([third.sequenceNumber]);
    expect(rest.MillisBehindLatest).toBe(0);

    expect((await read(kinesis, latest)).Records!.map((r) => r.SequenceNumber)).toEqual([third.sequenceNumber]);
    const at = await iterator(kinesis, shard, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: second.sequenceNumber });
    expect((await read(kinesis, at)).Records!.map((r) => r.SequenceNumber)).toEqual([second.sequenceNumber, third.sequenceNumber]);
    const after = await iterator(kinesis, shard, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: second.sequenceNumber });
    expect((await read(kinesis, after)).Records!.map((r) => r.SequenceNumber)).toEqual([third.sequenceNumber]);
    const ts = await iterator(kinesis, shard, 'AT_TIMESTAMP', { Timestamp: new Date(timeline.wallOrigin + 500) });
    expect((await read(kinesis, ts)).Records!.map((r) => r.SequenceNumber)).toEqual([second.sequenceNumber, third.sequenceNumber]);
    expect(kinesis.firstRead(shard)).toMatchObject({ iteratorType: 'LATEST', afterSequenceNumber: second.sequenceNumber });
  });

  it('splits and merges: parents close with an ending sequence number, children name their parents and ranges', async () => {
    const { kinesis } = stream();
    kinesis.put('a', data('before'));
    const [c1, c2] = kinesis.split('shardId-000000000000');
    const merged = kinesis.merge(c2, 'shardId-000000000001');
    const shards = await listAll(kinesis);
    const byId = new Map(shards!.map((s) => [s.ShardId!, s]));
    expect(byId.get('shardId-000000000000')!.SequenceNumberRange!.EndingSequenceNumber).toBeDefined();
    expect(byId.get(c1)).toMatchObject({ ParentShardId: 'shardId-000000000000', HashKeyRange: { StartingHashKey: '0' } });
    expect(byId.get(merged)).toMatchObject({ ParentShardId: c2, AdjacentParentShardId: 'shardId-000000000001', HashKeyRange: { EndingHashKey: ((1n << 128n) - 1n).toString() } });
    expect(byId.get(merged)!.SequenceNumberRange!.EndingSequenceNumber).toBeUndefined();
    expect(kinesis.openShardIds()).toEqual([c1, merged]);
  });

  it('ends a closed shard: no NextShardIterator and ChildShards in the last response (or none, like kinesalite)', async () => {
    for (const childShards of [true, false]) {
      const { kinesis } = stream({ shardCount: 1, childShards });
      kinesis.put('a', data('1'));
      const [c1, c2] = kinesis.split('shardId-000000000000');
      const it = await iterator(kinesis, 'shardId-000000000000', 'TRIM_HORIZON');
      const last = await read(kinesis, it);
      expect(last.Records).toHaveLength(1);
      expect(last.NextShardIterator).toBeUndefined();
      if (childShards) expect(last.ChildShards!.map((c) => [c.ShardId, c.ParentShards])).toEqual([[c1, ['shardId-000000000000']], [c2, ['shardId-000000000000']]]);
      else expect(last.ChildShards).toBeUndefined();
    }
  });

  it('pages ListShards, rejects a NextToken with a stream name, and honours, rejects or ignores ShardFilter', async () => {
    const { kinesis } = stream({ shardCount: 3, listShardsPageSize: 1 });
    kinesis.split('shardId-000000000000');
    expect(await listAll(kinesis)).toHaveLength(5);
    const page = (await kinesis.send(new ListShardsCommand({ StreamName: STREAM }))) as ListShardsCommandOutput;
    await expect(kinesis.send(new ListShardsCommand({ StreamName: STREAM, NextToken: page.NextToken! }))).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    expect((await listAll(kinesis, { Type: 'AFTER_SHARD_ID', ShardId: 'shardId-000000000002' }))!.map((s) => s.ShardId)).toEqual(['shardId-000000000003', 'shardId-000000000004']);
    expect(await listAll(kinesis, { Type: 'AT_LATEST' })).toHaveLength(4);

    const rejecting = stream({ shardFilter: 'rejected' }).kinesis;
    await expect(rejecting.send(new ListShardsCommand({ StreamName: STREAM, ShardFilter: { Type: 'AT_LATEST' } }))).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    const ignoring = stream({ shardFilter: 'ignored' }).kinesis;
    expect(await listAll(ignoring, { Type: 'AFTER_SHARD_ID', ShardId: 'shardId-000000000001' })).toHaveLength(2);
  });

  it('answers DescribeStreamSummary and reports a missing stream or shard as ResourceNotFoundException', async () => {
    const { kinesis } = stream();
    const summary = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }))) as { StreamDescriptionSummary: { OpenShardCount: number } };
    expect(summary.StreamDescriptionSummary.OpenShardCount).toBe(2);
    const missing = await kinesis.send(new ListShardsCommand({ StreamName: 'other' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    await expect(kinesis.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: 'shardId-000000000009', ShardIteratorType: 'LATEST' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('injects throttling and 5xx faults as the AWS SDK’s own exceptions (what the library classifies)', async () => {
    const { kinesis } = stream();
    kinesis.setFaults({ throttle: 1 });
    const throttled = await kinesis.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' })).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(throttled).toMatchObject({ name: 'ProvisionedThroughputExceededException', $fault: 'client' });
    expect(await kinesis.send(new ListShardsCommand({ StreamName: STREAM })).catch((e: unknown) => e)).toBeInstanceOf(LimitExceededException);
    kinesis.setFaults({ transient: 1 });
    const failed = await kinesis.send(new ListShardsCommand({ StreamName: STREAM })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InternalFailureException);
    expect(failed).toMatchObject({ $fault: 'server', $metadata: { httpStatusCode: 500 } });
    kinesis.setFaults(undefined);
    await expect(kinesis.send(new ListShardsCommand({ StreamName: STREAM }))).resolves.toBeDefined();
  });

  it('expires iterators after 5 minutes', async () => {
    const { kinesis, timeline } = stream();
    const it = await iterator(kinesis, 'shardId-000000000000', 'TRIM_HORIZON');
    await timeline.runUntil(5 * 60_000 + 1);
    expect(await read(kinesis, it).catch((e: unknown) => e)).toBeInstanceOf(ExpiredIteratorException);
  });

  it('answers a connected caller through its clock, honours the abort signal, and never answers synchronously', async () => {
    const { kinesis, timeline } = stream();
    const clock = timeline.clock('w1');
    const client = kinesis.connect('w1', clock, () => 3);
    let answered = false;
    const call = client.send(new ListShardsCommand({ StreamName: STREAM })).then(() => {
      answered = true;
    });
    await Promise.resolve();
    expect(answered).toBe(false);
    await timeline.runUntil(2);
    expect(answered).toBe(false);
    await timeline.runUntil(3);
    await call;
    expect(answered).toBe(true);

    const controller = new AbortController();
    const aborted = client.send(new ListShardsCommand({ StreamName: STREAM }), { abortSignal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError' });
    expect(await kinesis.send(new GetRecordsCommand({ ShardIterator: 'nope' })).catch((e: unknown) => (e as Error).name)).toBe('InvalidArgumentException');
    expect(await kinesis.send({ input: {} }).catch((e: unknown) => (e as Error).name)).toBe('InvalidArgumentException');
  });
});
