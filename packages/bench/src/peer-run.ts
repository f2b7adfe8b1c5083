/**
 * The side-by-side benchmarks' peers (kcl-ts, lifion-kinesis, the raw SDK loop): one
 * implementation in its own child process (`peer-process.js`, forked with the fleet harness's
 * `forkChild`) against kinesalite in the emulator process; waiting until it polls every shard,
 * and measuring a window — CPU and memory from the child's own `process.cpuUsage()` /
 * `memoryUsage()`, GetRecords calls per shard from the emulator's count.
 * @module
 */
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { ChildHandle, forkChild, waitFor, type RetrievalMode } from '@kcl-ts/fleet';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { BenchContext, KinesisTarget } from './context.js';
import type { StreamCounts } from './emulators.js';
import { CHILD_CONFIG_ENV, type ChildMessage, type LifionOptions, type PeerChildConfig, type PeerImpl, type PeerSample } from './messages.js';
import { seedLeaseTable } from './streams.js';

const PEER_SCRIPT = fileURLToPath(new URL('./peer-process.js', import.meta.url));

type Of<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** One peer process and what it reported. */
export class PeerHandle extends ChildHandle {
  readonly batches: Of<'batch'>[] = [];
  readonly errors: string[] = [];
  startedAt: number | undefined;
  done: Of<'done'> | undefined;
  fatal: string | undefined;

  constructor(id: string, child: ChildProcess) {
    super(id, child);
    this.onRawMessage((raw) => {
      const m = raw as ChildMessage;
      if (m.type === 'started') this.startedAt = m.at;
      else if (m.type === 'batch') this.batches.push(m);
      else if (m.type === 'done') this.done = m;
      else if (m.type === 'error') this.errors.push(m.detail);
      else if (m.type === 'fatal') this.errors.push(`fatal: ${(this.fatal = m.detail)}`);
    });
  }

  /** The peer's own CPU and memory figures now (`resetMax`: start new maxima after this sample); rejects after `timeoutMs` or when the process is gone. */
  async sample(resetMax = false, timeoutMs = 10_000): Promise<PeerSample> {
    return (await this.ask<Of<'sample'>>({ type: 'sample', resetMax }, timeoutMs)).sample;
  }
}

/** Display names of the implementations. */
export const IMPL_LABEL: Readonly<Record<PeerImpl, string>> = {
  'kcl-ts': 'kcl-ts (Worker from clientConfig, defaults)',
  lifion: 'lifion-kinesis 1.3.3 (defaults)',
  raw: 'raw AWS SDK v3 GetRecords loop',
};

/** The two consumer libraries compared in most side-by-side benchmarks. */
export const LIBRARIES = ['kcl-ts', 'lifion'] as const;

/**
 * Runs `once` `runs` times for every side, rotating which side goes first from run to run (so
 * none always goes first, or right after another), with a progress line before and after each.
 */
export async function alternate<S extends string, R>(
  ctx: BenchContext,
  name: string,
  sides: readonly S[],
  runs: number,
  once: (side: S, run: number) => Promise<R>,
  describe: (r: R) => string,
  about = '',
): Promise<Record<S, R[]>> {
  const results = Object.fromEntries(sides.map((s) => [s, [] as R[]])) as Record<S, R[]>;
  for (let run = 1; run <= runs; run++) {
    const shift = (run - 1) % sides.length;
    for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) {
      ctx.log(`${name}: ${side} run ${run}/${runs}${about}`);
      const r = await once(side, run);
      results[side].push(r);
      ctx.log(`${name}: ${side} run ${run}: ${describe(r)}`);
    }
  }
  return results;
}

/** Options of {@link spawnPeer}. */
export interface PeerSpawn {
  readonly impl: PeerImpl;
  readonly stream: string;
  /** Unique per child: names its application (lease table / consumer group). */
  readonly id: string;
  readonly report?: 'records' | 'counts';
  readonly expectedRecords?: number;
  /** kcl-ts: polling (the default) or enhanced fan-out. */
  readonly retrieval?: RetrievalMode;
  /** The Kinesis the peer reads. @default kinesalite through the counting front */
  readonly kinesis?: KinesisTarget;
}

const lifionTables = new Map<string, Promise<string>>();

/**
 * lifion-kinesis keeps the state of every consumer group in one table (its schema, created once
 * per bench invocation, as in production where it outlives the consumers). Created here because
 * lifion's own path waits for a new table with the AWS SDK v2 waiter (20 s between checks).
 */
function lifionStateTable(ctx: BenchContext): Promise<string> {
  const name = `bench-lifion-state-${ctx.tag}`;
  let table = lifionTables.get(name);
  if (!table) {
    const key = (AttributeName: string, KeyType: 'HASH' | 'RANGE') => ({ AttributeName, KeyType });
    table = (async () => {
      await ctx.dynamoDb.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: ['consumerGroup', 'streamName'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
          KeySchema: [key('consumerGroup', 'HASH'), key('streamName', 'RANGE')],
        }),
      );
      await waitUntilTableExists({ client: ctx.dynamoDb, maxWaitTime: 30, minDelay: 1 }, { TableName: name });
      return name;
    })();
    lifionTables.set(name, table);
  }
  return table;
}

/** Every peer forked by this process. */
const peers = new Set<PeerHandle>();

/** Stops every peer still running (SIGTERM, then SIGKILL after `timeoutMs`). */
export async function stopAllPeers(timeoutMs: number): Promise<void> {
  await Promise.all([...peers].filter((c) => c.alive).map((c) => c.stop(timeoutMs)));
}

/**
 * Starts one implementation in its own child process, by default pointed at kinesalite through
 * the counting front. Its lease / state table exists beforehand, as in production (kcl-ts: the
 * lease table named after the application; lifion: the shared state table).
 */
export async function spawnPeer(ctx: BenchContext, p: PeerSpawn): Promise<PeerHandle> {
  if (p.impl === 'kcl-ts') await seedLeaseTable(ctx.dynamoDb, p.id, []);
  const options: LifionOptions | undefined = p.impl === 'lifion' ? { dynamoDbTableName: await lifionStateTable(ctx) } : undefined;
  const config: PeerChildConfig = {
    impl: p.impl,
    kinesisEndpoint: (p.kinesis ?? ctx.kinesalite).endpoint,
    dynamoDbEndpoint: ctx.dynamoDbEndpoint,
    region: ctx.region,
    streamName: p.stream,
    applicationName: p.id,
    report: p.report ?? 'counts',
    ...(p.expectedRecords !== undefined && { expectedRecords: p.expectedRecords }),
    ...(options && { options }),
    ...(p.retrieval && { retrieval: p.retrieval }),
  };
  const execArgv = [...process.execArgv, ...(process.env['KCL_BENCH_PEER_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean)];
  const child = forkChild({ entry: PEER_SCRIPT, env: { [CHILD_CONFIG_ENV]: JSON.stringify(config) }, outPath: join(ctx.logDir, `${p.id}.log`), execArgv });
  const handle = new PeerHandle(p.id, child);
  peers.add(handle);
  return handle;
}

/** GetRecords calls per shard in `after` minus `before`. */
export function callsBetween(before: StreamCounts, after: StreamCounts): Map<string, number> {
  return new Map(Object.entries(after.getRecords).map(([shard, n]) => [shard, n - (before.getRecords[shard] ?? 0)]));
}

/** Waits until the emulator saw at least `minCalls` GetRecords calls on each of `shardIds` of this stream (every shard is being polled), or throws after `timeoutMs`. */
export async function waitPolling(ctx: BenchContext, child: PeerHandle, stream: string, shardIds: readonly string[], minCalls: number, timeoutMs: number): Promise<void> {
  let polled = 0;
  const ok = await waitFor(
    async () => {
      const counts = await ctx.emulators.counts(stream);
      polled = shardIds.filter((s) => (counts.getRecords[s] ?? 0) >= minCalls).length;
      return polled === shardIds.length || !child.alive;
    },
    timeoutMs,
    250,
  );
  if (!child.alive) throw new Error(`${child.id} died before polling every shard: ${child.errors.join('; ')}`);
  if (!ok) throw new Error(`${child.id} polled ${polled}/${shardIds.length} shards after ${timeoutMs} ms (${child.errors.join('; ')})`);
}

/** One measured window of a running child. */
export interface Window {
  readonly seconds: number;
  /** CPU time over the window as % of one core. */
  readonly cpuPercent: number;
  /** GetRecords calls per second, per shard of the stream. */
  readonly callsPerShardPerSecond: readonly number[];
  /** Records the child delivered during the window. */
  readonly processed: number;
}

/** Measures `seconds` of a running child: CPU, records, and GetRecords calls per shard. */
export async function measureWindow(ctx: BenchContext, child: PeerHandle, stream: string, shardIds: readonly string[], seconds: number): Promise<Window> {
  const [start, before] = await Promise.all([child.sample(), ctx.emulators.counts(stream)]);
  await delay(seconds * 1000);
  const [end, after] = await Promise.all([child.sample(), ctx.emulators.counts(stream)]);
  const wall = (end.at - start.at) / 1000;
  const calls = callsBetween(before, after);
  return {
    seconds: wall,
    cpuPercent: ((end.cpuUs - start.cpuUs) / 1e6 / wall) * 100,
    callsPerShardPerSecond: shardIds.map((s) => (calls.get(s) ?? 0) / wall),
    processed: end.processed - start.processed,
  };
}

/** Waits for a child's `done` (or throws with its errors after `timeoutMs`). */
export async function waitDone(child: PeerHandle, timeoutMs: number): Promise<Of<'done'>> {
  const ok = await waitFor(() => child.done !== undefined || child.fatal !== undefined || !child.alive, timeoutMs, 20);
  if (!ok || !child.done) throw new Error(`${child.id} did not finish: ${child.errors.join('; ') || (ok ? 'exited' : 'timeout')}`);
  return child.done;
}
