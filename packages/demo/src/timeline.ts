/**
 * The demo's timeline of disruptions: split, merge, kill -9 of the busiest worker, a
 * replacement under a new id, and a graceful stop, each at a fixed fraction of the run.
 * @module
 */
import { DescribeStreamSummaryCommand, MergeShardsCommand, SplitShardCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { isOpen, listShards, waitUntil, type Disruption, type Fleet, type WorkerHandle } from '@kcl-ts/fleet';
import { setTimeout as delay } from 'node:timers/promises';

/** The disruptions of a demo run, in order. */
export type TimelineStepName = 'split' | 'merge' | 'kill' | 'restart' | 'graceful-stop';

/** When each step runs, as a fraction of the run's duration. */
export const TIMELINE: readonly { readonly step: TimelineStepName; readonly at: number }[] = [
  { step: 'split', at: 0.2 },
  { step: 'merge', at: 0.35 },
  { step: 'kill', at: 0.5 },
  { step: 'restart', at: 0.62 },
  { step: 'graceful-stop', at: 0.78 },
];

/** What happened at one step. */
export interface StepOutcome {
  readonly step: TimelineStepName;
  readonly at: number;
  readonly ok: boolean;
  /** The step did not apply to this run (e.g. a graceful stop with a single worker left). */
  readonly skipped?: boolean;
  readonly detail: string;
}

/** Thrown by a step that does not apply to this run. */
class SkipStep extends Error {}

/** Polls DescribeStreamSummary until the stream is ACTIVE again. */
async function waitForActive(kinesis: KinesisClient, streamName: string): Promise<void> {
  const status = async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary?.StreamStatus;
  await waitUntil(async () => (await status()) === 'ACTIVE', { timeoutMs: 30_000, intervalMs: 100, message: `stream ${streamName} ACTIVE` });
}

const range = (s: Shard): [bigint, bigint] => [BigInt(s.HashKeyRange!.StartingHashKey!), BigInt(s.HashKeyRange!.EndingHashKey!)];

/** The open shard with the widest hash range and the key that splits it in the middle. */
export function chooseSplit(shards: readonly Shard[]): { shardId: string; newStartingHashKey: string } | undefined {
  let best: { shard: Shard; width: bigint } | undefined;
  for (const s of shards.filter(isOpen)) {
    const [start, end] = range(s);
    if (end <= start) continue;
    if (!best || end - start > best.width) best = { shard: s, width: end - start };
  }
  if (!best) return undefined;
  const [start, end] = range(best.shard);
  return { shardId: best.shard.ShardId!, newStartingHashKey: ((start + end + 1n) / 2n).toString() };
}

/** The first two open shards that are adjacent in hash-key order. */
export function chooseMerge(shards: readonly Shard[]): { shardId: string; adjacentShardId: string } | undefined {
  const open = shards.filter(isOpen).sort((a, b) => (range(a)[0] < range(b)[0] ? -1 : 1));
  for (let i = 0; i + 1 < open.length; i++) {
    const a = open[i]!;
    const b = open[i + 1]!;
    if (range(a)[1] + 1n === range(b)[0]) return { shardId: a.ShardId!, adjacentShardId: b.ShardId! };
  }
  return undefined;
}

/** The live worker holding the most leases (first started wins ties), optionally excluding some. */
export function busiestWorker(live: readonly Pick<WorkerHandle, 'workerId' | 'held'>[], exclude: ReadonlySet<string> = new Set()): Pick<WorkerHandle, 'workerId' | 'held'> | undefined {
  let best: Pick<WorkerHandle, 'workerId' | 'held'> | undefined;
  for (const h of live) {
    if (exclude.has(h.workerId)) continue;
    if (!best || h.held.size > best.held.size) best = h;
  }
  return best;
}

/** What a {@link Timeline} run needs. */
export interface TimelineOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly fleet: Fleet;
  readonly durationMs: number;
  /** A line for the event log. */
  readonly onEvent: (text: string) => void;
  /** The stream's shards changed (after a reshard). */
  readonly onReshard?: () => void;
}

/**
 * Runs the timeline against the stream and the fleet: split, merge, SIGKILL one worker and
 * start a replacement under a new id, then SIGTERM another. A failed step is reported and the
 * timeline goes on.
 */
export class Timeline {
  readonly outcomes: StepOutcome[] = [];
  kill: Disruption | undefined;
  gracefulStop: Disruption | undefined;
  private killedId: string | undefined;
  private restartedId: string | undefined;
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;

  constructor(private readonly options: TimelineOptions) {}

  /** Starts the timeline, counted from `startedAt` (a `Date.now()` value). */
  start(startedAt: number): void {
    this.done ??= this.run(startedAt);
  }

  /** Skips the steps not yet started and waits for the one in progress. */
  async cancel(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async run(startedAt: number): Promise<void> {
    for (const { step, at } of TIMELINE) {
      const wait = startedAt + at * this.options.durationMs - Date.now();
      try {
        if (wait > 0) await delay(wait, undefined, { signal: this.abort.signal });
      } catch {
        return; // cancelled
      }
      if (this.abort.signal.aborted) return;
      const time = Date.now();
      let outcome: StepOutcome;
      try {
        outcome = { step, at: time, ok: true, detail: await this.runStep(step) };
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        outcome = error instanceof SkipStep ? { step, at: time, ok: true, skipped: true, detail } : { step, at: time, ok: false, detail };
      }
      this.outcomes.push(outcome);
      this.options.onEvent(`${outcome.skipped ? 'CHAOS SKIPPED' : outcome.ok ? 'CHAOS' : 'CHAOS FAILED'} ${step}: ${outcome.detail}`);
    }
  }

  /** Reshards the stream as `choose` says (once it is ACTIVE), waits until it is ACTIVE again, and says what it did. */
  private async reshard<C>(choose: (shards: readonly Shard[]) => C | undefined, none: string, act: (c: C) => Promise<unknown>, done: (c: C) => string): Promise<string> {
    const { kinesis, streamName } = this.options;
    await waitForActive(kinesis, streamName);
    const choice = choose(await listShards(kinesis, streamName));
    if (!choice) throw new Error(none);
    await act(choice);
    await waitForActive(kinesis, streamName);
    this.options.onReshard?.();
    return done(choice);
  }

  /** Signals the chosen worker and records the disruption. */
  private disrupt(chosen: Pick<WorkerHandle, 'workerId'>, signal: 'SIGKILL' | 'SIGTERM'): [Disruption, string] {
    const victim = this.options.fleet.get(chosen.workerId);
    const heldShards = [...victim.held].sort();
    const at = signal === 'SIGKILL' ? victim.kill9() : victim.terminate();
    return [{ workerId: victim.workerId, at, heldShards }, `${signal} ${victim.workerId} (pid ${victim.pid}) holding ${heldShards.length} lease(s): ${heldShards.join(', ') || '-'}`];
  }

  private async runStep(step: TimelineStepName): Promise<string> {
    const { kinesis, streamName, fleet } = this.options;
    switch (step) {
      case 'split':
        return this.reshard(chooseSplit, 'no open shard can be split', (c) => kinesis.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: c.shardId, NewStartingHashKey: c.newStartingHashKey })), (c) => `split ${c.shardId} at the middle of its hash range`);
      case 'merge':
        return this.reshard(chooseMerge, 'no two adjacent open shards', (c) => kinesis.send(new MergeShardsCommand({ StreamName: streamName, ShardToMerge: c.shardId, AdjacentShardToMerge: c.adjacentShardId })), (c) => `merged ${c.shardId} + ${c.adjacentShardId}`);
      case 'kill': {
        const chosen = busiestWorker(fleet.live());
        if (!chosen) throw new Error('no live worker to kill');
        const [kill, text] = this.disrupt(chosen, 'SIGKILL');
        this.kill = kill;
        this.killedId = kill.workerId;
        return text;
      }
      case 'restart': {
        if (!this.killedId) throw new Error('nothing was killed');
        // A new id: the dead worker's leases must expire and be taken, not adopted by a namesake.
        const id = `${this.killedId}b`;
        const handle = await fleet.restart(this.killedId, id);
        this.restartedId = id;
        return `started ${id} (pid ${handle.pid}) to replace ${this.killedId}`;
      }
      case 'graceful-stop': {
        const live = fleet.live();
        if (live.length < 2) throw new SkipStep(`needs 2 live workers so one is left to take over, have ${live.length}`);
        const chosen = busiestWorker(live, new Set(this.restartedId && live.length > 2 ? [this.restartedId] : []));
        if (!chosen) throw new Error('no worker to stop');
        const [stop, text] = this.disrupt(chosen, 'SIGTERM');
        this.gracefulStop = stop;
        return text;
      }
    }
  }
}
