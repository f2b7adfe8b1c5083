/**
 * How long a disrupted worker's shards took to be processed again by its peers (failover after
 * `kill -9`, handoff after SIGTERM), measured from the journals: the demo reports it, the fleet
 * benchmarks time it.
 * @module
 */
import { shardKey, type JournalLine, type LineOf } from './journal.js';

/** A kill or a graceful stop: which worker, when, and the shards it held at that moment ({@link shardKey}s). */
export interface Disruption {
  readonly workerId: string;
  readonly at: number;
  readonly heldShards: readonly string[];
}

/** How long until the shards of a disrupted worker were processed again by peers. */
export interface TakeoverReport {
  readonly workerId: string;
  readonly at: number;
  /** Per shard the worker held (and had not ended): who resumed it and how long it took. */
  readonly shards: readonly { readonly shardId: string; readonly by: string; readonly ms: number }[];
  /** Held shards on which no peer processed any record afterwards (no new data arrived there, or not yet). */
  readonly notResumed: readonly string[];
  readonly maxMs: number | undefined;
  readonly medianMs: number | undefined;
  /** `maxMs / leaseDurationMs`. */
  readonly leaseDurationMultiple: number | undefined;
}

/** The value at quantile `q` (0..1) of an ascending array (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Failover or handoff time: from the signal to a peer's first record on each shard the worker held (shards ended before the signal left out). */
export function takeover(disruption: Disruption, journals: readonly JournalLine[], leaseDurationMs: number): TakeoverReport {
  const endedAt = new Map<string, number>();
  const first = new Map<string, LineOf<'record'>>();
  for (const l of journals) {
    if (l.type === 'shard-ended') endedAt.set(shardKey(l.stream, l.shard), Math.max(endedAt.get(shardKey(l.stream, l.shard)) ?? -Infinity, l.at));
    if (l.type !== 'record' || l.worker === disruption.workerId || l.at < disruption.at) continue;
    const seen = first.get(shardKey(l.stream, l.shard));
    if (!seen || l.at < seen.at) first.set(shardKey(l.stream, l.shard), l);
  }
  const shards: { shardId: string; by: string; ms: number }[] = [];
  const notResumed: string[] = [];
  for (const shardId of [...new Set(disruption.heldShards)].sort()) {
    const ended = endedAt.get(shardId);
    if (ended !== undefined && ended <= disruption.at) continue; // nothing left to take over
    const r = first.get(shardId);
    if (r) shards.push({ shardId, by: r.worker, ms: r.at - disruption.at });
    else notResumed.push(shardId);
  }
  const times = shards.map((s) => s.ms).sort((a, b) => a - b);
  const maxMs = times.at(-1);
  const leaseDurationMultiple = maxMs === undefined ? undefined : Math.round((maxMs / leaseDurationMs) * 100) / 100;
  return { workerId: disruption.workerId, at: disruption.at, shards, notResumed, maxMs, medianMs: quantile(times, 0.5), leaseDurationMultiple };
}
