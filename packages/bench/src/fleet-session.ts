/**
 * One fleet session of the failover and handoff benchmarks: three Worker processes share a
 * 6-shard stream (leases seeded 2/2/2), a steady producer writes to every shard; then,
 * optionally, one worker is stopped gracefully (SIGTERM) and, optionally, one is killed
 * (SIGKILL). For each, the time until a peer processes a record on every shard the victim held.
 * @module
 */
import { checkInvariants, Fleet, takeover, waitFor, type RetrievalMode, type WorkerHandle, type WorkerTuning } from '@kcl-ts/fleet';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { createStream, dropStreamAndTable, seedLeaseTable, startShardProducer, type Producer } from './streams.js';

/** Shards of the fleet stream. */
export const FLEET_SHARDS = 6;
/** Worker processes of the fleet. */
export const FLEET_WORKERS = 3;

/** The outcome of one phase (handoff or failover). */
export interface PhaseResult {
  /** Shards the victim held when it was signalled. */
  readonly shards: readonly string[];
  /** Signal → first record processed by a peer, per shard (ms); the deadline when none came. */
  readonly perShardMs: Readonly<Record<string, number>>;
  /** Max over the shards (ms). */
  readonly maxMs: number;
  /** True when some shard was not picked up before the deadline. */
  readonly timedOut: boolean;
  /** Whether the fleet was steady (every shard held once and flowing) before the signal. */
  readonly steadyBefore: boolean;
}

/** The outcome of one session. */
export interface SessionResult {
  readonly handoff?: PhaseResult & { readonly duplicates: number };
  readonly failover?: PhaseResult;
  readonly errors: readonly string[];
}

/** A benchmark fleet: worker processes of the fleet harness on one stream, and a producer writing to every shard. */
export interface BenchFleet {
  readonly fleet: Fleet;
  readonly producer: Producer;
  readonly shardIds: readonly string[];
  /** Every worker id of the session, the started ones first. */
  readonly ids: readonly string[];
  /** Records processed more than once, per the oracle over the journals. */
  duplicates(): number;
}

/**
 * The shape of a {@link benchFleetSession}: `workers` ids (`<name>-w0`, …), of which the first
 * `started` hold the seeded leases and start at once; one record per shard every `intervalMs`.
 */
export type SessionShape = Readonly<Record<'shards' | 'workers' | 'started' | 'intervalMs', number>> & { readonly tuning: WorkerTuning; readonly retrieval?: RetrievalMode };

/**
 * Runs `body` with a fleet on a fresh stream `name` of the Kinesis Mock (also the application
 * name), then stops the producer and the fleet and deletes the stream and its lease table.
 */
export async function benchFleetSession<R>(ctx: BenchContext, name: string, shape: SessionShape, body: (f: BenchFleet) => Promise<R>): Promise<R> {
  const shards = await createStream(ctx.kinesisMock.client, name, shape.shards);
  const ids = Array.from({ length: shape.workers }, (_, i) => `${name}-w${i}`);
  await seedLeaseTable(ctx.dynamoDb, name, shards, ids.slice(0, shape.started), 'TRIM_HORIZON');
  const producer = startShardProducer(ctx.kinesisMock.client, name, shards, shape.intervalMs);
  const fleet = new Fleet({
    dir: join(ctx.logDir, name),
    base: {
      applicationName: name,
      streams: [name],
      retrieval: shape.retrieval ?? 'polling',
      region: ctx.region,
      kinesisEndpoint: ctx.kinesisMock.endpoint,
      dynamoDbEndpoint: ctx.dynamoDbEndpoint,
      logLevel: 'warn',
      progressIntervalMs: 100,
      countRequests: true, // the rebalance benchmark reads the DynamoDB requests per command
      worker: shape.tuning,
    },
  });
  for (const id of ids.slice(0, shape.started)) fleet.spawn(id);
  const duplicates = (): number => checkInvariants({ journals: fleet.journals(), puts: producer.keyed.acked, shards: [] }).summary.duplicates;
  try {
    return await body({ fleet, producer, shardIds: shards.map((s) => s.ShardId!), ids, duplicates });
  } finally {
    await producer.stop();
    await fleet.terminateAll(20_000);
    await dropStreamAndTable(ctx.kinesisMock.client, ctx.dynamoDb, name, name);
  }
}

/**
 * True when the live workers' latest reports hold every shard exactly once and each holder
 * processed a record of each of its shards in the last `freshMs`.
 */
export function isSteady(live: readonly WorkerHandle[], shardIds: readonly string[], freshMs: number): boolean {
  const now = Date.now();
  const owners = new Map<string, WorkerHandle[]>();
  for (const w of live) {
    if (w.startedAt === undefined || !w.progress) return false;
    for (const s of heldNow(w)) owners.set(s, [...(owners.get(s) ?? []), w]);
  }
  return shardIds.every((s) => {
    const o = owners.get(s);
    if (o?.length !== 1) return false;
    const lines = o[0]!.journal();
    for (let i = lines.length - 1; i >= 0 && lines[i]!.at >= now - freshMs; i--) {
      const l = lines[i]!;
      if (l.type === 'record' && l.shard === s) return true;
    }
    return false;
  });
}

/** Waits until {@link isSteady} held continuously for `stableMs`; false after `timeoutMs`. */
export async function waitSteady(live: readonly WorkerHandle[], shardIds: readonly string[], timeoutMs: number, stableMs = 1_000): Promise<boolean> {
  let since: number | undefined;
  return waitFor(() => (isSteady(live, shardIds, 2_000) ? Date.now() - (since ??= Date.now()) >= stableMs : (since = undefined)), timeoutMs, 50);
}

/**
 * Sleeps a random time in [0, `periodMs`): the workers start together, so without it the
 * signal would always land at the same phase of their renewer and taker loops.
 */
const randomPhase = (periodMs: number): Promise<void> => delay(Math.floor(Math.random() * periodMs));

/** Signals the victim and waits until peers processed a record on each of its shards (per their journals). */
async function phase(fleet: Fleet, victim: WorkerHandle, signal: 'SIGTERM' | 'SIGKILL', leaseMs: number, steadyBefore: boolean): Promise<PhaseResult> {
  const shards = heldNow(victim);
  const at = signal === 'SIGKILL' ? victim.kill9() : victim.terminate();
  const deadlineMs = 10 * leaseMs;
  const measure = () => takeover({ workerId: victim.workerId, at, heldShards: shards }, fleet.journals(), leaseMs);
  const complete = await waitFor(() => measure().notResumed.length === 0, deadlineMs, 20);
  const result = measure();
  const perShardMs: Record<string, number> = Object.fromEntries([...result.shards.map((s) => [s.shardId, s.ms] as const), ...result.notResumed.map((s) => [s, deadlineMs] as const)]);
  const values = Object.values(perShardMs);
  return { shards, perShardMs, maxMs: values.length ? Math.max(...values) : Number.NaN, timedOut: !complete, steadyBefore };
}

/** Shards a worker holds per its latest report (none once it was signalled or exited). */
export function heldNow(w: WorkerHandle): string[] {
  return w.alive && !w.signalled ? [...w.held] : [];
}

/** Runs one session with the given Worker tuning. */
export async function runFleetSession(ctx: BenchContext, label: string, run: number, tuning: WorkerTuning, phases: { readonly handoff: boolean; readonly failover: boolean }): Promise<SessionResult> {
  const leaseMs = tuning.leases!.leaseDurationMs!;
  const takerMs = tuning.leases!.takerIntervalMs ?? Math.floor(leaseMs / 5);
  const errors: string[] = [];
  let workers: readonly WorkerHandle[] = [];
  const shape = { shards: FLEET_SHARDS, workers: FLEET_WORKERS, started: FLEET_WORKERS, tuning, intervalMs: 200 };
  const result = await benchFleetSession(ctx, `bench-fleet-${label}-${run}-${ctx.tag}`, shape, async ({ fleet, shardIds, duplicates }) => {
    workers = [...fleet.workers];
    let handoff: SessionResult['handoff'];
    let failover: SessionResult['failover'];
    let steady = await waitSteady(workers, shardIds, 45_000);
    if (!steady) errors.push(`${label} run ${run}: the fleet was not steady 45 s after start`);
    if (phases.handoff) {
      await randomPhase(takerMs);
      const victim = workers[0]!;
      const result = await phase(fleet, victim, 'SIGTERM', leaseMs, steady);
      await victim.waitForExit(20_000);
      // Let the new owners deliver their first batches before counting duplicates.
      await delay(1_500);
      handoff = { ...result, duplicates: duplicates() };
    }
    if (phases.failover) {
      const live = workers.filter((w) => w.alive && !w.signalled);
      steady = await waitSteady(live, shardIds, 45_000);
      if (!steady) errors.push(`${label} run ${run}: the fleet was not steady before the kill`);
      await randomPhase(takerMs);
      const victim = [...live].sort((a, b) => heldNow(b).length - heldNow(a).length)[0]!;
      failover = await phase(fleet, victim, 'SIGKILL', leaseMs, steady);
    }
    return { ...(handoff && { handoff }), ...(failover && { failover }) };
  });
  for (const w of workers) for (const e of w.errors) errors.push(`${w.id}: ${e}`);
  return { ...result, errors };
}
