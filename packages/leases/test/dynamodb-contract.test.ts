/**
 * One contract, two implementations: every case runs against InMemoryLeaseRefresher and
 * against DynamoDbLeaseRefresher on dynalite, so the in-memory store used by logic tests and
 * simulations cannot drift from the real conditional writes.
 */
import { InMemoryLeaseRefresher, type Lease, type LeaseRefresher, type NewLease } from '@kcl-ts/leases';
import { newLease } from '../src/lease.js';
import { afterAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { DynamoDbLeaseRefresher } from '../src/dynamodb/index.js';

const stack = testStack();
const client = stack.dynamoDbClient();
afterAll(() => client.destroy());

async function dynamoRefresher(): Promise<LeaseRefresher> {
  const r = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: uniqueName('contract') });
  await r.createLeaseTableIfNotExists();
  return r;
}

const implementations: Array<[string, () => Promise<LeaseRefresher>]> = [
  ['InMemoryLeaseRefresher', async () => new InMemoryLeaseRefresher()],
  ['DynamoDbLeaseRefresher', dynamoRefresher],
];

const TRIM = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } as const;
const seq = (n: string, sub = 0) => ({ sequenceNumber: n, subSequenceNumber: sub });

describe.each(implementations)('LeaseRefresher contract: %s', (_name, make) => {
  let shared: Promise<LeaseRefresher> | undefined;
  /** One store per implementation for most cases; each case uses its own lease keys. */
  const store = (): Promise<LeaseRefresher> => (shared ??= make());
  let n = 0;
  const key = () => `shardId-${String(++n).padStart(12, '0')}`;

  /** Creates a lease and returns it as stored. */
  async function created(r: LeaseRefresher, init: Partial<NewLease> = {}): Promise<Lease> {
    const leaseKey = init.leaseKey ?? key();
    expect(await r.createLeaseIfNotExists({ leaseKey, checkpoint: TRIM, ...init })).toBe(true);
    return (await r.getLease(leaseKey))!;
  }

  /** Creates a lease owned by `owner` (counter 1). */
  async function owned(r: LeaseRefresher, owner: string): Promise<Lease> {
    return (await r.takeLease(await created(r), owner))!;
  }

  it('creates a lease once, as newLease() describes it', async () => {
    const r = await store();
    const init: NewLease = {
      leaseKey: key(),
      checkpoint: seq('TRIM_HORIZON'),
      parentShardIds: ['shardId-000000000001', 'shardId-000000000002'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: '170141183460469231731687303715884105727' },
      initialTimestamp: 1_767_225_600_000,
    };
    expect(await r.createLeaseIfNotExists(init)).toBe(true);
    expect(await r.getLease(init.leaseKey)).toEqual(newLease(init));
    expect(await r.createLeaseIfNotExists({ leaseKey: init.leaseKey, checkpoint: seq('LATEST') })).toBe(false);
    expect((await r.getLease(init.leaseKey))?.checkpoint).toEqual(TRIM);
  });

  it('returns undefined for a missing lease', async () => {
    expect(await (await store()).getLease('shardId-does-not-exist')).toBeUndefined();
  });

  it('takes a free lease: owner set, counter + 1, no owner switch (nobody owned it)', async () => {
    const r = await store();
    const lease = await created(r);
    const taken = await r.takeLease(lease, 'A');
    expect(taken).toEqual({ ...lease, leaseOwner: 'A', leaseCounter: 1, ownerSwitchesSinceCheckpoint: 0 });
    expect(await r.getLease(lease.leaseKey)).toEqual(taken);
  });

  it('refuses a take on a stale counter, and counts no switch when the owner takes its own lease again', async () => {
    const r = await store();
    const lease = await created(r);
    const taken = (await r.takeLease(lease, 'A'))!;
    expect(await r.takeLease(lease, 'B')).toBeUndefined();
    const again = await r.takeLease(taken, 'A');
    expect(again).toMatchObject({ leaseOwner: 'A', leaseCounter: 2, ownerSwitchesSinceCheckpoint: 0 });
    expect(await r.takeLease({ ...lease, leaseKey: 'shardId-missing' }, 'A')).toBeUndefined();
  });

  it('lets exactly one of two workers win a take race on the same seen counter', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    const [b, c] = await Promise.all([r.takeLease(lease, 'B'), r.takeLease(lease, 'C')]);
    expect([b, c].filter((x) => x !== undefined)).toHaveLength(1);
    const winner = (b ?? c)!;
    expect(await r.getLease(lease.leaseKey)).toEqual(winner);
    expect(winner).toMatchObject({ leaseCounter: 2, ownerSwitchesSinceCheckpoint: 1 });
  });

  it('renews for the owner at the seen counter only', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    const renewed = await r.renewLease(lease, 'A');
    expect(renewed).toEqual({ ...lease, leaseCounter: 2 });
    expect(await r.renewLease(lease, 'A')).toBeUndefined(); // stale counter
    expect(await r.renewLease(renewed!, 'B')).toBeUndefined(); // not the owner
    expect(await r.renewLease({ ...renewed!, leaseKey: 'shardId-missing' }, 'A')).toBeUndefined();
    expect(await r.getLease(lease.leaseKey)).toEqual(renewed);
  });

  it('fences a zombie: after B takes the lease, A can neither renew nor checkpoint', async () => {
    const r = await store();
    const held = (await r.updateLease(await owned(r, 'A'), 'A', { checkpoint: seq('100') }))!;
    const stolen = await r.takeLease(held, 'B');
    expect(stolen).toMatchObject({ leaseOwner: 'B', leaseCounter: held.leaseCounter + 1 });
    expect(await r.renewLease(held, 'A')).toBeUndefined();
    expect(await r.updateLease(held, 'A', { checkpoint: seq('200') })).toBeUndefined();
    const stored = await r.getLease(held.leaseKey);
    expect(stored?.checkpoint).toEqual(seq('100'));
    expect(stored).toEqual(stolen);
  });

  it('evicts for the owner only: owner and handoff removed, counter + 1; then a peer takes it', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    expect(await r.requestHandoff(lease, 'C')).toBe(true);
    expect(await r.evictLease(lease, 'B')).toBe(false);
    expect(await r.evictLease(lease, 'A')).toBe(true);
    const evicted = await r.getLease(lease.leaseKey);
    expect(evicted).toEqual({ ...lease, leaseCounter: 2, leaseOwner: undefined, handoffTo: undefined });
    expect(evicted).not.toHaveProperty('leaseOwner');
    expect(evicted).not.toHaveProperty('handoffTo');
    expect(await r.evictLease(lease, 'A')).toBe(false);
    const taken = await r.takeLease(evicted!, 'B');
    expect(taken).toMatchObject({ leaseOwner: 'B', leaseCounter: 3, ownerSwitchesSinceCheckpoint: 0 });
    expect(await r.evictLease({ ...lease, leaseKey: 'shardId-missing' }, 'A')).toBe(false);
  });

  it('records a handoff request without moving the counter, once, and shows it to the renewing owner', async () => {
    const r = await store();
    const free = await created(r);
    expect(await r.requestHandoff(free, 'B')).toBe(false); // nobody to hand it over
    const lease = (await r.takeLease(free, 'A'))!;
    expect(await r.requestHandoff({ ...lease, leaseOwner: 'Z' }, 'B')).toBe(false); // stale owner
    expect(await r.requestHandoff(lease, 'B')).toBe(true);
    expect(await r.requestHandoff(lease, 'C')).toBe(false); // one request at a time
    expect(await r.getLease(lease.leaseKey)).toEqual({ ...lease, handoffTo: 'B' });
    expect(await r.renewLease(lease, 'A')).toEqual({ ...lease, leaseCounter: 2, handoffTo: 'B' });
  });

  it('transfers a lease from the owner at the seen counter: new owner, counter + 1, switch + 1, handoff cleared', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    await r.requestHandoff(lease, 'B');
    const withRequest = (await r.getLease(lease.leaseKey))!;
    expect(await r.transferLease(withRequest, 'C', 'B')).toBeUndefined(); // not the owner
    expect(await r.transferLease({ ...withRequest, leaseCounter: 0 }, 'A', 'B')).toBeUndefined(); // stale counter
    const moved = await r.transferLease(withRequest, 'A', 'B');
    expect(moved).toEqual({ ...lease, leaseOwner: 'B', leaseCounter: 2, ownerSwitchesSinceCheckpoint: 1 });
    expect(moved).not.toHaveProperty('handoffTo');
    expect(await r.getLease(lease.leaseKey)).toEqual(moved);
    expect(await r.renewLease(moved!, 'A')).toBeUndefined();
  });

  it('checkpoints through updateLease: counter + 1, switches reset, pending checkpoint cleared', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    const prepared = await r.updateLease(lease, 'A', { pendingCheckpoint: seq('150', 2), pendingCheckpointState: new Uint8Array([7, 0, 7]) });
    expect(prepared).toEqual({ ...lease, leaseCounter: 2, pendingCheckpoint: seq('150', 2), pendingCheckpointState: new Uint8Array([7, 0, 7]) });
    const committed = await r.updateLease(prepared!, 'A', { checkpoint: seq('150', 2) });
    expect(committed).toEqual({ ...lease, leaseCounter: 3, checkpoint: seq('150', 2), ownerSwitchesSinceCheckpoint: 0 });
    expect(await r.getLease(lease.leaseKey)).toEqual(committed);
  });

  it('updates the pending checkpoint alone, replaces its state, and clears it with null', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    const a = (await r.updateLease(lease, 'A', { pendingCheckpoint: seq('10'), pendingCheckpointState: new Uint8Array([1]) }))!;
    const b = (await r.updateLease(a, 'A', { pendingCheckpoint: seq('20') }))!;
    expect(b).toEqual({ ...lease, leaseCounter: 3, pendingCheckpoint: seq('20') });
    expect(b).not.toHaveProperty('pendingCheckpointState');
    const c = (await r.updateLease(b, 'A', { checkpoint: seq('15'), pendingCheckpoint: seq('30') }))!;
    expect(c).toMatchObject({ checkpoint: seq('15'), pendingCheckpoint: seq('30'), ownerSwitchesSinceCheckpoint: 0 });
    const d = (await r.updateLease(c, 'A', { pendingCheckpoint: null }))!;
    expect(d).toEqual({ ...lease, leaseCounter: 5, checkpoint: seq('15'), ownerSwitchesSinceCheckpoint: 0 });
    expect(await r.getLease(lease.leaseKey)).toEqual(d);
  });

  it('sets and clears child shard ids through updateLease', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    const a = (await r.updateLease(lease, 'A', { checkpoint: seq('SHARD_END'), childShardIds: ['shardId-000000000005', 'shardId-000000000006'] }))!;
    expect(a.childShardIds).toEqual(['shardId-000000000005', 'shardId-000000000006']);
    const b = (await r.updateLease(a, 'A', { childShardIds: [] }))!;
    expect(b.childShardIds).toEqual([]);
    expect(await r.getLease(lease.leaseKey)).toEqual(b);
    expect(await r.updateLease(a, 'A', { childShardIds: ['x'] })).toBeUndefined(); // stale counter
  });

  it('adds child shard ids regardless of owner, without moving the counter', async () => {
    const r = await store();
    const lease = await owned(r, 'A');
    expect(await r.addChildShardIds(lease.leaseKey, ['shardId-000000000009'])).toBe(true);
    expect(await r.addChildShardIds(lease.leaseKey, ['shardId-000000000008', 'shardId-000000000009'])).toBe(true);
    expect(await r.getLease(lease.leaseKey)).toEqual({ ...lease, childShardIds: ['shardId-000000000008', 'shardId-000000000009'] });
    expect(await r.addChildShardIds(lease.leaseKey, [])).toBe(true);
    expect(await r.addChildShardIds('shardId-missing', ['shardId-000000000001'])).toBe(false);
    expect(await r.getLease('shardId-missing')).toBeUndefined();
    expect(await r.renewLease(lease, 'A')).toMatchObject({ leaseCounter: 2 }); // counter untouched
  });

  it('deletes a lease, and with onlyIfShardEnded only an ended one', async () => {
    const r = await store();
    const plain = await created(r);
    expect(await r.deleteLease(plain.leaseKey)).toBe(true);
    expect(await r.getLease(plain.leaseKey)).toBeUndefined();
    expect(await r.deleteLease(plain.leaseKey)).toBe(false);

    const open = await owned(r, 'A');
    expect(await r.deleteLease(open.leaseKey, { onlyIfShardEnded: true })).toBe(false);
    expect(await r.getLease(open.leaseKey)).toEqual(open);
    await r.updateLease(open, 'A', { checkpoint: seq('SHARD_END') });
    expect(await r.deleteLease(open.leaseKey, { onlyIfShardEnded: true })).toBe(true);
    expect(await r.getLease(open.leaseKey)).toBeUndefined();
    expect(await r.deleteLease('shardId-missing', { onlyIfShardEnded: true })).toBe(false);
  });

  it('lists every lease', async () => {
    const r = await make(); // a store of its own, so the listing is exact
    const leases = [await created(r, { leaseKey: 'shardId-000000000000' }), await owned(r, 'A'), await owned(r, 'B')];
    const listed = await r.listLeases();
    const byKey = (a: Lease, b: Lease) => a.leaseKey.localeCompare(b.leaseKey);
    expect(listed.sort(byKey)).toEqual(leases.sort(byKey));
  });

  it('reports table creation and existence', async () => {
    const r = await make();
    expect(await r.leaseTableExists()).toBe(true);
    expect(await r.createLeaseTableIfNotExists()).toBe(false);
  });
});
