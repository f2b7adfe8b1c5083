import type { CheckpointEntry, Journals, LeaseEntry, RecordEntry } from './journal.js';

// The verdict is a pure function of what was put (acknowledged by PutRecords), what the
// journals say was processed, the shard lineage and the chaos timeline. It is unit-tested on
// synthetic journals, including ones that must fail.

/** A record the producer put and Kinesis acknowledged. */
export interface PutRecord {
  readonly key: string;
  readonly n: number;
  readonly putAt: number;
  readonly shardId: string;
  readonly seq: string;
}

/** A kill or a graceful stop: which worker, when, and the shards it held at that moment. */
export interface Disruption {
  readonly workerId: string;
  readonly at: number;
  readonly heldShards: readonly string[];
}

/** A shard and its parents (one after a split, two after a merge, none for the original shards). */
export interface ShardLineage {
  readonly shardId: string;
  readonly parents: readonly string[];
}

/** Everything the verdict is computed from. */
export interface VerdictInput {
  readonly puts: readonly PutRecord[];
  readonly journals: Journals;
  readonly lineage: readonly ShardLineage[];
  readonly kill?: Disruption;
  readonly gracefulStop?: Disruption;
  readonly leaseDurationMs: number;
}

/** Why a record was processed more than once. */
export type DuplicateReason =
  | 'after-kill-before-checkpoint'
  | 'after-kill-but-checkpointed'
  | 'after-graceful-stop'
  | 'same-worker-twice'
  | 'after-lease-taken'
  | 'ownership-change'
  | 'processed-three-or-more-times';

/** The reasons counted as expected: at-least-once delivery after a crash. */
export const EXPECTED_DUPLICATE_REASONS: readonly DuplicateReason[] = ['after-kill-before-checkpoint'];

/** How long until the shards of a disrupted worker were processed again by peers. */
export interface TakeoverReport {
  readonly workerId: string;
  readonly at: number;
  /** Per shard the worker held (and had not ended): who resumed it and how long it took. */
  readonly shards: readonly { readonly shardId: string; readonly by: string; readonly ms: number }[];
  /** Held shards on which no peer processed any record afterwards (no new data arrived there). */
  readonly notResumed: readonly string[];
  readonly maxMs: number | undefined;
  readonly medianMs: number | undefined;
  /** `maxMs / leaseDurationMs`. */
  readonly leaseDurationMultiple: number | undefined;
}

/** A child shard that processed a record before one of its parents ended. */
export interface EarlyChild {
  readonly child: string;
  readonly parent: string;
  readonly childFirstAt: number;
  /** `undefined` when the parent never reached its end. */
  readonly parentEndedAt: number | undefined;
}

/** A record first processed before a record of the same key that was put earlier. */
export interface OrderViolation {
  readonly key: string;
  readonly n: number;
  readonly firstAt: number;
  readonly earlierN: number;
  readonly earlierFirstAt: number;
}

/** The outcome of a demo run. */
export interface Verdict {
  readonly ok: boolean;
  /** Human-readable reasons for `ok === false`. */
  readonly failures: readonly string[];
  readonly put: number;
  /** Distinct (key, n) processed at least once. */
  readonly processedDistinct: number;
  /** Every processing, duplicates included. */
  readonly processedTotal: number;
  readonly lost: number;
  readonly lostSample: readonly { readonly key: string; readonly n: number }[];
  /** Processed records the producer never saw acknowledged (a put whose answer was lost). */
  readonly processedButNotAcknowledged: number;
  readonly duplicates: {
    /** Extra processings of the same Kinesis record (same shard, sequence and sub-sequence number). */
    readonly total: number;
    readonly expected: number;
    readonly unexpected: number;
    readonly byReason: Readonly<Partial<Record<DuplicateReason, number>>>;
    /** The same (key, n) stored twice by Kinesis because the producer retried; not a consumer duplicate. */
    readonly producerRetries: number;
  };
  readonly orderViolations: number;
  readonly orderSample: readonly OrderViolation[];
  readonly childShards: number;
  readonly earlyChildren: readonly EarlyChild[];
  readonly failover: TakeoverReport | undefined;
  readonly handoff: TakeoverReport | undefined;
  /** Put → first processing, over distinct records. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number } | undefined;
  readonly tornJournalLines: number;
}

const SAMPLE = 5;

/** The value at quantile `q` (0..1) of an ascending array (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** Compares (sequence, sub-sequence) positions; sequence numbers are 128-bit decimals. */
export function comparePosition(aSeq: string, aSub: number | undefined, bSeq: string, bSub: number | undefined): number {
  const a = BigInt(aSeq);
  const b = BigInt(bSeq);
  if (a !== b) return a < b ? -1 : 1;
  return (aSub ?? 0) - (bSub ?? 0);
}

const recordKey = (key: string, n: number): string => `${key}\u0000${n}`;
const physicalKey = (r: RecordEntry): string => `${r.shard}\u0000${r.seq}\u0000${r.subSeq ?? ''}`;

function lastCheckpoints(checkpoints: readonly CheckpointEntry[], workerId: string): Map<string, CheckpointEntry> {
  const last = new Map<string, CheckpointEntry>();
  for (const c of checkpoints) {
    if (c.worker !== workerId) continue;
    const prev = last.get(c.shard);
    if (!prev || comparePosition(c.seq, c.subSeq, prev.seq, prev.subSeq) > 0) last.set(c.shard, c);
  }
  return last;
}

/** Attributes one group of processings of the same Kinesis record (sorted by time, length ≥ 2). */
export function duplicateReason(
  group: readonly RecordEntry[],
  input: Pick<VerdictInput, 'kill' | 'gracefulStop'>,
  killedCheckpoints: ReadonlyMap<string, CheckpointEntry>,
  leases: readonly LeaseEntry[] = [],
): DuplicateReason {
  const [first, second] = group as [RecordEntry, RecordEntry];
  if (group.length > 2) return 'processed-three-or-more-times';
  if (first.worker === second.worker) return 'same-worker-twice';
  const { kill, gracefulStop } = input;
  if (kill && first.worker === kill.workerId && first.processedAt <= kill.at && second.processedAt >= kill.at) {
    // The killed worker processed it and died; a peer resumed from the last checkpoint. That is
    // at-least-once delivery, as long as the record came after the killed worker's last
    // checkpoint on that shard (a checkpointed record must never be delivered again).
    const cp = killedCheckpoints.get(first.shard);
    const afterCheckpoint = !cp || comparePosition(first.seq, first.subSeq, cp.seq, cp.subSeq) > 0;
    return afterCheckpoint ? 'after-kill-before-checkpoint' : 'after-kill-but-checkpointed';
  }
  if (gracefulStop && first.worker === gracefulStop.workerId && second.processedAt >= gracefulStop.at) return 'after-graceful-stop';
  // A live owner whose lease was taken (a hard steal) before it could checkpoint.
  const taken = leases.some(
    (l) => l.worker === first.worker && l.shard === first.shard && l.event === 'lost' && l.reason === 'taken' && l.at <= second.processedAt,
  );
  return taken ? 'after-lease-taken' : 'ownership-change';
}

function takeover(disruption: Disruption | undefined, byShard: ReadonlyMap<string, RecordEntry[]>, endedAt: ReadonlyMap<string, number>, leaseDurationMs: number): TakeoverReport | undefined {
  if (!disruption) return undefined;
  const shards: { shardId: string; by: string; ms: number }[] = [];
  const notResumed: string[] = [];
  for (const shardId of [...new Set(disruption.heldShards)].sort()) {
    const ended = endedAt.get(shardId);
    if (ended !== undefined && ended <= disruption.at) continue; // nothing left to take over
    let first: RecordEntry | undefined;
    for (const r of byShard.get(shardId) ?? []) {
      if (r.worker === disruption.workerId || r.processedAt < disruption.at) continue;
      if (!first || r.processedAt < first.processedAt) first = r;
    }
    if (first) shards.push({ shardId, by: first.worker, ms: first.processedAt - disruption.at });
    else notResumed.push(shardId);
  }
  const times = shards.map((s) => s.ms).sort((a, b) => a - b);
  const maxMs = times.length > 0 ? times[times.length - 1] : undefined;
  return {
    workerId: disruption.workerId,
    at: disruption.at,
    shards,
    notResumed,
    maxMs,
    medianMs: quantile(times, 0.5),
    leaseDurationMultiple: maxMs === undefined ? undefined : Math.round((maxMs / leaseDurationMs) * 100) / 100,
  };
}

/** Computes the verdict of a demo run. */
export function computeVerdict(input: VerdictInput): Verdict {
  const { records, ends, checkpoints, tornLines } = input.journals;

  // Group every processing by (key, n) and by physical Kinesis record.
  const byRecord = new Map<string, RecordEntry[]>();
  const byPhysical = new Map<string, RecordEntry[]>();
  const byShard = new Map<string, RecordEntry[]>();
  for (const r of records) {
    const rk = recordKey(r.key, r.n);
    (byRecord.get(rk) ?? byRecord.set(rk, []).get(rk)!).push(r);
    const pk = physicalKey(r);
    (byPhysical.get(pk) ?? byPhysical.set(pk, []).get(pk)!).push(r);
    (byShard.get(r.shard) ?? byShard.set(r.shard, []).get(r.shard)!).push(r);
  }

  // Lost: acknowledged but never processed.
  const putKeys = new Set<string>();
  const lostSample: { key: string; n: number }[] = [];
  let lost = 0;
  for (const p of input.puts) {
    const rk = recordKey(p.key, p.n);
    putKeys.add(rk);
    if (!byRecord.has(rk)) {
      lost++;
      if (lostSample.length < SAMPLE) lostSample.push({ key: p.key, n: p.n });
    }
  }
  let processedButNotAcknowledged = 0;
  for (const rk of byRecord.keys()) if (!putKeys.has(rk)) processedButNotAcknowledged++;

  // Duplicates: the same physical record processed more than once, attributed.
  const killedCheckpoints = input.kill ? lastCheckpoints(checkpoints, input.kill.workerId) : new Map<string, CheckpointEntry>();
  const byReason: Partial<Record<DuplicateReason, number>> = {};
  let total = 0;
  let expected = 0;
  for (const group of byPhysical.values()) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((a, b) => a.processedAt - b.processedAt);
    const reason = duplicateReason(sorted, input, killedCheckpoints, input.journals.leases);
    const extra = group.length - 1;
    total += extra;
    byReason[reason] = (byReason[reason] ?? 0) + extra;
    if (EXPECTED_DUPLICATE_REASONS.includes(reason)) expected += extra;
  }
  let producerRetries = 0;
  for (const group of byRecord.values()) producerRetries += new Set(group.map(physicalKey)).size - 1;

  // Order: per key, the first processing of each n must not precede that of a smaller n.
  const firstAt = new Map<string, Map<number, number>>();
  for (const r of records) {
    let perKey = firstAt.get(r.key);
    if (!perKey) firstAt.set(r.key, (perKey = new Map()));
    const prev = perKey.get(r.n);
    if (prev === undefined || r.processedAt < prev) perKey.set(r.n, r.processedAt);
  }
  let orderViolations = 0;
  const orderSample: OrderViolation[] = [];
  for (const [key, perKey] of firstAt) {
    let maxAt = Number.NEGATIVE_INFINITY;
    let maxN = -1;
    for (const n of [...perKey.keys()].sort((a, b) => a - b)) {
      const at = perKey.get(n)!;
      if (at < maxAt) {
        orderViolations++;
        if (orderSample.length < SAMPLE) orderSample.push({ key, n, firstAt: at, earlierN: maxN, earlierFirstAt: maxAt });
      } else {
        maxAt = at;
        maxN = n;
      }
    }
  }

  // Children must not process anything before every parent ended. A shard may be ended twice
  // if a SHARD_END checkpoint failed; the later one is the one that let the children start.
  const endedAt = new Map<string, number>();
  for (const e of ends) endedAt.set(e.shard, Math.max(endedAt.get(e.shard) ?? Number.NEGATIVE_INFINITY, e.endedAt));
  const earlyChildren: EarlyChild[] = [];
  let childShards = 0;
  for (const { shardId, parents } of input.lineage) {
    if (parents.length === 0) continue;
    childShards++;
    const childRecords = byShard.get(shardId);
    if (!childRecords || childRecords.length === 0) continue;
    const childFirstAt = Math.min(...childRecords.map((r) => r.processedAt));
    for (const parent of parents) {
      const parentEndedAt = endedAt.get(parent);
      if (parentEndedAt === undefined || childFirstAt < parentEndedAt) earlyChildren.push({ child: shardId, parent, childFirstAt, parentEndedAt });
    }
  }

  const latencies: number[] = [];
  for (const group of byRecord.values()) {
    const first = group.reduce((a, b) => (b.processedAt < a.processedAt ? b : a));
    latencies.push(first.processedAt - first.putAt);
  }
  latencies.sort((a, b) => a - b);

  const unexpected = total - expected;
  const failures: string[] = [];
  if (lost > 0) failures.push(`${lost} record(s) lost`);
  if (orderViolations > 0) failures.push(`${orderViolations} per-key order violation(s)`);
  if (earlyChildren.length > 0) failures.push(`${earlyChildren.length} child shard(s) started before a parent ended`);
  if (unexpected > 0) failures.push(`${unexpected} unexpected duplicate(s)`);

  return {
    ok: failures.length === 0,
    failures,
    put: input.puts.length,
    processedDistinct: byRecord.size,
    processedTotal: records.length,
    lost,
    lostSample,
    processedButNotAcknowledged,
    duplicates: { total, expected, unexpected, byReason, producerRetries },
    orderViolations,
    orderSample,
    childShards,
    earlyChildren,
    failover: takeover(input.kill, byShard, endedAt, input.leaseDurationMs),
    handoff: takeover(input.gracefulStop, byShard, endedAt, input.leaseDurationMs),
    latencyMs: latencies.length > 0 ? { p50: quantile(latencies, 0.5)!, p99: quantile(latencies, 0.99)!, max: latencies[latencies.length - 1]! } : undefined,
    tornJournalLines: tornLines,
  };
}
