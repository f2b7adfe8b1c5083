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
 * - Live workers are the owners of unexpired leases, the requesters of pending handoffs of
 *   unexpired leases, plus this worker. A lease with a pending handoff counts for the requester.
 * - target = ceil(active / live), capped by `maxLeasesForWorker`.
 * - Free and expired leases are taken first, up to the deficit, in random order.
 * - Only when nothing is free: steal up to min(deficit, `maxLeasesToStealAtOneTime`) leases,
 *   always from the currently most-loaded worker. A victim above target is brought down to
 *   target at most; a victim exactly at target gives one lease only to a worker that would
 *   otherwise stay two or more below target (without this, 12 leases over 5 workers can
 *   stall at 3-3-3-3-0). Every steal therefore narrows the spread.
 * - Multi-stream tables (leases with a `streamIdentifier`): the count is over the leases of
 *   all streams, and within it each take or steal picks a lease of the stream this worker
 *   holds the fewest of (a steal: the fewest compared with its victim), so each stream's
 *   shards spread over the fleet and one hot stream does not land on one worker. With one
 *   stream this changes nothing.
 */
export function planBalance(input: BalanceInput): BalancePlan {
  const { workerId: me, leases, expiredKeys, heldKeys } = input;
  const live = new Set<string>([me]);
  for (const lease of leases) {
    if (lease.leaseOwner === undefined || expiredKeys.has(lease.leaseKey)) continue;
    live.add(lease.leaseOwner);
    // A worker that asked for a handoff may own nothing yet; it is alive (it just wrote), and
    // counting it keeps a third worker from planning a hard steal of the lease in transit.
    if (lease.handoffTo !== undefined) live.add(lease.handoffTo);
  }

  const load = new Map<string, number>();
  for (const worker of live) load.set(worker, 0);
  let activeCount = 0;
  const free: Lease[] = [];
  const toAdopt: Lease[] = [];
  const mine = new Map<string | undefined, number>();
  for (const lease of leases) {
    if (isShardEnded(lease)) continue;
    activeCount++;
    const owner = effectiveOwner(lease, me, live, expiredKeys, heldKeys);
    if (lease.leaseOwner === me && !heldKeys.has(lease.leaseKey)) toAdopt.push(lease);
    if (owner === undefined) free.push(lease);
    else load.set(owner, (load.get(owner) ?? 0) + 1);
    if (owner === me) mine.set(lease.streamIdentifier, (mine.get(lease.streamIdentifier) ?? 0) + 1);
  }
  // Held leases count for us even when the scan shows another owner (not noticed yet).
  const myCount = load.get(me) ?? 0;
  const liveWorkers = [...live].sort();
  const target = activeCount === 0 ? 0 : Math.min(Math.ceil(activeCount / live.size), input.maxLeasesForWorker);
  const deficit = target - myCount;
  const plan: BalancePlan = { liveWorkers, target, myCount, toAdopt, toTake: [], toSteal: [], load };
  if (deficit <= 0) return plan;
  if (free.length > 0) return { ...plan, toTake: spreadOverStreams(shuffle(free, input.random), deficit, mine) };
  return { ...plan, toSteal: planSteals(input, live, load, target, myCount, deficit, mine) };
}

/** The worker a lease counts for (see {@link planBalance}), or `undefined` when it is free or expired. */
function effectiveOwner(lease: Lease, me: string, live: ReadonlySet<string>, expiredKeys: ReadonlySet<string>, heldKeys: ReadonlySet<string>): string | undefined {
  const owner = lease.leaseOwner;
  if (owner === undefined) return heldKeys.has(lease.leaseKey) ? me : undefined;
  const expired = expiredKeys.has(lease.leaseKey);
  if (lease.handoffTo !== undefined && live.has(lease.handoffTo) && (owner === me || !expired)) return lease.handoffTo;
  if (owner === me || heldKeys.has(lease.leaseKey)) return me;
  return expired ? undefined : owner;
}

/**
 * Chooses leases to steal: one at a time from the currently most-loaded worker (ties broken
 * at random), within the limits described on {@link planBalance}.
 */
function planSteals(
  input: BalanceInput,
  live: ReadonlySet<string>,
  load: ReadonlyMap<string, number>,
  target: number,
  myCount: number,
  deficit: number,
  myPerStream: Map<string | undefined, number>,
): Lease[] {
  const { workerId: me, expiredKeys, heldKeys } = input;
  const candidates = new Map<string, Lease[]>();
  for (const lease of input.leases) {
    const owner = lease.leaseOwner;
    if (owner === undefined || owner === me || isShardEnded(lease) || heldKeys.has(lease.leaseKey) || expiredKeys.has(lease.leaseKey)) continue;
    if (lease.handoffTo !== undefined && live.has(lease.handoffTo)) continue; // already moving to a live worker
    const list = candidates.get(owner);
    if (list) list.push(lease);
    else candidates.set(owner, [lease]);
  }
  const victims = shuffle([...candidates.keys()], input.random);
  for (const victim of victims) shuffle(candidates.get(victim)!, input.random);
  const remaining = new Map(victims.map((victim) => [victim, load.get(victim) ?? 0]));
  const limit = Math.min(deficit, input.maxLeasesToStealAtOneTime);
  const toSteal: Lease[] = [];
  let mine = myCount;
  while (toSteal.length < limit) {
    let victim: string | undefined;
    let most = -1;
    for (const worker of victims) {
      const count = remaining.get(worker)!;
      if (count > most && candidates.get(worker)!.length > 0) {
        victim = worker;
        most = count;
      }
    }
    if (victim === undefined || !(most > target || (most === target && mine + 1 < target))) break;
    const stolen = takeFromStreamLeastHeld(candidates.get(victim)!, myPerStream);
    toSteal.push(stolen);
    myPerStream.set(stolen.streamIdentifier, (myPerStream.get(stolen.streamIdentifier) ?? 0) + 1);
    remaining.set(victim, most - 1);
    mine++;
  }
  return toSteal;
}

/**
 * Picks up to `count` of the (shuffled) free leases, each time one of the stream `held` counts
 * the fewest of, ties going to the stream that comes first in the shuffled order. With one
 * stream: the first `count`. Updates `held`.
 */
function spreadOverStreams(free: readonly Lease[], count: number, held: Map<string | undefined, number>): Lease[] {
  const queues = new Map<string | undefined, Lease[]>();
  for (const lease of free) {
    const queue = queues.get(lease.streamIdentifier);
    if (queue) queue.push(lease);
    else queues.set(lease.streamIdentifier, [lease]);
  }
  if (queues.size <= 1) return free.slice(0, count);
  const picked: Lease[] = [];
  const next = new Map<string | undefined, number>();
  while (picked.length < count) {
    let best: string | undefined;
    let bestCount = Number.POSITIVE_INFINITY;
    let found = false;
    for (const [stream, queue] of queues) {
      if ((next.get(stream) ?? 0) >= queue.length) continue;
      const n = held.get(stream) ?? 0;
      if (n < bestCount) {
        best = stream;
        bestCount = n;
        found = true;
      }
    }
    if (!found) break;
    const i = next.get(best) ?? 0;
    picked.push(queues.get(best)![i]!);
    next.set(best, i + 1);
    held.set(best, bestCount + 1);
  }
  return picked;
}

/**
 * Removes and returns the victim's lease whose stream this worker holds the fewest of
 * compared with the victim (the last such in the list; with one stream, the last lease).
 */
function takeFromStreamLeastHeld(candidates: Lease[], held: ReadonlyMap<string | undefined, number>): Lease {
  const victimHolds = new Map<string | undefined, number>();
  for (const lease of candidates) victimHolds.set(lease.streamIdentifier, (victimHolds.get(lease.streamIdentifier) ?? 0) + 1);
  let index = candidates.length - 1;
  if (victimHolds.size > 1) {
    let best = Number.POSITIVE_INFINITY;
    for (let i = candidates.length - 1; i >= 0; i--) {
      const stream = candidates[i]!.streamIdentifier;
      const score = (held.get(stream) ?? 0) - (victimHolds.get(stream) ?? 0);
      if (score < best) {
        best = score;
        index = i;
      }
    }
  }
  return candidates.splice(index, 1)[0]!;
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
