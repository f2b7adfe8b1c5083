import { InMemoryLeaseRefresher, type Lease, type LeaseUpdate } from '@kcl-ts/leases';
import { extended, InvalidCheckpointError, LeaseLostError, type KinesisClientRecord } from '@kcl-ts/processor';
import { beforeEach, describe, expect, it } from 'vitest';
import { ShardCheckpointer } from '../src/checkpointer.js';

const SHARD = 'shardId-000000000000';

function record(seq: string, sub?: number): KinesisClientRecord {
  return { data: new Uint8Array(), partitionKey: 'k', sequenceNumber: seq, approximateArrivalTimestamp: new Date(0), ...(sub !== undefined && { subSequenceNumber: sub }) };
}

/** A checkpointer writing through the in-memory refresher with the same fence the coordinator uses. */
async function setup(): Promise<{ store: InMemoryLeaseRefresher; cp: ShardCheckpointer; stored: () => Promise<Lease> }> {
  const store = new InMemoryLeaseRefresher();
  await store.createLeaseIfNotExists({ leaseKey: SHARD, checkpoint: extended('TRIM_HORIZON') });
  let held = (await store.takeLease((await store.getLease(SHARD))!, 'me'))!;
  const write = async (key: string, update: LeaseUpdate): Promise<Lease> => {
    const next = await store.updateLease(held, 'me', update);
    if (!next) throw new LeaseLostError(key);
    held = next;
    return next;
  };
  return { store, cp: new ShardCheckpointer({ shardId: SHARD, initialCheckpoint: extended('TRIM_HORIZON'), write }), stored: async () => (await store.getLease(SHARD))! };
}

describe('ShardCheckpointer', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    ctx = await setup();
  });

  it('checkpoint() writes the last delivered record, fenced through the lease', async () => {
    ctx.cp.markDelivered(record('100'));
    await ctx.cp.checkpoint();
    expect((await ctx.stored()).checkpoint).toEqual(extended('100'));
    expect(ctx.cp.lastCheckpoint).toEqual(extended('100'));
  });

  it('checkpoint() with nothing delivered writes nothing', async () => {
    const before = await ctx.stored();
    await ctx.cp.checkpoint();
    expect(await ctx.stored()).toEqual(before);
  });

  it('checkpoint(record) keeps the sub-sequence number of aggregated records', async () => {
    ctx.cp.markDelivered(record('100', 4));
    await ctx.cp.checkpoint(record('100', 2));
    expect((await ctx.stored()).checkpoint).toEqual(extended('100', 2));
  });

  it('rejects a checkpoint past the last delivered record', async () => {
    ctx.cp.markDelivered(record('100'));
    await expect(ctx.cp.checkpoint('101')).rejects.toThrow(InvalidCheckpointError);
    await expect(ctx.cp.checkpoint('100', 1)).rejects.toThrow(/past the last record delivered/);
  });

  it('compares sequence numbers as 128-bit integers, not lexically', async () => {
    ctx.cp.markDelivered(record('100000000000000000000000000000000000001'));
    await ctx.cp.checkpoint('99999999999999999999999999999999999999');
    await ctx.cp.checkpoint('100000000000000000000000000000000000001');
    await expect(ctx.cp.checkpoint('99999999999999999999999999999999999999')).rejects.toThrow(/before the last checkpoint/);
  });

  it('accepts real 56-digit Kinesis sequence numbers (well past 128 bits)', async () => {
    const a = '49680440411439853589502842527137425522962917300384038930';
    const b = '49680440411439853589502842527137425522962917300384038931';
    ctx.cp.markDelivered(record(b));
    await ctx.cp.checkpoint(a);
    await ctx.cp.checkpoint(record(b));
    expect((await ctx.stored()).checkpoint).toEqual(extended(b));
  });

  it('rejects a checkpoint that goes backwards', async () => {
    ctx.cp.markDelivered(record('300'));
    await ctx.cp.checkpoint('200');
    await expect(ctx.cp.checkpoint('150')).rejects.toThrow(InvalidCheckpointError);
    expect((await ctx.stored()).checkpoint).toEqual(extended('200'));
  });

  it('rejects malformed sequence numbers', async () => {
    ctx.cp.markDelivered(record('300'));
    await expect(ctx.cp.checkpoint('12abc')).rejects.toThrow(InvalidCheckpointError);
    await expect(ctx.cp.checkpoint('-5')).rejects.toThrow(InvalidCheckpointError);
    await expect(ctx.cp.checkpoint('100', -1)).rejects.toThrow(InvalidCheckpointError);
  });

  it('rejects SHARD_END before the shard end, accepts it after', async () => {
    ctx.cp.markDelivered(record('300'));
    await expect(ctx.cp.checkpoint('SHARD_END')).rejects.toThrow(/has not been read to its end/);
    ctx.cp.markShardEnd();
    await ctx.cp.checkpoint();
    expect((await ctx.stored()).checkpoint).toEqual(extended('SHARD_END'));
    expect(ctx.cp.shardEndCheckpointed).toBe(true);
    await expect(ctx.cp.checkpoint('300')).rejects.toThrow(/already checkpointed at SHARD_END/);
  });

  it('throws LeaseLostError and writes nothing once a peer took the lease', async () => {
    ctx.cp.markDelivered(record('300'));
    await ctx.cp.checkpoint('100');
    const stolen = (await ctx.store.takeLease((await ctx.stored())!, 'peer'))!;
    await expect(ctx.cp.checkpoint('300')).rejects.toThrow(LeaseLostError);
    const after = await ctx.stored();
    expect(after.checkpoint).toEqual(extended('100'));
    expect(after.leaseOwner).toBe('peer');
    expect(after.leaseCounter).toBe(stolen.leaseCounter);
  });

  it('prepareCheckpoint stores a pending checkpoint with state, then commits it', async () => {
    ctx.cp.markDelivered(record('500'));
    const state = new TextEncoder().encode('app-state');
    const prepared = await ctx.cp.prepareCheckpoint('400', 0, state);
    let stored = await ctx.stored();
    expect(stored.pendingCheckpoint).toEqual(extended('400'));
    expect(Buffer.from(stored.pendingCheckpointState!).toString()).toBe('app-state');
    expect(stored.checkpoint).toEqual(extended('TRIM_HORIZON'));
    await prepared.checkpoint();
    stored = await ctx.stored();
    expect(stored.checkpoint).toEqual(extended('400'));
    expect(stored.pendingCheckpoint).toBeUndefined();
  });

  it('prepareCheckpoint validates like checkpoint', async () => {
    ctx.cp.markDelivered(record('500'));
    await expect(ctx.cp.prepareCheckpoint('600')).rejects.toThrow(InvalidCheckpointError);
    const prepared = await ctx.cp.prepareCheckpoint(record('450'));
    await ctx.cp.checkpoint('500');
    await expect(prepared.checkpoint()).rejects.toThrow(/before the last checkpoint/);
  });
});

describe('ShardCheckpointer under concurrency', () => {
  it('two concurrent checkpoints cannot move the checkpoint backwards', async () => {
    const ctx = await setup();
    ctx.cp.markDelivered(record('100'));
    const ahead = ctx.cp.checkpoint('100');
    const behind = ctx.cp.checkpoint('50');
    await ahead;
    await expect(behind).rejects.toThrow(InvalidCheckpointError);
    expect((await ctx.stored()).checkpoint).toEqual(extended('100'));
  });

  it('a no-argument checkpoint does not cover a batch that threw', async () => {
    const ctx = await setup();
    ctx.cp.markDelivered(record('100'));
    ctx.cp.markProcessed();
    ctx.cp.markDelivered(record('200'));
    ctx.cp.markFailed();
    await ctx.cp.checkpoint();
    expect((await ctx.stored()).checkpoint).toEqual(extended('100'));
  });
});
