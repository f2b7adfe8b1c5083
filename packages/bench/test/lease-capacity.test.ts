import { describe, expect, it } from 'vitest';
import { itemBytes, readUnits, scanReadUnits, writeUnits } from '../src/leases/capacity.js';
import { kcl3Model } from '../src/leases/kcl3-model.js';

describe('DynamoDB capacity rules', () => {
  it('sizes an item by attribute names and values', () => {
    // "leaseKey" (8) + "shardId-000000000001" (20) + "leaseCounter" (12) + 1093 (2 digits pairs + 1 = 3)
    expect(itemBytes({ leaseKey: { S: 'shardId-000000000001' }, leaseCounter: { N: '1093' } })).toBe(8 + 20 + 12 + 3);
    expect(itemBytes({ parentShardId: { SS: ['a', 'bc'] } })).toBe(13 + 3);
  });

  it('charges reads in 4 KB units, half when eventually consistent', () => {
    expect(readUnits(100, true)).toBe(1);
    expect(readUnits(100, false)).toBe(0.5);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
  });

  it('charges a scan on the total size read, page by page', () => {
    expect(scanReadUnits(10_000 * 330, true)).toBe(Math.ceil((10_000 * 330) / 4096) + 0); // 3 full pages + the rest, all on 4 KB bounds
    expect(scanReadUnits(10_000 * 330, false)).toBe(scanReadUnits(10_000 * 330, true) / 2);
    expect(scanReadUnits(0, true)).toBe(1); // an empty scan still costs a unit
  });

  it('charges writes in 1 KB units of the larger of before and after', () => {
    expect(writeUnits(330, 340)).toBe(1);
    expect(writeUnits(900, 1_100)).toBe(2);
    expect(writeUnits(0, 0)).toBe(1);
  });
});

describe('KCL 3.x model', () => {
  it('is dominated by renewals (one write per lease every 3.308 s) at every size', () => {
    for (const [workers, leases] of [[3, 24], [50, 1_000], [500, 10_000]] as const) {
      const m = kcl3Model(workers, leases, 320);
      expect(m.renewals).toBeCloseTo(3_600_000 / 3_308, 1);
      expect(m.total).toBeGreaterThan(m.renewals);
      expect(m.total).toBeLessThan(m.renewals * 1.1);
    }
    // Failover: 20 s assignment cycles and 10 s discovery: 1.7 to 5 lease durations.
    expect(kcl3Model(3, 24, 320).failover).toEqual({ min: expect.closeTo(1.67, 2), mean: expect.closeTo(3.33, 2), max: expect.closeTo(5, 2) });
  });
});
