import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KinesisClient, ListShardsCommandInput, Shard } from '@aws-sdk/client-kinesis';
import { AbortError, DependencyError, ResourceNotFoundError } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { resolveShardSyncConfig, ShardDetector, type ListShardsConfig, type ListShardsOptions } from '@kcl-ts/shard-sync';
import { sid } from './fake-stream.js';

/** ListShards tuning as the Worker resolves it (`shardSync.listShards`). */
const tuning = (listShards: ListShardsOptions): ListShardsConfig => resolveShardSyncConfig({ listShards }).listShards;

function sdkShard(n: number, extra: Partial<Shard> = {}): Shard {
  return {
    ShardId: sid(n),
    HashKeyRange: { StartingHashKey: String(n * 10), EndingHashKey: String(n * 10 + 9) },
    SequenceNumberRange: { StartingSequenceNumber: String(1000 + n) },
    ...extra,
  };
}

function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });
}

/** A KinesisClient stand-in: answers ListShards from `handler`, records every input. */
/** `config`: the resolved client settings the SDK keeps (a client built with an endpoint, by default). */
function fakeClient(
  handler: (input: ListShardsCommandInput, call: number) => Promise<{ Shards?: Shard[]; NextToken?: string }>,
  config: Record<string, unknown> = { region: async () => 'eu-west-3', isCustomEndpoint: true, endpoint: async () => ({ protocol: 'http:', hostname: 'localhost', port: 4567, path: '/' }) },
) {
  const inputs: ListShardsCommandInput[] = [];
  const client = {
    config,
    send: async (command: { input: ListShardsCommandInput }, options?: { abortSignal?: AbortSignal }) => {
      if (options?.abortSignal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      inputs.push(command.input);
      return handler(command.input, inputs.length);
    },
  };
  return { client: client as unknown as KinesisClient, inputs };
}

const shards = [0, 1, 2, 3, 4].map((n) => sdkShard(n, n >= 2 ? { ParentShardId: sid(0) } : {}));

function paged(pageSize = 2) {
  return async (input: ListShardsCommandInput) => {
    const from = input.NextToken ? Number(input.NextToken) : 0;
    const next = from + pageSize;
    return { Shards: shards.slice(from, next), ...(next < shards.length ? { NextToken: String(next) } : {}) };
  };
}

describe('ShardDetector', () => {
  // The backoff has full jitter (Math.random): pinned, so no draw is a 0 ms delay that retries
  // before the clock moves (it made the first retry test fail about once in a hundred runs).
  beforeEach(() => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('pages with NextToken; only the first page names the stream', async () => {
    const { client, inputs } = fakeClient(paged());
    const detector = new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' }, listShards: tuning({ pageSize: 2 }) });
    const listed = await detector.listShards();
    expect(listed.map((s) => s.shardId)).toEqual(shards.map((s) => s.ShardId));
    expect(inputs).toEqual([{ StreamName: 'orders', MaxResults: 2 }, { NextToken: '2', MaxResults: 2 }, { NextToken: '4', MaxResults: 2 }]);
    expect(listed[2]).toEqual({ shardId: sid(2), parentShardId: sid(0), hashKeyRange: { startingHashKey: '20', endingHashKey: '29' }, startingSequenceNumber: '1002' });
    expect(detector.streamLabel).toBe('orders');
  });

  it('uses StreamARN when given an ARN', async () => {
    const { client, inputs } = fakeClient(paged(10));
    const arn = 'arn:aws:kinesis:eu-west-3:123456789012:stream/orders';
    await new ShardDetector({ kinesisClient: client, stream: { streamArn: arn } }).listShards();
    expect(inputs).toEqual([{ StreamARN: arn, MaxResults: 1000 }]);
  });

  it('listChildShards sends ShardFilter AFTER_SHARD_ID on the first page only, and filters locally', async () => {
    const { client, inputs } = fakeClient(paged()); // ignores the filter, like kinesalite
    const detector = new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' }, listShards: tuning({ pageSize: 2 }) });
    const children = await detector.listChildShards(sid(0));
    expect(children.map((s) => s.shardId)).toEqual([sid(2), sid(3), sid(4)]);
    expect(inputs[0]).toEqual({ StreamName: 'orders', MaxResults: 2, ShardFilter: { Type: 'AFTER_SHARD_ID', ShardId: sid(0) } });
    expect(inputs.slice(1).every((i) => i.ShardFilter === undefined && i.StreamName === undefined)).toBe(true);
    expect(await detector.listChildShards(sid(1))).toEqual([]);
  });

  it('falls back to no ShardFilter when the endpoint rejects it', async () => {
    const { client, inputs } = fakeClient(async (input) => {
      if (input.ShardFilter) throw awsError('InvalidArgumentException');
      return { Shards: shards };
    });
    const detector = new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' } });
    expect((await detector.listChildShards(sid(0))).length).toBe(3);
    expect((await detector.listChildShards(sid(0))).length).toBe(3);
    expect(inputs.map((i) => i.ShardFilter?.Type ?? 'none')).toEqual(['AFTER_SHARD_ID', 'none', 'none']);
  });

  it('retries throttling, 5xx and network errors with backoff on the clock', async () => {
    const failures = [awsError('LimitExceededException'), awsError('InternalFailure', 500), Object.assign(new Error('reset'), { code: 'ECONNRESET' }), awsError('ProvisionedThroughputExceededException')];
    const { client, inputs } = fakeClient(async () => {
      const failure = failures.shift();
      if (failure) throw failure;
      return { Shards: shards };
    });
    const clock = new FakeClock();
    const detector = new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' }, clock, listShards: tuning({ retryBaseDelayMs: 100 }) });
    let result: unknown;
    const listing = detector.listShards().then((r) => (result = r));
    await clock.advance(0);
    expect(inputs).toHaveLength(1);
    expect(result).toBeUndefined();
    await clock.advance(10_000); // every delay is below 100 × 2^3
    await listing;
    expect(inputs).toHaveLength(5);
    expect((result as unknown[]).length).toBe(5);
  });

  it('gives up after maxRetries with a retryable DependencyError', async () => {
    const { client, inputs } = fakeClient(async () => {
      throw awsError('LimitExceededException');
    });
    const clock = new FakeClock();
    const detector = new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' }, clock, listShards: tuning({ maxRetries: 2 }) });
    const listing = detector.listShards();
    const settled = listing.catch((e: unknown) => e);
    await clock.advance(60_000);
    const error = await settled;
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ retryable: true, operation: 'ListShards', dependency: 'kinesis' });
    expect(inputs).toHaveLength(3);
  });

  it('a missing stream is a ResourceNotFoundError naming stream, region and endpoint, without retries', async () => {
    const { client, inputs } = fakeClient(async () => {
      throw awsError('ResourceNotFoundException');
    });
    const error = await new ShardDetector({ kinesisClient: client, stream: { streamName: 'nope' } }).listShards().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(error).toMatchObject({ resourceType: 'stream', resourceName: 'nope' });
    expect((error as Error).message).toMatch(/stream "nope" not found in region eu-west-3 \(endpoint http:\/\/localhost:4567\).*create-stream --stream-name nope/);
    expect(inputs).toHaveLength(1);
  });

  it.each([
    [
      'an endpoint configured outside the code, which the client ignores (ignoreConfiguredEndpointUrls)',
      { region: async (): Promise<string> => 'eu-west-3', isCustomEndpoint: false, ignoreConfiguredEndpointUrls: true, serviceConfiguredEndpoint: async (): Promise<string> => 'http://127.0.0.1:4567' },
      "(AWS's endpoint for eu-west-3)",
    ],
    [
      'an endpoint configured outside the code (AWS_ENDPOINT_URL_KINESIS)',
      { region: async (): Promise<string> => 'eu-west-3', isCustomEndpoint: false, ignoreConfiguredEndpointUrls: false, serviceConfiguredEndpoint: async (): Promise<string> => 'http://127.0.0.1:4567' },
      '(endpoint http://127.0.0.1:4567)',
    ],
    [
      'a client endpoint provider that throws',
      {
        region: async (): Promise<string> => 'eu-west-3',
        isCustomEndpoint: true,
        endpoint: async (): Promise<never> => {
          throw new Error('no endpoint');
        },
        serviceConfiguredEndpoint: async (): Promise<string> => 'http://127.0.0.1:4567',
      },
      "(the client's endpoint)",
    ],
  ])('a missing stream names the endpoint the client used, with %s', async (_name, config, named) => {
    const { client } = fakeClient(async () => {
      throw awsError('ResourceNotFoundException');
    }, config);
    const error = await new ShardDetector({ kinesisClient: client, stream: { streamName: 'nope' } }).listShards().catch((e: unknown) => e);
    expect((error as Error).message).toContain(`not found in region eu-west-3 ${named}: create it`);
    // The hint points the CLI at the endpoint only when the client used a custom one.
    expect((error as Error).message.includes('--endpoint-url http://127.0.0.1:4567')).toBe(named.includes('127.0.0.1'));
  });

  it('other client errors are non-retryable DependencyErrors', async () => {
    const { client, inputs } = fakeClient(async () => {
      throw awsError('AccessDeniedException');
    });
    const error = await new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' } }).listShards().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(/AccessDeniedException.*kinesis:ListShards/);
    expect(inputs).toHaveLength(1);
  });

  it('an abort during a backoff sleep rejects with AbortError at once', async () => {
    const { client } = fakeClient(async () => {
      throw awsError('LimitExceededException');
    });
    const clock = new FakeClock();
    const controller = new AbortController();
    const listing = new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' }, clock }).listShards(controller.signal);
    await clock.advance(0);
    controller.abort();
    await expect(listing).rejects.toBeInstanceOf(AbortError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('restarts the listing when a NextToken expires', async () => {
    let expired = false;
    const { client, inputs } = fakeClient(async (input) => {
      if (input.NextToken === '2' && !expired) {
        expired = true;
        throw awsError('ExpiredNextTokenException');
      }
      return paged()(input);
    });
    const listed = await new ShardDetector({ kinesisClient: client, stream: { streamName: 'orders' }, listShards: tuning({ pageSize: 2 }) }).listShards();
    expect(listed).toHaveLength(5);
    expect(inputs.filter((i) => i.StreamName === 'orders')).toHaveLength(2);
  });

  it('validates its options', () => {
    const { client } = fakeClient(paged());
    expect(() => new ShardDetector({ kinesisClient: undefined as never, stream: { streamName: 'a' } })).toThrow(/kinesisClient/);
    expect(() => new ShardDetector({ kinesisClient: client, stream: { streamArn: 'arn:nope' } })).toThrow(/streamArn.*arn:nope/);
    expect(() => tuning({ pageSize: 0 })).toThrow(/^shardSync\.listShards\.pageSize.*0$/);
    expect(() => tuning({ pageSize: 10_001 })).toThrow(/^shardSync\.listShards\.pageSize/);
    expect(() => tuning({ maxRetries: 1.5 })).toThrow(/^shardSync\.listShards\.maxRetries/);
    expect(() => tuning({ pages: 2 } as ListShardsOptions)).toThrow(/^shardSync\.listShards\.pages is not an option/);
  });
});
