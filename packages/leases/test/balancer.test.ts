import { describe, expect, it } from 'vitest';
import type { Lease } from '../src/lease.js';
import { planBalance, type BalanceInput } from '../src/coordinator/balancer.js';

function lease(i: number, owner?: string, extra: Partial<Lease> = {}): Lease {
  return {
    leaseKey: `shard-${String(i).padStart(3, '0')}`,
    ...(owner === undefined ? {} : { leaseOwner: owner }),
    leaseCounter: 1,
    checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [],
    childShardIds: [],
    ...extra,
  };
}

/** Leases owned per worker: { a: 3, b: 2 } → 5 leases. */
function fleet(counts: Record<string, number>): Lease[] {
  const out: Lease[] = [];
  for (const [owner, n] of Object.entries(counts)) for (let k = 0; k < n; k++) out.push(lease(out.length, owner));
  return out;
}

const input = (over: Partial<BalanceInput> & Pick<BalanceInput, 'leases'>): BalanceInput => ({
  workerId: 'me',
  expiredKeys: new Set(),
  heldKeys: new Set(over.leases.filter((l) => l.leaseOwner === 'me').map((l) => l.leaseKey)),
  maxLeasesForWorker: Number.POSITIVE_INFINITY,
  maxLeasesToStealAtOneTime: 64,
  random: () => 0.5,
  ...over,
});

describe('planBalance', () => {
  it('counts a handoff requester that owns nothing yet as live, and never plans to steal a lease in transit', () => {
    // a holds 6; c (no leases of its own) asked for 2 of them; me joins as a third worker.
    const leases = fleet({ a: 6 }).map((l, i) => (i < 2 ? { ...l, handoffTo: 'c' } : l));
    const plan = planBalance(input({ leases }));
    expect(plan.liveWorkers).toEqual(['a', 'c', 'me']);
    expect(plan.target).toBe(2);
    expect(plan.load.get('c')).toBe(2);
    expect(plan.toSteal).toHaveLength(2);
    expect(plan.toSteal.every((l) => l.handoffTo === undefined)).toBe(true);
  });

  it('takes free leases up to the target and steals nothing while something is free', () => {
    const leases = [...fleet({ a: 6 }), lease(100), lease(101), lease(102), lease(103), lease(104), lease(105)];
    const plan = planBalance(input({ leases }));
    expect(plan.liveWorkers).toEqual(['a', 'me']);
    expect(plan.target).toBe(6);
    expect(plan.toTake).toHaveLength(6);
    expect(plan.toSteal).toEqual([]);
  });

  it('treats expired leases as free and their owners as dead', () => {
    const leases = fleet({ a: 4, b: 4 });
    const expiredKeys = new Set(leases.filter((l) => l.leaseOwner === 'b').map((l) => l.leaseKey));
    const plan = planBalance(input({ leases, expiredKeys }));
    expect(plan.liveWorkers).toEqual(['a', 'me']);
    expect(plan.target).toBe(4);
    expect(plan.toTake.map((l) => l.leaseOwner)).toEqual(['b', 'b', 'b', 'b']);
  });

  it('never counts or takes finished shards', () => {
    const ended = { checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 } };
    const leases = [...fleet({ a: 4 }), lease(50, undefined, ended), lease(51, undefined, ended)];
    const plan = planBalance(input({ leases }));
    expect(plan.target).toBe(2);
    expect(plan.toTake).toEqual([]);
    expect(plan.toSteal.map((l) => l.leaseOwner)).toEqual(['a', 'a']);
  });

  it('steals several leases per round, from the most loaded workers first, never below target', () => {
    const plan = planBalance(input({ leases: fleet({ a: 12, b: 12 }) }));
    expect(plan.target).toBe(8);
    const from = plan.toSteal.map((l) => l.leaseOwner);
    expect(from).toHaveLength(8);
    expect(from.filter((o) => o === 'a')).toHaveLength(4);
    expect(from.filter((o) => o === 'b')).toHaveLength(4);

    const uneven = planBalance(input({ leases: fleet({ a: 14, b: 9, c: 9 }) }));
    expect(uneven.target).toBe(8);
    const taken = uneven.toSteal.map((l) => l.leaseOwner);
    expect(taken.filter((o) => o === 'a')).toHaveLength(6);
    expect(taken.filter((o) => o === 'b')).toHaveLength(1);
    expect(taken.filter((o) => o === 'c')).toHaveLength(1);
  });

  it('respects maxLeasesToStealAtOneTime and maxLeasesForWorker', () => {
    expect(planBalance(input({ leases: fleet({ a: 12, b: 12 }), maxLeasesToStealAtOneTime: 1 })).toSteal).toHaveLength(1);
    const capped = planBalance(input({ leases: fleet({ a: 12, b: 12 }), maxLeasesForWorker: 3 }));
    expect(capped.target).toBe(3);
    expect(capped.toSteal).toHaveLength(3);
  });

  it('lets a worker two below target take one from a worker at target (12 leases over 5 workers)', () => {
    const plan = planBalance(input({ leases: fleet({ a: 3, b: 3, c: 3, d: 3 }) }));
    expect(plan.target).toBe(3);
    expect(plan.toSteal).toHaveLength(2);
    expect(new Set(plan.toSteal.map((l) => l.leaseOwner)).size).toBe(2);
    // One below target: no steal from workers at target (it would not narrow the spread).
    const one = fleet({ a: 3, b: 3, c: 3, me: 2 });
    expect(planBalance(input({ leases: [...one, lease(99, 'd')] })).toSteal).toEqual([]);
  });

  it('counts a lease with a pending handoff for its live requester, and does not steal it again', () => {
    const leases = fleet({ a: 12, b: 12 }).map((l, i) => (i < 8 ? { ...l, handoffTo: 'c' } : l));
    leases.push(lease(200, 'c'));
    const plan = planBalance(input({ leases }));
    expect(plan.liveWorkers).toEqual(['a', 'b', 'c', 'me']);
    expect(plan.load.get('c')).toBe(9);
    expect(plan.load.get('a')).toBe(4);
    expect(plan.toSteal.every((l) => l.handoffTo === undefined)).toBe(true);
    // Requests of this worker count for it.
    const mine = fleet({ a: 12, b: 12 }).map((l, i) => (i % 3 === 0 ? { ...l, handoffTo: 'me' } : l));
    const own = planBalance(input({ leases: mine }));
    expect(own.myCount).toBe(8);
    expect(own.toSteal).toEqual([]);
  });

  it('adopts leases the table gives this worker but it does not hold', () => {
    const leases = fleet({ me: 3, a: 3 });
    const plan = planBalance(input({ leases, heldKeys: new Set([leases[0]!.leaseKey]) }));
    expect(plan.toAdopt.map((l) => l.leaseKey)).toEqual([leases[1]!.leaseKey, leases[2]!.leaseKey]);
    expect(plan.myCount).toBe(3);
  });

  it('takes nothing when no lease is active', () => {
    const plan = planBalance(input({ leases: [] }));
    expect(plan).toMatchObject({ target: 0, toTake: [], toSteal: [], liveWorkers: ['me'] });
  });
});
