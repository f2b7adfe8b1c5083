import { InMemoryLeaseRefresher, multiStreamScope } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { collectStatus, formatStatus } from '../src/status.js';

const ORDERS = '000000000000:orders:1767225600';
const CLICKS = '000000000000:clicks:1767225601';

describe('kcl status on a multi-stream table', () => {
  it('groups the leases by stream, names the stream of every row, and sums up each stream', async () => {
    const memory = new InMemoryLeaseRefresher();
    for (const [stream, shard] of [[ORDERS, 'shardId-000000000000'], [ORDERS, 'shardId-000000000001'], [CLICKS, 'shardId-000000000000']] as const) {
      await memory.createLeaseIfNotExists(multiStreamScope(stream).toNewLease({ leaseKey: shard, checkpoint: extended('TRIM_HORIZON') }));
    }
    const taken = (await memory.getLease(`${ORDERS}:shardId-000000000001`))!;
    await memory.takeLease(taken, 'worker-a');
    const report = await collectStatus({ refresher: memory, table: 'mem' });
    expect(report.leases.map((r) => [r.streamIdentifier, r.shardId])).toEqual([
      [CLICKS, 'shardId-000000000000'],
      [ORDERS, 'shardId-000000000000'],
      [ORDERS, 'shardId-000000000001'],
    ]);
    expect(report.streams).toEqual([
      { streamIdentifier: CLICKS, leases: 1, unowned: 1 },
      { streamIdentifier: ORDERS, leases: 2, unowned: 1 },
    ]);
    expect(report.unowned).toEqual([`${CLICKS}:shardId-000000000000`, `${ORDERS}:shardId-000000000000`]);
    const text = formatStatus(report);
    expect(text).toMatch(new RegExp(`${ORDERS}:shardId-000000000001\\s+unknown\\s+worker-a`));
    expect(text).toMatch(new RegExp(`STREAM\\s+LEASES\\s+UNOWNED\\n${CLICKS}\\s+1\\s+1\\n${ORDERS}\\s+2\\s+1`));
  });

  it('with --stream, ListShards describes the newest stream of that name (a re-created stream keeps the old one\'s leases)', async () => {
    const OLD = '000000000000:orders:1767000000';
    const memory = new InMemoryLeaseRefresher();
    for (const stream of [OLD, ORDERS]) {
      await memory.createLeaseIfNotExists(multiStreamScope(stream).toNewLease({ leaseKey: 'shardId-000000000000', checkpoint: extended('TRIM_HORIZON') }));
    }
    const listShards = async () => [{ shardId: 'shardId-000000000000', hashKeyRange: { startingHashKey: '0', endingHashKey: '1' }, startingSequenceNumber: '1' }];
    const report = await collectStatus({ refresher: memory, table: 'mem', stream: 'orders', listShards });
    expect(report.leases.map((r) => [r.streamIdentifier, r.state])).toEqual([
      [OLD, 'unknown'],
      [ORDERS, 'open'],
    ]);
  });

  it('a single-stream table has no stream column and no stream summary', async () => {
    const memory = new InMemoryLeaseRefresher();
    await memory.createLeaseIfNotExists({ leaseKey: 'shardId-000000000005', checkpoint: extended('LATEST') });
    const report = await collectStatus({ refresher: memory, table: 'mem' });
    expect(report.streams).toEqual([]);
    expect(report.leases[0]!.streamIdentifier).toBeNull();
    expect(formatStatus(report)).not.toMatch(/STREAM/);
  });

  it('a table where no worker holds a lease says so, without an empty WORKER table', async () => {
    const memory = new InMemoryLeaseRefresher();
    await memory.createLeaseIfNotExists({ leaseKey: 'shardId-000000000005', checkpoint: extended('LATEST') });
    const text = formatStatus(await collectStatus({ refresher: memory, table: 'mem' }));
    expect(text).not.toMatch(/WORKER/);
    expect(text).toContain('workers: none holds a lease');
    expect(text).toContain('unowned: shardId-000000000005');
  });
});
