import { describe, expect, it } from 'vitest';
import { HarnessFleet } from './worker-harness.js';

const KEYS = Array.from({ length: 16 }, (_, i) => `key-${i}`);

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
});
