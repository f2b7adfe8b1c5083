/**
 * The oracle of the simulation: after a run, decides from the journal, the acknowledged
 * puts, the stream's lineage, the declared stalls and the final lease table whether the
 * fleet behaved like a correct KCL. Pure: no I/O, no clock.
 *
 * It runs the invariant checker of `@kcl-ts/fleet` on the journal (the sim writes the same
 * line format, stamped with simulated time: `no-phantom`, `epoch-order`, `start-position`,
 * `zombie-checkpoint`, `checkpoint-regression`, `duplicates`) and adds the checks a
 * simulation can make exactly:
 *
 * - `parent-before-child` (replaces the fleet oracle's version, which discounts every `SHARD_END`
 *   attempt of an epoch once one of them was rejected, although a worker retries
 *   `shardEnded` after a lost response): a child's first record is delivered after every
 *   record of each parent was first processed, and after a `SHARD_END` checkpoint of each
 *   parent that ever had a processor was sent and accepted by the table.
 * - `no-loss` (replaces the fleet oracle's version): every acknowledged put was processed at least
 *   once, except, under `LATEST`, the records a root shard held when it was first read
 *   (its first GetShardIterator, of any type, by any worker). Whatever the first owner's
 *   start resolved to, later owners must start there or earlier, never at a new `LATEST`.
 * - `single-processor`: two epochs of one shard are never delivered records in overlapping
 *   intervals of simulated time (an epoch's interval runs from its first `processRecords`
 *   call with records to its last, whatever their outcome: a processor acts on a batch as
 *   soon as it has it), except deliveries inside a declared stall of their worker. Sound: a
 *   correct worker stops delivering before a peer may take the lease, and a stalled worker
 *   runs nothing until its stall ends.
 * - `stale-checkpoint`: no checkpoint is accepted from an epoch if it was sent after the
 *   shard was acquired again (by any worker instance, the same one included) since the
 *   epoch's own acquisition: the holding the processor belonged to was over by then.
 *   Stricter than the fleet oracle's `zombie-checkpoint`, which cannot tell two holdings (or two
 *   instances with one worker id) apart.
 * - `lost-checkpoint`: the final lease table is never behind a checkpoint accepted for
 *   its shard.
 * - `checkpoint-beyond-processed`: a checkpoint the table accepted is never past the last
 *   record its epoch processed (for a no-argument `checkpoint()`: only batches whose
 *   `processRecords` returned count; a batch that threw is not processed). For the
 *   `BatchingProcessor`, "processed" is "written by the sink": a checkpoint never covers a
 *   record that is only buffered.
 * - `flush-on-handoff` (`BatchingProcessor` only): when `shutdownRequested` returns normally
 *   (no `leaseLost` and no checkpoint rejected for a lost lease before), every record of a
 *   `processRecords` call that returned is written and covered by an applied checkpoint of
 *   the epoch. Sound: the processor flushes and checkpoints everything in
 *   `shutdownRequested` and throws if it cannot; only after losing the lease may it drop
 *   its buffer instead.
 * @module
 */
import {
  checkInvariants,
  comparePositions,
  showPosition,
  type InvariantName,
  type JournalLine,
  type LeaseRow,
  type LineOf,
  type PutRecordAck,
  type ShardLineage,
  type VerdictSummary,
} from '@kcl-ts/fleet';
import type { CheckpointOverreach, Delivery } from './recording-processor.js';
import type { UnflushedHandoff } from './batching-sim-processor.js';

/** The invariants the simulation adds to the fleet oracle's ones. */
export type SimInvariantName = 'single-processor' | 'stale-checkpoint' | 'lost-checkpoint' | 'checkpoint-beyond-processed' | 'flush-on-handoff';

/** Every invariant the oracle reports. */
export type OracleInvariant = InvariantName | SimInvariantName;

/** One broken invariant. */
export interface OracleViolation {
  readonly invariant: OracleInvariant;
  readonly message: string;
  readonly shard?: string;
  readonly worker?: string;
  readonly epoch?: string;
}

/** A declared stall of a worker instance: [from, to) in simulated ms. */
export interface DeclaredStall {
  readonly worker: string;
  readonly from: number;
  readonly to: number;
}

/** Input of {@link checkSimulation}. */
export interface OracleInput {
  /** Every journal line (any order of workers; each worker's lines in order). */
  readonly journal: readonly JournalLine[];
  /** Every acknowledged put. */
  readonly puts: readonly PutRecordAck[];
  /** The stream's shards with their parents. */
  readonly shards: readonly ShardLineage[];
  /**
   * Records that need not be processed, per shard: `'all'`, or a sequence number at or before
   * which records are exempt (`LATEST`: records put before the shard's first read).
   */
  readonly exempt?: ReadonlyMap<string, string | 'all'>;
  /** Every `processRecords` call with records (for `single-processor`; omit to skip it). */
  readonly deliveries?: readonly Delivery[];
  /** Declared stalls (deliveries inside them are not held against `single-processor`). */
  readonly stalls?: readonly DeclaredStall[];
  /** The final lease table (omit to skip `lost-checkpoint`). */
  readonly leases?: readonly LeaseRow[];
  /** Checkpoints the table accepted past what their epoch had processed (seen by the processors). */
  readonly overreaches?: readonly CheckpointOverreach[];
  /** Graceful ends of batching epochs that left returned records unwritten or uncheckpointed (seen by the processors). */
  readonly unflushedHandoffs?: readonly UnflushedHandoff[];
}

/** The oracle's verdict. */
export interface OracleVerdict {
  readonly ok: boolean;
  readonly violations: readonly OracleViolation[];
  /** the fleet oracle's summary of the run (its `lost` counts exempt records too). */
  readonly summary: VerdictSummary;
  /** Acknowledged puts that had to be processed. */
  readonly required: number;
  /** Of those, never processed. */
  readonly lost: number;
}

type RecordLine = LineOf<'record'>;
const MAX_EXAMPLES = 5;
const id = (key: string, n: number): string => `${key}#${n}`;

/** True if the put need not be processed (see {@link OracleInput.exempt}). */
export function isExempt(put: PutRecordAck, exempt: ReadonlyMap<string, string | 'all'> | undefined): boolean {
  const rule = exempt?.get(put.shardId);
  if (rule === undefined) return false;
  return rule === 'all' || BigInt(put.sequenceNumber) <= BigInt(rule);
}

/** Checks every invariant; see the module documentation. */
export function checkSimulation(input: OracleInput): OracleVerdict {
  const chaos = checkInvariants({ journals: input.journal, puts: input.puts, shards: input.shards });
  const violations: OracleViolation[] = chaos.violations.filter((v) => v.invariant !== 'no-loss' && v.invariant !== 'parent-before-child');
  const records = input.journal.filter((l): l is RecordLine => l.type === 'record');
  const { required, lost } = checkNoLoss(input, records, violations);
  checkParentBeforeChild(input.shards, records, input.journal, violations);
  if (input.deliveries) checkSingleProcessor(input.deliveries, input.stalls ?? [], violations);
  checkStaleCheckpoints(input.journal, violations);
  if (input.leases) checkLostCheckpoints(input.leases, input.journal, violations);
  for (const o of (input.overreaches ?? []).slice(0, MAX_EXAMPLES)) {
    violations.push({
      invariant: 'checkpoint-beyond-processed',
      shard: o.shard,
      worker: o.worker,
      epoch: o.epoch,
      message: `${o.epoch} had checkpoint ${showPosition(o.written)} (${o.phase}) written at ${o.at} ms, past the last record it processed (${showPosition(o.processed)})`,
    });
  }
  for (const u of (input.unflushedHandoffs ?? []).slice(0, MAX_EXAMPLES)) {
    const show = (p: { seq: string; sub: number } | undefined): string => (p === undefined ? 'none' : showPosition(p));
    violations.push({
      invariant: 'flush-on-handoff',
      shard: u.shard,
      worker: u.worker,
      epoch: u.epoch,
      message: `${u.epoch} returned from shutdownRequested at ${u.at} ms (a graceful handoff) with records up to ${showPosition(u.delivered)} delivered, but written only through ${show(u.written)} and checkpointed through ${show(u.checkpointed)}`,
    });
  }
  return { ok: violations.length === 0, violations, summary: chaos.summary, required, lost };
}

function checkNoLoss(input: OracleInput, records: readonly RecordLine[], out: OracleViolation[]): { required: number; lost: number } {
  const processed = new Set(records.map((r) => id(r.key, r.n)));
  const lostByShard = new Map<string, PutRecordAck[]>();
  let required = 0;
  for (const p of input.puts) {
    if (isExempt(p, input.exempt)) continue;
    required++;
    if (processed.has(id(p.key, p.n))) continue;
    lostByShard.set(p.shardId, [...(lostByShard.get(p.shardId) ?? []), p]);
  }
  let lost = 0;
  for (const [shard, list] of lostByShard) {
    lost += list.length;
    const examples = list.slice(0, MAX_EXAMPLES).map((p) => `${id(p.key, p.n)}@${p.sequenceNumber}`);
    out.push({ invariant: 'no-loss', shard, message: `${list.length} acknowledged records of ${shard} were never processed, e.g. ${examples.join(', ')}` });
  }
  return { required, lost };
}

function checkParentBeforeChild(shards: readonly ShardLineage[], records: readonly RecordLine[], lines: readonly JournalLine[], out: OracleViolation[]): void {
  const firstProcessing = new Map<string, RecordLine>();
  for (const r of records) {
    const seen = firstProcessing.get(id(r.key, r.n));
    if (seen === undefined || r.at < seen.at) firstProcessing.set(id(r.key, r.n), r);
  }
  const lastFirstOf = new Map<string, RecordLine>();
  for (const r of firstProcessing.values()) {
    const cur = lastFirstOf.get(r.shard);
    if (cur === undefined || r.at > cur.at) lastFirstOf.set(r.shard, r);
  }
  const firstOf = new Map<string, RecordLine>();
  for (const r of records) {
    const cur = firstOf.get(r.shard);
    if (cur === undefined || r.at < cur.at) firstOf.set(r.shard, r);
  }
  const hadProcessor = new Set(lines.filter((l) => l.type === 'init').map((l) => (l as LineOf<'init'>).shard));
  for (const shard of shards) {
    const child = firstOf.get(shard.shardId);
    if (child === undefined) continue;
    for (const parent of [shard.parentShardId, shard.adjacentParentShardId]) {
      if (parent === undefined) continue;
      const lastParent = lastFirstOf.get(parent);
      if (lastParent !== undefined && lastParent.at > child.at) {
        out.push({
          invariant: 'parent-before-child',
          shard: shard.shardId,
          worker: child.worker,
          epoch: child.epoch,
          message: `${child.epoch} processed ${id(child.key, child.n)} of child ${shard.shardId} at ${child.at}, before ${id(lastParent.key, lastParent.n)} of parent ${parent} was first processed (at ${lastParent.at}, by ${lastParent.epoch})`,
        });
      }
      if (!hadProcessor.has(parent)) continue;
      const ended = lines.some((l) => l.type === 'checkpoint' && l.shard === parent && l.seq === 'SHARD_END' && l.sentAt < child.at);
      if (!ended) {
        out.push({
          invariant: 'parent-before-child',
          shard: shard.shardId,
          worker: child.worker,
          epoch: child.epoch,
          message: `${child.epoch} processed child ${shard.shardId} (at ${child.at}) before a SHARD_END checkpoint of parent ${parent} was accepted`,
        });
      }
    }
  }
}

interface Interval {
  readonly epoch: string;
  readonly worker: string;
  readonly first: Delivery;
  readonly last: Delivery;
}

function checkSingleProcessor(deliveries: readonly Delivery[], stalls: readonly DeclaredStall[], out: OracleViolation[]): void {
  const inStall = (d: Delivery): boolean => stalls.some((s) => s.worker === d.worker && s.from <= d.at && d.at < s.to);
  const byEpoch = new Map<string, Interval>();
  const shardOf = new Map<string, string>();
  for (const d of deliveries) {
    if (inStall(d)) continue;
    const cur = byEpoch.get(d.epoch);
    shardOf.set(d.epoch, d.shard);
    if (cur === undefined) byEpoch.set(d.epoch, { epoch: d.epoch, worker: d.worker, first: d, last: d });
    else byEpoch.set(d.epoch, { ...cur, first: d.at < cur.first.at ? d : cur.first, last: d.at >= cur.last.at ? d : cur.last });
  }
  const byShard = new Map<string, Interval[]>();
  for (const interval of byEpoch.values()) {
    const shard = shardOf.get(interval.epoch)!;
    byShard.set(shard, [...(byShard.get(shard) ?? []), interval]);
  }
  for (const [shard, list] of byShard) {
    list.sort((a, b) => a.first.at - b.first.at);
    let reported = 0;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (b.first.at > a.last.at) continue;
        if (reported++ >= MAX_EXAMPLES) continue;
        out.push({
          invariant: 'single-processor',
          shard,
          worker: b.worker,
          epoch: b.epoch,
          message:
            `two processors of ${shard} at once: ${a.epoch} was delivered batches from ${a.first.at} to ${a.last.at} ms ` +
            `(last ${a.last.firstSequenceNumber}..${a.last.lastSequenceNumber}), ${b.epoch} from ${b.first.at} to ${b.last.at} ms ` +
            `(first ${b.first.firstSequenceNumber}..${b.first.lastSequenceNumber})`,
        });
      }
    }
  }
}

function checkStaleCheckpoints(lines: readonly JournalLine[], out: OracleViolation[]): void {
  const acquisitions = new Map<string, { worker: string; at: number }[]>();
  const inits = new Map<string, LineOf<'init'>>();
  for (const l of lines) {
    if (l.type === 'event' && l.event === 'leaseAcquired') acquisitions.set(l.shard, [...(acquisitions.get(l.shard) ?? []), { worker: l.worker, at: l.at }]);
    if (l.type === 'init') inits.set(l.epoch, l);
  }
  let reported = 0;
  for (const l of lines) {
    if (l.type !== 'checkpoint') continue;
    const init = inits.get(l.epoch);
    const acquired = acquisitions.get(l.shard) ?? [];
    if (init === undefined) continue;
    const own = acquired.filter((a) => a.worker === l.worker && a.at <= init.at).at(-1);
    if (own === undefined) continue;
    const later = acquired.find((a) => a.at > own.at && a.at < l.sentAt);
    if (later === undefined) continue;
    if (reported++ >= MAX_EXAMPLES) continue;
    out.push({
      invariant: 'stale-checkpoint',
      shard: l.shard,
      worker: l.worker,
      epoch: l.epoch,
      message:
        `${l.epoch} (holding acquired at ${own.at} ms) had checkpoint ${showPosition(l)} (${l.phase}) accepted although it sent it at ${l.sentAt} ms, ` +
        `after ${later.worker} acquired ${l.shard} again at ${later.at} ms`,
    });
  }
}

function checkLostCheckpoints(leases: readonly LeaseRow[], lines: readonly JournalLine[], out: OracleViolation[]): void {
  for (const lease of leases) {
    let max: LineOf<'checkpoint'> | undefined;
    for (const l of lines) {
      if (l.type === 'checkpoint' && l.shard === lease.leaseKey && (max === undefined || comparePositions(l, max) > 0)) max = l;
    }
    const stored = { seq: lease.checkpoint, sub: lease.checkpointSubSequenceNumber ?? 0 };
    if (max !== undefined && comparePositions(stored, max) < 0) {
      out.push({
        invariant: 'lost-checkpoint',
        shard: lease.leaseKey,
        worker: max.worker,
        epoch: max.epoch,
        message: `the final lease table holds ${showPosition(stored)} for ${lease.leaseKey}, behind checkpoint ${showPosition(max)} accepted from ${max.epoch}`,
      });
    }
  }
}

/** A readable, bounded rendering of a verdict. */
export function formatOracleVerdict(verdict: OracleVerdict, maxViolations = 20): string {
  const s = verdict.summary;
  const head =
    `${verdict.ok ? 'CLEAN' : `${verdict.violations.length} VIOLATION(S)`} — puts ${s.puts} (${verdict.required} required, ${verdict.lost} lost), ` +
    `processed ${s.recordsProcessed} (${s.duplicates} duplicates), epochs ${s.epochs}, checkpoints ${s.checkpointsAccepted} accepted / ` +
    `${s.checkpointsRejected} rejected / ${s.checkpointsFailed} failed, lease losses ${JSON.stringify(s.leaseLossReasons)}`;
  const lines = verdict.violations.slice(0, maxViolations).map((v) => `  [${v.invariant}] ${v.message}`);
  if (verdict.violations.length > maxViolations) lines.push(`  … ${verdict.violations.length - maxViolations} more`);
  return [head, ...lines].join('\n');
}
