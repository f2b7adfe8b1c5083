import { isShardEnded, type Lease } from '../lease.js';

/** What the balancer needs to know about one taker round. */
export interface BalanceInput {
  /** This worker. */
  readonly workerId: string;
  /** Every lease of the latest scan. */
  readonly leases: readonly Lease[];
  /** Keys of leases that are free or expired by this worker's judgement (see `ExpiryTracker`). */
  readonly expiredKeys: ReadonlySet<string>;
  /** Keys of the leases this worker holds. */
  readonly heldKeys: ReadonlySet<string>;
  /** Cap of the target. */
  readonly maxLeasesForWorker: number;
  /** Most leases to steal in this round. */
  readonly maxLeasesToStealAtOneTime: number;
  /** Uniform random numbers in [0, 1), for the order of takes (reduces races between workers). */
  readonly random: () => number;
}

/** The decision of one taker round; {@link planBalance} computes it, the taker executes it. */
export interface BalancePlan {
  /** Owners of unexpired leases (and pending handoff requesters that are live), plus this worker; sorted. */
  readonly liveWorkers: readonly string[];
  /** `ceil(active leases / live workers)`, capped by `maxLeasesForWorker`; 0 when no lease is active. */
  readonly target: number;
  /** Active leases attributed to this worker: held, owned in the table, or handed off to it. */
  readonly myCount: number;
  /** Active leases the table says this worker owns but it does not hold: to adopt (renew, then hold). */
  readonly toAdopt: readonly Lease[];
  /** Free or expired active leases to take, in random order, at most the deficit. */
  readonly toTake: readonly Lease[];
  /** Leases of over-loaded workers to steal (only when nothing is free), most-loaded victims first. */
  readonly toSteal: readonly Lease[];
  /** Active leases attributed to each live worker (a lease being handed off counts for its requester). */
  readonly load: ReadonlyMap<string, number>;
}

/**
 * Plans one taker round. Rules:
 * - Finished shards (`SHARD_END`) are never taken and do not count in the target.
 * - Live workers are the owners of unexpired leases, plus this worker. A lease with a pending
 *   handoff request counts for the requester when the requester is live.
 * - target = ceil(active / live), capped by `maxLeasesForWorker`.
 * - Free and expired leases are taken first, up to the deficit, in random order.
 * - Only when nothing is free: steal up to min(deficit, `maxLeasesToStealAtOneTime`) leases,
 *   always from the currently most-loaded worker. A victim above target is brought down to
 *   target at most; a victim exactly at target gives one lease only to a worker that would
 *   otherwise stay two or more below target (without this, 12 leases over 5 workers can
 *   stall at 3-3-3-3-0). Every steal therefore narrows the spread.
 */
export function planBalance(input: BalanceInput): BalancePlan {
  const { workerId: me, leases, expiredKeys, heldKeys } = input;
  const live = new Set<string>([me]);
  for (const lease of leases) {
    if (lease.leaseOwner !== undefined && !expiredKeys.has(lease.leaseKey)) live.add(lease.leaseOwner);
  }

  const effectiveOwner = (lease: Lease): string | undefined => {
    if (lease.handoffTo !== undefined && lease.leaseOwner !== undefined && live.has(lease.handoffTo)) {
      if (lease.leaseOwner === me || !expiredKeys.has(lease.leaseKey)) return lease.handoffTo;
    }
    if (lease.leaseOwner === me || heldKeys.has(lease.leaseKey)) return me;
    if (lease.leaseOwner === undefined || expiredKeys.has(lease.leaseKey)) return undefined;
    return lease.leaseOwner;
  };

  const load = new Map<string, number>();
  for (const worker of live) load.set(worker, 0);
  const active: Lease[] = [];
  const free: Lease[] = [];
  const toAdopt: Lease[] = [];
  const candidatesByVictim = new Map<string, Lease[]>();
  for (const lease of leases) {
    if (isShardEnded(lease)) continue;
    active.push(lease);
    const owner = effectiveOwner(lease);
    if (lease.leaseOwner === me && !heldKeys.has(lease.leaseKey)) toAdopt.push(lease);
    if (owner === undefined) {
      free.push(lease);
      continue;
    }
    load.set(owner, (load.get(owner) ?? 0) + 1);
    if (owner !== me && owner === lease.leaseOwner && !heldKeys.has(lease.leaseKey)) {
      const list = candidatesByVictim.get(owner);
      if (list) list.push(lease);
      else candidatesByVictim.set(owner, [lease]);
    }
  }
  // Held leases count for us even when the scan shows another owner (not noticed yet).
  let myCount = load.get(me) ?? 0;

  const liveWorkers = [...live].sort();
  const target = active.length === 0 ? 0 : Math.min(Math.ceil(active.length / live.size), input.maxLeasesForWorker);
  const deficit = target - myCount;
  const empty: BalancePlan = { liveWorkers, target, myCount, toAdopt, toTake: [], toSteal: [], load };
  if (deficit <= 0) return empty;

  if (free.length > 0) {
    return { ...empty, toTake: shuffle(free, input.random).slice(0, deficit) };
  }

  const limit = Math.min(deficit, input.maxLeasesToStealAtOneTime);
  const remaining = new Map<string, number>();
  for (const [victim, list] of candidatesByVictim) {
    shuffle(list, input.random);
    remaining.set(victim, load.get(victim) ?? 0);
  }
  const toSteal: Lease[] = [];
  while (toSteal.length < limit) {
    let victim: string | undefined;
    let victimLoad = -1;
    for (const [worker, count] of remaining) {
      if ((candidatesByVictim.get(worker)?.length ?? 0) === 0) continue;
      if (count > victimLoad || (count === victimLoad && victim !== undefined && worker < victim)) {
        victim = worker;
        victimLoad = count;
      }
    }
    if (victim === undefined) break;
    const allowed = victimLoad > target || (victimLoad === target && myCount + 1 < target);
    if (!allowed) break;
    toSteal.push(candidatesByVictim.get(victim)!.pop()!);
    remaining.set(victim, victimLoad - 1);
    myCount += 1;
  }
  return { ...empty, toSteal };
}

/** Fisher–Yates shuffle in place; returns `items`. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
