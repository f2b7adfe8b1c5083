import { ExpiredIteratorException, KMSThrottlingException, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '@kcl-ts/processor';
import { RETRIEVAL_DEFAULTS, resolveRetrievalConfig } from '../src/retrieval/index.js';

describe('resolveRetrievalConfig', () => {
  it('applies the defaults', () => {
    expect(resolveRetrievalConfig()).toEqual(RETRIEVAL_DEFAULTS);
    expect(RETRIEVAL_DEFAULTS).toMatchObject({ maxRecords: 10_000, maxGetRecordsPerSecond: 5, idleTimeBetweenReadsMs: 250, prefetchMaxBatches: 3, prefetchMaxRecords: 30_000, prefetchMaxBytes: 32 * 1024 * 1024 });
  });

  it('keeps valid overrides', () => {
    const config = resolveRetrievalConfig({ maxRecords: 500, idleTimeBetweenReadsMs: 0, maxGetRecordsPerSecond: 2.5, prefetchMaxBytes: 1024 });
    expect(config).toMatchObject({ maxRecords: 500, idleTimeBetweenReadsMs: 0, maxGetRecordsPerSecond: 2.5, prefetchMaxBytes: 1024, prefetchMaxBatches: 3 });
  });

  it.each([
    [{ maxRecords: 0 }, /maxRecords .* got 0/],
    [{ maxRecords: 10_001 }, /maxRecords .*between 1 and 10000, got 10001/],
    [{ maxRecords: 1.5 }, /maxRecords must be an integer/],
    [{ maxGetRecordsPerSecond: 6 }, /maxGetRecordsPerSecond .*between 1 and 5, got 6/],
    [{ maxGetRecordsPerSecond: 0.5 }, /maxGetRecordsPerSecond/],
    [{ idleTimeBetweenReadsMs: -1 }, /idleTimeBetweenReadsMs/],
    [{ idleTimeBetweenReadsMs: Number.NaN }, /idleTimeBetweenReadsMs .* got NaN/],
    [{ prefetchMaxBatches: 0 }, /prefetchMaxBatches/],
    [{ prefetchMaxRecords: '10' as unknown as number }, /prefetchMaxRecords .* got "10"/],
    [{ prefetchMaxBytes: Infinity }, /prefetchMaxBytes/],
    [{ maxRetries: -1 }, /maxRetries/],
    [{ retryBaseDelayMs: 500, retryMaxDelayMs: 100 }, /retryMaxDelayMs must be >= retryBaseDelayMs/],
  ])('rejects %j with a TypeError naming the option', (options, message) => {
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
