import { describe, expect, it } from 'vitest';
import { classifyAwsError, withRetries } from '../src/index.js';
import { FakeClock } from '../src/testing.js';

const awsError = (name: string, status?: number, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(name), { name, $metadata: status === undefined ? {} : { httpStatusCode: status }, ...extra });

describe('classifyAwsError: the one classifier', () => {
  it.each([
    ['ProvisionedThroughputExceededException', awsError('ProvisionedThroughputExceededException', 400), 'throttled'],
    ['KMSThrottlingException', awsError('KMSThrottlingException', 400), 'throttled'],
    ['LimitExceededException', awsError('LimitExceededException', 400), 'throttled'],
    ['RequestLimitExceeded', awsError('RequestLimitExceeded', 400), 'throttled'],
    ['an HTTP 429', awsError('Whatever', 429), 'throttled'],
    ['a 503', awsError('SomethingNew', 503), 'transient'],
    ['InternalFailure without a status', awsError('InternalFailure'), 'transient'],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    ['ECONNABORTED', Object.assign(new Error('aborted'), { code: 'ECONNABORTED' }), 'transient'],
    ['a wrapped ECONNRESET', Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }), 'transient'],
    ['TimeoutError', awsError('TimeoutError'), 'transient'],
    ['ConditionalCheckFailedException', awsError('ConditionalCheckFailedException', 400), 'fenced'],
    ['ExpiredIteratorException', awsError('ExpiredIteratorException', 400), 'expired-iterator'],
    ['ResourceNotFoundException', awsError('ResourceNotFoundException', 400), 'not-found'],
    ['ResourceInUseException', awsError('ResourceInUseException', 400), 'in-use'],
    ['AccessDeniedException', awsError('AccessDeniedException', 403), 'fatal'],
    ['a plain Error', new Error('boom'), 'fatal'],
    ['a string', 'weird', 'fatal'],
  ])('%s → %s', (_label, error, kind) => {
    expect(classifyAwsError(error)).toBe(kind);
  });
});

describe('withRetries: separate budgets for throttling and transient failures', () => {
  it('retries throttling without limit when asked, while transient failures keep their own budget', async () => {
    const clock = new FakeClock();
    const kinds: string[] = [];
    let calls = 0;
    const result = withRetries(
      'Op',
      async () => {
        calls++;
        if (calls <= 30) throw awsError('ProvisionedThroughputExceededException', 400);
        if (calls <= 33) throw awsError('InternalFailure', 500);
        throw awsError('InternalFailure', 500);
      },
      { clock, maxRetries: 3, maxThrottleRetries: Number.POSITIVE_INFINITY, maxDelayMs: 10, onRetry: (kind) => kinds.push(kind), random: () => 0.5 },
    );
    result.catch(() => undefined);
    for (let i = 0; i < 100 && calls < 34; i++) await clock.advance(10);
    await expect(result).rejects.toMatchObject({ name: 'InternalFailure' });
    expect(kinds.filter((k) => k === 'throttled')).toHaveLength(30);
    expect(kinds.filter((k) => k === 'transient')).toHaveLength(3);
    expect(calls).toBe(34);
  });
});
