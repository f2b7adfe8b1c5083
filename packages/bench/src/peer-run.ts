/**
 * Helpers of the side-by-side benchmarks (kcl-ts, lifion-kinesis, the raw SDK loop): start one
 * implementation in its own child process against kinesalite (itself in the emulator process),
 * wait until it polls every shard, and measure a window — CPU and memory from the child's own
 * `process.cpuUsage()` / `memoryUsage()`, GetRecords calls per shard from the emulator's count.
 * @module
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { waitUntil, type PeerHandle } from './children.js';
import type { RetrievalMode } from '@kcl-ts/fleet/worker-options';
import type { BenchContext, KinesisTarget } from './context.js';
import type { StreamCounts } from './emulators.js';
import type { PeerChildConfig, PeerImpl, PeerSample, WorkerTuning } from './messages.js';
import { median } from './stats.js';
import { seedLeaseTable } from './streams.js';

/** Display names of the implementations. */
export const IMPL_LABEL: Readonly<Record<PeerImpl, string>> = {
  'kcl-ts': 'kcl-ts (Worker from clientConfig, defaults)',
  lifion: 'lifion-kinesis 1.3.3 (defaults)',
  raw: 'raw AWS SDK v3 GetRecords loop',
};

/** The two consumer libraries, alternating which goes first per run. */
export function libraryOrder(run: number): ('kcl-ts' | 'lifion')[] {
  return run % 2 === 1 ? ['kcl-ts', 'lifion'] : ['lifion', 'kcl-ts'];
}

/** Options of {@link spawnPeer}. */
export interface PeerSpawn {
  readonly impl: PeerImpl;
  readonly stream: string;
  /** Unique per child: names its application (lease table / consumer group). */
  readonly id: string;
  readonly initialPosition: 'LATEST' | 'TRIM_HORIZON';
  readonly report?: 'records' | 'counts';
  readonly expectedRecords?: number;
  readonly processDelayMs?: number;
  readonly options?: WorkerTuning;
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
  let table = lifionTables.get(ctx.tag);
  if (!table) {
    const name = `bench-lifion-state-${ctx.tag}`;
    table = (async () => {
      await ctx.dynamoDb.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'consumerGroup', AttributeType: 'S' },
            { AttributeName: 'streamName', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'consumerGroup', KeyType: 'HASH' },
            { AttributeName: 'streamName', KeyType: 'RANGE' },
          ],
        }),
      );
      for (let i = 0; i < 300; i++) {
        const out = await ctx.dynamoDb.send(new DescribeTableCommand({ TableName: name }));
        if (out.Table?.TableStatus === 'ACTIVE') return name;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`table ${name} did not become ACTIVE`);
    })();
    lifionTables.set(ctx.tag, table);
  }
  return table;
}

/**
 * Starts one implementation in its own child process, pointed at kinesalite through the
 * counting front. Its lease / state table exists beforehand, as in production (kcl-ts: the
 * lease table named after the application; lifion: the shared state table).
 */
export async function spawnPeer(ctx: BenchContext, p: PeerSpawn): Promise<PeerHandle> {
  let options = p.options;
  if (p.impl === 'kcl-ts') await seedLeaseTable(ctx.dynamoDb, p.id, []);
  if (p.impl === 'lifion') options = { ...options, dynamoDbTableName: await lifionStateTable(ctx) };
  const config: PeerChildConfig = {
    mode: 'peer',
    impl: p.impl,
    kinesisEndpoint: (p.kinesis ?? ctx.kinesalite).endpoint,
    dynamoDbEndpoint: ctx.dynamoDbEndpoint,
    region: ctx.region,
    streamName: p.stream,
    applicationName: p.id,
    initialPosition: p.initialPosition,
    report: p.report ?? 'counts',
    memorySampleMs: 250,
    ...(p.expectedRecords !== undefined && { expectedRecords: p.expectedRecords }),
    ...(p.processDelayMs !== undefined && { processDelayMs: p.processDelayMs }),
    ...(options && { options }),
    ...(p.retrieval && { retrieval: p.retrieval }),
  };
  return ctx.children.spawn(p.id, config);
}

/** GetRecords calls per shard in `after` minus `before`. */
export function callsBetween(before: StreamCounts, after: StreamCounts): Map<string, number> {
  const out = new Map<string, number>();
  for (const [shard, n] of Object.entries(after.getRecords)) out.set(shard, n - (before.getRecords[shard] ?? 0));
  return out;
}

/**
 * Waits until the emulator saw at least `minCalls` GetRecords calls on each of `shardIds`
 * from this stream (every shard is being polled), or throws after `timeoutMs`.
 */
export async function waitPolling(ctx: BenchContext, child: PeerHandle, stream: string, shardIds: readonly string[], minCalls: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await ctx.emulators.counts(stream);
    const polled = shardIds.filter((s) => (counts.getRecords[s] ?? 0) >= minCalls).length;
    if (polled === shardIds.length) return;
    if (child.fatal || !child.alive) throw new Error(`${child.id} died before polling every shard: ${child.errors.join('; ')}`);
    if (Date.now() >= deadline) throw new Error(`${child.id} polled ${polled}/${shardIds.length} shards after ${timeoutMs} ms (${child.errors.join('; ')})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
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
  readonly start: PeerSample;
  readonly end: PeerSample;
}

/** Measures `seconds` of a running child: CPU, records, and GetRecords calls per shard. */
export async function measureWindow(ctx: BenchContext, child: PeerHandle, stream: string, shardIds: readonly string[], seconds: number): Promise<Window> {
  const [start, before] = await Promise.all([child.sample(), ctx.emulators.counts(stream)]);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const [end, after] = await Promise.all([child.sample(), ctx.emulators.counts(stream)]);
  const wall = (end.at - start.at) / 1000;
  const calls = callsBetween(before, after);
  return {
    seconds: wall,
    cpuPercent: ((end.cpuUs - start.cpuUs) / 1e6 / wall) * 100,
    callsPerShardPerSecond: shardIds.map((s) => (calls.get(s) ?? 0) / wall),
    processed: end.processed - start.processed,
    start,
    end,
  };
}

/** Stops a child (SIGTERM, then SIGKILL) and checks it did not report a fatal error. */
export async function stopPeer(child: PeerHandle): Promise<void> {
  await child.stop(20_000);
}

/** Waits for a child's `done` (or throws with its errors after `timeoutMs`). */
export async function waitDone(child: PeerHandle, timeoutMs: number): Promise<NonNullable<PeerHandle['done']>> {
  const ok = await waitUntil(() => child.done !== undefined || child.fatal !== undefined || !child.alive, timeoutMs, 20);
  if (!ok || !child.done) throw new Error(`${child.id} did not finish: ${child.errors.join('; ') || (ok ? 'exited' : 'timeout')}`);
  return child.done;
}

/** Median of per-shard values, and the busiest shard. */
export function perShard(values: readonly number[]): { readonly median: number; readonly max: number } {
  return { median: median(values), max: Math.max(...values) };
}
