import { describe, expect, it } from 'vitest';
import {
  multiStreamLeaseKey,
  multiStreamScope,
  parseMultiStreamLeaseKey,
  parseStreamIdentifier,
  serializeStreamIdentifier,
  shardIdOf,
  SINGLE_STREAM_SCOPE,
  type Lease,
} from '@kcl-ts/leases';
import { itemToLease, leaseToItem, parseLeaseItem, type LeaseItem } from '../src/dynamodb/lease-serializer.js';
import { newLease } from '../src/lease.js';
import { planBalance } from '../src/coordinator/balancer.js';

const ORDERS = '123456789012:orders:1767225600';
const CLICKS = '123456789012:clicks:1767225601';

/** A multi-stream item the way the Java KCL's DynamoDBMultiStreamLeaseSerializer writes it. */
function javaMultiStreamItem(streamIdentifier: string, shardId: string, checkpoint: string): LeaseItem {
  return {
    leaseKey: { S: `${streamIdentifier}:${shardId}` },
    leaseOwner: { S: 'ip-10-0-1-17.ec2.internal:5c4fd1d5' },
    leaseCounter: { N: '17' },
    checkpoint: { S: checkpoint },
    checkpointSubSequenceNumber: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    parentShardId: { SS: ['shardId-000000000001'] },
    startingHashKey: { S: '0' },
    endingHashKey: { S: '340282366920938463463374607431768211455' },
    streamName: { S: streamIdentifier },
    shardId: { S: shardId },
    entityType: { S: 'LEASE' },
    throughputKBps: { N: '3.5' },
  };
}

describe('stream identifiers and multi-stream lease keys', () => {
  it('serializes account:streamName:creationEpoch and reads it back', () => {
    const id = { accountId: '123456789012', streamName: 'orders', creationEpoch: 1_767_225_600 };
    expect(serializeStreamIdentifier(id)).toBe(ORDERS);
    expect(parseStreamIdentifier(ORDERS)).toEqual(id);
    // The emulators' account id is twelve zeros: still digits.
    expect(parseStreamIdentifier('000000000000:s.1_a-b:1')).toEqual({ accountId: '000000000000', streamName: 's.1_a-b', creationEpoch: 1 });
  });

  it('rejects what the Java KCL rejects: missing parts, a non-numeric account, epoch 0', () => {
    for (const bad of ['orders', '123:orders', 'abc:orders:1', '123:orders:0', '123:orders:x', '123::1', '123:a:b:1']) {
      expect(parseStreamIdentifier(bad), bad).toBeUndefined();
    }
  });

  it('keys a shard account:streamName:creationEpoch:shardId and splits the key again', () => {
    const key = multiStreamLeaseKey(ORDERS, 'shardId-000000000007');
    expect(key).toBe('123456789012:orders:1767225600:shardId-000000000007');
    expect(parseMultiStreamLeaseKey(key)).toEqual({ streamIdentifier: ORDERS, shardId: 'shardId-000000000007' });
    expect(parseMultiStreamLeaseKey('shardId-000000000007')).toBeUndefined();
    expect(parseMultiStreamLeaseKey('123:orders:0:shardId-1')).toBeUndefined();
  });

  it('takes the shard id from the shardId attribute, or the key of a single-stream lease', () => {
    expect(shardIdOf({ leaseKey: 'shardId-000000000001' })).toBe('shardId-000000000001');
    expect(shardIdOf({ leaseKey: `${ORDERS}:shardId-000000000001`, shardId: 'shardId-000000000001' })).toBe('shardId-000000000001');
  });
});

describe('lease scopes', () => {
  const orders = multiStreamScope(ORDERS);
  const single = newLease({ leaseKey: 'shardId-000000000001', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
  const mine = newLease(orders.toNewLease({ leaseKey: 'shardId-000000000001', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } }));
  const theirs = newLease(multiStreamScope(CLICKS).toNewLease({ leaseKey: 'shardId-000000000001', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } }));

  it('a multi-stream scope keys, marks and owns only its stream', () => {
    expect(mine).toMatchObject({ leaseKey: `${ORDERS}:shardId-000000000001`, streamIdentifier: ORDERS, shardId: 'shardId-000000000001' });
    expect(orders.leaseKeyOf('shardId-000000000002')).toBe(`${ORDERS}:shardId-000000000002`);
    expect([single, mine, theirs].map((l) => orders.owns(l))).toEqual([false, true, false]);
  });

  it('the single-stream scope keeps shard ids as keys and owns only leases without a stream', () => {
    expect(SINGLE_STREAM_SCOPE.leaseKeyOf('shardId-000000000002')).toBe('shardId-000000000002');
    expect([single, mine, theirs].map((l) => SINGLE_STREAM_SCOPE.owns(l))).toEqual([true, false, false]);
  });

  it('refuses a stream identifier that is not account:streamName:creationEpoch', () => {
    expect(() => multiStreamScope('orders')).toThrow(/streamIdentifier must be account:streamName:creationEpoch, got "orders"/);
  });
});

describe('multi-stream lease items', () => {
  it('reads an item written by the Java KCL (multi-stream serializer)', () => {
    const lease = itemToLease(javaMultiStreamItem(ORDERS, 'shardId-000000000004', '49590338271490256608559692538361571095921575989136588898'));
    expect(lease).toMatchObject({
      leaseKey: `${ORDERS}:shardId-000000000004`,
      streamIdentifier: ORDERS,
      shardId: 'shardId-000000000004',
      leaseCounter: 17,
      checkpoint: { sequenceNumber: '49590338271490256608559692538361571095921575989136588898', subSequenceNumber: 0 },
      parentShardIds: ['shardId-000000000001'],
    });
  });

  it('writes streamName (the serialized identifier) and shardId as the Java KCL does, and reads them back', () => {
    const lease: Lease = itemToLease(javaMultiStreamItem(CLICKS, 'shardId-000000000002', 'TRIM_HORIZON'));
    const item = leaseToItem(lease);
    expect(item['leaseKey']).toEqual({ S: `${CLICKS}:shardId-000000000002` });
    expect(item['streamName']).toEqual({ S: CLICKS });
    expect(item['shardId']).toEqual({ S: 'shardId-000000000002' });
    expect(itemToLease(item)).toEqual(lease);
  });

  it('a single-stream lease has neither attribute', () => {
    const item = leaseToItem(newLease({ leaseKey: 'shardId-000000000001', checkpoint: { sequenceNumber: 'LATEST', subSequenceNumber: 0 } }));
    expect(item['streamName']).toBeUndefined();
    expect(item['shardId']).toBeUndefined();
  });

  it('an item with only one of the two attributes, or a streamName that is no identifier, is invalid', () => {
    const { shardId: _s, ...noShard } = javaMultiStreamItem(ORDERS, 'shardId-000000000001', 'TRIM_HORIZON');
    expect(parseLeaseItem(noShard)).toMatchObject({ kind: 'invalid', problem: { attribute: 'shardId' } });
    const { streamName: _n, ...noStream } = javaMultiStreamItem(ORDERS, 'shardId-000000000001', 'TRIM_HORIZON');
    expect(parseLeaseItem(noStream)).toMatchObject({ kind: 'invalid', problem: { attribute: 'streamName' } });
    const plainName = { ...javaMultiStreamItem(ORDERS, 'shardId-000000000001', 'TRIM_HORIZON'), streamName: { S: 'orders' } };
    expect(parseLeaseItem(plainName)).toMatchObject({ kind: 'invalid', problem: { attribute: 'streamName' } });
  });
});

describe('balancing over several streams', () => {
  const lease = (stream: string, n: number, owner?: string): Lease => ({
    ...newLease(multiStreamScope(stream).toNewLease({ leaseKey: `shardId-00000000000${n}`, checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } })),
    ...(owner !== undefined && { leaseOwner: owner }),
  });
  const base = { maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 10, expiredKeys: new Set<string>(), heldKeys: new Set<string>() };

  it('takes free leases of the stream it holds the fewest of first', () => {
    // b holds 2 clicks leases; 4 orders and 2 clicks leases are free. a's target is 4: whatever
    // the random order, it takes 2 of each stream (a random pick would often take 3 or 4 orders).
    const leases = [lease(CLICKS, 0, 'b'), lease(CLICKS, 1, 'b'), lease(CLICKS, 2), lease(CLICKS, 3), ...[0, 1, 2, 3].map((n) => lease(ORDERS, n))];
    for (let seed = 0; seed < 20; seed++) {
      let x = seed + 1;
      const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
      const plan = planBalance({ ...base, workerId: 'a', leases, random });
      expect(plan.toTake).toHaveLength(4);
      const byStream = plan.toTake.reduce((m, l) => m.set(l.streamIdentifier!, (m.get(l.streamIdentifier!) ?? 0) + 1), new Map<string, number>());
      expect([...byStream.values()]).toEqual([2, 2]);
    }
  });

  it('steals first a lease of the stream where the victim has most more than it', () => {
    // b holds 2 orders and 3 clicks leases; a holds 1 orders lease. Its first steal is a clicks lease.
    const leases = [lease(ORDERS, 0, 'b'), lease(ORDERS, 1, 'b'), lease(CLICKS, 0, 'b'), lease(CLICKS, 1, 'b'), lease(CLICKS, 2, 'b'), lease(ORDERS, 2, 'a')];
    for (const r of [0, 0.3, 0.6, 0.99]) {
      const plan = planBalance({ ...base, workerId: 'a', leases, heldKeys: new Set([leases[5]!.leaseKey]), random: () => r });
      expect(plan.toSteal).toHaveLength(2);
      expect(plan.toSteal[0]!.streamIdentifier).toBe(CLICKS);
    }
  });
});
