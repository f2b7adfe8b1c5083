/**
 * The oracle (the invariant checker), the one verdict of the demo, the chaos suite and the
 * fleet benchmarks: given every worker's journal, the producer's acknowledged puts, the
 * stream's shard lineage (ListShards at the end) and, optionally, the final lease table, it
 * decides whether the fleet behaved like a correct KCL. Pure: no I/O, no clock.
 *
 * An *epoch* is one processor instance: one worker's continuous ownership of one shard. Times
 * are the journals' wall-clock `at` values; all processes run on one machine, so they share
 * that clock. What each invariant means and why it cannot fail for a correct library is the
 * table "What the oracle asserts" of this package's README; the brackets it relies on: a
 * worker journals `leaseAcquired` only after its take was written, and a checkpoint line's
 * `sentAt` is taken before the write is sent.
 *
 * Several streams: shard ids and keys repeat across streams, so every check keys a shard by
 * (stream, shard) and a record by (stream, key, n) (see `qualify`); multi-stream lease keys
 * (`account:stream:creationEpoch:shard`) are read the same way.
 * @module
 */
import { leaseShard, linesOf, shardKey, type JournalLine, type LineOf } from './journal.js';
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
export type InvariantName = 'no-loss' | 'no-phantom' | 'epoch-order' | 'start-position' | 'zombie-checkpoint' | 'checkpoint-regression' | 'final-checkpoint' | 'parent-before-child' | 'duplicates';

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
  /** Earliest `at` of any line of the epoch. */
  firstAt: number;
}

const recordId = (key: string, n: number): string => `${key}#${n}`;
const pos = (l: { seq: string; sub: number }): Position => ({ seq: l.seq, sub: l.sub ?? 0 });
const where = (e: Epoch) => ({ shard: e.shard, worker: e.worker, epoch: e.id });

/** Most violations reported per invariant and group (a shard or an epoch); the rest are noted in the message of the next one. */
const MAX_EXAMPLES = 5;

/**
 * The input with every shard named by its {@link shardKey} and every key prefixed with its
 * stream, so the checks below, written for one stream, key everything by (stream, shard).
 * Unchanged when nothing names a stream.
 */
function qualify(input: CheckInput): CheckInput {
  const named = input.journals.some((l) => l.stream !== undefined) || input.puts.some((p) => p.stream !== undefined) || input.shards.some((s) => s.stream !== undefined);
  if (!named) return input;
  const journals = input.journals.map((l): JournalLine => {
    if (l.stream === undefined || !('shard' in l)) return l;
    if (l.type === 'record') return { ...l, shard: shardKey(l.stream, l.shard), key: `${l.stream}/${l.key}` };
    if (l.type === 'event' && l.children) return { ...l, shard: shardKey(l.stream, l.shard), children: l.children.map((c) => shardKey(l.stream, c)) };
    return { ...l, shard: shardKey(l.stream, l.shard) };
  });
  const puts = input.puts.map((p) => (p.stream === undefined ? p : { ...p, key: `${p.stream}/${p.key}`, shardId: shardKey(p.stream, p.shardId) }));
  const shards = input.shards.map((s) => {
    if (s.stream === undefined) return s;
    const q = (id: string | undefined) => id && shardKey(s.stream, id);
    return { shardId: shardKey(s.stream, s.shardId), ...(s.parentShardId && { parentShardId: q(s.parentShardId) }), ...(s.adjacentParentShardId && { adjacentParentShardId: q(s.adjacentParentShardId) }) };
  });
  const leases = input.leases?.map((l) => ({ ...l, leaseKey: shardKey(leaseShard(l.leaseKey).stream, leaseShard(l.leaseKey).shard) }));
  return { journals, puts, shards, ...(leases && { leases }) };
}

/** Collects violations, capping the examples per (invariant, group). */
class Reporter {
  readonly violations: Violation[] = [];
  private readonly counts = new Map<string, number>();
  add(invariant: InvariantName, group: string, at: Omit<Violation, 'invariant' | 'message'>, message: string): void {
    const k = `${invariant}|${group}`;
    const c = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, c);
    if (c <= MAX_EXAMPLES) this.violations.push({ invariant, ...at, message });
    else if (c === MAX_EXAMPLES + 1) this.violations.push({ invariant, ...at, message: `(more ${invariant} violations in ${group} omitted) ${message}` });
  }
}

/**
 * Checks every invariant; see the module documentation for what each one means. With
 * several streams, every shard is keyed by (stream, shard) and every record by (stream, key, n).
 */
export function checkInvariants(raw: CheckInput): Verdict {
  const input = qualify(raw);
  const report = new Reporter();
  const lines = input.journals;
  const epochs = collectEpochs(lines);
  const records = linesOf(lines, 'record');
  checkLossAndPhantoms(input, records, report);
  checkEpochOrderAndStart(epochs, report);
  checkZombieCheckpoints(lines, report);
  checkRegression(epochs, report);
  if (input.leases) checkFinalCheckpoints(input.leases, lines, report);
  checkParentBeforeChild(input.shards, records, lines, report);
  const duplicates = checkDuplicates(epochs, records, report);

  const tally = (keys: readonly string[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const k of keys) out[k] = (out[k] ?? 0) + 1;
    return out;
  };
  const distinct = new Set(records.map((r) => recordId(r.key, r.n)));
  const putIds = new Set(input.puts.map((p) => recordId(p.key, p.n)));
  const count = (type: JournalLine['type']): number => lines.filter((l) => l.type === type).length;
  return {
    ok: report.violations.length === 0,
    violations: report.violations,
    summary: {
      puts: input.puts.length,
      recordsProcessed: records.length,
      distinctProcessed: distinct.size,
      duplicates,
      lost: [...putIds].filter((id) => !distinct.has(id)).length,
      epochs: epochs.size,
      checkpointsAccepted: count('checkpoint'),
      checkpointsRejected: count('checkpoint-rejected'),
      checkpointsFailed: count('checkpoint-failed'),
      recordsAfterSuccessorStarted: countZombieRecords(epochs),
      recordsByWorker: tally(records.map((r) => r.worker)),
      leaseLossReasons: tally(lines.flatMap((l) => (l.type === 'event' && l.event === 'leaseLost' ? [l.reason ?? '?'] : []))),
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
  const part = (stream: string): CheckInput => {
    const leases = input.leases?.filter((l) => leaseShard(l.leaseKey).stream === stream);
    return {
      journals: input.journals.filter((l) => !('shard' in l) || l.stream === stream),
      puts: input.puts.filter((p) => p.stream === stream),
      shards: input.shards.filter((s) => s.stream === stream),
      ...(leases && { leases }),
    };
  };
  return { overall, byStream: new Map(streams.map((stream) => [stream, checkInvariants(part(stream))] as const)) };
}

function collectEpochs(lines: readonly JournalLine[]): Map<string, Epoch> {
  const epochs = new Map<string, Epoch>();
  for (const l of lines) {
    if (!('epoch' in l)) continue;
    let e = epochs.get(l.epoch);
    if (!e) epochs.set(l.epoch, (e = { id: l.epoch, worker: l.worker, shard: l.shard, records: [], accepted: [], firstAt: l.at }));
    e.firstAt = Math.min(e.firstAt, l.at);
    if (l.type === 'init') e.init = l;
    else if (l.type === 'record') e.records.push(l);
    else if (l.type === 'checkpoint') e.accepted.push(l);
  }
  return epochs;
}

/** Start time of an epoch: its `init` line (or its first line when `init` is missing). */
const startOf = (e: Epoch): number => e.init?.at ?? e.firstAt;

function checkLossAndPhantoms(input: CheckInput, records: readonly RecordLine[], report: Reporter): void {
  const processed = new Set(records.map((r) => recordId(r.key, r.n)));
  const puts = new Map(input.puts.map((p) => [recordId(p.key, p.n), p]));
  const lostByShard = groupBy(
    input.puts.filter((p) => !processed.has(recordId(p.key, p.n))),
    (p) => p.shardId,
  );
  for (const [shard, lost] of lostByShard) {
    const examples = lost.slice(0, 5).map((p) => `${recordId(p.key, p.n)}@${p.sequenceNumber}`);
    report.add('no-loss', shard, { shard }, `${lost.length} acknowledged records of ${shard} were never processed, e.g. ${examples.join(', ')}`);
  }
  for (const r of records) {
    const p = puts.get(recordId(r.key, r.n));
    const at = { shard: r.shard, worker: r.worker, epoch: r.epoch };
    if (!p) report.add('no-phantom', r.shard, at, `${r.worker} processed ${recordId(r.key, r.n)} at ${r.seq} on ${r.shard}, which was never acknowledged to the producer`);
    else if (p.shardId !== r.shard || p.sequenceNumber !== r.seq) report.add('no-phantom', r.shard, at, `${r.worker} processed ${recordId(r.key, r.n)} as ${r.shard}@${r.seq}, but it was put as ${p.shardId}@${p.sequenceNumber}`);
  }
}

function checkEpochOrderAndStart(epochs: ReadonlyMap<string, Epoch>, report: Reporter): void {
  for (const e of epochs.values()) {
    let prev: RecordLine | undefined;
    const lastN = new Map<string, number>();
    for (const r of e.records) {
      if (prev && comparePositions(pos(r), pos(prev)) <= 0) report.add('epoch-order', e.id, where(e), `epoch ${e.id} delivered ${r.seq} after ${prev.seq}`);
      const before = lastN.get(r.key);
      if (before !== undefined && r.n <= before) report.add('epoch-order', e.id, where(e), `epoch ${e.id} processed ${recordId(r.key, r.n)} after ${recordId(r.key, before)}`);
      lastN.set(r.key, r.n);
      prev = r;
    }
    if (e.init && e.init.checkpoint !== 'SHARD_END') {
      const start = { seq: e.init.checkpoint, sub: e.init.sub };
      const early = e.records.find((r) => comparePositions(pos(r), start) <= 0);
      if (early) report.add('start-position', e.id, where(e), `epoch ${e.id} started at checkpoint ${showPosition(start)} but delivered ${early.seq}, which is not after it`);
    }
  }
}

function checkZombieCheckpoints(lines: readonly JournalLine[], report: Reporter): void {
  const acquisitions = groupBy(
    lines.filter((l) => l.type === 'event' && l.event === 'leaseAcquired'),
    (l) => (l as LineOf<'event'>).shard,
  );
  for (const l of linesOf(lines, 'checkpoint')) {
    let lastOther: JournalLine | undefined;
    let lastSelf: number | undefined;
    for (const a of acquisitions.get(l.shard) ?? []) {
      if (a.at >= l.sentAt) continue;
      if (a.worker === l.worker) lastSelf = Math.max(lastSelf ?? -Infinity, a.at);
      else if (!lastOther || a.at > lastOther.at) lastOther = a;
    }
    if (lastOther && (lastSelf === undefined || lastSelf < lastOther.at)) {
      report.add('zombie-checkpoint', l.shard, { shard: l.shard, worker: l.worker, epoch: l.epoch },
        `${l.worker} had checkpoint ${showPosition(pos(l))} of ${l.shard} accepted although it sent it ${l.sentAt - lastOther.at} ms after ${lastOther.worker} acquired the shard`);
    }
  }
}

function checkRegression(epochs: ReadonlyMap<string, Epoch>, report: Reporter): void {
  for (const [shard, list] of groupBy([...epochs.values()], (e) => e.shard)) {
    for (const e of list) {
      if (!e.init) continue;
      const init = e.init;
      const start = { seq: init.checkpoint, sub: init.sub };
      for (const other of list) {
        const behind = other === e ? undefined : other.accepted.find((c) => c.at < init.at && comparePositions(start, pos(c)) < 0);
        if (behind) report.add('checkpoint-regression', shard, where(e), `epoch ${e.id} started at ${showPosition(start)} although ${other.id} had checkpoint ${showPosition(pos(behind))} accepted ${init.at - behind.at} ms earlier`);
      }
    }
  }
}

/** `epoch|seq|sub` of every rejected checkpoint. */
const rejectedKeys = (lines: readonly JournalLine[]): Set<string> => new Set(linesOf(lines, 'checkpoint-rejected').map((l) => `${l.epoch}|${l.seq}|${l.sub}`));

function checkFinalCheckpoints(leases: readonly LeaseRow[], lines: readonly JournalLine[], report: Reporter): void {
  const rejected = rejectedKeys(lines);
  for (const lease of leases) {
    const shard = lease.leaseKey;
    const stored: Position = { seq: lease.checkpoint, sub: lease.checkpointSubSequenceNumber ?? 0 };
    let max: CheckpointLine | undefined;
    for (const c of linesOf(lines, 'checkpoint')) if (c.shard === shard) max = maxPosition(max, c);
    if (max && comparePositions(stored, pos(max)) < 0) {
      report.add('final-checkpoint', shard, { shard, worker: max.worker }, `the lease table holds ${showPosition(stored)} for ${shard}, behind checkpoint ${showPosition(pos(max))} accepted from ${max.worker}`);
      continue;
    }
    const ahead = max ? comparePositions(stored, pos(max)) > 0 : rankOf(stored.seq) >= 0n;
    const sent = linesOf(lines, 'checkpoint-begin').some((l) => l.shard === shard && comparePositions(pos(l), stored) === 0 && !rejected.has(`${l.epoch}|${l.seq}|${l.sub}`));
    if (ahead && !sent) report.add('final-checkpoint', shard, { shard }, `the lease table holds ${showPosition(stored)} for ${shard}, which no worker sent (accepted maximum: ${max ? showPosition(pos(max)) : 'none'})`);
  }
}

function checkParentBeforeChild(shards: readonly ShardLineage[], records: readonly RecordLine[], lines: readonly JournalLine[], report: Reporter): void {
  const keep = (m: Map<string, RecordLine>, k: string, r: RecordLine, later: boolean): void => {
    const cur = m.get(k);
    if (!cur || (later ? r.at > cur.at : r.at < cur.at)) m.set(k, r);
  };
  const firstProcessing = new Map<string, RecordLine>();
  const firstOf = new Map<string, RecordLine>();
  for (const r of records) {
    keep(firstProcessing, recordId(r.key, r.n), r, false);
    keep(firstOf, r.shard, r, false);
  }
  const lastFirstOf = new Map<string, RecordLine>();
  for (const r of firstProcessing.values()) keep(lastFirstOf, r.shard, r, true);
  const rejected = rejectedKeys(lines);
  for (const shard of shards) {
    const child = firstOf.get(shard.shardId);
    if (!child) continue;
    const at = { shard: shard.shardId, worker: child.worker };
    for (const parent of [shard.parentShardId, shard.adjacentParentShardId]) {
      if (!parent) continue;
      const lastParent = lastFirstOf.get(parent);
      if (lastParent && lastParent.at > child.at) {
        report.add('parent-before-child', shard.shardId, at,
          `${child.worker} processed ${recordId(child.key, child.n)} of child ${shard.shardId} at ${child.at}, before ${recordId(lastParent.key, lastParent.n)} of parent ${parent} was first processed (at ${lastParent.at}, by ${lastParent.worker})`);
      }
      const shardEndSent = linesOf(lines, 'checkpoint-begin').some((l) => l.shard === parent && l.seq === 'SHARD_END' && l.at <= child.at && !rejected.has(`${l.epoch}|${l.seq}|${l.sub}`));
      if (!shardEndSent) report.add('parent-before-child', shard.shardId, at, `${child.worker} processed child ${shard.shardId} (at ${child.at}) before any SHARD_END checkpoint of parent ${parent} was sent`);
    }
  }
}

function checkDuplicates(epochs: ReadonlyMap<string, Epoch>, records: readonly RecordLine[], report: Reporter): number {
  let duplicates = 0;
  for (const [id, occurrences] of groupBy(records, (r) => recordId(r.key, r.n))) {
    if (occurrences.length < 2) continue;
    duplicates += occurrences.length - 1;
    const byEpoch = groupBy(occurrences, (r) => r.epoch);
    for (const [epochId, same] of byEpoch) {
      const e = epochs.get(epochId)!;
      if (same.length > 1) report.add('duplicates', e.shard, where(e), `epoch ${epochId} processed ${id} ${same.length} times`);
    }
    // Every epoch but the last to start must have lost the shard without a graceful handoff,
    // before checkpointing this record.
    const involved = [...byEpoch.keys()].map((k) => epochs.get(k)!).sort((a, b) => startOf(a) - startOf(b));
    involved.slice(0, -1).forEach((e, i) => {
      const record = byEpoch.get(e.id)![0]!;
      const graceful = e.accepted.some((c) => c.phase === 'shutdown' || c.phase === 'shard-end');
      let last: CheckpointLine | undefined;
      for (const c of e.accepted) last = maxPosition(last, c);
      const covered = last !== undefined && comparePositions(pos(last), pos(record)) >= 0;
      if (graceful || covered) {
        const why = covered ? `had checkpoint ${showPosition(pos(last!))} accepted` : 'ended with a graceful handoff';
        report.add('duplicates', e.shard, where(e), `${id} (${record.seq}) was processed by ${e.id} and again by ${involved[i + 1]!.id}, although ${e.id} ${why}`);
      }
    });
  }
  return duplicates;
}

function countZombieRecords(epochs: ReadonlyMap<string, Epoch>): number {
  let n = 0;
  for (const list of groupBy([...epochs.values()], (e) => e.shard).values()) {
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
