/**
 * Integration (dynalite): the `single-scanner` mode over real HTTP and real conditional
 * writes, rounds driven by hand on a fake clock: the role item, assignment through the
 * keys-only owner index, graceful handoff to a joiner, and the role moving when its holder dies.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { extended } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testStack, uniqueName } from '../../../test-support/stack.js';
import { LeaseCoordinator, resolveLeaseCoordinatorConfig } from '../src/coordinator/index.js';
import { DynamoDbLeaseRefresher } from '../src/dynamodb/index.js';
import { roleItemKey } from '../src/dynamodb/role-item.js';

const stack = testStack();
const client = stack.dynamoDbClient();
afterAll(() => client.destroy());

describe('single-scanner coordination on dynalite', () => {
  it('assigns through the owner index, hands over to a joiner, and moves the role and its leases when the holder dies', async () => {
    const tableName = uniqueName('scanner');
    const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName, ownerIndex: true });
    await refresher.createLeaseTableIfNotExists();
    const keys = Array.from({ length: 6 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
    for (const leaseKey of keys) await refresher.createLeaseIfNotExists({ leaseKey, checkpoint: extended('TRIM_HORIZON') });
    const clock = new FakeClock(0);
    const make = (workerId: string) =>
      new LeaseCoordinator({ refresher, workerId, clock, config: resolveLeaseCoordinatorConfig({ leaseDurationMs: 1_000, coordination: 'single-scanner' }), random: () => 0.5 });
    const a = make('worker-a');
    const b = make('worker-b');

    // a claims the missing role and, the only live worker, takes every free lease.
    const first = await a.runTakerOnce();
    expect(a.coordinatorRole()).toEqual({ role: 'scanner', holder: 'worker-a', heldByMe: true });
    expect(first.taken).toHaveLength(6);
    const roleItem = (await client.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: roleItemKey('scanner') } }, ConsistentRead: true }))).Item;
    expect(roleItem).toMatchObject({ entityType: { S: 'KCL_TS_COORDINATOR_ROLE' }, roleHolder: { S: 'worker-a' }, roleCounter: { N: '1' } });
    expect(roleItem).not.toHaveProperty('leaseOwner'); // never in the owner index
    expect((await refresher.listLeases()).map((l) => l.leaseKey).sort()).toEqual(keys); // the role item is not a lease

    // b joins: it holds nothing, so it scans once and asks for its share by graceful handoff.
    const join = await b.runTakerOnce();
    expect(b.coordinatorRole()?.holder).toBe('worker-a');
    expect(join.handoffsRequested).toHaveLength(3);
    await a.runRenewerOnce(); // a sees the requests, drains, transfers
    await a.settleHandoffs();
    await b.runTakerOnce(); // adopts what it was handed
    expect(b.heldLeases()).toHaveLength(3);
    expect(a.heldLeases()).toHaveLength(3);

    // A lease b releases is free; the scanner gives it to the least-loaded worker (b), which
    // finds it through the owner index, not by scanning.
    const released = b.heldLeases()[0]!.leaseKey;
    await b.releaseLease(released);
    await clock.advance(200);
    const assign = await a.runTakerOnce();
    expect(assign.taken).toEqual([released]);
    expect((await refresher.getLease(released))?.leaseOwner).toBe('worker-b');
    const discovered = await b.runTakerOnce();
    expect(discovered.adopted).toEqual([released]);
    expect(b.holds(released)).toBe(true);

    // a dies (no more rounds). b watches the role counter for a lease duration, claims the
    // role, and reassigns a's leases at once: the role was a's heartbeat.
    const aLeases = a.heldLeases().map((l) => l.leaseKey).sort();
    await b.runRenewerOnce();
    await b.runTakerOnce();
    await clock.advance(1_000);
    await b.runRenewerOnce();
    const takeover = await b.runTakerOnce();
    expect(b.coordinatorRole()).toEqual({ role: 'scanner', holder: 'worker-b', heldByMe: true });
    expect([...takeover.taken].sort()).toEqual(aLeases);
    expect(b.heldLeases()).toHaveLength(6);
    await clock.advance(0);
    expect(a.heldLeases()).toEqual([]); // a's own view: past its role deadline, everything fenced
    await b.stop();
    const released2 = (await client.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: roleItemKey('scanner') } }, ConsistentRead: true }))).Item;
    expect(released2?.roleHolder).toBeUndefined(); // b released the role on stop
  });
});

describe('the owner index on dynalite', () => {
  it('lists an owner\'s lease keys, and reports a table without the index as undefined (warned once)', async () => {
    const withIndex = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: uniqueName('owner-index'), ownerIndex: true });
    await withIndex.createLeaseTableIfNotExists();
    for (const leaseKey of ['s-1', 's-2', 's-3']) await withIndex.createLeaseIfNotExists({ leaseKey, checkpoint: extended('TRIM_HORIZON') });
    await withIndex.takeLease((await withIndex.getLease('s-1'))!, 'w');
    await withIndex.takeLease((await withIndex.getLease('s-3'))!, 'w');
    await withIndex.takeLease((await withIndex.getLease('s-2'))!, 'other');
    expect((await withIndex.listLeaseKeysForOwner('w'))?.sort()).toEqual(['s-1', 's-3']);
    expect(await withIndex.listLeaseKeysForOwner('nobody')).toEqual([]);

    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const without = new DynamoDbLeaseRefresher({ dynamoDbClient: client, tableName: uniqueName('no-index'), logger });
    await without.createLeaseTableIfNotExists();
    expect(await without.listLeaseKeysForOwner('w')).toBeUndefined();
    expect(await without.listLeaseKeysForOwner('w')).toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([expect.stringContaining('no usable leaseOwner index')]);
  });
});
