/**
 * Worker-level behaviour on the deterministic harness: whole Workers on an in-memory stream
 * and lease table, one fake clock, no emulator (the emulator tests stay the real tier).
 */
import { compareSequenceNumbers, isKclError, LeaseLostError, type RecordProcessorCheckpointer, type ShardRecordProcessor } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import type { Journal } from './journal.js';
import { HarnessFleet } from './worker-harness.js';

const KEYS = Array.from({ length: 16 }, (_, i) => `key-${i}`);

/** Index in the journal of the first record a shard delivered, or undefined. */
function firstSeen(journal: Journal, shardId: string): number | undefined {
  return journal.seen.find((s) => s.shardId === shardId)?.order;
}

describe('Worker harness (in-memory stream and lease table, fake clock, no emulator)', () => {
  it('two workers share four shards: every record once, in per-key order, and no AWS call', async () => {
    const fleet = new HarnessFleet({ shardCount: 4 });
    await fleet.start('a');
    await fleet.start('b');
    fleet.put(KEYS, 20);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'every record processed');
    await fleet.runUntil(() => [...fleet.holdings().values()].every((h) => h.length === 2), 'two shards each');
    expect(fleet.journal.duplicates()).toBe(0);
    expect(fleet.journal.orderViolations()).toEqual([]);
    await fleet.shutdownAll();
    expect(fleet.awsCalls).toEqual([]);
    expect(fleet.errors).toEqual([]);
  });

  it('graceful shutdown, in order: processors checkpoint while the lease is still held, then the leases are released; the peer resumes at that checkpoint with no duplicate', async () => {
    const ownerAtShutdown = new Map<string, string | undefined>();
    const fleet = new HarnessFleet({
      shardCount: 4,
      processor: (workerId, shardId, journal) => {
        const inner = journal.processor(workerId, shardId, { checkpointEachBatch: false });
        return {
          ...inner,
          shutdownRequested: async (input) => {
            ownerAtShutdown.set(shardId, fleet.table.peek(shardId)?.leaseOwner);
            await inner.shutdownRequested!(input);
          },
        };
      },
    });
    await fleet.start('a');
    await fleet.start('b');
    await fleet.runUntil(() => [...fleet.holdings().values()].every((h) => h.length === 2), 'two shards each');
    fleet.put(KEYS, 10);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'the first records processed');
    ownerAtShutdown.clear(); // the rebalance's handoffs asked some processors already
    const leaving = fleet.holdings().get('a')!;
    const worker = fleet.workers.get('a')!;
    const states: string[] = [];
    const stopping = fleet.shutdown('a');
    states.push(worker.state);
    await stopping;
    states.push(worker.state);
    expect(states).toEqual(['SHUTTING_DOWN', 'STOPPED']);
    // Each processor was asked to checkpoint while the lease was still this worker's...
    expect([...ownerAtShutdown.keys()].sort()).toEqual(leaving);
    for (const shardId of leaving) expect(ownerAtShutdown.get(shardId)).toBe('a');
    // ...its checkpoint is in the table, and the lease is no longer this worker's.
    for (const shardId of leaving) {
      const lease = fleet.table.peek(shardId)!;
      expect(lease.leaseOwner).not.toBe('a');
      const last = fleet.journal.seen.filter((s) => s.shardId === shardId).at(-1)!;
      expect(lease.checkpoint.sequenceNumber).toBe(last.sequenceNumber);
    }
    fleet.put(KEYS, 10);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'the peer processed the rest');
    expect(fleet.holdings().get('b')!.sort()).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
    expect(fleet.journal.duplicates()).toBe(0);
    expect(fleet.journal.orderViolations()).toEqual([]);
    // The peer's processor of each shard started after the leaving one's shutdown.
    for (const shardId of leaving) {
      const events = fleet.journal.events;
      expect(events.indexOf(`shutdown a ${shardId}`)).toBeLessThan(events.indexOf(`init b ${shardId}`));
    }
    await fleet.shutdownAll();
    expect(fleet.errors).toEqual([]);
  });

  it('a joining worker takes its share by graceful handoff: the owner drains and checkpoints, nothing is processed twice', async () => {
    const fleet = new HarnessFleet({ shardCount: 4, processor: (w, s, j) => j.processor(w, s, { checkpointEachBatch: false }) });
    await fleet.start('a');
    await fleet.runUntil(() => fleet.holdings().get('a')!.length === 4, 'a holds every shard');
    fleet.put(KEYS, 10);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'the first records processed');
    await fleet.start('b');
    // Records keep arriving during the rebalance; without checkpoints in processRecords, only
    // the drain's checkpoint (shutdownRequested) keeps the new owner from repeating them.
    for (let i = 0; i < 20 && fleet.holdings().get('b')!.length < 2; i++) {
      fleet.put(KEYS, 1);
      await fleet.run(200);
    }
    await fleet.runUntil(() => fleet.holdings().get('a')!.length === 2 && fleet.holdings().get('b')!.length === 2, 'two shards each');
    fleet.put(KEYS, 5);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'every record processed');
    expect(fleet.journal.events.filter((e) => e.startsWith('shutdown a'))).toHaveLength(2);
    expect(fleet.journal.duplicates()).toBe(0);
    expect(fleet.journal.orderViolations()).toEqual([]);
    await fleet.shutdownAll();
  });

  it('a consumer whose processor fails to initialize is restarted after a doubling backoff, and its lease stays with the worker', async () => {
    const SHARD = 'shardId-000000000001';
    const attempts: number[] = [];
    const fleet = new HarnessFleet({
      shardCount: 2,
      processor: (workerId, shardId, journal) => {
        const inner = journal.processor(workerId, shardId);
        if (shardId !== SHARD) return inner;
        return {
          ...inner,
          initialize: (input) => {
            attempts.push(fleet.clock.elapsed());
            if (attempts.length <= 4) throw new Error(`initialize failure ${attempts.length}`);
            return inner.initialize(input);
          },
        };
      },
    });
    const errors: unknown[] = [];
    // One lease each, so no rebalance moves the failing shard: what is tested is the restart.
    const a = fleet.add('a', { leases: { leaseDurationMs: 1_000, maxLeasesForWorker: 1 } });
    a.on('processorError', (e) => errors.push(e.error));
    const b = fleet.add('b', { leases: { leaseDurationMs: 1_000, maxLeasesForWorker: 1 } });
    b.on('processorError', (e) => errors.push(e.error));
    await fleet.settle(Promise.all([a.start(), b.start()]), 'both started');
    fleet.put(KEYS, 5);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'every record processed once the processor initializes');
    expect(attempts).toHaveLength(5);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // retryBaseMs 100, doubling, up to retryMaxMs 800 (the harness moves time in 10 ms steps).
    [100, 200, 400, 800].forEach((delay, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(delay);
      expect(gaps[i]).toBeLessThan(delay + 50);
    });
    // The failing shard was not released or stolen while it failed: one owner throughout.
    const owners = new Set(fleet.journal.seen.filter((s) => s.shardId === SHARD).map((s) => s.workerId));
    expect(owners.size).toBe(1);
    expect(fleet.journal.events.filter((e) => e.endsWith(SHARD) && e.startsWith('init'))).toHaveLength(1);
    expect(errors.map(String)).toEqual([1, 2, 3, 4].map((n) => `Error: initialize failure ${n}`));
    await fleet.shutdownAll();
  });

  it('a batch whose processRecords throws is delivered again, never skipped or checkpointed past, and each failure is a processorError event', async () => {
    let failures = 0;
    const fleet = new HarnessFleet({
      shardCount: 2,
      processor: (w, s, j) => j.processor(w, s, { failOn: (seen, attempt) => seen.key === 'key-3' && seen.n === 4 && attempt <= 3 && ++failures > 0 }),
    });
    const events: unknown[] = [];
    const checkpointsAtFailure: string[] = [];
    const a = fleet.add('a');
    a.on('processorError', ({ shardId, error }) => {
      events.push(error);
      checkpointsAtFailure.push(fleet.table.peek(shardId)!.checkpoint.sequenceNumber);
    });
    await fleet.settle(a.start(), 'a started');
    fleet.put(KEYS, 8);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'every record processed');
    expect(failures).toBe(3);
    expect(events).toHaveLength(3);
    const failed = fleet.journal.seen.find((s) => s.key === 'key-3' && s.n === 4)!;
    // The checkpoint never covered the failing record while it failed.
    for (const checkpoint of checkpointsAtFailure) {
      expect(checkpoint === 'TRIM_HORIZON' || compareSequenceNumbers(checkpoint, failed.sequenceNumber) < 0).toBe(true);
    }
    expect(fleet.journal.duplicates()).toBe(0);
    expect(fleet.journal.orderViolations()).toEqual([]);
    await fleet.shutdownAll();
  });

  it("onProcessorError 'skip' moves past a failing batch (the application's decision), and the rest of the shard goes on", async () => {
    const skipped: number[] = [];
    const fleet = new HarnessFleet({
      shardCount: 1,
      worker: {
        processing: {
          onProcessorError: (_error, context) => {
            skipped.push(context.records.length);
            return 'skip';
          },
        },
      },
      processor: (w, s, j) => j.processor(w, s, { failOn: (seen) => seen.key === 'key-0' && seen.n === 2 }),
    });
    await fleet.start('a');
    fleet.put(['key-0'], 5);
    await fleet.runUntil(() => skipped.length === 1, 'the failing batch skipped');
    fleet.put(['key-0'], 5);
    await fleet.runUntil(() => fleet.journal.seen.some((s) => s.n === 9), 'later records processed');
    // Only the batch that threw is missing, and the checkpoint moved past it.
    const missing = Array.from({ length: 10 }, (_, n) => n).filter((n) => !fleet.journal.seen.some((s) => s.n === n));
    expect(missing).toContain(2);
    expect(missing).toHaveLength(skipped[0]!);
    const last = fleet.stream.records('shardId-000000000000').at(-1)!;
    await fleet.runUntil(() => fleet.table.peek('shardId-000000000000')!.checkpoint.sequenceNumber === last.sequenceNumber, 'checkpointed to the end');
    await fleet.shutdownAll();
  });

  it('a split: the children start only after the parent is finished, so per-key order holds across it', async () => {
    const fleet: HarnessFleet = new HarnessFleet({
      shardCount: 2,
      // Shard sync runs often, so the children's leases exist while the parent still has a backlog.
      worker: { shardSync: { intervalMs: 200, parentPollIntervalMs: 100 } },
      processor: (workerId, shardId, journal) => {
        const inner = journal.processor(workerId, shardId);
        // A slow parent: each batch takes 100 ms.
        return { ...inner, processRecords: async (input) => (await fleet.clock.sleep(100), inner.processRecords(input)) };
      },
    });
    await fleet.start('a');
    await fleet.start('b');
    fleet.put(KEYS, 20);
    const [left, right] = fleet.stream.split('shardId-000000000000');
    fleet.put(KEYS, 20);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'every record processed');
    const parentEnd = fleet.journal.ended.get('shardId-000000000000');
    expect(parentEnd).toBeDefined();
    for (const child of [left, right]) expect(firstSeen(fleet.journal, child)).toBeGreaterThanOrEqual(parentEnd!);
    expect(fleet.journal.orderViolations()).toEqual([]);
    expect(fleet.journal.duplicates()).toBe(0);
    await fleet.runUntil(() => fleet.table.peek('shardId-000000000000')?.checkpoint.sequenceNumber !== 'TRIM_HORIZON', 'parent checkpointed');
    expect(fleet.table.peek('shardId-000000000000')?.checkpoint.sequenceNumber ?? 'SHARD_END').toBe('SHARD_END');
    await fleet.shutdownAll();
    expect(fleet.errors).toEqual([]);
  });

  it('a merge: the child starts only after both parents are finished', async () => {
    const fleet: HarnessFleet = new HarnessFleet({
      shardCount: 2,
      worker: { shardSync: { intervalMs: 200, parentPollIntervalMs: 100 } },
      processor: (workerId, shardId, journal) => {
        const inner = journal.processor(workerId, shardId);
        // The second parent is much slower than the first.
        const pause = shardId === 'shardId-000000000001' ? 300 : 10;
        return { ...inner, processRecords: async (input) => (await fleet.clock.sleep(pause), inner.processRecords(input)) };
      },
    });
    await fleet.start('a');
    await fleet.start('b');
    fleet.put(KEYS, 20);
    const child = fleet.stream.merge('shardId-000000000000', 'shardId-000000000001');
    fleet.put(KEYS, 20);
    await fleet.runUntil(() => fleet.journal.distinct().size === fleet.putCount, 'every record processed');
    const ends = ['shardId-000000000000', 'shardId-000000000001'].map((p) => fleet.journal.ended.get(p));
    expect(ends.every((e) => e !== undefined)).toBe(true);
    expect(firstSeen(fleet.journal, child)).toBeGreaterThanOrEqual(Math.max(...(ends as number[])));
    expect(fleet.journal.orderViolations()).toEqual([]);
    expect(fleet.journal.duplicates()).toBe(0);
    await fleet.shutdownAll();
  });

  it('a lease taken by another owner: the processor is told leaseLost, and its checkpointer can no longer write', async () => {
    const SHARD = 'shardId-000000000000';
    let kept: RecordProcessorCheckpointer | undefined;
    let lost = 0;
    const fleet = new HarnessFleet({
      shardCount: 1,
      processor: (workerId, shardId, journal): ShardRecordProcessor => {
        const inner = journal.processor(workerId, shardId, { checkpointEachBatch: false });
        return {
          ...inner,
          processRecords: async (input) => {
            kept = input.checkpointer;
            await inner.processRecords(input);
          },
          leaseLost: () => {
            lost++;
          },
        };
      },
    });
    await fleet.start('a');
    fleet.put(['key-0'], 5);
    await fleet.runUntil(() => fleet.journal.seen.length === 5, 'records processed');
    // Another owner takes the lease in the table (a peer that judged it expired).
    const held = fleet.table.peek(SHARD)!;
    await fleet.table.takeLease(held, 'intruder');
    await fleet.runUntil(() => lost === 1, 'leaseLost called');
    const error = await kept!.checkpoint().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(isKclError(error, 'LEASE_LOST')).toBe(true);
    expect(fleet.table.peek(SHARD)!.leaseOwner).toBe('intruder');
    expect(fleet.table.peek(SHARD)!.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
    await fleet.shutdownAll();
  });
});
