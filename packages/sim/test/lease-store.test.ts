import type { Lease } from '@kcl-ts/leases';
import { isKclError } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { checkpointProbe, SimLeaseTable, type CheckpointProbe } from '../src/lease-store.js';
import { SeededRandom } from '../src/random.js';
import { SimTimeline } from '../src/timeline.js';

const KEY = 'shardId-000000000000';

async function setup(): Promise<{ table: SimLeaseTable; timeline: SimTimeline; lease: Lease }> {
  const timeline = new SimTimeline();
  const table = new SimLeaseTable(new SeededRandom(7));
  await table.store.createLeaseIfNotExists({ leaseKey: KEY, checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
  const lease = (await table.store.takeLease((await table.store.getLease(KEY))!, 'w1'))!;
  return { table, timeline, lease };
}

/** Runs `call` to completion on the timeline. */
async function settle<T>(timeline: SimTimeline, call: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const outcome = call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await timeline.runUntil(timeline.now() + 1_000);
  return outcome;
}

describe('SimLeaseTable', () => {
  it('answers through the caller’s clock, after the latency', async () => {
    const { table, timeline, lease } = await setup();
    const refresher = table.connect(timeline.clock('w1'), () => 5);
    let done = false;
    const renew = refresher.renewLease(lease, 'w1').then((l) => {
      done = true;
      return l;
    });
    await timeline.runUntil(4);
    expect(done).toBe(false);
    await timeline.runUntil(5);
    expect((await renew)!.leaseCounter).toBe(lease.leaseCounter + 1);
  });

  it('throttling: slow, and when it still fails a retryable DependencyError with nothing written', async () => {
    const { table, timeline, lease } = await setup();
    const refresher = table.connect(timeline.clock('w1'), () => 1);
    table.setFaults({ throttle: 1 });
    let held = lease;
    let failures = 0;
    for (let i = 0; i < 20; i++) {
      const before = (await table.store.getLease(KEY))!.leaseCounter;
      const { value, error } = await settle(timeline, refresher.renewLease(held, 'w1'));
      const after = (await table.store.getLease(KEY))!.leaseCounter;
      if (error !== undefined) {
        failures++;
        expect(isKclError(error, 'DEPENDENCY') && error.retryable).toBe(true);
        expect((error as Error & { cause: Error }).cause.name).toBe('ProvisionedThroughputExceededException');
        expect(after).toBe(before);
      } else {
        held = value!;
        expect(after).toBe(before + 1);
      }
    }
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(20);
    expect(table.injected.throttled).toBe(20);
  });

  it('a lost response: the write is applied, the caller gets a retryable DependencyError', async () => {
    const { table, timeline, lease } = await setup();
    const refresher = table.connect(timeline.clock('w1'), () => 1);
    table.setFaults({ lostResponse: 1 });
    const { error } = await settle(timeline, refresher.renewLease(lease, 'w1'));
    expect(isKclError(error, 'DEPENDENCY') && error.retryable).toBe(true);
    expect((await table.store.getLease(KEY))!.leaseCounter).toBe(lease.leaseCounter + 1);
    expect(table.injected.lostResponses).toBe(1);
  });

  it('holds a stalled caller’s response, and never answers a killed one (the write still lands)', async () => {
    const { table, timeline, lease } = await setup();
    const clock = timeline.clock('w1');
    const refresher = table.connect(clock, () => 1);
    void clock.stall(500, 'idle');
    let answeredAt: number | undefined;
    void refresher.renewLease(lease, 'w1').then(() => (answeredAt = timeline.now()));
    await timeline.runUntil(1_000);
    expect(answeredAt).toBe(500);
    clock.kill();
    let answered = false;
    const stored = (await table.store.getLease(KEY))!;
    void refresher.renewLease(stored, 'w1').then(() => (answered = true));
    await timeline.runUntil(2_000);
    expect(answered).toBe(false);
    expect((await table.store.getLease(KEY))!.leaseCounter).toBe(stored.leaseCounter + 1);
  });

  it('attributes checkpoint writes to the checkpoint call that made them, and remembers every lease ever created', async () => {
    const { table, timeline, lease } = await setup();
    const refresher = table.connect(timeline.clock('w1'), () => 1);
    const probe: CheckpointProbe = { writes: [] };
    const position = { sequenceNumber: '123', subSequenceNumber: 0 };
    await settle(timeline, checkpointProbe.run(probe, () => refresher.updateLease(lease, 'w1', { checkpoint: position })));
    await settle(timeline, refresher.updateLease(lease, 'w1', { checkpoint: position }));
    expect(probe.writes).toEqual([{ position, applied: true }]);
    await settle(timeline, refresher.createLeaseIfNotExists({ leaseKey: 'child', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } }));
    expect(table.everCreated('child')).toBe(true);
    expect(table.everCreated('other')).toBe(false);
  });
});
