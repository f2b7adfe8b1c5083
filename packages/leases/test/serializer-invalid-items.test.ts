import { InvalidStateError } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { InvalidLeaseItemError, type LeaseItem } from '../src/dynamodb/index.js';
import { itemToLease, parseLeaseItem } from '../src/dynamodb/lease-serializer.js';

const REAL_SEQ = '49590338271490256608559692538361571095921575989136588898';
const base: LeaseItem = { leaseKey: { S: 'shardId-000000000004' }, leaseCounter: { N: '3' }, checkpoint: { S: 'TRIM_HORIZON' } };

describe('lease serializer: invalid and non-lease items', () => {
  it('accepts sequence numbers (up to 129 digits, as Kinesis) and the four sentinels as checkpoints', () => {
    for (const checkpoint of [REAL_SEQ, '0', '9'.repeat(129), 'TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END']) {
      expect(parseLeaseItem({ ...base, checkpoint: { S: checkpoint } })).toMatchObject({ kind: 'lease', lease: { checkpoint: { sequenceNumber: checkpoint } } });
    }
  });

  it('a garbage checkpoint makes the item invalid, naming the key and the attribute but not the value', () => {
    for (const checkpoint of ['abc', '', '-1', '01', '1.5', '9'.repeat(130), 'trim_horizon']) {
      const parsed = parseLeaseItem({ ...base, checkpoint: { S: checkpoint } });
      expect(parsed).toEqual({
        kind: 'invalid',
        problem: { leaseKey: 'shardId-000000000004', attribute: 'checkpoint', reason: expect.stringContaining('neither a sequence number nor one of TRIM_HORIZON') },
      });
    }
    expect(() => itemToLease({ ...base, checkpoint: { S: 'abc' } })).toThrow(InvalidLeaseItemError);
    expect(() => itemToLease({ ...base, checkpoint: { S: 'abc' } })).not.toThrow(/"abc"/);
  });

  it('a garbage pending checkpoint makes the item invalid too', () => {
    expect(parseLeaseItem({ ...base, pendingCheckpoint: { S: 'xyz' } })).toMatchObject({ kind: 'invalid', problem: { attribute: 'pendingCheckpoint' } });
    expect(parseLeaseItem({ ...base, pendingCheckpoint: { S: REAL_SEQ } })).toMatchObject({ kind: 'lease' });
  });

  it('an attribute of the wrong type makes the item invalid, with the types but not the value', () => {
    const parsed = parseLeaseItem({ ...base, leaseCounter: { S: 'x' } });
    expect(parsed).toEqual({
      kind: 'invalid',
      problem: { leaseKey: 'shardId-000000000004', attribute: 'leaseCounter', reason: 'attribute "leaseCounter" has type S, expected N' },
    });
    expect(parseLeaseItem({ ...base, leaseCounter: { N: 'NaN' } })).toMatchObject({ kind: 'invalid', problem: { attribute: 'leaseCounter' } });
    expect(parseLeaseItem({ ...base, leaseOwner: { N: '1' } })).toMatchObject({ kind: 'invalid', problem: { attribute: 'leaseOwner' } });
    expect(parseLeaseItem({ ...base, checkpoint: { N: '1' } })).toMatchObject({ kind: 'invalid', problem: { attribute: 'checkpoint' } });
    expect(parseLeaseItem({ ...base, parentShardId: { N: '1' } })).toMatchObject({ kind: 'invalid', problem: { attribute: 'parentShardId' } });
  });

  it('an item without a checkpoint or without a readable leaseKey is invalid', () => {
    const { checkpoint: _c, ...noCheckpoint } = base;
    expect(parseLeaseItem(noCheckpoint)).toEqual({
      kind: 'invalid',
      problem: { leaseKey: 'shardId-000000000004', attribute: 'checkpoint', reason: 'no "checkpoint" attribute' },
    });
    expect(parseLeaseItem({ ...base, leaseKey: { N: '4' } })).toEqual({
      kind: 'invalid',
      problem: { attribute: 'leaseKey', reason: 'no "leaseKey" string attribute' },
    });
  });

  it('KCL 3.x non-lease items (entityType other than LEASE) are "other", not invalid; entityType LEASE is a lease', () => {
    expect(parseLeaseItem({ leaseKey: { S: 'Migration3.0' }, entityType: { S: 'CLIENT_VERSION_MIGRATION' } })).toEqual({
      kind: 'other',
      leaseKey: 'Migration3.0',
      entityType: 'CLIENT_VERSION_MIGRATION',
    });
    expect(parseLeaseItem({ leaseKey: { S: 'w-1' }, entityType: { S: 'WORKER_METRIC_STATS' } })).toMatchObject({ kind: 'other' });
    expect(parseLeaseItem({ ...base, entityType: { S: 'LEASE' } })).toMatchObject({ kind: 'lease', lease: { leaseKey: 'shardId-000000000004' } });
  });

  it('itemToLease throws InvalidLeaseItemError (an InvalidStateError) with the key, attribute and reason', () => {
    let error: unknown;
    try {
      itemToLease({ ...base, leaseCounter: { S: 'x' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidLeaseItemError);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ code: 'INVALID_STATE', leaseKey: 'shardId-000000000004', attribute: 'leaseCounter' });
    expect((error as InvalidLeaseItemError).message).toBe('lease table item "shardId-000000000004" is not a valid lease: attribute "leaseCounter" has type S, expected N');
    expect((error as InvalidLeaseItemError).toInvalidLeaseItem()).toEqual({
      leaseKey: 'shardId-000000000004',
      attribute: 'leaseCounter',
      reason: 'attribute "leaseCounter" has type S, expected N',
    });
    expect(() => itemToLease({ leaseKey: { S: 'w-1' }, entityType: { S: 'WORKER_METRIC_STATS' } })).toThrow(/"w-1" is not a valid lease: it is a non-lease item/);
  });
});
