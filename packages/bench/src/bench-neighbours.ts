/**
 * Two polling applications on one stream at default settings: the 5 GetRecords calls per
 * second per shard are shared by every polling application, so count both applications' calls
 * per shard over a steady window, with the emulator enforcing the limit (kinesalite and the
 * Kinesis Mock do not; the emulator process's front does, answering
 * ProvisionedThroughputExceededException).
 * @module
 */
import { waitFor } from '@kcl-ts/fleet';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { figure, num, summaryOf, type BenchReport } from './report.js';
import { alternate, callsBetween, spawnPeer } from './peer-run.js';
import { createStream, dropStreamAndTable, dropTable, startShardProducer } from './streams.js';

const SHARDS = 4;
const RATE_PER_SHARD = 1;

interface NeighboursRun {
  /** Both applications' GetRecords calls per second, per shard, throttled ones included. */
  readonly callsPerSecond: number[];
  /** The same, only the calls the emulator served. */
  readonly acceptedPerSecond: number[];
  /** Calls answered with ProvisionedThroughputExceededException during the window. */
  readonly throttled: number;
  readonly seconds: number;
  readonly delivered: readonly [number, number];
  readonly put: number;
}

async function runOnce(ctx: BenchContext, run: number, windowS: number): Promise<NeighboursRun> {
  const kinesis = ctx.kinesalite;
  const stream = `bench-neighbours-${run}-${ctx.tag}`;
  const shards = await createStream(kinesis.client, stream, SHARDS);
  const apps = [`${stream}-a`, `${stream}-b`];
  const children = await Promise.all(apps.map((id) => spawnPeer(ctx, { impl: 'kcl-ts', stream, id })));
  const producer = startShardProducer(kinesis.client, stream, shards, 1000 / RATE_PER_SHARD);
  await ctx.emulators.enforceGetRecordsLimit(true);
  try {
    // Steady: both applications started, then some seconds more.
    for (const c of children) {
      if (!(await waitFor(() => !c.alive || c.startedAt !== undefined, 60_000, 50)) || !c.alive) throw new Error(`neighbours: ${c.id} did not start (${c.errors.join('; ')})`);
    }
    await delay(10_000);
    const [before, s0a, s0b] = await Promise.all([ctx.emulators.counts(stream), children[0]!.sample(), children[1]!.sample()]);
    const t0 = Date.now();
    const put0 = producer.put();
    await delay(windowS * 1000);
    const [after, s1a, s1b] = await Promise.all([ctx.emulators.counts(stream), children[0]!.sample(), children[1]!.sample()]);
    const seconds = (Date.now() - t0) / 1000;
    const calls = callsBetween(before, after);
    const attempts = (id: string): number => (after.attempts[id] ?? 0) - (before.attempts[id] ?? 0);
    return {
      callsPerSecond: shards.map((s) => attempts(s.ShardId!) / seconds),
      acceptedPerSecond: shards.map((s) => (calls.get(s.ShardId!) ?? 0) / seconds),
      throttled: after.throttled - before.throttled,
      seconds,
      delivered: [s1a.processed - s0a.processed, s1b.processed - s0b.processed],
      put: producer.put() - put0,
    };
  } finally {
    await ctx.emulators.enforceGetRecordsLimit(false);
    await producer.stop();
    await Promise.all(children.map((c) => c.stop(20_000)));
    await dropStreamAndTable(kinesis.client, ctx.dynamoDb, stream);
    for (const t of apps) await dropTable(ctx.dynamoDb, t);
    await ctx.emulators.forget(stream);
  }
}

/** Runs the two-applications benchmark. */
export async function benchNeighbours(ctx: BenchContext): Promise<BenchReport> {
  const runs = ctx.quick ? 1 : 2;
  const windowS = ctx.quick ? 20 : 60;
  const { 'kcl-ts': results } = await alternate(ctx, 'neighbours', ['kcl-ts'] as const, runs, (_, run) => runOnce(ctx, run, windowS), (r) =>
    `busiest shard ${num(Math.max(...r.callsPerSecond), 2)} calls/s across both applications (${num(Math.max(...r.acceptedPerSecond), 2)} served), ${r.throttled} throttled, delivered ${r.delivered.join(' + ')} of ${r.put} put`,
    ` (2 applications × ${SHARDS} shards, ${RATE_PER_SHARD} records/s per shard, ${windowS} s window, limit enforced)`);
  const busiest = summaryOf(results, (r) => Math.max(...r.callsPerSecond));
  const throttled = summaryOf(results, (r) => r.throttled);
  return {
    name: 'neighbours',
    title: 'Two polling applications on one stream at defaults',
    setup:
      `Two kcl-ts applications (two Worker child processes built from clientConfig, default settings, each with its own lease table) read the same ${SHARDS}-shard stream on kinesalite while a producer puts ${RATE_PER_SHARD} record${RATE_PER_SHARD === 1 ? "" : "s"}/s on every shard. ` +
      `After both delivered records and 10 s more, the emulator process counts every GetRecords call per shard from both applications over a ${windowS} s window. ` +
      'Every call counts, throttled ones too (the figure is what the applications ask of the shard). During the run the emulator process enforces the Kinesis limit of 5 GetRecords calls per second per shard (a sliding one-second window per shard), answering ProvisionedThroughputExceededException; kinesalite and the Kinesis Mock do not enforce it themselves. ' +
      `${runs} run(s); each figure is the median over runs (per-shard values in the notes).`,
    figures: [
      figure({ against: '—', name: 'GetRecords calls per second per shard, both applications together, every call made (busiest shard)', unit: 'calls/s', ours: busiest, noRatio: true, target: '≤ 5', pass: busiest.max <= 5,
        limit:
          `a poll that returned records resets the idle pause to idleTimeBetweenReadsMs (250 ms) and empty polls only double it from there, so at ${RATE_PER_SHARD} record/s per shard each application polls a shard about ${num(busiest.median / 2, 1)} times a second; two applications together exceed the shared 5/s, and every throttled call is retried after a short backoff, which adds calls` }),
      figure({ name: 'the same, calls served (not throttled)', unit: 'calls/s', ours: summaryOf(results, (r) => Math.max(...r.acceptedPerSecond)), noRatio: true }),
      figure({ against: '—', name: 'GetRecords calls answered ProvisionedThroughputExceeded during the window', unit: 'calls', ours: throttled, noRatio: true, digits: 0, target: '0', pass: throttled.max === 0,
        limit: 'in some one-second window the two applications together made more than 5 calls on a shard' }),
    ],
    notes: results.map(
      (r, i) =>
        `run ${i + 1}: calls/s per shard (served) ${r.callsPerSecond.map((v, j) => `${num(v, 2)} (${num(r.acceptedPerSecond[j]!, 2)})`).join(', ')} over ${num(r.seconds, 1)} s; throttled ${r.throttled}; records delivered ${r.delivered.join(' and ')} of ${r.put} put in the window`,
    ),
  };
}
