import { describe, expect, it } from 'vitest';
import { simulateMultiStreamBalance } from '../src/leases/multi-stream-balance-sim.js';

describe('balancing several streams (deterministic simulation: fake clock, seeded PRNG)', () => {
  it('spreads each stream over the fleet within one lease of its fair share, where one pool does not', async () => {
    const scenario = { workers: 3, streamShards: [8, 4, 4, 2] };
    let spreadSum = 0;
    let poolSum = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const spread = await simulateMultiStreamBalance({ ...scenario, seed });
      expect(spread.balanced, `seed ${seed}`).toBe(true);
      expect(spread.worstExcess, `seed ${seed}`).toBeLessThanOrEqual(1);
      const pool = await simulateMultiStreamBalance({ ...scenario, seed, spreadStreams: false });
      expect(pool.balanced, `seed ${seed}`).toBe(true);
      spreadSum += spread.worstExcess;
      poolSum += pool.worstExcess;
    }
    expect(spreadSum).toBeLessThan(poolSum);
    // Same seed, same figures.
    expect(await simulateMultiStreamBalance({ ...scenario, seed: 3 })).toEqual(await simulateMultiStreamBalance({ ...scenario, seed: 3 }));
  });
});
