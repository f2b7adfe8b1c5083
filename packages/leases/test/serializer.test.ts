import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '@kcl-ts/processor';
import type { Lease } from '@kcl-ts/leases';
import type { LeaseItem } from '../src/dynamodb/index.js';
import { itemToLease, LEASE_ATTRIBUTES, leaseToItem } from '../src/dynamodb/lease-serializer.js';

const full: Lease = {
  leaseKey: 'shardId-000000000007',
  leaseOwner: 'worker-a',
  leaseCounter: 42,
  checkpoint: { sequenceNumber: '49590338271490256608559692538361571095921575989136588898', subSequenceNumber: 3 },
  pendingCheckpoint: { sequenceNumber: '49590338271490256608559692538361571095921575989136588999', subSequenceNumber: 0 },
  pendingCheckpointState: new Uint8Array([1, 2, 255]),
  ownerSwitchesSinceCheckpoint: 2,
  parentShardIds: ['shardId-000000000001', 'shardId-000000000002'],
  childShardIds: ['shardId-000000000009'],
  hashKeyRange: { startingHashKey: '0', endingHashKey: '340282366920938463463374607431768211455' },
  handoffTo: 'worker-b',
  initialTimestamp: 1_767_225_600_000,
};

describe('lease serializer', () => {
  it('writes the Java KCL attribute names and types', () => {
    const item = leaseToItem(full);
    expect(item).toEqual({
      leaseKey: { S: 'shardId-000000000007' },
      leaseOwner: { S: 'worker-a' },
      leaseCounter: { N: '42' },
      checkpoint: { S: full.checkpoint.sequenceNumber },
      checkpointSubSequenceNumber: { N: '3' },
      pendingCheckpoint: { S: full.pendingCheckpoint!.sequenceNumber },
      pendingCheckpointSubSequenceNumber: { N: '0' },
      pendingCheckpointState: { B: new Uint8Array([1, 2, 255]) },
      ownerSwitchesSinceCheckpoint: { N: '2' },
      parentShardId: { SS: ['shardId-000000000001', 'shardId-000000000002'] },
      childShardIds: { SS: ['shardId-000000000009'] },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '340282366920938463463374607431768211455' },
      handoffTo: { S: 'worker-b' },
      initialTimestamp: { N: '1767225600000' },
    });
  });

  it('round-trips every field', () => {
    expect(itemToLease(leaseToItem(full))).toEqual(full);
  });

  it('omits empty sets and absent optional fields', () => {
    const minimal: Lease = {
      leaseKey: 'shardId-000000000000',
      leaseCounter: 0,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: [],
      childShardIds: [],
    };
    const item = leaseToItem(minimal);
    expect(Object.keys(item).sort()).toEqual(['checkpoint', 'checkpointSubSequenceNumber', 'leaseCounter', 'leaseKey', 'ownerSwitchesSinceCheckpoint']);
    expect(itemToLease(item)).toEqual(minimal);
  });

  it('deduplicates and sorts set members, since DynamoDB sets are unordered', () => {
    const item = leaseToItem({ ...full, parentShardIds: ['shardId-2', 'shardId-1', 'shardId-2'] });
    expect(item[LEASE_ATTRIBUTES.parentShardId]).toEqual({ SS: ['shardId-1', 'shardId-2'] });
  });

  it('reads a Java-KCL-written item, ignoring attributes it does not know', () => {
    const java: LeaseItem = {
      leaseKey: { S: 'shardId-000000000003' },
      leaseOwner: { S: 'ip-10-0-0-12.ec2.internal:7f3c' },
      leaseCounter: { N: '1093' },
      checkpoint: { S: '49590338271490256608559692538361571095921575989136588898' },
      checkpointSubSequenceNumber: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '1' },
      parentShardId: { SS: ['shardId-000000000001', 'shardId-000000000000'] },
      startingHashKey: { S: '113427455640312821154458202477256070485' },
      endingHashKey: { S: '226854911280625642308916404954512140969' },
      // Attributes of newer Java KCL versions that kcl-ts does not use:
      throughputKBps: { N: '12.5' },
      checkpointOwner: { S: 'ip-10-0-0-12.ec2.internal:7f3c' },
      leaseState: { S: 'ACTIVE' },
      leaseDurationMs: { N: '10000' },
      streamName: { NULL: true },
    };
    expect(itemToLease(java)).toEqual({
      leaseKey: 'shardId-000000000003',
      leaseOwner: 'ip-10-0-0-12.ec2.internal:7f3c',
      leaseCounter: 1093,
      checkpoint: { sequenceNumber: '49590338271490256608559692538361571095921575989136588898', subSequenceNumber: 0 },
      ownerSwitchesSinceCheckpoint: 1,
      parentShardIds: ['shardId-000000000000', 'shardId-000000000001'],
      childShardIds: [],
      hashKeyRange: { startingHashKey: '113427455640312821154458202477256070485', endingHashKey: '226854911280625642308916404954512140969' },
      checkpointOwner: 'ip-10-0-0-12.ec2.internal:7f3c',
    });
  });

  it('defaults missing numbers to 0 and keeps sentinel checkpoints', () => {
    const lease = itemToLease({ leaseKey: { S: 'shardId-1' }, checkpoint: { S: 'SHARD_END' } });
    expect(lease).toMatchObject({ leaseCounter: 0, ownerSwitchesSinceCheckpoint: 0, checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 } });
    expect(lease.leaseOwner).toBeUndefined();
  });

  it('returns pendingCheckpointState as a plain Uint8Array even from a Buffer', () => {
    const lease = itemToLease({ ...leaseToItem(full), pendingCheckpointState: { B: Buffer.from([9, 8]) } });
    expect(lease.pendingCheckpointState).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(lease.pendingCheckpointState)).toBe(false);
    expect([...lease.pendingCheckpointState!]).toEqual([9, 8]);
  });

  it('rejects items that are not leases', () => {
    expect(() => itemToLease({ leaseKey: { S: 'shardId-1' } })).toThrow(InvalidStateError);
    expect(() => itemToLease({ checkpoint: { S: 'LATEST' } })).toThrow(/leaseKey/);
    expect(() => itemToLease({ leaseKey: { S: 'shardId-1' }, checkpoint: { S: 'LATEST' }, leaseCounter: { S: 'x' } })).toThrow(
      /"leaseCounter" has type S, expected N/,
    );
  });
});
