import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { resolveLeaseCoordinatorConfig, type LeaseCoordinatorOptions } from '@kcl-ts/leases';
import { MAX_TIMER_DELAY_MS, silentLogger } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { resolveWorkerConfig, type WorkerOptions } from '../src/config.js';
import { resolveRetrievalConfig, type RetrievalOptions } from '../src/retrieval/index.js';
import { Worker } from '../src/index.js';

// Pure validation: no emulator, no client call (the fake clients are never used).
const fakeClient = { send: () => Promise.reject(new Error('not used')), destroy: () => undefined };
const valid = (): WorkerOptions => ({
  applicationName: 'app-x',
  streamName: 'stream-x',
  kinesisClient: fakeClient as unknown as KinesisClient,
  dynamoDbClient: fakeClient as unknown as DynamoDBClient,
  processorFactory: () => ({ initialize() {}, processRecords() {} }),
});

/** The TypeError `fn` throws (fails the test if it throws nothing, or something else). */
function typeErrorOf(fn: () => unknown): TypeError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TypeError);
  return thrown as TypeError;
}

const resolve = (patch: Record<string, unknown>): ReturnType<typeof resolveWorkerConfig> =>
  resolveWorkerConfig({ ...valid(), ...(patch as Partial<WorkerOptions>) });

/** Options with `value` set at `path` (e.g. `leases.leaseDurationMs`, `retrieval.polling.maxRecords`). */
function at(path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  return { [head!]: rest.length === 0 ? value : at(rest.join('.'), value) };
}

describe('durations above 2^31−1 ms (a Node.js timer would fire after 1 ms)', () => {
  const TOO_LONG = 2 ** 31;

  it.each([
    'metrics.intervalMs',
    'shardSync.intervalMs',
    'shardSync.parentPollIntervalMs',
    'shardSync.minRequestIntervalMs',
    'shardSync.shardListMaxAgeMs',
    'processing.shutdownTimeoutMs',
    'processing.retryBaseMs',
    'processing.retryMaxMs',
    'leases.leaseDurationMs',
    'leases.takerIntervalMs',
    'leases.handoffTimeoutMs',
    'retrieval.polling.idleTimeBetweenReadsMs',
    'retrieval.retryBaseDelayMs',
    'retrieval.retryMaxDelayMs',
  ])('the Worker rejects %s: 2^31 with a TypeError naming its path and the value', (path) => {
    const error = typeErrorOf(() => resolve(at(path, TOO_LONG)));
    expect(error.message).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')} `));
    expect(error.message).toContain(String(TOO_LONG));
  });

  it('the Worker rejects leaseDurationMs: 9e9 and renewIntervalMs above the limit', () => {
    expect(typeErrorOf(() => resolve({ leases: { leaseDurationMs: 9e9 } })).message).toMatch(/^leases\.leaseDurationMs must be .*at most 2147483647.*got 9000000000$/);
    expect(typeErrorOf(() => resolveLeaseCoordinatorConfig({ renewIntervalMs: TOO_LONG })).message).toMatch(/^leases\.renewIntervalMs .*got 2147483648$/);
  });

  it('accepts exactly 2^31−1 ms', () => {
    const config = resolve({ processing: { shutdownTimeoutMs: MAX_TIMER_DELAY_MS, retryMaxMs: MAX_TIMER_DELAY_MS }, metrics: { intervalMs: MAX_TIMER_DELAY_MS } });
    expect(config.processing).toMatchObject({ shutdownTimeoutMs: MAX_TIMER_DELAY_MS, retryMaxMs: MAX_TIMER_DELAY_MS });
    expect(config.metrics.intervalMs).toBe(MAX_TIMER_DELAY_MS);
    const lease = resolveLeaseCoordinatorConfig({ leaseDurationMs: MAX_TIMER_DELAY_MS, handoffTimeoutMs: MAX_TIMER_DELAY_MS });
    expect(lease.leaseDurationMs).toBe(MAX_TIMER_DELAY_MS);
    expect(resolveRetrievalConfig({ polling: { idleTimeBetweenReadsMs: MAX_TIMER_DELAY_MS }, retryMaxDelayMs: MAX_TIMER_DELAY_MS }).retryMaxDelayMs).toBe(MAX_TIMER_DELAY_MS);
  });

  it.each<[keyof LeaseCoordinatorOptions, number]>([
    ['leaseDurationMs', 9e9],
    ['takerIntervalMs', TOO_LONG],
    ['handoffTimeoutMs', TOO_LONG],
  ])('resolveLeaseCoordinatorConfig rejects %s: %d', (name, value) => {
    expect(typeErrorOf(() => resolveLeaseCoordinatorConfig({ [name]: value })).message).toContain(`leases.${name}`);
  });

  it.each<[string, RetrievalOptions]>([
    ['polling.idleTimeBetweenReadsMs', { polling: { idleTimeBetweenReadsMs: TOO_LONG } }],
    ['retryBaseDelayMs', { retryBaseDelayMs: Number.POSITIVE_INFINITY }],
    ['retryMaxDelayMs', { retryMaxDelayMs: TOO_LONG }],
  ])('resolveRetrievalConfig rejects %s', (name, options) => {
    expect(typeErrorOf(() => resolveRetrievalConfig(options)).message).toContain(`retrieval.${name}`);
  });
});

describe('boolean options accept booleans only', () => {
  it.each([
    ['processing.callProcessRecordsEvenForEmptyList', 'false', '"false"'],
    ['processing.callProcessRecordsEvenForEmptyList', 1, '1'],
    ['leases.gracefulHandoff', 'false', '"false"'],
    ['leases.releaseLeasesOnStop', 0, '0'],
  ])('rejects %s: %j with a TypeError naming its path and the value', (path, value, shown) => {
    const error = typeErrorOf(() => resolve(at(path, value)));
    expect(error.message).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')} must be a boolean`));
    expect(error.message).toContain(shown);
  });

  it('keeps real booleans', () => {
    expect(resolve({ processing: { callProcessRecordsEvenForEmptyList: true } }).processing.callProcessRecordsEvenForEmptyList).toBe(true);
    expect(resolve({ leases: { gracefulHandoff: false } }).leases.gracefulHandoff).toBe(false);
  });
});

describe('groups: every group is an object of known keys, and errors name the full path', () => {
  it.each([
    ['leases', { leaseDuration: 1 }, /^leases\.leaseDuration is not an option \(known: leaseDurationMs, /],
    ['leaseTable', { billing: 'PAY_PER_REQUEST' }, /^leaseTable\.billing is not an option \(known: tableName, billingMode, /],
    ['retrieval', { idleTimeBetweenReadsMs: 100 }, /^retrieval\.idleTimeBetweenReadsMs is not an option/],
    ['shardSync', { shardSyncIntervalMs: 1 }, /^shardSync\.shardSyncIntervalMs is not an option/],
    ['processing', { processorRetryBaseMs: 1 }, /^processing\.processorRetryBaseMs is not an option/],
    ['metrics', { metricsLevel: 'NONE' }, /^metrics\.metricsLevel is not an option/],
  ])('rejects an unknown key in %s', (group, value, message) => {
    expect(typeErrorOf(() => resolve({ [group]: value })).message).toMatch(message);
  });

  it.each(['leases', 'leaseTable', 'retrieval', 'shardSync', 'processing', 'metrics'])('rejects %s that is not an object', (group) => {
    expect(typeErrorOf(() => resolve({ [group]: 5 })).message).toMatch(new RegExp(`^${group} must be an object .*got 5$`));
  });

  it.each(['shardLister', 'recordSourceFactory'])('rejects a %s that is not a function, naming it', (name) => {
    expect(typeErrorOf(() => resolve({ [name]: { listShards: 1 } })).message).toMatch(new RegExp(`^${name} must be a function, got `));
  });

  it('rejects a flat option at the top level, naming it', () => {
    expect(typeErrorOf(() => resolve({ leaseDurationMs: 5_000 })).message).toMatch(/^leaseDurationMs is not a Worker option/);
  });

  it.each([
    [{ leases: { maxLeasesForWorker: 'all' } }, /^leases\.maxLeasesForWorker must be a positive integer or Infinity, got "all"$/],
    [{ retrieval: { polling: { maxRecords: '5' } } }, /^retrieval\.polling\.maxRecords must be .*got "5"$/],
    [{ retrieval: { mode: 'push' } }, /^retrieval\.mode must be one of 'polling', 'fanout', got "push"$/],
    [{ shardSync: { listShards: { pageSize: 0 } } }, /^shardSync\.listShards\.pageSize must be .*got 0$/],
    [{ shardSync: { listShards: { page: 1 } } }, /^shardSync\.listShards\.page is not an option/],
    [{ processing: { maxConcurrentProcessors: 0 } }, /^processing\.maxConcurrentProcessors must be a positive integer or Infinity, got 0$/],
    [{ metrics: { level: 'ALL' } }, /^metrics\.level must be one of 'NONE', 'SUMMARY', 'DETAILED', got "ALL"$/],
    [{ metrics: { enabledDimensions: ['ShardId', 'Region'] } }, /^metrics\.enabledDimensions\[1\] must be one of .*got "Region"$/],
  ])('rejects a wrong type inside a group: %j', (options, message) => {
    expect(typeErrorOf(() => resolve(options)).message).toMatch(message);
  });

  it('leaseTable values are checked when the Worker is built, naming the path', () => {
    expect(typeErrorOf(() => new Worker({ ...valid(), leaseTable: { billingMode: 'PROVISIONED' as never } })).message).toMatch(/^leaseTable\.billingMode must be /);
    expect(typeErrorOf(() => new Worker({ ...valid(), leaseTable: { tags: { team: 1 } as never } })).message).toMatch(/^leaseTable\.tags must be an object of string values/);
    expect(typeErrorOf(() => new Worker({ ...valid(), leaseTable: { tableName: 'x' } })).message).toMatch(/^leaseTable\.tableName must be 3-255 characters/);
    expect(new Worker({ ...valid(), leaseTable: { tableName: 'leases-x', billingMode: { readCapacity: 5, writeCapacity: 5 } } }).config.leaseTable.tableName).toBe('leases-x');
  });

  it('resolves each group with its defaults', () => {
    const config = resolve({});
    expect(config.leaseTable.tableName).toBe('app-x');
    expect(config.shardSync).toMatchObject({ intervalMs: 60_000, parentPollIntervalMs: 1_000, listShards: { maxRetries: 8, pageSize: 1000 } });
    expect(config.processing).toMatchObject({ maxConcurrentProcessors: Infinity, callProcessRecordsEvenForEmptyList: false, retryBaseMs: 1_000, retryMaxMs: 30_000, shutdownTimeoutMs: 30_000 });
    expect(config.metrics).toMatchObject({ publisher: undefined, intervalMs: 60_000, level: 'DETAILED' });
    expect(config.retrieval.mode).toBe('polling');
  });
});

describe('logger', () => {
  it('rejects console, naming the option and the missing child()', () => {
    const error = typeErrorOf(() => resolve({ logger: console }));
    expect(error.message).toMatch(/^logger must be a pino-compatible logger \(child, trace, debug, info, warn, error\), got an object without child\(\)/);
    expect(error.message).toContain('console is not one');
  });

  it.each([
    [{}, /got an object without child\(\), trace\(\), debug\(\), info\(\), warn\(\), error\(\)$/],
    ['info', /got "info"$/],
    [42, /got 42$/],
  ])('rejects %j', (value, message) => {
    expect(typeErrorOf(() => resolve({ logger: value })).message).toMatch(message);
  });

  it('accepts a pino logger', () => {
    const logger = pino({ level: 'silent' });
    expect(resolve({ logger }).logger).toBe(logger);
    expect(() => resolve({ logger: silentLogger() })).not.toThrow();
  });
});

describe('clientConfig', () => {
  it.each([
    ['us-east-1', /^clientConfig must be an object .*got "us-east-1"$/],
    [null, /^clientConfig must be an object .*got null$/],
    [{ region: 42 }, /^clientConfig\.region must be a non-empty string .*got 42$/],
    [{ region: '' }, /^clientConfig\.region must be .*got ""$/],
    [{ credentials: 'AKIA…' }, /^clientConfig\.credentials must be .*got "AKIA…"$/],
    [{ kinesisEndpoint: 'localhost:4567' }, /^clientConfig\.kinesisEndpoint must be an http:\/\/ or https:\/\/ URL, got "localhost:4567"$/],
    [{ kinesisEndpoint: 'not a url' }, /^clientConfig\.kinesisEndpoint .*got "not a url"$/],
    [{ dynamoDbEndpoint: 'ftp://example.com' }, /^clientConfig\.dynamoDbEndpoint .*got "ftp:\/\/example.com"$/],
    [{ dynamoDbEndpoint: 4567 }, /^clientConfig\.dynamoDbEndpoint .*got 4567$/],
  ])('rejects %j with a TypeError naming the option path and the value', (clientConfig, message) => {
    expect(typeErrorOf(() => resolve({ clientConfig })).message).toMatch(message);
  });

  it('accepts a region, credentials and http(s) endpoints', () => {
    expect(() =>
      resolve({
        clientConfig: {
          region: 'eu-west-1',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
          kinesisEndpoint: 'http://localhost:4567',
          dynamoDbEndpoint: 'https://dynamodb.eu-west-1.amazonaws.com',
        },
      }),
    ).not.toThrow();
    expect(() => resolve({ clientConfig: { credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }) } })).not.toThrow();
  });
});

describe('clock', () => {
  it('new Worker({ clock: {} }) throws at construction, naming clock', () => {
    const error = typeErrorOf(() => new Worker({ ...valid(), clock: {} as unknown as FakeClock }));
    expect(error.message).toMatch(/^clock must be a Clock \(an object with now\(\), elapsed\(\) and sleep\(ms, signal\) functions\), got an object without now\(\), elapsed\(\), sleep\(\)$/);
  });

  it('accepts a FakeClock', () => {
    const clock = new FakeClock();
    expect(resolve({ clock }).clock).toBe(clock);
  });
});

describe('initialPosition AT_TIMESTAMP', () => {
  const clock = new FakeClock(); // now() = 2026-01-01T00:00:00.000Z

  it('rejects a timestamp later than the worker clock’s now, with no tolerance', () => {
    const error = typeErrorOf(() => resolve({ clock, initialPosition: { timestamp: new Date(clock.now() + 1) } }));
    expect(error.message).toBe('initialPosition.timestamp must not be in the future, got 2026-01-01T00:00:00.001Z (now is 2026-01-01T00:00:00.000Z)');
  });

  it('rejects a future timestamp by the system clock too', () => {
    expect(typeErrorOf(() => resolve({ initialPosition: { timestamp: new Date(Date.now() + 60_000) } })).message).toMatch(/^initialPosition\.timestamp must not be in the future/);
  });

  it('accepts now and the past', () => {
    expect(() => resolve({ clock, initialPosition: { timestamp: new Date(clock.now()) } })).not.toThrow();
    expect(() => resolve({ clock, initialPosition: { timestamp: new Date('2020-05-01T00:00:00Z') } })).not.toThrow();
    expect(() => resolve({ initialPosition: { timestamp: new Date() } })).not.toThrow();
  });

  it.each([
    [new Date('nope'), 'an invalid Date'],
    ['2026-01-01', '"2026-01-01"'],
    [1_700_000_000_000, '1700000000000'],
  ])('rejects a timestamp that is not a valid Date (%s)', (timestamp, shown) => {
    expect(typeErrorOf(() => resolve({ initialPosition: { timestamp } })).message).toBe(`initialPosition.timestamp must be a valid Date, got ${shown}`);
  });
});

describe('other messages name the value', () => {
  it.each([
    ['metrics.publisher', true, /^metrics\.publisher must be .*got true$/],
    ['processing.onProcessorError', 'skip', /^processing\.onProcessorError must be a function, got "skip"$/],
    ['kinesisClient', {}, /^kinesisClient must be .*got \{\}$/],
    ['processing.maxConcurrentProcessors', '4', /^processing\.maxConcurrentProcessors must be .*got "4"$/],
  ])('%s', (path, value, message) => {
    expect(typeErrorOf(() => resolve(at(path, value))).message).toMatch(message);
  });
});

describe('applicationName, which names the lease table by default', () => {
  it('shorter than a table name (3 characters) throws naming applicationName and the way out', () => {
    const error = typeErrorOf(() => resolve({ applicationName: 'ab' }));
    expect(error.message).toMatch(/^applicationName "ab" also names the lease table/);
    expect(error.message).toContain('leaseTable.tableName');
  });

  it('of 1–2 characters is fine with leaseTable.tableName', () => {
    expect(resolve({ applicationName: 'ab', leaseTable: { tableName: 'ab-leases' } }).leaseTable.tableName).toBe('ab-leases');
  });
});
