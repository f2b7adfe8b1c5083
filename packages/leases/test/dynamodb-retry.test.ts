/**
 * Unit tests of the retry layer and of the refresher's error translation, against a stub
 * DynamoDB client (no emulator): backoff maths, retry/give-up, typed errors, and the
 * "retried conditional write whose first attempt landed" check.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AbortError, DependencyError, ResourceNotFoundError } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableAwsError, withRetries } from '@kcl-ts/processor';
import {
  DynamoDbLeaseRefresher,
  resolveDynamoDbLeaseRefresherConfig,
} from '../src/dynamodb/index.js';
import { leaseToItem } from '../src/dynamodb/lease-serializer.js';
import type { Lease } from '@kcl-ts/leases';

function awsError(name: string, status = 400, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} message`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    ...extra,
  });
}

interface SentCommand {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

/** A DynamoDBClient stand-in: each `send` is answered by the next responder. */
function stubClient(responders: Array<(cmd: SentCommand) => unknown>): { client: DynamoDBClient; sent: SentCommand[] } {
  const sent: SentCommand[] = [];
  const client = {
    config: { region: async () => 'eu-west-1' },
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const cmd = { name: command.constructor.name, input: command.input };
      sent.push(cmd);
      const responder = responders.shift();
      if (!responder) throw new Error(`unexpected call ${cmd.name}`);
      return responder(cmd);
    },
  };
  return { client: client as unknown as DynamoDBClient, sent };
}

const fail = (error: unknown) => () => {
  throw error;
};

/** Advances the fake clock until `promise` settles (every backoff sleep is on that clock). */
async function drive<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  for (let i = 0; i < 1_000 && !settled; i++) await clock.advance(500);
  return watched;
}

const lease: Lease = {
  leaseKey: 'shardId-000000000001',
  leaseOwner: 'worker-a',
  leaseCounter: 5,
  checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
  ownerSwitchesSinceCheckpoint: 0,
  parentShardIds: [],
  childShardIds: [],
};

describe('backoffDelay', () => {
  it('draws uniformly below min(cap, base * 2^attempt)', () => {
    expect(backoffDelay(0, 50, 2000, () => 0.999)).toBe(49);
    expect(backoffDelay(3, 50, 2000, () => 0.5)).toBe(200);
    expect(backoffDelay(10, 50, 2000, () => 0.5)).toBe(1000);
    expect(backoffDelay(5000, 50, 2000, () => 0.999)).toBe(1998);
    expect(backoffDelay(4, 50, 2000, () => 0)).toBe(0);
  });
});

describe('withRetries', () => {
  it('retries retryable errors after jittered sleeps on the clock, then succeeds', async () => {
    const clock = new FakeClock();
    const attempts: number[] = [];
    const result = withRetries(
      'Op',
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 2) throw awsError('ThrottlingException');
        return 'done';
      },
      { clock, maxRetries: 5, random: () => 0.5 },
    );
    await clock.advance(24); // first backoff: 0.5 × 50 = 25 ms
    expect(attempts).toEqual([0]);
    await clock.advance(1);
    expect(attempts).toEqual([0, 1]);
    await clock.advance(49); // second backoff: 0.5 × 100 = 50 ms
    expect(attempts).toEqual([0, 1]);
    await clock.advance(1);
    await expect(result).resolves.toBe('done');
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('gives up after maxRetries and rethrows the last error unchanged', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const error = awsError('ProvisionedThroughputExceededException');
    const result = drive(
      clock,
      withRetries('Op', async () => {
        calls++;
        throw error;
      }, { clock, maxRetries: 3, classify: () => 'transient' }),
    );
    await expect(result).rejects.toBe(error);
    expect(calls).toBe(4);
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    const error = awsError('ValidationException');
    await expect(
      withRetries('Op', async () => {
        calls++;
        throw error;
      }, { clock: new FakeClock(), maxRetries: 3 }),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('stops with an AbortError when the signal aborts during a backoff sleep', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let calls = 0;
    const result = withRetries('Op', async () => {
      calls++;
      throw awsError('ThrottlingException');
    }, { clock, signal: controller.signal, maxRetries: 8, classify: () => 'throttled', random: () => 0.99 });
    result.catch(() => undefined);
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    await expect(result).rejects.toBeInstanceOf(AbortError);
    expect(calls).toBe(1);
  });
});

describe('isRetryableAwsError on DynamoDB errors', () => {
  it.each([
    ['ProvisionedThroughputExceededException', awsError('ProvisionedThroughputExceededException')],
    ['ThrottlingException', awsError('ThrottlingException')],
    ['RequestLimitExceeded', awsError('RequestLimitExceeded')],
    ['InternalServerError', awsError('InternalServerError', 500)],
    ['a 503', awsError('SomethingNew', 503)],
    ['$fault server', Object.assign(new Error('x'), { $fault: 'server' })],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['ECONNREFUSED', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })],
    ['TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('retries %s', (_label, error) => {
    expect(isRetryableAwsError(error)).toBe(true);
  });

  it.each([
    ['ConditionalCheckFailedException', awsError('ConditionalCheckFailedException')],
    ['ValidationException', awsError('ValidationException')],
    ['ResourceNotFoundException', awsError('ResourceNotFoundException')],
    ['AccessDeniedException', awsError('AccessDeniedException', 403)],
    ['a plain Error', new Error('boom')],
  ])('does not retry %s', (_label, error) => {
    expect(isRetryableAwsError(error)).toBe(false);
  });
});

describe('DynamoDbLeaseRefresher against a stub client', () => {
  const make = (client: DynamoDBClient, clock = new FakeClock()) =>
    new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: 'stub-leases', clock, maxRetries: 4 });

  it('retries ProvisionedThroughputExceeded twice, then returns the item', async () => {
    const clock = new FakeClock();
    const { client, sent } = stubClient([
      fail(awsError('ProvisionedThroughputExceededException')),
      fail(awsError('ProvisionedThroughputExceededException')),
      () => ({ Item: leaseToItem(lease) }),
    ]);
    await expect(drive(clock, make(client, clock).getLease(lease.leaseKey))).resolves.toEqual(lease);
    expect(sent.map((c) => c.name)).toEqual(['GetItemCommand', 'GetItemCommand', 'GetItemCommand']);
    expect(sent[0]!.input).toMatchObject({ TableName: 'stub-leases', ConsistentRead: true });
  });

  it('surfaces a non-retryable error at once as DependencyError with the cause', async () => {
    const cause = awsError('ValidationException');
    const { client, sent } = stubClient([fail(cause)]);
    const error = await make(client).getLease('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ dependency: 'dynamodb', operation: 'GetItem', retryable: false, cause });
    expect((error as Error).message).toContain('stub-leases');
    expect(sent).toHaveLength(1);
  });

  it('surfaces exhausted retries as a retryable DependencyError', async () => {
    const clock = new FakeClock();
    const cause = awsError('InternalServerError', 500);
    const { client, sent } = stubClient(Array.from({ length: 5 }, () => fail(cause)));
    const error = await drive(clock, make(client, clock).listLeases()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ operation: 'Scan', retryable: true, cause });
    expect(sent).toHaveLength(5);
  });

  it('reports a missing table as ResourceNotFoundError naming the table and region', async () => {
    const { client } = stubClient([fail(awsError('ResourceNotFoundException'))]);
    const error = await make(client).listLeases().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(error).toMatchObject({ resourceType: 'table', resourceName: 'stub-leases' });
    expect((error as Error).message).toMatch(/lease table "stub-leases" does not exist in region eu-west-1.*leaseKey \(S\)/);
  });

  it('reports a lost condition as undefined without retrying', async () => {
    const { client, sent } = stubClient([fail(awsError('ConditionalCheckFailedException'))]);
    await expect(make(client).renewLease(lease, 'worker-a')).resolves.toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.input).toMatchObject({
      ConditionExpression: '#leaseCounter = :seenCounter AND #leaseOwner = :owner',
      ExpressionAttributeValues: { ':seenCounter': { N: '5' }, ':owner': { S: 'worker-a' } },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('treats a retried renew whose first attempt landed as a success', async () => {
    const clock = new FakeClock();
    const renewed = { ...lease, leaseCounter: 6 };
    const { client, sent } = stubClient([
      fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), // the write landed, the answer was lost
      fail(awsError('ConditionalCheckFailedException')), // so the retry's condition fails
      () => ({ Item: leaseToItem(renewed) }), // and the read-back shows our write
    ]);
    await expect(drive(clock, make(client, clock).renewLease(lease, 'worker-a'))).resolves.toEqual(renewed);
    expect(sent.map((c) => c.name)).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'GetItemCommand']);
  });

  it('reports a retried take whose condition failed because of someone else as lost', async () => {
    const clock = new FakeClock();
    const stolen = { ...lease, leaseOwner: 'worker-c', leaseCounter: 6 };
    const { client } = stubClient([
      fail(awsError('ThrottlingException')),
      fail(awsError('ConditionalCheckFailedException')),
      () => ({ Item: leaseToItem(stolen) }),
    ]);
    await expect(drive(clock, make(client, clock).takeLease(lease, 'worker-b'))).resolves.toBeUndefined();
  });

  it('does not accept a retried checkpoint when only the counter matches', async () => {
    const clock = new FakeClock();
    // Our own renewal moved the counter; the checkpoint itself never landed.
    const renewedOnly = { ...lease, leaseCounter: 6 };
    const { client } = stubClient([
      fail(awsError('InternalServerError', 500)),
      fail(awsError('ConditionalCheckFailedException')),
      () => ({ Item: leaseToItem(renewedOnly) }),
    ]);
    const update = { checkpoint: { sequenceNumber: '12345', subSequenceNumber: 0 } };
    await expect(drive(clock, make(client, clock).updateLease(lease, 'worker-a', update))).resolves.toBeUndefined();
  });

  it('stops waiting for a call when the signal aborts (AbortError), without per-call options that defeat the SDK handler cache', async () => {
    const controller = new AbortController();
    let options: unknown = 'not called';
    const client = {
      send: (_cmd: unknown, opts?: unknown) => {
        options = opts;
        return new Promise(() => undefined); // DynamoDB does not answer
      },
    } as unknown as DynamoDBClient;
    const read = make(client).getLease('x', controller.signal);
    await Promise.resolve();
    controller.abort();
    await expect(read).rejects.toBeInstanceOf(AbortError);
    expect(options).toBeUndefined();
  });
});

describe('lease table creation against a stub client', () => {
  const schema = {
    KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
  };
  const described = (TableStatus: string) => () => ({ Table: { TableName: 'stub-leases', TableStatus, ...schema } });

  it('tolerates a concurrent creator (ResourceInUse) and waits for ACTIVE on the clock', async () => {
    const clock = new FakeClock();
    const { client, sent } = stubClient([
      fail(awsError('ResourceNotFoundException')),
      fail(awsError('ResourceInUseException')),
      described('CREATING'),
      described('ACTIVE'),
    ]);
    const r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: 'stub-leases', clock });
    await expect(drive(clock, r.createLeaseTableIfNotExists())).resolves.toBe(false);
    expect(sent.map((c) => c.name)).toEqual(['DescribeTableCommand', 'CreateTableCommand', 'DescribeTableCommand', 'DescribeTableCommand']);
    expect(sent[1]!.input).toMatchObject({ BillingMode: 'PAY_PER_REQUEST', ...schema });
  });

  it('gives up with a retryable DependencyError when the table stays CREATING past the timeout', async () => {
    const clock = new FakeClock();
    const { client, sent } = stubClient([
      fail(awsError('ResourceNotFoundException')),
      () => ({ TableDescription: { TableStatus: 'CREATING' } }),
      ...Array.from({ length: 100 }, () => described('CREATING')),
    ]);
    const r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: 'stub-leases', clock, tableCreationTimeoutMs: 10_000, tags: { team: 'streams' } });
    const error = await drive(clock, r.createLeaseTableIfNotExists()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ retryable: true, operation: 'DescribeTable' });
    expect((error as Error).message).toMatch(/"stub-leases" did not become ACTIVE within 10000 ms \(last status: CREATING\)/);
    expect(clock.elapsed()).toBeGreaterThanOrEqual(10_000);
    expect(sent[1]!.input).toMatchObject({ Tags: [{ Key: 'team', Value: 'streams' }] });
  });
});

describe('resolveDynamoDbLeaseRefresherConfig', () => {
  const client = { send: async () => ({}) } as unknown as DynamoDBClient;

  it('applies the defaults', () => {
    const config = resolveDynamoDbLeaseRefresherConfig({ dynamoDbClient: client, tableName: 'my-app' });
    expect(config).toMatchObject({ billingMode: 'PAY_PER_REQUEST', tableCreationTimeoutMs: 300_000, maxRetries: 8, retryBaseDelayMs: 50, retryMaxDelayMs: 2000, tags: {} });
  });

  it.each([
    [{ tableName: 'my-app' }, /dynamoDbClient/],
    [{ dynamoDbClient: client, tableName: 'a' }, /tableName.*"a"/],
    [{ dynamoDbClient: client, tableName: 'has space' }, /tableName/],
    [{ dynamoDbClient: client, tableName: 'ok-name', billingMode: 'PROVISIONED' }, /billingMode.*"PROVISIONED"/],
    [{ dynamoDbClient: client, tableName: 'ok-name', billingMode: { readCapacity: 0, writeCapacity: 5 } }, /billingMode/],
    [{ dynamoDbClient: client, tableName: 'ok-name', tableCreationTimeoutMs: -1 }, /tableCreationTimeoutMs.*-1/],
    [{ dynamoDbClient: client, tableName: 'ok-name', maxRetries: 1.5 }, /maxRetries.*1\.5/],
    [{ dynamoDbClient: client, tableName: 'ok-name', retryBaseDelayMs: 100, retryMaxDelayMs: 10 }, /retryMaxDelayMs.*10/],
    [{ dynamoDbClient: client, tableName: 'ok-name', tags: { team: 7 } }, /tags/],
    [{ dynamoDbClient: client, tableName: 'ok-name', scanPageSize: 0 }, /scanPageSize/],
    // Durations longer than one Node.js timer can wait (2^31−1 ms), as in every other group.
    [{ dynamoDbClient: client, tableName: 'ok-name', tableCreationTimeoutMs: 2 ** 31 }, /tableCreationTimeoutMs.*2147483648/],
    [{ dynamoDbClient: client, tableName: 'ok-name', retryBaseDelayMs: 2 ** 31 }, /retryBaseDelayMs.*2147483648/],
    [{ dynamoDbClient: client, tableName: 'ok-name', retryMaxDelayMs: 2 ** 31 }, /retryMaxDelayMs.*2147483648/],
  ])('rejects %o', (options, message) => {
    expect(() => resolveDynamoDbLeaseRefresherConfig(options as never)).toThrow(TypeError);
    expect(() => resolveDynamoDbLeaseRefresherConfig(options as never)).toThrow(message);
  });

  it('raises the default cap to retryBaseDelayMs when the base is larger, so the cap is never below the base', () => {
    const config = resolveDynamoDbLeaseRefresherConfig({ dynamoDbClient: client, tableName: 'my-app', retryBaseDelayMs: 5_000 });
    expect(config).toMatchObject({ retryBaseDelayMs: 5_000, retryMaxDelayMs: 5_000 });
  });
});
