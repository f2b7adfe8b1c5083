import { describe, expect, it } from 'vitest';
import { JAVA_KCL_MODEL, KCL_TS_MODEL, simulateJoin } from '../src/bench/balancing-sim.js';

describe('balancing simulation (deterministic: fake clock, seeded PRNG)', () => {
  it('2 workers × 24 leases, a 3rd joins: fair share within 3 taker rounds of the new worker, no lease held twice', async () => {
    const ours = await simulateJoin({ workers: 2, leases: 24, options: KCL_TS_MODEL, steadySeconds: 60 });
    expect(ours.balanced).toBe(true);
    expect(ours.roundsToBalance).toBeLessThanOrEqual(3);
    expect(ours.maxDoublyHeld).toBe(0);
    // Same seed, same figures.
    const again = await simulateJoin({ workers: 2, leases: 24, options: KCL_TS_MODEL, steadySeconds: 60 });
    expect(again.roundsToBalance).toBe(ours.roundsToBalance);
    expect(again.secondsToBalance).toBe(ours.secondsToBalance);
    expect(again.perLeaseHour).toEqual(ours.perLeaseHour);
  });

  it('holds for other seeds too, and the Java KCL model needs many more rounds', async () => {
    for (const seed of [2, 3, 4]) {
      const ours = await simulateJoin({ workers: 2, leases: 24, options: KCL_TS_MODEL, seed, steadySeconds: 10 });
      expect(ours.roundsToBalance, `seed ${seed}`).toBeLessThanOrEqual(3);
    }
    const java = await simulateJoin({ workers: 2, leases: 24, options: JAVA_KCL_MODEL, steadySeconds: 60.15 });
    expect(java.balanced).toBe(true);
    expect(java.roundsToBalance).toBeGreaterThanOrEqual(7); // one steal per round, 7 needed for 24 / 3 ± 1
    // Renewals per lease-hour follow from the renew interval: 3600 s / 3.333 s ≈ 1080.
    expect(java.perLeaseHour.renewals).toBeGreaterThan(1_000);
    expect(java.perLeaseHour.renewals).toBeLessThan(1_150);
  });
});
