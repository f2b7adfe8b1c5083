import { isShardEnded, type Lease } from '../lease.js';
import { shuffle } from './balancer.js';

/** What the scanner of the `single-scanner` mode knows when it plans for the fleet. */
export interface AssignmentInput {
  /** The worker that plans (the scanner role holder). */
  readonly scanner: string;
  /** Whether the scanner itself takes leases (false once it stops taking, on shutdown). */
  readonly scannerTakes: boolean;
  /** Every lease of the scan. */
  readonly leases: readonly Lease[];
  /** Keys of the leases that are free or expired by the scanner's judgement. */
  readonly expiredKeys: ReadonlySet<string>;
  /** Cap of any worker's load. */
  readonly maxLeasesForWorker: number;
  /**
   * Workers known alive from their heartbeats (worker-heartbeat mode). When given, only they
   * and the scanner are live: neither owning an unexpired lease nor asking for a handoff
   * makes a worker live.
   */
  readonly alsoLive?: ReadonlySet<string>;
  /**
   * With `alsoLive`: workers whose heartbeat exists but was not yet seen moving (a worker that
   * just started). Not given leases yet, but a handoff request to one is not withdrawn.
   */
  readonly maybeLive?: ReadonlySet<string>;
  /** Most graceful handoffs to request in one round. */
  readonly maxMoves: number;
  /** Uniform random numbers in [0, 1), for tie-breaks. */
  readonly random: () => number;
}

/** One lease and the worker it should go to. */
export interface Assignment {
  readonly lease: Lease;
  readonly to: string;
}

/** The decision of one scanner round; {@link planAssignments} computes it. */
export interface AssignmentPlan {
  /** Owners of unexpired leases and recipients of pending handoffs, plus the scanner; sorted. */
  readonly liveWorkers: readonly string[];
  /** `ceil(active leases / live workers)`, capped by `maxLeasesForWorker`. */
  readonly target: number;
  /** Active leases per live worker after the plan (a lease in transit counts for its recipient). */
  readonly load: ReadonlyMap<string, number>;
  /** Free or expired leases, each given to the least-loaded live worker (a conditional take on its behalf). */
  readonly assign: readonly Assignment[];
  /** Leases of the most-loaded workers to hand over gracefully to the least-loaded ones. */
  readonly handoffs: readonly Assignment[];
  /** Unexpired leases with a handoff request pending to a live worker (their owners may need a nudge). */
  readonly pending: readonly Lease[];
  /** Unexpired leases with a handoff request to a worker that is not live: to withdraw. */
  readonly orphaned: readonly Lease[];
}

/**
 * Plans one round of the single scanner for the whole fleet:
 * - finished shards (`SHARD_END`) are ignored;
 * - a lease with a pending handoff counts for its recipient;
 * - every free or expired lease goes to the least-loaded live worker below `maxLeasesForWorker`;
 * - then, while the most- and least-loaded workers differ by more than one, one lease of the
 *   most-loaded is handed over to the least-loaded (at most `maxMoves` per round), so the
 *   fleet ends at fair share ± 1.
 */
export function planAssignments(input: AssignmentInput): AssignmentPlan {
  const { leases, expiredKeys, scanner } = input;
  const live = new Set<string>([...(input.alsoLive ?? []), ...(input.scannerTakes ? [scanner] : [])]);
  // With heartbeats, liveness comes from them alone: owning a lease not yet judged expired
  // does not make a worker live (a lease just assigned to a dead worker would keep it "live").
  // Without heartbeats, a worker is live when it owns an unexpired lease that it wrote itself
  // (its renewals store its process token): a lease the scanner just assigned carries no token,
  // so a dead worker is not kept "live" by the assignments it can no longer take up.
  // And a worker with an expired lease has stopped renewing (a live worker renews all its
  // leases together): it gets nothing new this round.
  if (input.alsoLive === undefined) {
    const stopped = new Set<string>();
    for (const lease of leases) if (lease.leaseOwner !== undefined && expiredKeys.has(lease.leaseKey)) stopped.add(lease.leaseOwner);
    for (const lease of leases) {
      if (lease.leaseOwner === undefined || expiredKeys.has(lease.leaseKey)) continue;
      if (lease.ownerIncarnation !== undefined && !stopped.has(lease.leaseOwner)) live.add(lease.leaseOwner);
      if (lease.handoffTo !== undefined && !stopped.has(lease.handoffTo)) live.add(lease.handoffTo);
    }
  }
  if (!input.scannerTakes) live.delete(scanner);
  const load = new Map<string, number>([...live].map((w) => [w, 0]));
  const free: Lease[] = [];
  const movable = new Map<string, Lease[]>();
  const pending: Lease[] = [];
  const orphaned: Lease[] = [];
  let active = 0;
  for (const lease of leases) {
    if (isShardEnded(lease)) continue;
    active++;
    const owner = lease.leaseOwner;
    if (owner === undefined || expiredKeys.has(lease.leaseKey)) {
      free.push(lease);
      continue;
    }
    if (lease.handoffTo !== undefined) {
      if (live.has(lease.handoffTo)) pending.push(lease);
      else if (!input.maybeLive?.has(lease.handoffTo)) orphaned.push(lease);
    }
    const counted = lease.handoffTo !== undefined && live.has(lease.handoffTo) ? lease.handoffTo : owner;
    if (live.has(counted)) load.set(counted, load.get(counted)! + 1);
    if (counted === owner && live.has(owner) && lease.handoffTo === undefined) {
      const list = movable.get(owner);
      if (list) list.push(lease);
      else movable.set(owner, [lease]);
    }
  }
  const workers = shuffle([...live], input.random);
  const target = live.size === 0 ? 0 : Math.min(Math.ceil(active / live.size), input.maxLeasesForWorker);
  const leastLoaded = (): string | undefined => {
    let best: string | undefined;
    for (const w of workers) if (best === undefined || load.get(w)! < load.get(best)!) best = w;
    return best;
  };
  const assign: Assignment[] = [];
  for (const lease of shuffle(free, input.random)) {
    const to = leastLoaded();
    if (to === undefined || load.get(to)! >= input.maxLeasesForWorker) break;
    assign.push({ lease, to });
    load.set(to, load.get(to)! + 1);
  }
  for (const list of movable.values()) shuffle(list, input.random);
  const handoffs: Assignment[] = [];
  while (handoffs.length < input.maxMoves) {
    const to = leastLoaded();
    let from: string | undefined;
    for (const w of workers) if ((movable.get(w)?.length ?? 0) > 0 && (from === undefined || load.get(w)! > load.get(from)!)) from = w;
    if (to === undefined || from === undefined || load.get(from)! - load.get(to)! <= 1 || load.get(to)! >= input.maxLeasesForWorker) break;
    handoffs.push({ lease: movable.get(from)!.pop()!, to });
    load.set(from, load.get(from)! - 1);
    load.set(to, load.get(to)! + 1);
  }
  return { liveWorkers: [...live].sort(), target, load, assign, handoffs, pending, orphaned };
}
