/**
 * Integration (dynalite): one malformed item must not stop the scan of the lease table.
 * A wrong attribute type or a garbage checkpoint is skipped and reported; a KCL 3.x
 * non-lease item is skipped silently; the good leases are returned as usual.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { extended, isKclError } from '@kcl-ts/processor';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import type { InvalidLeaseItem } from '../src/index.js';
import { DynamoDbLeaseRefresher, InvalidLeaseItemError, type LeaseItem } from '../src/dynamodb/index.js';

const stack = testStack();
const client = stack.dynamoDbClient();
afterAll(() => client.destroy());

const BAD_COUNTER = 'shardId-000000000010';
const BAD_CHECKPOINT = 'shardId-000000000011';
const METRICS_ITEM = 'worker-metrics-ip-10-0-0-1';
const GOOD = ['shardId-000000000000', 'shardId-000000000001'];
/** A value that must never reach a log line or a report. */
const SECRET_COUNTER = 'counter-value-that-must-not-be-logged';

describe('DynamoDbLeaseRefresher with malformed items in the lease table', () => {
  const tableName = uniqueName('invalid-items');
  const reported: InvalidLeaseItem[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  let r: DynamoDbLeaseRefresher;

  const put = (item: LeaseItem) => client.send(new PutItemCommand({ TableName: tableName, Item: item }));

  beforeAll(async () => {
    // scanPageSize 2: the bad items fall on several pages, so a skipped item must not end the scan.
    r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, logger, scanPageSize: 2, onInvalidItem: (item) => reported.push(item) });
    await r.createLeaseTableIfNotExists();
    for (const leaseKey of GOOD) await r.createLeaseIfNotExists({ leaseKey, checkpoint: extended('TRIM_HORIZON') });
    await put({ leaseKey: { S: BAD_COUNTER }, leaseCounter: { S: SECRET_COUNTER }, checkpoint: { S: 'TRIM_HORIZON' } });
    await put({ leaseKey: { S: BAD_CHECKPOINT }, leaseOwner: { S: 'worker-a' }, leaseCounter: { N: '7' }, checkpoint: { S: 'abc' } });
    // A KCL 3.5 non-lease item: no checkpoint, entityType other than LEASE.
    await put({ leaseKey: { S: METRICS_ITEM }, entityType: { S: 'WORKER_METRIC_STATS' }, lastUpdateTime: { N: '1767225600' } });
  });

  it('listLeases returns exactly the good leases and reports the two malformed items by key', async () => {
    reported.length = 0;
    const leases = await r.listLeases();
    expect(leases.map((l) => l.leaseKey).sort()).toEqual(GOOD);
    expect([...reported].sort((a, b) => a.leaseKey!.localeCompare(b.leaseKey!))).toEqual([
      { leaseKey: BAD_COUNTER, attribute: 'leaseCounter', reason: 'attribute "leaseCounter" has type S, expected N' },
      { leaseKey: BAD_CHECKPOINT, attribute: 'checkpoint', reason: expect.stringContaining('"checkpoint" is neither a sequence number nor one of') },
    ]);
  });

  it('scanLeaseTable also returns the invalid items, and skips the non-lease item silently', async () => {
    reported.length = 0;
    logLines.length = 0;
    const scan = await r.scanLeaseTable();
    expect(scan.leases.map((l) => l.leaseKey).sort()).toEqual(GOOD);
    expect(scan.invalid.map((i) => i.leaseKey).sort()).toEqual([BAD_COUNTER, BAD_CHECKPOINT]);
    expect(reported.map((i) => i.leaseKey).sort()).toEqual([BAD_COUNTER, BAD_CHECKPOINT]);

    const errors = logLines.filter((l) => l.level === 50);
    expect(errors.map((l) => l.leaseKey).sort()).toEqual([BAD_COUNTER, BAD_CHECKPOINT]);
    expect(errors.every((l) => typeof l.reason === 'string')).toBe(true);
    const nonLease = logLines.filter((l) => l.leaseKey === METRICS_ITEM);
    expect(nonLease.map((l) => l.level)).toEqual([20]); // debug only
    expect(JSON.stringify(logLines)).not.toContain(SECRET_COUNTER);
    expect(JSON.stringify(logLines)).not.toContain('"abc"');
  });

  it('getLease of a malformed item throws a typed error naming the key and the problem', async () => {
    const error = await r.getLease(BAD_COUNTER).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidLeaseItemError);
    expect(isKclError(error, 'INVALID_STATE')).toBe(true);
    expect(error).toMatchObject({ leaseKey: BAD_COUNTER, attribute: 'leaseCounter' });
    expect((error as Error).message).toContain(BAD_COUNTER);
    expect((error as Error).message).toContain('"leaseCounter" has type S, expected N');
    expect((error as Error).message).not.toContain(SECRET_COUNTER);
    await expect(r.getLease(BAD_CHECKPOINT)).rejects.toMatchObject({ leaseKey: BAD_CHECKPOINT, attribute: 'checkpoint' });
    await expect(r.getLease(METRICS_ITEM)).rejects.toBeInstanceOf(InvalidLeaseItemError);
    expect(await r.getLease(GOOD[0]!)).toMatchObject({ leaseKey: GOOD[0] });
  });

  it('a throwing onInvalidItem does not break the scan', async () => {
    const throwing = new DynamoDbLeaseRefresher({
      dynamoDbClient: client,
      tableName,
      onInvalidItem: () => {
        throw new Error('listener bug');
      },
    });
    expect((await throwing.listLeases()).map((l) => l.leaseKey).sort()).toEqual(GOOD);
  });

  it('rejects an onInvalidItem that is not a function', () => {
    expect(() => new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, onInvalidItem: 'log' as never })).toThrow(/onInvalidItem must be a function/);
  });
});
