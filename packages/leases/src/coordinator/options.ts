/**
 * Options of the {@link LeaseCoordinator}: the public {@link LeaseCoordinatorOptions}, the
 * defaults, and {@link resolveLeaseCoordinatorConfig} which merges and validates them.
 * @module
 */
import { booleanOption, durationOption, numberOption, oneOfOption, optionGroup, optionPath } from '@kcl-ts/processor';

/**
 * Tuning of the lease coordinator (renewer + taker). Every field is optional; the defaults
 * follow from {@link LeaseCoordinatorOptions.leaseDurationMs}. Every worker of an application
 * should use the same values. Every duration is an integer number of milliseconds of at most
 * 2^31−1 (`MAX_TIMER_DELAY_MS`, about 24.8 days: the longest delay a Node.js timer honours).
 */
export interface LeaseCoordinatorOptions {
  /**
   * How long a lease stays valid without a renewal. A peer takes a lease once its own scans
   * have not seen the lease counter change for this long, and the owner stops processing a
   * lease it could not renew for this long (minus {@link selfFencingMarginMs}).
   * Java KCL: `failoverTimeMillis` (default 10,000).
   * @default 10_000
   */
  readonly leaseDurationMs?: number;
  /**
   * Interval between two renewals of every held lease. Must be below `leaseDurationMs / 2`,
   * so that one failed renewal does not lose a lease: the renewal after a failed one is sent
   * `2 × renewIntervalMs` after the last good one and must be answered before the
   * self-fencing deadline, `leaseDurationMs - selfFencingMarginMs` after it. With
   * `coordination: 'single-scanner'` (and `renewal: 'each-lease'`) the default is
   * `leaseDurationMs / 2.5` (4,000 ms: a failed renewal is then survived if the next one is
   * answered within 1.5 s, against 2.8 s at `/ 3`), which cuts the renewal writes, the
   * largest cost of a big fleet, by a sixth.
   * Peers (Java KCL workers included) judge expiry by a counter unchanged for
   * `leaseDurationMs`, so any interval below it is safe for them.
   * Java KCL: `failoverTimeMillis / 3 - 25` (3,308 ms), not configurable on its own.
   * @default Math.floor(leaseDurationMs / 3); Math.floor(leaseDurationMs / 2.5) with `coordination: 'single-scanner'` and `renewal: 'each-lease'`
   */
  readonly renewIntervalMs?: number;
  /**
   * Interval between two taker rounds (scan the table, take free or expired leases, balance).
   * Frequent scans are what bring failover after a crash to about 1.2–1.4 × `leaseDurationMs`
   * instead of 2–4 ×, at the price of more scan requests (see the package README).
   * Java KCL: `(failoverTimeMillis + 25) * 2` (20,050 ms), not configurable on its own.
   * @default Math.floor(leaseDurationMs / 5)
   */
  readonly takerIntervalMs?: number;
  /**
   * Most leases one worker holds; the balancing target is capped by it. `Infinity` for no cap.
   * Java KCL: `maxLeasesForWorker` (default `Integer.MAX_VALUE`).
   * @default Infinity
   */
  readonly maxLeasesForWorker?: number;
  /**
   * Most leases one taker round steals (requests for handoff, or takes hard) from
   * over-loaded workers. A larger value lets a new worker reach its share in one or two
   * rounds; the deficit of the worker always bounds it.
   * Java KCL: `maxLeasesToStealAtOneTime` (default 1).
   * @default 64
   */
  readonly maxLeasesToStealAtOneTime?: number;
  /**
   * Steal by graceful handoff: the thief records a handoff request on the lease, the owner
   * drains the shard, checkpoints and transfers the lease on its next renewal. When `false`,
   * steals take the lease at once (the victim may keep processing until its next renewal
   * fails, which can produce duplicates).
   * Java KCL 2.x: no equivalent (it always steals hard).
   * @default true
   */
  readonly gracefulHandoff?: boolean;
  /**
   * How long a thief waits for an owner to honour a handoff request before it takes the lease
   * hard (the owner is stuck, or runs a version that ignores handoff requests). Such a hard
   * take is then held back for `leaseDurationMs` before the lease is processed, so the old
   * owner has certainly fenced itself. Must be greater than `renewIntervalMs`.
   * Java KCL: no equivalent.
   * @default leaseDurationMs
   */
  readonly handoffTimeoutMs?: number;
  /**
   * Release (evict) every held lease on `stop()`, so peers take them on their next taker
   * round instead of waiting for them to expire.
   * Java KCL 2.x: no equivalent (leases are left to expire).
   * @default true
   */
  readonly releaseLeasesOnStop?: boolean;
  /**
   * Safety margin of self-fencing: a held lease is dropped locally once
   * `leaseDurationMs - selfFencingMarginMs` have passed since the last successful renewal was
   * sent, so the worker stops before any peer can consider the lease expired. Must be below
   * `leaseDurationMs - renewIntervalMs`.
   * Java KCL: no equivalent (it relies on the renewer interval alone).
   * @default Math.min(Math.floor(leaseDurationMs / 10), 500)
   */
  readonly selfFencingMarginMs?: number;
  /**
   * Who scans the lease table.
   * - `'every-worker'`: every worker scans the whole table each taker round (strongly
   *   consistent) and takes for itself. Simple, and safe beside Java KCL workers, but the
   *   read cost grows with workers × leases: at 500 workers × 10,000 leases the scans cost
   *   about 70× the renewals.
   * - `'single-scanner'`: one worker holds a `scanner` role (an item of the lease table,
   *   claimed and renewed like a lease, no long lock) and scans (eventually consistent) for the
   *   fleet: it assigns free and expired leases and asks over-loaded workers for graceful
   *   handoffs. The others find their leases through the keys-only `leaseOwner` index (create
   *   the table with `ownerIndex: true`) and read the role each round to claim it once it
   *   expires. Failover stays about the same; the read cost no longer grows with the number
   *   of workers. The role item (`entityType` `KCL_TS_COORDINATOR_ROLE`) is skipped by kcl-ts,
   *   but a **Java KCL worker (2.x, and 3.5 too) reads it as a lease: do not use this mode while
   *   Java workers share the table, and delete the item (`leaseKey` `kcl-ts:role:scanner`)
   *   before Java workers use it again**. Every worker of the application must use the same mode.
   * Java KCL: 2.x behaves like `'every-worker'` (with a 20 s taker); 3.x has a leader that
   * assigns leases every 20 s and a 2-minute leader lock.
   * @default 'every-worker'
   */
  readonly coordination?: LeaseCoordination;
  /**
   * What a worker renews.
   * - `'each-lease'`: every held lease, every `renewIntervalMs` (one write per lease; the
   *   Java KCL's way, and what Java workers and tools expect).
   * - `'worker-heartbeat'`: one heartbeat item per worker instead (`kcl-ts:role:worker:<id>`,
   *   a role item); a lease's counter then moves only on takes, transfers and checkpoints, and
   *   the scanner judges a lease expired when its owner's heartbeat has not moved for
   *   `leaseDurationMs`. A worker that cannot renew its heartbeat stops processing every lease
   *   it holds. Zombie fencing is unchanged (takes and checkpoints are fenced on
   *   `leaseCounter`). Requires `coordination: 'single-scanner'`. **Not safe with Java KCL
   *   workers (2.x or 3.x) or `'each-lease'` kcl-ts workers on the same table**: they would
   *   see the leases' counters stand still and take live leases.
   * Java KCL: none (every lease is renewed).
   * @default 'each-lease'
   */
  readonly renewal?: LeaseRenewalMode;
}

/** See {@link LeaseCoordinatorOptions.coordination}. */
export type LeaseCoordination = 'every-worker' | 'single-scanner';

/** See {@link LeaseCoordinatorOptions.renewal}. */
export type LeaseRenewalMode = 'each-lease' | 'worker-heartbeat';

/** {@link LeaseCoordinatorOptions} with every default applied and every value validated. */
export type LeaseCoordinatorConfig = { readonly [K in keyof LeaseCoordinatorOptions]-?: NonNullable<LeaseCoordinatorOptions[K]> };

/**
 * The defaults that do not depend on `leaseDurationMs`. The others (`renewIntervalMs`,
 * `takerIntervalMs`, `handoffTimeoutMs`, `selfFencingMarginMs`) are derived from it in
 * {@link resolveLeaseCoordinatorConfig}.
 */
export const LEASE_COORDINATOR_DEFAULTS = {
  leaseDurationMs: 10_000,
  maxLeasesForWorker: Number.POSITIVE_INFINITY,
  maxLeasesToStealAtOneTime: 64,
  gracefulHandoff: true,
  releaseLeasesOnStop: true,
  coordination: 'every-worker',
  renewal: 'each-lease',
} as const;

/**
 * The default `renewIntervalMs` of `coordination: 'single-scanner'` with `renewal:
 * 'each-lease'` is `leaseDurationMs` divided by this (otherwise by 3, the Java KCL's
 * cadence): in that mode the per-lease renewals are nearly all of a large fleet's DynamoDB
 * cost (see `renewIntervalMs`). Worker heartbeats are one write per worker, so their
 * cadence costs little and keeps the third.
 */
const SINGLE_SCANNER_RENEWALS_PER_LEASE_DURATION = 2.5;

/** Every key of {@link LeaseCoordinatorOptions}: any other key is rejected. */
const KEYS = [
  'leaseDurationMs',
  'renewIntervalMs',
  'takerIntervalMs',
  'maxLeasesForWorker',
  'maxLeasesToStealAtOneTime',
  'gracefulHandoff',
  'handoffTimeoutMs',
  'releaseLeasesOnStop',
  'selfFencingMarginMs',
  'coordination',
  'renewal',
] as const satisfies readonly (keyof LeaseCoordinatorOptions)[];

/**
 * Merges `options` over the defaults and validates the result.
 * @param path the option path errors name, e.g. `leases` (the Worker's group).
 * @throws TypeError naming the option path and the bad value, for an unknown key, a
 * non-positive or non-integer duration or count, a duration above 2^31−1 ms, a non-boolean
 * flag, or inconsistent values (e.g. `renewIntervalMs` not below `leaseDurationMs / 2`).
 */
export function resolveLeaseCoordinatorConfig(options: LeaseCoordinatorOptions = {}, path = 'leases'): LeaseCoordinatorConfig {
  const o = optionGroup(options, path, KEYS);
  const at = (name: string): string => optionPath(path, name);
  const leaseDurationMs = durationOption(o.leaseDurationMs, at('leaseDurationMs'), LEASE_COORDINATOR_DEFAULTS.leaseDurationMs);
  const coordination = oneOfOption(o.coordination, at('coordination'), ['every-worker', 'single-scanner'] as const, LEASE_COORDINATOR_DEFAULTS.coordination);
  const renewal = oneOfOption(o.renewal, at('renewal'), ['each-lease', 'worker-heartbeat'] as const, LEASE_COORDINATOR_DEFAULTS.renewal);
  const perLeaseDuration = coordination === 'single-scanner' && renewal === 'each-lease' ? SINGLE_SCANNER_RENEWALS_PER_LEASE_DURATION : 3;
  const renewIntervalMs = durationOption(o.renewIntervalMs, at('renewIntervalMs'), Math.max(1, Math.floor(leaseDurationMs / perLeaseDuration)));
  if (renewIntervalMs >= leaseDurationMs / 2) throw new TypeError(`${at('renewIntervalMs')} must be below ${at('leaseDurationMs')} / 2 (${leaseDurationMs / 2}), got ${renewIntervalMs}`);
  const takerIntervalMs = durationOption(o.takerIntervalMs, at('takerIntervalMs'), Math.max(1, Math.floor(leaseDurationMs / 5)));
  const count = { minInclusive: false, infinity: true } as const;
  const maxLeasesForWorker = numberOption(o.maxLeasesForWorker, at('maxLeasesForWorker'), LEASE_COORDINATOR_DEFAULTS.maxLeasesForWorker, count);
  const maxLeasesToStealAtOneTime = numberOption(o.maxLeasesToStealAtOneTime, at('maxLeasesToStealAtOneTime'), LEASE_COORDINATOR_DEFAULTS.maxLeasesToStealAtOneTime, count);
  const gracefulHandoff = booleanOption(o.gracefulHandoff, at('gracefulHandoff'), LEASE_COORDINATOR_DEFAULTS.gracefulHandoff);
  const handoffTimeoutMs = durationOption(o.handoffTimeoutMs, at('handoffTimeoutMs'), leaseDurationMs);
  if (handoffTimeoutMs <= renewIntervalMs) throw new TypeError(`${at('handoffTimeoutMs')} must be greater than ${at('renewIntervalMs')} (${renewIntervalMs}), got ${handoffTimeoutMs}`);
  const releaseLeasesOnStop = booleanOption(o.releaseLeasesOnStop, at('releaseLeasesOnStop'), LEASE_COORDINATOR_DEFAULTS.releaseLeasesOnStop);
  const selfFencingMarginMs = numberOption(o.selfFencingMarginMs, at('selfFencingMarginMs'), Math.min(Math.floor(leaseDurationMs / 10), 500));
  const fencingBound = leaseDurationMs - renewIntervalMs;
  if (selfFencingMarginMs >= fencingBound) throw new TypeError(`${at('selfFencingMarginMs')} must be below ${at('leaseDurationMs')} - ${at('renewIntervalMs')} (${fencingBound}), got ${selfFencingMarginMs}`);
  if (renewal === 'worker-heartbeat' && coordination !== 'single-scanner') {
    throw new TypeError(`${at('renewal')} 'worker-heartbeat' needs ${at('coordination')} 'single-scanner', got ${JSON.stringify(coordination)}`);
  }
  return {
    leaseDurationMs,
    renewIntervalMs,
    takerIntervalMs,
    maxLeasesForWorker,
    maxLeasesToStealAtOneTime,
    gracefulHandoff,
    handoffTimeoutMs,
    releaseLeasesOnStop,
    selfFencingMarginMs,
    coordination,
    renewal,
  };
}
