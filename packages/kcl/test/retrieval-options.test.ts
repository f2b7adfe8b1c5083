import { ExpiredIteratorException, KMSThrottlingException, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { classifyAwsError, FakeClock } from '@kcl-ts/processor';
import { RETRIEVAL_DEFAULTS, resolveRetrievalConfig, type RetrievalOptions } from '../src/retrieval/index.js';

describe('resolveRetrievalConfig', () => {
  it('applies the defaults', () => {
    expect(resolveRetrievalConfig(undefined, 'app')).toEqual({ ...RETRIEVAL_DEFAULTS, fanOut: { consumerName: 'app', consumerArn: undefined, registrationTimeoutMs: 120_000 } });
    expect(RETRIEVAL_DEFAULTS).toMatchObject({ mode: 'polling', prefetchMaxBatches: 3, prefetchMaxRecords: 30_000, prefetchMaxBytes: 32 * 1024 * 1024, prefetchMaxBytesPerWorker: 16 * 1024 * 1024 });
    expect(RETRIEVAL_DEFAULTS.polling).toMatchObject({ maxRecords: 10_000, maxGetRecordsPerSecond: 5, idleTimeBetweenReadsMs: 250 });
  });

  it('keeps valid overrides', () => {
    const config = resolveRetrievalConfig({ polling: { maxRecords: 500, idleTimeBetweenReadsMs: 0, maxGetRecordsPerSecond: 2.5 }, prefetchMaxBytes: 1024 });
    expect(config.polling).toMatchObject({ maxRecords: 500, idleTimeBetweenReadsMs: 0, maxGetRecordsPerSecond: 2.5 });
    expect(config).toMatchObject({ prefetchMaxBytes: 1024, prefetchMaxBatches: 3 });
  });

  it.each<[RetrievalOptions, RegExp]>([
    [{ polling: { maxRecords: 0 } }, /^retrieval\.polling\.maxRecords .* got 0/],
    [{ polling: { maxRecords: 10_001 } }, /^retrieval\.polling\.maxRecords .*at most 10000, got 10001/],
    [{ polling: { maxRecords: 1.5 } }, /^retrieval\.polling\.maxRecords must be an integer/],
    [{ polling: { maxGetRecordsPerSecond: 6 } }, /^retrieval\.polling\.maxGetRecordsPerSecond .*at most 5, got 6/],
    [{ polling: { maxGetRecordsPerSecond: 0.5 } }, /^retrieval\.polling\.maxGetRecordsPerSecond/],
    [{ polling: { idleTimeBetweenReadsMs: -1 } }, /^retrieval\.polling\.idleTimeBetweenReadsMs/],
    [{ polling: { idleTimeBetweenReadsMs: Number.NaN } }, /^retrieval\.polling\.idleTimeBetweenReadsMs .* got NaN/],
    [{ prefetchMaxBatches: 0 }, /^retrieval\.prefetchMaxBatches/],
    [{ prefetchMaxRecords: '10' as unknown as number }, /^retrieval\.prefetchMaxRecords .* got "10"/],
    [{ prefetchMaxBytes: Infinity }, /^retrieval\.prefetchMaxBytes/],
    [{ prefetchMaxBytesPerWorker: 0 }, /^retrieval\.prefetchMaxBytesPerWorker/],
    [{ maxRetries: -1 }, /^retrieval\.maxRetries/],
    [{ retryBaseDelayMs: 500, retryMaxDelayMs: 100 }, /^retrieval\.retryMaxDelayMs must be a number >= 500/],
    [{ maxRecords: 5 } as RetrievalOptions, /^retrieval\.maxRecords is not an option/],
    [{ polling: { maxRecord: 5 } } as RetrievalOptions, /^retrieval\.polling\.maxRecord is not an option/],
    [{ polling: 5 } as unknown as RetrievalOptions, /^retrieval\.polling must be an object/],
  ])('rejects %j with a TypeError naming the option path', (options, message) => {
    expect(() => resolveRetrievalConfig(options)).toThrow(TypeError);
    expect(() => resolveRetrievalConfig(options)).toThrow(message);
  });
});

describe('classifyAwsError on Kinesis errors', () => {
  it('classifies Kinesis errors', () => {
    expect(classifyAwsError(new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} }))).toBe('throttled');
    expect(classifyAwsError(new KMSThrottlingException({ message: 'x', $metadata: {} }))).toBe('throttled');
    expect(classifyAwsError(new ExpiredIteratorException({ message: 'x', $metadata: {} }))).toBe('expired-iterator');
    expect(classifyAwsError(new ResourceNotFoundException({ message: 'x', $metadata: {} }))).toBe('not-found');
    expect(classifyAwsError(Object.assign(new Error('x'), { name: 'Whatever', $fault: 'server', $metadata: { httpStatusCode: 503 } }))).toBe('transient');
    expect(classifyAwsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('transient');
    expect(classifyAwsError(Object.assign(new Error('x'), { name: 'InvalidArgumentException', $fault: 'client', $metadata: { httpStatusCode: 400 } }))).toBe('fatal');
    expect(classifyAwsError('weird')).toBe('fatal');
  });
});
