/**
 * Cost of many quiet shards, kcl-ts against lifion-kinesis side by side: one consumer process
 * holding 64 shards, first idle (CPU as % of a core, GetRecords calls per second per shard),
 * then with 5 records/s on every shard (CPU); RSS and heap maxima over the process's life.
 * @module
 */
import type { Shard } from '@aws-sdk/client-kinesis';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { figure, MB, num, versus, type BenchReport } from './report.js';
import { alternate, IMPL_LABEL, LIBRARIES, measureWindow, spawnPeer, waitPolling, type Window } from './peer-run.js';
import { createStream, dropStreamAndTable, startShardProducer } from './streams.js';
import { median } from './stats.js';

const SHARDS = 64;
const RATE_PER_SHARD = 5;

interface IdleRun {
  readonly idle: Window;
  readonly loaded: Window;
  /** Records put during the loaded window (to check the consumer kept up). */
  readonly put: number;
  readonly maxRssMb: number;
  readonly maxHeapMb: number;
  readonly warmSeconds: number;
}

async function runOnce(ctx: BenchContext, impl: 'kcl-ts' | 'lifion', run: number, windowS: number): Promise<IdleRun> {
  const kinesis = ctx.kinesalite;
  const stream = `bench-idle-${impl}-${run}-${ctx.tag}`;
  const shards: Shard[] = await createStream(kinesis.client, stream, SHARDS);
  const shardIds = shards.map((s) => s.ShardId!);
  const t0 = Date.now();
  const child = await spawnPeer(ctx, { impl, stream, id: stream });
  try {
    await waitPolling(ctx, child, stream, shardIds, 3, 90_000);
    const warmSeconds = (Date.now() - t0) / 1000;
    // Let the idle pacing settle (kcl-ts backs off 250 → 500 → 1,000 ms over its first empty polls).
    await delay(5_000);
    const idle = await measureWindow(ctx, child, stream, shardIds, windowS);
    const producer = startShardProducer(kinesis.client, stream, shards, 1000 / RATE_PER_SHARD);
    let loaded: Window;
    let put: number;
    try {
      await delay(5_000);
      const put0 = producer.put();
      loaded = await measureWindow(ctx, child, stream, shardIds, windowS);
      put = producer.put() - put0;
    } finally {
      await producer.stop();
    }
    const last = await child.sample();
    if (child.errors.length > 0) ctx.log(`idle: ${impl} run ${run} reported errors: ${child.errors.slice(0, 3).join('; ')}`);
    return { idle, loaded, put, maxRssMb: last.maxRss / MB, maxHeapMb: last.maxHeapUsed / MB, warmSeconds };
  } finally {
    await child.stop(20_000);
    await dropStreamAndTable(kinesis.client, ctx.dynamoDb, stream, stream);
    await ctx.emulators.forget(stream);
  }
}

/** Runs the 64-shard idle / 5 records/s benchmark. */
export async function benchIdle(ctx: BenchContext): Promise<BenchReport> {
  const runs = ctx.quick ? 2 : Math.min(ctx.runs, 3);
  const windowS = ctx.quick ? 10 : 20;
  const results = await alternate(ctx, 'idle', LIBRARIES, runs, (impl, run) => runOnce(ctx, impl, run, windowS), (r) =>
    `idle ${num(r.idle.cpuPercent, 1)} % of a core, ${num(median(r.idle.callsPerShardPerSecond), 2)} GetRecords/s/shard; ` +
      `loaded ${num(r.loaded.cpuPercent, 1)} %, ${r.loaded.processed}/${r.put} records; max RSS ${num(r.maxRssMb, 0)} MB, heap ${num(r.maxHeapMb, 0)} MB`,
    ` (${SHARDS} shards: ${windowS} s idle, then ${windowS} s at ${RATE_PER_SHARD} records/s per shard)`);
  const { 'kcl-ts': ours, lifion: theirs } = results;
  const of = (f: (r: IdleRun) => number) => versus(ours, theirs, f);
  /** CPU ms per GetRecords call (with whatever goes with it: checkpoints, renewals) over a window. */
  const msPerCall = (w: Window): number => (w.cpuPercent * 10) / w.callsPerShardPerSecond.reduce((a, b) => a + b, 0);
  const busiest = (w: Window): number => Math.max(...w.callsPerShardPerSecond);
  const idleCpu = of((r) => r.idle.cpuPercent);
  const loadedCpu = of((r) => r.loaded.cpuPercent);
  const [rss, heap, calls] = [of((r) => r.maxRssMb), of((r) => r.maxHeapMb), of((r) => busiest(r.idle))];
  const loadedCalls = of((r) => median(r.loaded.callsPerShardPerSecond));
  const perCall = of((r) => msPerCall(r.loaded));
  const ratio = (x: ReturnType<typeof of>): number => x.ours.median / x.baseline.median;
  const keptUp = (rs: IdleRun[]): string => rs.map((r) => `${r.loaded.processed}/${r.put}`).join(', ');
  return {
    name: 'idle',
    title: `${SHARDS} shards in one process: idle, and at ${RATE_PER_SHARD} records/s per shard`,
    setup:
      `A ${SHARDS}-shard stream on kinesalite (in the emulator process); one consumer child process per implementation, alone on the machine's two cores apart from the emulator, from TRIM_HORIZON of the fresh, empty stream (kinesalite never answers GetShardIterator AT_TIMESTAMP, which kcl-ts uses to pin LATEST). ` +
      `After every shard was polled 3 times and 5 s more (kcl-ts's idle backoff settles), CPU is measured over ${windowS} s idle, then a producer in the orchestrator puts one record on every shard each ${1000 / RATE_PER_SHARD} ms (${RATE_PER_SHARD} records/s per shard, ${SHARDS * RATE_PER_SHARD}/s in all) and CPU is measured over ${windowS} s after 5 s of warm-up. ` +
      'CPU = the child\'s own process.cpuUsage() (user + system) over the window, as % of one core; GetRecords calls are counted per shard by the emulator process (from the iterators), so the count costs the clients nothing and is the same for both. ' +
      `RSS and heap used: maxima of the child's own process.memoryUsage(), sampled every 250 ms over its whole life (start-up, lease taking, both windows). ${runs} runs, the implementations alternating which goes first; a fresh stream and application per run. ` +
      'Both checkpoint after every batch (lifion: its default auto-checkpoint; kcl-ts: checkpointer.checkpoint() in processRecords); lifion delivers bytes (shouldParseJson false, as kcl-ts).',
    baselineLabel: IMPL_LABEL.lifion,
    figures: [
      figure({ against: 'lifion', name: `idle CPU, ${SHARDS} shards`, unit: '% of a core', ...idleCpu, digits: 1, target: '≤ 1.0× lifion', pass: ratio(idleCpu) <= 1.0,
        limit:
          `both poll an idle shard about once a second (same calls), but kcl-ts spends ${num(ratio(of((r) => msPerCall(r.idle))), 2)}× the CPU per call (the per-call rows): it also renews every lease every leaseDuration/3 (a conditional UpdateItem per shard every 3.3 s, ~${num(SHARDS / 3.333, 0)} writes/s here) and scans the lease table every 2 s, where lifion renews a lease every few minutes and heartbeats every 20 s. ` +
          'The renewals are about a quarter of the calls. The worker\'s own clients send GetRecords and the lease-table calls without the SDK v3 middleware stack (kcl/src/direct-calls.ts; before that, a CPU profile of this window put about 30 % of the busy samples in the SDK\'s request pipeline), so what is left per call is SigV4 hashing, Node.js HTTP and the socket writes (KCL_BENCH_PEER_NODE_OPTIONS=--cpu-prof profiles the window)' }),
      figure({ name: 'idle CPU per shard', unit: '% of a core', ...of((r) => r.idle.cpuPercent / SHARDS), digits: 3 }),
      figure({ against: 'lifion', name: 'GetRecords calls per second per idle shard (busiest shard)', unit: 'calls/s', ...calls, target: '≤ 1 by default', pass: calls.ours.max <= 1.0,
        limit: 'the idle pause backs off only up to maxIdleTimeBetweenReadsMs (1,000 ms), and a call takes a few ms on top' }),
      figure({ name: 'GetRecords calls per second per idle shard (median shard)', unit: 'calls/s', ...of((r) => median(r.idle.callsPerShardPerSecond)) }),
      figure({ against: 'lifion', name: `CPU at ${SHARDS} shards × ${RATE_PER_SHARD} records/s`, unit: '% of a core', ...loadedCpu, digits: 1, target: '≤ 1.0× lifion', pass: ratio(loadedCpu) <= 1.0,
        limit:
          `mostly the number of calls: kcl-ts polls a shard that has records every idleTimeBetweenReadsMs (250 ms; records reset the idle backoff), ${num(loadedCalls.ours.median, 1)} GetRecords calls/s per shard here against lifion's ${num(loadedCalls.baseline.median, 1)} (${num(ratio(loadedCalls), 2)}×; lifion waits 250 ms after records and 1,000 ms after an empty poll) — the price of the 250 ms pause that buys its latency; ` +
          `partly the CPU per call (${num(perCall.ours.median, 2)} ms against ${num(perCall.baseline.median, 2)} ms, ${num(ratio(perCall), 2)}×), which carries kcl-ts's lease renewals (~${num(SHARDS / 3.333, 0)} UpdateItem/s) and its checkpoints. Both checkpoint every batch (a conditional UpdateItem)` }),
      figure({ name: `GetRecords calls per second per shard at ${RATE_PER_SHARD} records/s (median shard)`, unit: 'calls/s', ...loadedCalls }),
      figure({ name: `CPU per GetRecords call at ${RATE_PER_SHARD} records/s (with its share of checkpoints and lease upkeep)`, unit: 'ms', ...perCall, digits: 2 }),
      figure({ name: 'CPU per GetRecords call, idle (with its share of lease upkeep)', unit: 'ms', ...of((r) => msPerCall(r.idle)), digits: 2 }),
      figure({ against: 'lifion', name: `max RSS, ${SHARDS} shards`, unit: 'MB', ...rss, digits: 0, target: '≤ 1.1× lifion', pass: ratio(rss) <= 1.1,
        limit: 'the AWS SDK v3 clients (Kinesis and DynamoDB) and the per-shard consumer state; both processes run on the same Node.js' }),
      figure({ against: 'lifion', name: `max heap used, ${SHARDS} shards`, unit: 'MB', ...heap, digits: 0, target: '≤ 1.5× lifion', pass: ratio(heap) <= 1.5,
        limit: 'the AWS SDK v3 clients and per-shard consumer state' }),
      figure({ name: 'start → every shard polled 3 times', unit: 's', ...of((r) => r.warmSeconds), digits: 1 }),
    ],
    notes: [
      `records delivered / put during the loaded windows — kcl-ts: ${keptUp(ours)}; lifion: ${keptUp(theirs)}`,
      'lifion-kinesis runs on AWS SDK v2, which opens a new connection per request unless AWS_NODEJS_CONNECTION_REUSE_ENABLED=1 is set; it is measured as its users get it by default.',
    ],
  };
}
