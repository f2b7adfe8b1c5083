/**
 * Deterministic simulation of balancing over the leases of several streams: how evenly each
 * stream's shards end up spread over the fleet, with the balancer's per-stream preference
 * (leases carry their `streamIdentifier`) and without it (the same leases seen as one stream).
 * A fleet starts on a table of free leases, then one more worker joins; the spread is
 * measured once the fleet is balanced again.
 *
 * Run after a build: `node packages/bench/dist/leases/multi-stream-balance-sim.js`.
 * Real LeaseCoordinator instances on the InMemoryLeaseRefresher, a FakeClock and a seeded
 * PRNG: the figures do not depend on this machine. Not part of the public API.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { FakeClock } from '@kcl-ts/processor/testing';
import { InMemoryLeaseRefresher, LeaseCoordinator, multiStreamScope, type Lease } from '@kcl-ts/leases';
import { mulberry32 } from './lease-sim.js';

/** One run of {@link simulateMultiStreamBalance}. */
export interface MultiStreamBalanceOptions {
  /** Workers at the start; one more joins later. */
  readonly workers: number;
  /** Shards of each stream (stream 0 is "the hot one" of the report). */
  readonly streamShards: readonly number[];
  /** False: the leases carry no stream, so the balancer sees one stream (the baseline). @default true */
  readonly spreadStreams?: boolean;
  /** @default 1 */
  readonly seed?: number;
  /** Simulated seconds to let the fleet settle, before and after the join. @default 120 */
  readonly settleSeconds?: number;
}

/** What {@link simulateMultiStreamBalance} measured after the join settled. */
export interface MultiStreamBalanceResult {
  /** Every worker within ±1 of the fair share of all leases. */
  readonly balanced: boolean;
  /** Per stream: the most of its leases one worker holds, minus `ceil(shards / workers)` (0 = perfectly spread). */
  readonly excessPerStream: readonly number[];
  /** The largest of `excessPerStream`. */
  readonly worstExcess: number;
  /** The most leases of stream 0 held by one worker. */
  readonly hotStreamMaxOnOneWorker: number;
}

/** Runs one simulation; deterministic for a given seed. */
export async function simulateMultiStreamBalance(sim: MultiStreamBalanceOptions): Promise<MultiStreamBalanceResult> {
  const random = mulberry32(sim.seed ?? 1);
  const clock = new FakeClock(0);
  const store = new InMemoryLeaseRefresher();
  const spread = sim.spreadStreams ?? true;
  const streamOf = new Map<string, number>();
  for (const [s, shards] of sim.streamShards.entries()) {
    const scope = multiStreamScope(`000000000000:stream-${s}:${1_700_000_000 + s}`);
    for (let i = 0; i < shards; i++) {
      const init = scope.toNewLease({ leaseKey: `shardId-${String(i).padStart(12, '0')}`, checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
      const lease: Lease = { ...init, leaseCounter: 0, ownerSwitchesSinceCheckpoint: 0, parentShardIds: [], childShardIds: [] };
      const { streamIdentifier: _id, shardId: _shard, ...plain } = lease;
      store.put(spread ? lease : plain);
      streamOf.set(lease.leaseKey, s);
    }
  }
  const held = new Map<string, Set<string>>();
  const make = (workerId: string): LeaseCoordinator => {
    const c = new LeaseCoordinator({ refresher: store, workerId, clock, random });
    held.set(workerId, new Set());
    c.on('leaseGained', (lease) => held.get(workerId)!.add(lease.leaseKey));
    c.on('leaseLost', (lease) => held.get(workerId)!.delete(lease.leaseKey));
    return c;
  };
  const fleet = Array.from({ length: sim.workers }, (_, i) => make(`worker-${i}`));
  const takerMs = fleet[0]!.config.takerIntervalMs;
  for (const c of fleet) {
    await clock.advance(Math.floor(random() * takerMs));
    await c.start();
  }
  const settleMs = (sim.settleSeconds ?? 120) * 1000;
  await clock.advance(settleMs);
  const joiner = make('worker-new');
  await joiner.start();
  await clock.advance(settleMs);

  const all = [...fleet, joiner];
  const total = streamOf.size;
  const fair = total / all.length;
  const balanced = [...held.values()].every((keys) => Math.abs(keys.size - fair) <= 1);
  const excessPerStream = sim.streamShards.map((shards, s) => {
    const most = Math.max(...[...held.values()].map((keys) => [...keys].filter((k) => streamOf.get(k) === s).length));
    return most - Math.ceil(shards / all.length);
  });
  const hotStreamMaxOnOneWorker = Math.max(...[...held.values()].map((keys) => [...keys].filter((k) => streamOf.get(k) === 0).length));
  await Promise.all(all.map((c) => c.stop()));
  return { balanced, excessPerStream, worstExcess: Math.max(...excessPerStream), hotStreamMaxOnOneWorker };
}

/** Prints the spread with and without the per-stream preference over several seeds. */
async function main(): Promise<void> {
  const scenarios = [
    { workers: 3, streamShards: [8, 4, 4, 2] },
    { workers: 5, streamShards: [16, 8, 4, 4, 2, 2, 1] },
    { workers: 9, streamShards: [24, 12, 6, 6, 3] },
  ];
  for (const scenario of scenarios) {
    for (const spreadStreams of [true, false]) {
      const runs: MultiStreamBalanceResult[] = [];
      for (let seed = 1; seed <= 10; seed++) runs.push(await simulateMultiStreamBalance({ ...scenario, spreadStreams, seed }));
      const mean = (f: (r: MultiStreamBalanceResult) => number): string => (runs.reduce((n, r) => n + f(r), 0) / runs.length).toFixed(2);
      console.log(
        `${scenario.workers}+1 workers, streams ${scenario.streamShards.join('/')}, ${spreadStreams ? 'per-stream spread' : 'one pool        '}: ` +
          `balanced ${runs.filter((r) => r.balanced).length}/10, worst excess mean ${mean((r) => r.worstExcess)} max ${Math.max(...runs.map((r) => r.worstExcess))}, ` +
          `hot stream on one worker mean ${mean((r) => r.hotStreamMaxOnOneWorker)} (fair ${Math.ceil(scenario.streamShards[0]! / (scenario.workers + 1))})`,
      );
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
