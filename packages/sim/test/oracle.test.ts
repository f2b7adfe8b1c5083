import type { JournalLine, PutRecordAck, ShardLineage } from '@kcl-ts/fleet';
import { describe, expect, it } from 'vitest';
import { checkSimulation, type OracleInput, type OracleInvariant } from '../src/oracle.js';
import type { CheckpointOverreach, Delivery } from '../src/recording-processor.js';
import type { UnflushedHandoff } from '../src/batching-sim-processor.js';

/** Builds a journal line by line, with explicit times. */
class J {
  readonly lines: JournalLine[] = [];
  readonly deliveries: Delivery[] = [];
  private add(worker: string, at: number, body: object): this {
    this.lines.push({ worker, at, pid: 0, ...body } as JournalLine);
    return this;
  }
  acquire(worker: string, shard: string, at: number): this {
    return this.add(worker, at, { type: 'event', event: 'leaseAcquired', shard });
  }
  init(worker: string, shard: string, epoch: string, at: number, checkpoint = 'TRIM_HORIZON'): this {
    return this.add(worker, at, { type: 'init', shard, epoch, checkpoint, sub: 0 });
  }
  /** A batch delivered at `at` and processed: one record line per `[key, n, seq]`. */
  batch(worker: string, shard: string, epoch: string, at: number, records: [string, number, string][]): this {
    this.deliveries.push({ worker, shard, epoch, at, records: records.length, firstSequenceNumber: records[0]![2], lastSequenceNumber: records.at(-1)![2] });
    for (const [key, n, seq] of records) this.add(worker, at, { type: 'record', shard, epoch, key, n, seq, sub: 0 });
    return this;
  }
  /** A delivery whose processRecords threw (nothing journaled as processed). */
  failedBatch(worker: string, shard: string, epoch: string, at: number, first: string, last: string): this {
    this.deliveries.push({ worker, shard, epoch, at, records: 1, firstSequenceNumber: first, lastSequenceNumber: last });
    return this;
  }
  checkpoint(worker: string, shard: string, epoch: string, seq: string, sentAt: number, phase = 'batch'): this {
    this.add(worker, sentAt, { type: 'checkpoint-begin', shard, epoch, phase, seq, sub: 0 });
    return this.add(worker, sentAt + 1, { type: 'checkpoint', shard, epoch, phase, seq, sub: 0, sentAt });
  }
}

const SHARD = 'shardId-000000000000';
const put = (key: string, n: number, seq: string, shardId = SHARD): PutRecordAck => ({ key, n, shardId, sequenceNumber: seq });
const lineage: ShardLineage[] = [{ shardId: SHARD }];

function broken(input: Partial<OracleInput> & Pick<OracleInput, 'journal'>): OracleInvariant[] {
  const verdict = checkSimulation({ puts: [], shards: lineage, ...input });
  return [...new Set(verdict.violations.map((v) => v.invariant))].sort();
}

describe('checkSimulation', () => {
  it('passes a clean run: one owner, then a graceful handoff to a second', () => {
    const j = new J()
      .acquire('w1', SHARD, 0)
      .init('w1', SHARD, 'e1', 1)
      .batch('w1', SHARD, 'e1', 10, [['a', 1, '100'], ['a', 2, '200']])
      .checkpoint('w1', SHARD, 'e1', '200', 11, 'shutdown')
      .acquire('w2', SHARD, 20)
      .init('w2', SHARD, 'e2', 21, '200')
      .batch('w2', SHARD, 'e2', 30, [['a', 3, '300']])
      .checkpoint('w2', SHARD, 'e2', '300', 31);
    const verdict = checkSimulation({
      journal: j.lines,
      puts: [put('a', 1, '100'), put('a', 2, '200'), put('a', 3, '300')],
      shards: lineage,
      deliveries: j.deliveries,
      leases: [{ leaseKey: SHARD, checkpoint: '300' }],
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.ok).toBe(true);
  });

  describe('no-loss', () => {
    const j = new J().acquire('w1', SHARD, 0).init('w1', SHARD, 'e1', 1, 'LATEST').batch('w1', SHARD, 'e1', 10, [['a', 2, '200']]);
    const puts = [put('a', 1, '100'), put('a', 2, '200'), put('a', 3, '300')];

    it('fails when an acknowledged put was never processed', () => {
      expect(broken({ journal: j.lines, puts })).toEqual(['no-loss']);
    });

    it('exempts the records a LATEST shard held before its first read, and only those', () => {
      expect(broken({ journal: j.lines, puts, exempt: new Map([[SHARD, '150']]) })).toEqual(['no-loss']);
      const verdict = checkSimulation({ journal: j.lines, puts: puts.slice(0, 2), shards: lineage, exempt: new Map([[SHARD, '150']]) });
      expect(verdict.ok).toBe(true);
      expect(verdict.required).toBe(1);
      expect(broken({ journal: j.lines, puts, exempt: new Map([[SHARD, 'all']]) })).toEqual([]);
    });
  });

  describe('single-processor', () => {
    const twoOwners = (bStartsAt: number): J =>
      new J()
        .acquire('w1', SHARD, 0)
        .init('w1', SHARD, 'e1', 1)
        .batch('w1', SHARD, 'e1', 10, [['a', 1, '100']])
        .failedBatch('w1', SHARD, 'e1', 30, '200', '200')
        .acquire('w2', SHARD, bStartsAt - 1)
        .init('w2', SHARD, 'e2', bStartsAt - 1)
        .batch('w2', SHARD, 'e2', bStartsAt, [['a', 2, '200']]);

    it('fails when two epochs of a shard are delivered batches in overlapping intervals (a failed delivery counts)', () => {
      const j = twoOwners(20);
      expect(broken({ journal: j.lines, deliveries: j.deliveries })).toContain('single-processor');
    });

    it('passes when the second epoch starts after the first one’s last delivery', () => {
      const j = twoOwners(40);
      expect(broken({ journal: j.lines, deliveries: j.deliveries })).not.toContain('single-processor');
    });

    it('does not count deliveries inside a declared stall of their worker, but does count one at the moment it wakes', () => {
      const j = twoOwners(20);
      expect(broken({ journal: j.lines, deliveries: j.deliveries, stalls: [{ worker: 'w1', from: 25, to: 35 }] })).not.toContain('single-processor');
      expect(broken({ journal: j.lines, deliveries: j.deliveries, stalls: [{ worker: 'w1', from: 15, to: 30 }] })).toContain('single-processor');
      expect(broken({ journal: j.lines, deliveries: j.deliveries, stalls: [{ worker: 'w2', from: 25, to: 35 }] })).toContain('single-processor');
    });
  });

  describe('stale-checkpoint', () => {
    // w1 holds the shard, loses it to w2, takes it back: its first epoch's processor checkpoints late.
    const base = (): J =>
      new J()
        .acquire('w1', SHARD, 0)
        .init('w1', SHARD, 'e1', 1)
        .batch('w1', SHARD, 'e1', 5, [['a', 1, '100']])
        .acquire('w2', SHARD, 10)
        .init('w2', SHARD, 'e2', 11)
        .acquire('w1', SHARD, 20)
        .init('w1', SHARD, 'e3', 21);

    it('fails when an epoch’s checkpoint sent after a later acquisition of the shard is accepted, even by the same worker', () => {
      const j = base().checkpoint('w1', SHARD, 'e1', '100', 25);
      const verdict = checkSimulation({ journal: j.lines, puts: [put('a', 1, '100')], shards: lineage });
      expect(verdict.violations.map((v) => v.invariant)).toEqual(['stale-checkpoint']);
    });

    it('passes the same checkpoint from the epoch of the current holding', () => {
      const j = base().checkpoint('w1', SHARD, 'e3', '100', 25);
      expect(broken({ journal: j.lines, puts: [put('a', 1, '100')] })).toEqual([]);
    });
  });

  describe('lost-checkpoint', () => {
    const j = new J().acquire('w1', SHARD, 0).init('w1', SHARD, 'e1', 1).batch('w1', SHARD, 'e1', 5, [['a', 1, '100']]).checkpoint('w1', SHARD, 'e1', '100', 6);

    it('fails when the final lease table is behind an accepted checkpoint', () => {
      expect(broken({ journal: j.lines, puts: [put('a', 1, '100')], leases: [{ leaseKey: SHARD, checkpoint: 'TRIM_HORIZON' }] })).toEqual(['lost-checkpoint']);
    });

    it('passes when the table holds it (or more)', () => {
      expect(broken({ journal: j.lines, puts: [put('a', 1, '100')], leases: [{ leaseKey: SHARD, checkpoint: '100' }] })).toEqual([]);
      expect(broken({ journal: j.lines, puts: [put('a', 1, '100')], leases: [{ leaseKey: SHARD, checkpoint: 'SHARD_END' }] })).toEqual([]);
    });
  });

  describe('checkpoint-beyond-processed', () => {
    it('fails for a checkpoint written past the last record the epoch processed', () => {
      const overreach: CheckpointOverreach = { worker: 'w1', shard: SHARD, epoch: 'e1', phase: 'shutdown', at: 40, processed: { seq: '100', sub: 0 }, written: { seq: '200', sub: 0 } };
      expect(broken({ journal: [], overreaches: [overreach] })).toEqual(['checkpoint-beyond-processed']);
    });
  });

  describe('flush-on-handoff', () => {
    it('fails when a batching epoch ended gracefully with returned records unwritten or uncheckpointed', () => {
      const unflushed: UnflushedHandoff = { worker: 'w1', shard: SHARD, epoch: 'e1', at: 40, delivered: { seq: '300', sub: 0 }, written: { seq: '200', sub: 0 }, checkpointed: { seq: '200', sub: 0 } };
      expect(broken({ journal: [], unflushedHandoffs: [unflushed] })).toEqual(['flush-on-handoff']);
      expect(broken({ journal: [], unflushedHandoffs: [] })).toEqual([]);
    });
  });

  describe('parent-before-child', () => {
    const PARENT = 'shardId-000000000000';
    const CHILD = 'shardId-000000000001';
    const shards: ShardLineage[] = [{ shardId: PARENT }, { shardId: CHILD, parentShardId: PARENT }];
    const puts = [put('a', 1, '100', PARENT), put('a', 2, '200', CHILD)];
    const parent = (): J => new J().acquire('w1', PARENT, 0).init('w1', PARENT, 'p', 1).batch('w1', PARENT, 'p', 5, [['a', 1, '100']]);

    it('passes when the child starts after the parent’s SHARD_END was accepted', () => {
      const j = parent().checkpoint('w1', PARENT, 'p', 'SHARD_END', 10, 'shard-end').acquire('w2', CHILD, 12).init('w2', CHILD, 'c', 13).batch('w2', CHILD, 'c', 15, [['a', 2, '200']]);
      expect(broken({ journal: j.lines, puts, shards })).toEqual([]);
    });

    it('fails when the child is processed before a SHARD_END of the parent was accepted', () => {
      const j = parent().acquire('w2', CHILD, 6).init('w2', CHILD, 'c', 7).batch('w2', CHILD, 'c', 8, [['a', 2, '200']]).checkpoint('w1', PARENT, 'p', 'SHARD_END', 10, 'shard-end');
      expect(broken({ journal: j.lines, puts, shards })).toEqual(['parent-before-child']);
    });

    it('fails when a parent record is first processed after the child’s first record', () => {
      const j = new J()
        .acquire('w1', PARENT, 0)
        .init('w1', PARENT, 'p', 1)
        .checkpoint('w1', PARENT, 'p', 'SHARD_END', 2, 'shard-end')
        .acquire('w2', CHILD, 3)
        .init('w2', CHILD, 'c', 4)
        .batch('w2', CHILD, 'c', 5, [['a', 2, '200']])
        .batch('w1', PARENT, 'p', 6, [['a', 1, '100']]);
      expect(broken({ journal: j.lines, puts, shards })).toContain('parent-before-child');
    });
  });

  describe('checks reused from @kcl-ts/fleet', () => {
    it('reports a zombie checkpoint, out-of-order delivery and an unexplained duplicate', () => {
      const j = new J()
        .acquire('w1', SHARD, 0)
        .init('w1', SHARD, 'e1', 1)
        .batch('w1', SHARD, 'e1', 5, [['a', 2, '200'], ['a', 1, '100']])
        .checkpoint('w1', SHARD, 'e1', '200', 6, 'shutdown')
        .acquire('w2', SHARD, 10)
        .init('w2', SHARD, 'e2', 11)
        .batch('w2', SHARD, 'e2', 12, [['a', 1, '100']])
        .checkpoint('w1', SHARD, 'e1', '200', 15);
      const got = broken({ journal: j.lines, puts: [put('a', 1, '100'), put('a', 2, '200')] });
      expect(got).toEqual(expect.arrayContaining(['zombie-checkpoint', 'epoch-order', 'duplicates', 'stale-checkpoint']));
    });
  });
});
