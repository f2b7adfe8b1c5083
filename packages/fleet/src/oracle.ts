/**
 * The oracle (the invariant checker), the one verdict of the demo, the chaos suite and the
 * fleet benchmarks: given every worker's journal, the producer's acknowledged puts, the
 * stream's shard lineage (ListShards at the end) and, optionally, the final lease table, it
 * decides whether the fleet behaved like a correct KCL. Pure: no I/O, no clock.
 *
 * Vocabulary: an *epoch* is one processor instance — one worker's continuous ownership of
 * one shard, from `initialize` to its end. Times are the journals' wall-clock `at` values;
 * all processes run on one machine, so they share that clock.
 *
 * What is checked, and why each check is sound (it cannot fail for a correct library):
 *
 * - `no-loss`: every acknowledged put was processed at least once.
 * - `no-phantom`: every processed record was put, on the shard and at the sequence number
 *   the stream acknowledged.
 * - `epoch-order`: within an epoch, records come in strictly increasing sequence-number
 *   order, so the `n` of each key strictly increases (the producer writes a key's records
 *   in `n` order).
 * - `start-position`: an epoch delivers only records after the checkpoint it started from.
 * - `zombie-checkpoint`: no checkpoint is accepted whose request was *sent* after another
 *   worker acquired the shard (and before this worker acquired it again). Sound because a
 *   worker journals `leaseAcquired` only after its take was written, and a checkpoint line's
 *   `sentAt` is taken before the write is sent: if `sentAt` is later, the take preceded
 *   the write, which the fenced checkpoint must then reject.
 * - `checkpoint-regression`: an epoch never starts behind a checkpoint accepted (by another
 *   epoch of the shard) before it initialized. Either the take preceded that write (a fencing
 *   failure) or the taker read a stale lease; both lose progress or duplicate.
 * - `final-checkpoint` (with the lease table, read after every worker exited): a lease's
 *   stored checkpoint is not behind any accepted checkpoint of its shard, and if it is ahead
 *   of all of them it is a checkpoint some worker sent whose outcome was not a rejection
 *   (a worker killed between the write and its journal line, or a write whose response was lost).
 * - `parent-before-child`: a child's first record is processed after the first processing of
 *   every record of each parent, and after a `SHARD_END` checkpoint of each parent was sent.
 * - `duplicates`: a record is never processed twice by one epoch; when two epochs process
 *   it, the one that started first ended without a graceful handoff (no accepted
 *   shutdown/shard-end checkpoint) and had not checkpointed that record.
 *
 * Several streams (a multi-stream worker): shard ids and the producer's keys repeat across
 * streams, so journal lines, puts and lineage name their `stream`, and every check keys a
 * shard by (stream, shard) and a record by (stream, key, n); multi-stream lease keys
 * (`account:stream:creationEpoch:shard`) are read the same way. {@link checkInvariantsByStream}
 * gives one verdict per stream besides the overall one.
 * @module
 */
import { leaseShard, shardKey, type JournalLine, type LineOf } from './journal.js';
import { comparePositions, maxPosition, rankOf, showPosition, type Position } from './positions.js';

/** A shard and its parents, as ListShards reports them. */
export interface ShardLineage {
  /** The shard's stream, when several streams are checked together. */
  readonly stream?: string;
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly adjacentParentShardId?: string;
}

/** A put acknowledged by the stream. */
export interface PutRecordAck {
  /** The stream, when several streams are checked together. */
  readonly stream?: string;
  readonly key: string;
  readonly n: number;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** One row of the final lease table (Java KCL attribute names). */
export interface LeaseRow {
  readonly leaseKey: string;
  readonly leaseOwner?: string;
  readonly leaseCounter?: number;
  readonly checkpoint: string;
  readonly checkpointSubSequenceNumber?: number;
  /** kcl-ts extension: a pending graceful-handoff request (the requesting worker). */
  readonly handoffTo?: string;
}

/** Input of {@link checkInvariants}. */
export interface CheckInput {
  /** Every line of every journal (per-file order preserved). */
  readonly journals: readonly JournalLine[];
  /** Every acknowledged put. */
  readonly puts: readonly PutRecordAck[];
  /** The stream's shards with their parents. */
  readonly shards: readonly ShardLineage[];
  /** The final lease table, read after every worker exited (omit to skip `final-checkpoint`). */
  readonly leases?: readonly LeaseRow[];
}

/** Names of the invariants. */
export type InvariantName =
  | 'no-loss'
  | 'no-phantom'
  | 'epoch-order'
  | 'start-position'
  | 'zombie-checkpoint'
  | 'checkpoint-regression'
  | 'final-checkpoint'
  | 'parent-before-child'
  | 'duplicates';

/** One broken invariant. */
export interface Violation {
  readonly invariant: InvariantName;
  readonly message: string;
  readonly shard?: string;
  readonly worker?: string;
  readonly epoch?: string;
}

/** Counts describing a run. */
export interface VerdictSummary {
  readonly puts: number;
  readonly recordsProcessed: number;
  readonly distinctProcessed: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly epochs: number;
  readonly checkpointsAccepted: number;
  readonly checkpointsRejected: number;
  readonly checkpointsFailed: number;
  /** Records processed by an epoch after a later epoch of the same shard had initialized (a zombie's work). */
  readonly recordsAfterSuccessorStarted: number;
  /** Records processed per worker. */
  readonly recordsByWorker: Readonly<Record<string, number>>;
  /** `leaseLost` events per reason. */
  readonly leaseLossReasons: Readonly<Record<string, number>>;
}

/** The checker's verdict. */
export interface Verdict {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly summary: VerdictSummary;
}

type RecordLine = LineOf<'record'>;
type CheckpointLine = LineOf<'checkpoint'>;

interface Epoch {
  readonly id: string;
  readonly worker: string;
  readonly shard: string;
  init?: LineOf<'init'>;
  readonly records: RecordLine[];
  readonly accepted: CheckpointLine[];
  readonly begun: LineOf<'checkpoint-begin'>[];
  readonly rejected: LineOf<'checkpoint-rejected'>[];
  /** Earliest `at` of any line of the epoch. */
  firstAt: number;
}

const recordId = (key: string, n: number): string => `${key}#${n}`;
const pos = (l: { seq: string; sub: number }): Position => ({ seq: l.seq, sub: l.sub ?? 0 });

/** Most violations reported per invariant and shard (the rest are counted in the message of the last one). */
const MAX_EXAMPLES = 5;

/**
 * The input with every shard named by its {@link shardKey} and every key prefixed with its
 * stream, so the checks below, written for one stream, key everything by (stream, shard).
 * Unchanged when nothing names a stream.
 */
function qualify(input: CheckInput): CheckInput {
  const named = input.journals.some((l) => l.stream !== undefined) || input.puts.some((p) => p.stream !== undefined) || input.shards.some((s) => s.stream !== undefined);
  if (!named) return input;
  const q = (stream: string | undefined, shard: string): string => shardKey(stream, shard);
  const journals = input.journals.map((l): JournalLine => {
    if (l.stream === undefined || !('shard' in l)) return l;
    if (l.type === 'record') return { ...l, shard: q(l.stream, l.shard), key: `${l.stream}/${l.key}` };
    if (l.type === 'event' && l.children) return { ...l, shard: q(l.stream, l.shard), children: l.children.map((c) => q(l.stream, c)) };
    return { ...l, shard: q(l.stream, l.shard) };
  });
  const puts = input.puts.map((p) => (p.stream === undefined ? p : { ...p, key: `${p.stream}/${p.key}`, shardId: q(p.stream, p.shardId) }));
  const shards = input.shards.map((s) =>
    s.stream === undefined
      ? s
      : {
          shardId: q(s.stream, s.shardId),
          ...(s.parentShardId && { parentShardId: q(s.stream, s.parentShardId) }),
          ...(s.adjacentParentShardId && { adjacentParentShardId: q(s.stream, s.adjacentParentShardId) }),
        },
  );
  const leases = input.leases?.map((l) => {
    const { stream, shard } = leaseShard(l.leaseKey);
    return { ...l, leaseKey: q(stream, shard) };
  });
  return { journals, puts, shards, ...(leases && { leases }) };
}

/**
 * Checks every invariant; see the module documentation for what each one means. With
 * several streams, every shard is keyed by (stream, shard) and every record by (stream, key, n).
 */
export function checkInvariants(raw: CheckInput): Verdict {
  const input = qualify(raw);
  const violations: Violation[] = [];
  const epochs = collectEpochs(input.journals);
  const records = input.journals.filter((l): l is RecordLine => l.type === 'record');

  checkLossAndPhantoms(input, records, violations);
  checkEpochOrderAndStart(epochs, violations);
  checkZombieCheckpoints(input.journals, violations);
  checkRegression(epochs, violations);
  if (input.leases) checkFinalCheckpoints(input.leases, input.journals, violations);
  checkParentBeforeChild(input.shards, records, input.journals, violations);
  const duplicates = checkDuplicates(epochs, records, violations);

  const byWorker: Record<string, number> = {};
  for (const r of records) byWorker[r.worker] = (byWorker[r.worker] ?? 0) + 1;
  const reasons: Record<string, number> = {};
  for (const l of input.journals) if (l.type === 'event' && l.event === 'leaseLost') reasons[l.reason ?? '?'] = (reasons[l.reason ?? '?'] ?? 0) + 1;
  const distinct = new Set(records.map((r) => recordId(r.key, r.n)));
  const putIds = new Set(input.puts.map((p) => recordId(p.key, p.n)));
  return {
    ok: violations.length === 0,
    violations,
    summary: {
      puts: input.puts.length,
      recordsProcessed: records.length,
      distinctProcessed: distinct.size,
      duplicates,
      lost: [...putIds].filter((id) => !distinct.has(id)).length,
      epochs: epochs.size,
      checkpointsAccepted: count(input.journals, 'checkpoint'),
      checkpointsRejected: count(input.journals, 'checkpoint-rejected'),
      checkpointsFailed: count(input.journals, 'checkpoint-failed'),
      recordsAfterSuccessorStarted: countZombieRecords(epochs),
      recordsByWorker: byWorker,
      leaseLossReasons: reasons,
    },
  };
}

/** The verdicts of a multi-stream run: overall, and per stream (each stream's lines, puts, lineage and leases alone). */
export interface StreamVerdicts {
  readonly overall: Verdict;
  /** One verdict per stream, in the order of `streams`. */
  readonly byStream: ReadonlyMap<string, Verdict>;
}

/**
 * {@link checkInvariants} over everything, and over each of `streams` alone. A line without a
 * shard (start, stop, errors) belongs to every stream; with one stream, its verdict is the
 * overall one.
 */
export function checkInvariantsByStream(input: CheckInput, streams: readonly string[]): StreamVerdicts {
  const overall = checkInvariants(input);
  if (streams.length === 1) return { overall, byStream: new Map([[streams[0]!, overall]]) };
  const byStream = new Map(
    streams.map((stream) => {
      const leases = input.leases?.filter((l) => leaseShard(l.leaseKey).stream === stream);
      const part: CheckInput = {
        journals: input.journals.filter((l) => !('shard' in l) || l.stream === stream),
        puts: input.puts.filter((p) => p.stream === stream),
        shards: input.shards.filter((s) => s.stream === stream),
        ...(leases && { leases }),
      };
      return [stream, checkInvariants(part)] as const;
    }),
  );
  return { overall, byStream };
}

function count(lines: readonly JournalLine[], type: JournalLine['type']): number {
  return lines.filter((l) => l.type === type).length;
}

function collectEpochs(lines: readonly JournalLine[]): Map<string, Epoch> {
  const epochs = new Map<string, Epoch>();
  for (const l of lines) {
    if (!('epoch' in l)) continue;
    let e = epochs.get(l.epoch);
    if (!e) {
      e = { id: l.epoch, worker: l.worker, shard: l.shard, records: [], accepted: [], begun: [], rejected: [], firstAt: l.at };
      epochs.set(l.epoch, e);
    }
    e.firstAt = Math.min(e.firstAt, l.at);
    if (l.type === 'init') e.init = l;
    else if (l.type === 'record') e.records.push(l);
    else if (l.type === 'checkpoint') e.accepted.push(l);
    else if (l.type === 'checkpoint-begin') e.begun.push(l);
    else if (l.type === 'checkpoint-rejected') e.rejected.push(l);
  }
  return epochs;
}

/** Start time of an epoch: its `init` line (or its first line when `init` is missing). */
const startOf = (e: Epoch): number => e.init?.at ?? e.firstAt;

/** Adds violations, capping the examples per (invariant, group). */
class Reporter {
  private readonly counts = new Map<string, number>();
  constructor(private readonly out: Violation[]) {}
  add(group: string, v: Violation): void {
    const k = `${v.invariant}|${group}`;
    const c = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, c);
    if (c <= MAX_EXAMPLES) this.out.push(v);
    else if (c === MAX_EXAMPLES + 1) this.out.push({ ...v, message: `(more ${v.invariant} violations in ${group} omitted) ${v.message}` });
  }
}

function checkLossAndPhantoms(input: CheckInput, records: readonly RecordLine[], out: Violation[]): void {
  const report = new Reporter(out);
  const processed = new Set(records.map((r) => recordId(r.key, r.n)));
  const puts = new Map(input.puts.map((p) => [recordId(p.key, p.n), p]));
  const lostByShard = new Map<string, PutRecordAck[]>();
  for (const p of input.puts) {
    if (processed.has(recordId(p.key, p.n))) continue;
    lostByShard.set(p.shardId, [...(lostByShard.get(p.shardId) ?? []), p]);
  }
  for (const [shard, lost] of lostByShard) {
    const examples = lost.slice(0, 5).map((p) => `${recordId(p.key, p.n)}@${p.sequenceNumber}`);
    out.push({ invariant: 'no-loss', shard, message: `${lost.length} acknowledged records of ${shard} were never processed, e.g. ${examples.join(', ')}` });
  }
  for (const r of records) {
    const p = puts.get(recordId(r.key, r.n));
    if (!p) {
      report.add(r.shard, { invariant: 'no-phantom', shard: r.shard, worker: r.worker, epoch: r.epoch, message: `${r.worker} processed ${recordId(r.key, r.n)} at ${r.seq} on ${r.shard}, which was never acknowledged to the producer` });
    } else if (p.shardId !== r.shard || p.sequenceNumber !== r.seq) {
      report.add(r.shard, {
        invariant: 'no-phantom',
        shard: r.shard,
        worker: r.worker,
        epoch: r.epoch,
        message: `${r.worker} processed ${recordId(r.key, r.n)} as ${r.shard}@${r.seq}, but it was put as ${p.shardId}@${p.sequenceNumber}`,
      });
    }
  }
}

function checkEpochOrderAndStart(epochs: ReadonlyMap<string, Epoch>, out: Violation[]): void {
  const report = new Reporter(out);
  for (const e of epochs.values()) {
    let prev: RecordLine | undefined;
    const lastN = new Map<string, number>();
    for (const r of e.records) {
      if (prev && comparePositions(pos(r), pos(prev)) <= 0) {
        report.add(e.id, { invariant: 'epoch-order', shard: e.shard, worker: e.worker, epoch: e.id, message: `epoch ${e.id} delivered ${r.seq} after ${prev.seq}` });
      }
      const before = lastN.get(r.key);
      if (before !== undefined && r.n <= before) {
        report.add(e.id, { invariant: 'epoch-order', shard: e.shard, worker: e.worker, epoch: e.id, message: `epoch ${e.id} processed ${recordId(r.key, r.n)} after ${recordId(r.key, before)}` });
      }
      lastN.set(r.key, r.n);
      prev = r;
    }
    if (e.init && e.init.checkpoint !== 'SHARD_END') {
      const start = { seq: e.init.checkpoint, sub: e.init.sub };
      const early = e.records.find((r) => comparePositions(pos(r), start) <= 0);
      if (early) {
        report.add(e.id, { invariant: 'start-position', shard: e.shard, worker: e.worker, epoch: e.id, message: `epoch ${e.id} started at checkpoint ${showPosition(start)} but delivered ${early.seq}, which is not after it` });
      }
    }
  }
}

function checkZombieCheckpoints(lines: readonly JournalLine[], out: Violation[]): void {
  const report = new Reporter(out);
  const acquisitions = new Map<string, { worker: string; at: number }[]>();
  for (const l of lines) {
    if (l.type === 'event' && l.event === 'leaseAcquired') acquisitions.set(l.shard, [...(acquisitions.get(l.shard) ?? []), { worker: l.worker, at: l.at }]);
  }
  for (const l of lines) {
    if (l.type !== 'checkpoint') continue;
    let lastOther: { worker: string; at: number } | undefined;
    let lastSelf: number | undefined;
    for (const a of acquisitions.get(l.shard) ?? []) {
      if (a.at >= l.sentAt) continue;
      if (a.worker === l.worker) lastSelf = Math.max(lastSelf ?? -Infinity, a.at);
      else if (!lastOther || a.at > lastOther.at) lastOther = a;
    }
    if (lastOther && (lastSelf === undefined || lastSelf < lastOther.at)) {
      report.add(l.shard, {
        invariant: 'zombie-checkpoint',
        shard: l.shard,
        worker: l.worker,
        epoch: l.epoch,
        message: `${l.worker} had checkpoint ${showPosition(pos(l))} of ${l.shard} accepted although it sent it ${l.sentAt - lastOther.at} ms after ${lastOther.worker} acquired the shard`,
      });
    }
  }
}

function checkRegression(epochs: ReadonlyMap<string, Epoch>, out: Violation[]): void {
  const report = new Reporter(out);
  const byShard = groupBy([...epochs.values()], (e) => e.shard);
  for (const [shard, list] of byShard) {
    for (const e of list) {
      if (!e.init) continue;
      const start = { seq: e.init.checkpoint, sub: e.init.sub };
      for (const other of list) {
        if (other === e) continue;
        const behind = other.accepted.find((c) => c.at < e.init!.at && comparePositions(start, pos(c)) < 0);
        if (behind) {
          report.add(shard, {
            invariant: 'checkpoint-regression',
            shard,
            worker: e.worker,
            epoch: e.id,
            message: `epoch ${e.id} started at ${showPosition(start)} although ${other.id} had checkpoint ${showPosition(pos(behind))} accepted ${e.init.at - behind.at} ms earlier`,
          });
        }
      }
    }
  }
}

function checkFinalCheckpoints(leases: readonly LeaseRow[], lines: readonly JournalLine[], out: Violation[]): void {
  for (const lease of leases) {
    const stored: Position = { seq: lease.checkpoint, sub: lease.checkpointSubSequenceNumber ?? 0 };
    const accepted = lines.filter((l): l is CheckpointLine => l.type === 'checkpoint' && l.shard === lease.leaseKey);
    let max: CheckpointLine | undefined;
    for (const c of accepted) max = maxPosition(max, c);
    if (max && comparePositions(stored, pos(max)) < 0) {
      out.push({
        invariant: 'final-checkpoint',
        shard: lease.leaseKey,
        worker: max.worker,
        message: `the lease table holds ${showPosition(stored)} for ${lease.leaseKey}, behind checkpoint ${showPosition(pos(max))} accepted from ${max.worker}`,
      });
      continue;
    }
    const ahead = max ? comparePositions(stored, pos(max)) > 0 : rankOf(stored.seq) >= 0n;
    if (!ahead) continue;
    const rejected = new Set(lines.filter((l) => l.type === 'checkpoint-rejected').map((l) => `${l.epoch}|${l.seq}|${l.sub}`));
    const sent = lines.some(
      (l) => l.type === 'checkpoint-begin' && l.shard === lease.leaseKey && comparePositions(pos(l), stored) === 0 && !rejected.has(`${l.epoch}|${l.seq}|${l.sub}`),
    );
    if (!sent) {
      out.push({
        invariant: 'final-checkpoint',
        shard: lease.leaseKey,
        message: `the lease table holds ${showPosition(stored)} for ${lease.leaseKey}, which no worker sent (accepted maximum: ${max ? showPosition(pos(max)) : 'none'})`,
      });
    }
  }
}

function checkParentBeforeChild(shards: readonly ShardLineage[], records: readonly RecordLine[], lines: readonly JournalLine[], out: Violation[]): void {
  const firstProcessing = new Map<string, RecordLine>();
  for (const r of records) {
    const id = recordId(r.key, r.n);
    const seen = firstProcessing.get(id);
    if (!seen || r.at < seen.at) firstProcessing.set(id, r);
  }
  const lastFirstOf = new Map<string, RecordLine>();
  for (const r of firstProcessing.values()) {
    const cur = lastFirstOf.get(r.shard);
    if (!cur || r.at > cur.at) lastFirstOf.set(r.shard, r);
  }
  const firstOf = new Map<string, RecordLine>();
  for (const r of records) {
    const cur = firstOf.get(r.shard);
    if (!cur || r.at < cur.at) firstOf.set(r.shard, r);
  }
  const rejected = new Set(lines.filter((l) => l.type === 'checkpoint-rejected').map((l) => `${l.epoch}|${l.seq}`));
  for (const shard of shards) {
    const firstChild = firstOf.get(shard.shardId);
    if (!firstChild) continue;
    for (const parent of [shard.parentShardId, shard.adjacentParentShardId]) {
      if (!parent) continue;
      const lastParent = lastFirstOf.get(parent);
      if (lastParent && lastParent.at > firstChild.at) {
        out.push({
          invariant: 'parent-before-child',
          shard: shard.shardId,
          worker: firstChild.worker,
          message: `${firstChild.worker} processed ${recordId(firstChild.key, firstChild.n)} of child ${shard.shardId} at ${firstChild.at}, before ${recordId(lastParent.key, lastParent.n)} of parent ${parent} was first processed (at ${lastParent.at}, by ${lastParent.worker})`,
        });
      }
      const shardEndSent = lines.some(
        (l) => l.type === 'checkpoint-begin' && l.shard === parent && l.seq === 'SHARD_END' && l.at <= firstChild.at && !rejected.has(`${l.epoch}|${l.seq}`),
      );
      if (!shardEndSent) {
        out.push({
          invariant: 'parent-before-child',
          shard: shard.shardId,
          worker: firstChild.worker,
          message: `${firstChild.worker} processed child ${shard.shardId} (at ${firstChild.at}) before any SHARD_END checkpoint of parent ${parent} was sent`,
        });
      }
    }
  }
}

function checkDuplicates(epochs: ReadonlyMap<string, Epoch>, records: readonly RecordLine[], out: Violation[]): number {
  const report = new Reporter(out);
  const byRecord = groupBy(records, (r) => recordId(r.key, r.n));
  let duplicates = 0;
  for (const [id, occurrences] of byRecord) {
    if (occurrences.length < 2) continue;
    duplicates += occurrences.length - 1;
    const byEpoch = groupBy(occurrences, (r) => r.epoch);
    for (const [epochId, same] of byEpoch) {
      if (same.length > 1) {
        const e = epochs.get(epochId)!;
        report.add(e.shard, { invariant: 'duplicates', shard: e.shard, worker: e.worker, epoch: epochId, message: `epoch ${epochId} processed ${id} ${same.length} times` });
      }
    }
    // Every epoch but the last to start must have lost the shard without a graceful handoff,
    // before checkpointing this record.
    const involved = [...byEpoch.keys()].map((k) => epochs.get(k)!).sort((a, b) => startOf(a) - startOf(b));
    for (const e of involved.slice(0, -1)) {
      const record = byEpoch.get(e.id)![0]!;
      const graceful = e.accepted.find((c) => c.phase === 'shutdown' || c.phase === 'shard-end');
      let last: CheckpointLine | undefined;
      for (const c of e.accepted) last = maxPosition(last, c);
      const covered = last !== undefined && comparePositions(pos(last), pos(record)) >= 0;
      if (graceful || covered) {
        const next = involved[involved.indexOf(e) + 1]!;
        report.add(e.shard, {
          invariant: 'duplicates',
          shard: e.shard,
          worker: e.worker,
          epoch: e.id,
          message: `${id} (${record.seq}) was processed by ${e.id} and again by ${next.id}, although ${e.id} ${
            covered ? `had checkpoint ${showPosition(pos(last!))} accepted` : 'ended with a graceful handoff'
          }`,
        });
      }
    }
  }
  return duplicates;
}

function countZombieRecords(epochs: ReadonlyMap<string, Epoch>): number {
  let n = 0;
  const byShard = groupBy([...epochs.values()], (e) => e.shard);
  for (const list of byShard.values()) {
    for (const e of list) {
      const successorStart = Math.min(...list.filter((o) => o !== e && startOf(o) > startOf(e)).map(startOf));
      n += e.records.filter((r) => r.at > successorStart).length;
    }
  }
  return n;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}

/** A readable, bounded rendering of a verdict for test failure messages and reports. */
export function formatVerdict(verdict: Verdict, maxViolations = 25): string {
  const s = verdict.summary;
  const head =
    `${verdict.ok ? 'CLEAN' : `${verdict.violations.length} VIOLATION(S)`} — puts ${s.puts}, processed ${s.recordsProcessed} ` +
    `(${s.distinctProcessed} distinct, ${s.duplicates} duplicates, ${s.lost} lost), epochs ${s.epochs}, checkpoints ` +
    `${s.checkpointsAccepted} accepted / ${s.checkpointsRejected} rejected / ${s.checkpointsFailed} failed, ` +
    `zombie records ${s.recordsAfterSuccessorStarted}, by worker ${JSON.stringify(s.recordsByWorker)}, lease losses ${JSON.stringify(s.leaseLossReasons)}`;
  const lines = verdict.violations.slice(0, maxViolations).map((v) => `  [${v.invariant}] ${v.message}`);
  if (verdict.violations.length > maxViolations) lines.push(`  … ${verdict.violations.length - maxViolations} more`);
  return [head, ...lines].join('\n');
}
