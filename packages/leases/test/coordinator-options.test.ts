import { describe, expect, it } from 'vitest';
import { InMemoryLeaseRefresher } from '../src/in-memory-refresher.js';
import { LEASE_COORDINATOR_DEFAULTS, LeaseCoordinator, resolveLeaseCoordinatorConfig, type LeaseCoordinatorOptions } from '../src/coordinator/index.js';

describe('resolveLeaseCoordinatorConfig', () => {
  it('applies the defaults, derived from the lease duration', () => {
    expect(resolveLeaseCoordinatorConfig()).toEqual({
      leaseDurationMs: 10_000,
      renewIntervalMs: 3_333,
      takerIntervalMs: 2_000,
      maxLeasesForWorker: Number.POSITIVE_INFINITY,
      maxLeasesToStealAtOneTime: LEASE_COORDINATOR_DEFAULTS.maxLeasesToStealAtOneTime,
      gracefulHandoff: true,
      handoffTimeoutMs: 10_000,
      releaseLeasesOnStop: true,
      selfFencingMarginMs: 500,
      coordination: 'every-worker',
      renewal: 'each-lease',
    });
    expect(() => resolveLeaseCoordinatorConfig({ renewal: 'never' as never })).toThrow(/leases.renewal must be one of 'each-lease', 'worker-heartbeat', got "never"/);
    expect(() => resolveLeaseCoordinatorConfig({ coordination: 'leader' as never })).toThrow(/leases.coordination must be one of 'every-worker', 'single-scanner', got "leader"/);
    const short = resolveLeaseCoordinatorConfig({ leaseDurationMs: 1_000 });
    expect(short).toMatchObject({ renewIntervalMs: 333, takerIntervalMs: 200, handoffTimeoutMs: 1_000, selfFencingMarginMs: 100 });
  });

  it('renews every lease duration / 2.5 by default in the single-scanner mode with per-lease renewals, every third otherwise', () => {
    const single = resolveLeaseCoordinatorConfig({ coordination: 'single-scanner' });
    expect(single).toMatchObject({ leaseDurationMs: 10_000, renewIntervalMs: 4_000, takerIntervalMs: 2_000, selfFencingMarginMs: 500 });
    // One failed renewal is survived when the next one is answered within this long.
    expect(single.leaseDurationMs - single.selfFencingMarginMs - 2 * single.renewIntervalMs).toBe(1_500);
    expect(resolveLeaseCoordinatorConfig({ coordination: 'single-scanner', leaseDurationMs: 1_000 }).renewIntervalMs).toBe(400);
    // Worker heartbeats are one write per worker: they keep the third.
    expect(resolveLeaseCoordinatorConfig({ coordination: 'single-scanner', renewal: 'worker-heartbeat' }).renewIntervalMs).toBe(3_333);
    expect(resolveLeaseCoordinatorConfig({ coordination: 'single-scanner', renewIntervalMs: 3_308 }).renewIntervalMs).toBe(3_308);
  });

  it('keeps explicit values, including the Java KCL model', () => {
    const java = resolveLeaseCoordinatorConfig({
      leaseDurationMs: 10_000,
      renewIntervalMs: 3_308,
      takerIntervalMs: 20_050,
      maxLeasesToStealAtOneTime: 1,
      gracefulHandoff: false,
      releaseLeasesOnStop: false,
      maxLeasesForWorker: 50,
    });
    expect(java).toMatchObject({ renewIntervalMs: 3_308, takerIntervalMs: 20_050, maxLeasesToStealAtOneTime: 1, gracefulHandoff: false, releaseLeasesOnStop: false, maxLeasesForWorker: 50 });
  });

  const bad: Array<[keyof LeaseCoordinatorOptions, LeaseCoordinatorOptions, string]> = [
    ['leaseDurationMs', { leaseDurationMs: 0 }, '0'],
    ['leaseDurationMs', { leaseDurationMs: -5 }, '-5'],
    ['leaseDurationMs', { leaseDurationMs: 1.5 }, '1.5'],
    ['leaseDurationMs', { leaseDurationMs: Number.NaN }, 'NaN'],
    ['leaseDurationMs', { leaseDurationMs: '10000' as unknown as number }, '"10000"'],
    ['renewIntervalMs', { renewIntervalMs: 0 }, '0'],
    ['renewIntervalMs', { renewIntervalMs: 5_000 }, '5000'],
    ['renewIntervalMs', { leaseDurationMs: 1_000, renewIntervalMs: 600 }, '600'],
    ['takerIntervalMs', { takerIntervalMs: -1 }, '-1'],
    ['takerIntervalMs', { takerIntervalMs: 2.5 }, '2.5'],
    ['maxLeasesForWorker', { maxLeasesForWorker: 0 }, '0'],
    ['maxLeasesForWorker', { maxLeasesForWorker: 3.2 }, '3.2'],
    ['maxLeasesToStealAtOneTime', { maxLeasesToStealAtOneTime: 0 }, '0'],
    ['gracefulHandoff', { gracefulHandoff: 'yes' as unknown as boolean }, '"yes"'],
    ['handoffTimeoutMs', { handoffTimeoutMs: 0 }, '0'],
    ['handoffTimeoutMs', { leaseDurationMs: 1_000, handoffTimeoutMs: 300 }, '300'],
    ['releaseLeasesOnStop', { releaseLeasesOnStop: 1 as unknown as boolean }, '1'],
    ['selfFencingMarginMs', { selfFencingMarginMs: -1 }, '-1'],
    ['selfFencingMarginMs', { leaseDurationMs: 1_000, selfFencingMarginMs: 700 }, '700'],
  ];
  it.each(bad)('rejects a bad %s with a TypeError naming it (%j)', (name, options, shown) => {
    let thrown: unknown;
    try {
      resolveLeaseCoordinatorConfig(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toContain(name);
    expect((thrown as Error).message).toContain(shown);
  });

  it('names the option path and rejects unknown keys (a typo is not dropped)', () => {
    expect(() => resolveLeaseCoordinatorConfig({ leaseDuration: 5_000 } as LeaseCoordinatorOptions)).toThrow(/^leases\.leaseDuration is not an option/);
    expect(() => resolveLeaseCoordinatorConfig({ leaseDurationMs: 0 })).toThrow(/^leases\.leaseDurationMs must be/);
    expect(() => resolveLeaseCoordinatorConfig({ gracefulHandoff: 1 as unknown as boolean }, 'coordinator')).toThrow(/^coordinator\.gracefulHandoff must be a boolean/);
  });

  it('rejects options that are not an object', () => {
    expect(() => resolveLeaseCoordinatorConfig(null as unknown as LeaseCoordinatorOptions)).toThrow(TypeError);
  });

  it('the LeaseCoordinator runs on the resolved config, and checks the worker id', () => {
    const refresher = new InMemoryLeaseRefresher();
    expect(new LeaseCoordinator({ refresher, workerId: 'w', config: resolveLeaseCoordinatorConfig({ leaseDurationMs: 3_000 }) }).config.takerIntervalMs).toBe(600);
    expect(() => resolveLeaseCoordinatorConfig({ takerIntervalMs: 0 })).toThrow(/leases.takerIntervalMs/);
    expect(() => new LeaseCoordinator({ refresher, workerId: '' })).toThrow(/workerId/);
  });
});
