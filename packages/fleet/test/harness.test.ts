import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStream, testStack, uniqueName } from '../../../test-support/stack.js';
import { checkRetrieval, checkStreams, mergeTuning, WORKER_CONFIG_ENV, workerConfigFromEnv } from '../src/config.js';
import { JournalTail } from '../src/journal.js';
import { decodePayload } from '../src/payload.js';
import { KeyedProducer } from '../src/producer.js';
import { workerOptions } from '../src/worker-options.js';

describe('worker process configuration', () => {
  const valid = { workerId: 'a', applicationName: 'app', streams: ['s'], region: 'us-east-1', kinesisEndpoint: 'http://k', dynamoDbEndpoint: 'http://d', journalPath: '/tmp/j' };
  const env = (config: object) => ({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });

  it('reads a valid configuration and names the bad field of an invalid one', () => {
    expect(workerConfigFromEnv(env(valid))).toEqual(valid);
    expect(() => workerConfigFromEnv({})).toThrow(new RegExp(`${WORKER_CONFIG_ENV} is not set`));
    expect(() => workerConfigFromEnv(env({ ...valid, journalPath: '' }))).toThrow(`${WORKER_CONFIG_ENV}.journalPath must be a non-empty string`);
    expect(() => workerConfigFromEnv(env({ ...valid, retrieval: 'push' }))).toThrow(TypeError);
  });

  it('takes a list of streams and a retrieval mode, refusing what the Worker cannot do with a TypeError naming the option', () => {
    expect(() => checkStreams(['a', 'b'], 'ScenarioOptions.streams')).not.toThrow();
    expect(() => checkStreams(['a', 'b', 'a'], 'ScenarioOptions.streams')).toThrow(/ScenarioOptions\.streams names a twice/);
    expect(() => checkStreams([], 'streams')).toThrow(TypeError);
    expect(() => checkRetrieval('push', 'ScenarioOptions.retrieval')).toThrow(/ScenarioOptions\.retrieval must be one of polling, fanout, got "push"/);
    expect(() => checkRetrieval('fanout')).not.toThrow();
  });

  it('builds the Worker options in one place: retrieval mode, the stream, clients and tuning', () => {
    const processorFactory = () => ({}) as never;
    const options = workerOptions({
      applicationName: 'app',
      streams: ['orders'],
      workerId: 'a',
      retrieval: 'fanout',
      processorFactory,
      clients: { region: 'us-east-1', kinesisEndpoint: 'http://k', dynamoDbEndpoint: 'http://d', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } },
      metricsOff: true,
      tuning: { leases: { leaseDurationMs: 2_500 }, retrieval: { polling: { idleTimeBetweenReadsMs: 100 }, maxRetries: 3 }, shardSync: { intervalMs: 2_000, parentPollIntervalMs: 250 }, processing: { shutdownTimeoutMs: 10_000, retryBaseMs: 50 } },
    });
    expect(options.retrieval).toEqual({ mode: 'fanout', polling: { idleTimeBetweenReadsMs: 100 }, maxRetries: 3 });
    expect(options.shardSync).toEqual({ intervalMs: 2_000, parentPollIntervalMs: 250 });
    expect(options.processing).toEqual({ shutdownTimeoutMs: 10_000, retryBaseMs: 50 });
    expect(options).toMatchObject({ applicationName: 'app', streamName: 'orders', workerId: 'a', initialPosition: 'TRIM_HORIZON', metrics: { publisher: false }, leases: { leaseDurationMs: 2_500 }, retrieval: { mode: 'fanout' } });
    expect(options.clientConfig).toEqual({ region: 'us-east-1', kinesisEndpoint: 'http://k', dynamoDbEndpoint: 'http://d', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    expect(workerOptions({ applicationName: 'app', streams: ['orders'], processorFactory, clients: { kinesisClient: {} as never, dynamoDbClient: {} as never } }).retrieval?.mode).toBe('polling');
  });

  it('passes the lease coordination mode through (single-scanner), and leaves the default alone without one', () => {
    const base = { applicationName: 'app', streams: ['orders'], processorFactory: () => ({}) as never, clients: { kinesisClient: {} as never, dynamoDbClient: {} as never } };
    expect(workerOptions({ ...base, tuning: { leases: { coordination: 'single-scanner', leaseDurationMs: 2_500 } } }).leases).toEqual({ coordination: 'single-scanner', leaseDurationMs: 2_500 });
    expect(workerOptions(base).leases).toEqual({});
  });

  it('mergeTuning layers option groups setting by setting, retrieval.polling included', () => {
    const base = { leases: { leaseDurationMs: 2_500, takerIntervalMs: 500 }, retrieval: { polling: { idleTimeBetweenReadsMs: 100 }, maxRetries: 3 }, processing: { shutdownTimeoutMs: 10_000 } };
    expect(mergeTuning(base, { leases: { coordination: 'single-scanner' }, retrieval: { polling: { maxRecords: 50 } } })).toEqual({
      leases: { leaseDurationMs: 2_500, takerIntervalMs: 500, coordination: 'single-scanner' },
      retrieval: { polling: { idleTimeBetweenReadsMs: 100, maxRecords: 50 }, maxRetries: 3 },
      shardSync: {},
      processing: { shutdownTimeoutMs: 10_000 },
    });
    expect(mergeTuning(base, undefined).leases).toEqual(base.leases);
  });

  it('makes a multi-stream Worker of several streams', () => {
    const options = workerOptions({ applicationName: 'app', streams: ['orders', 'payments'], processorFactory: () => ({}) as never, clients: { kinesisClient: {} as never, dynamoDbClient: {} as never } });
    expect(options.streams).toEqual([{ streamName: 'orders' }, { streamName: 'payments' }]);
    expect(options).not.toHaveProperty('streamName');
  });
});

describe('JournalTail', () => {
  it('returns the complete lines so far, reading only what was appended, and waits for a partial line to end', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fleet-tail-')), 'w.journal.jsonl');
    const tail = new JournalTail(path);
    expect(tail.read()).toEqual([]); // no file yet
    const line = (n: number): string => `${JSON.stringify({ type: 'record', worker: 'w', at: n, pid: 1, shard: 's', epoch: 'e', key: 'k', n, seq: String(n), sub: 0 })}\n`;
    appendFileSync(path, line(0) + line(1).slice(0, 10));
    expect(tail.read().map((l) => l.at)).toEqual([0]);
    appendFileSync(path, line(1).slice(10) + line(2));
    expect(tail.read().map((l) => l.at)).toEqual([0, 1, 2]);
  });
});

describe('KeyedProducer (Kinesis Mock)', () => {
  const stack = testStack();
  const kinesis = stack.kinesisClient();
  afterAll(() => kinesis.destroy());

  it('numbers each key in put order, round-robin over the keys, and keeps every acknowledged put', async () => {
    const stream = uniqueName('keyed');
    await createStream(kinesis, stream, 2);
    const producer = new KeyedProducer(kinesis, stream, { keys: 3 });
    await producer.putNext(4); // key-0..2 #0, then key-0 #1
    await producer.putRound(['key-2']);
    expect(producer.acked.map((p) => `${p.key}#${p.n}`)).toEqual(['key-0#0', 'key-1#0', 'key-2#0', 'key-0#1', 'key-2#1']);
    expect(producer.acked.every((p) => /^\d+$/.test(p.sequenceNumber) && p.shardId.startsWith('shardId-'))).toBe(true);
    expect(producer.rounds).toBe(1);
  }, 60_000);

  it('writes each record to every stream it is given, naming the stream of each acknowledged put', async () => {
    const streams = [uniqueName('keyed-a'), uniqueName('keyed-b')];
    for (const s of streams) await createStream(kinesis, s, 1);
    const producer = new KeyedProducer(kinesis, streams, { keys: 2 });
    await producer.putRound();
    const ids = (s: string) => producer.acked.filter((p) => p.stream === s).map((p) => `${p.key}#${p.n}`);
    expect(ids(streams[0]!)).toEqual(['key-0#0', 'key-1#0']);
    expect(ids(streams[1]!)).toEqual(['key-0#0', 'key-1#0']);
    expect(producer.acked).toHaveLength(4);
  }, 60_000);

  it('writes one key per shard with explicit hash keys and pads the payload', async () => {
    const stream = uniqueName('keyed-hash');
    await createStream(kinesis, stream, 2);
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const producer = new KeyedProducer(kinesis, stream, { hashKeys: shards.map((s) => s.HashKeyRange!.StartingHashKey!), payloadBytes: 200 });
    const production = producer.startRounds({ intervalMs: 10, maxRounds: 3 });
    await production.done;
    expect(producer.acked).toHaveLength(6);
    for (const [i, shard] of shards.entries()) expect(producer.acked.filter((p) => p.key === `key-${i}`).every((p) => p.shardId === shard.ShardId)).toBe(true);
    expect(decodePayload(Buffer.from(JSON.stringify({ k: 'key-0', n: 0, t: 1, p: 'x'.repeat(150) })))).toEqual({ k: 'key-0', n: 0, t: 1 });
  }, 60_000);
});
