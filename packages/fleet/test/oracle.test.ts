import { describe, expect, it } from 'vitest';
import { checkInvariants, checkInvariantsByStream, formatVerdict, type CheckInput, type InvariantName, type LeaseRow, type PutRecordAck, type ShardLineage } from '../src/oracle.js';
import { parseJournal, type CheckpointPhase, type JournalLine } from '../src/journal.js';
import { comparePositions, rankOf } from '../src/positions.js';

/** A realistic (large) sequence number for record #i of a shard. */
const seq = (i: number): string => (49_000_000_000_000_000_000_000_000_000_000_000_000n + BigInt(i)).toString();

/** Builds journals line by line with explicit times. */
class J {
  readonly lines: JournalLine[] = [];
  private add(worker: string, at: number, body: object): this {
    this.lines.push({ worker, at, pid: 1, ...body } as JournalLine);
    return this;
  }
  acquire(worker: string, shard: string, at: number): this {
    return this.add(worker, at, { type: 'event', event: 'leaseAcquired', shard });
  }
  lost(worker: string, shard: string, at: number, reason = 'taken'): this {
    return this.add(worker, at, { type: 'event', event: 'leaseLost', shard, reason });
  }
  init(worker: string, shard: string, epoch: string, checkpoint: string, at: number): this {
    return this.add(worker, at, { type: 'init', shard, epoch, checkpoint, sub: 0 });
  }
  /** Records i..j (inclusive) of key `k` (n = i..j) on `shard`, at sequence numbers seq(i).. */
  records(worker: string, shard: string, epoch: string, from: number, to: number, at: number, key = 'k'): this {
    for (let i = from; i <= to; i++) this.add(worker, at, { type: 'record', shard, epoch, key, n: i, putAt: at, seq: seq(i), sub: 0 });
    return this;
  }
  record(worker: string, shard: string, epoch: string, key: string, n: number, s: string, at: number): this {
    return this.add(worker, at, { type: 'record', shard, epoch, key, n, putAt: at, seq: s, sub: 0 });
  }
  begin(worker: string, shard: string, epoch: string, s: string, at: number, phase: CheckpointPhase = 'batch'): this {
    return this.add(worker, at, { type: 'checkpoint-begin', shard, epoch, phase, seq: s, sub: 0 });
  }
  checkpoint(worker: string, shard: string, epoch: string, s: string, sentAt: number, at: number, phase: CheckpointPhase = 'batch'): this {
    this.begin(worker, shard, epoch, s, sentAt, phase);
    return this.add(worker, at, { type: 'checkpoint', shard, epoch, phase, seq: s, sub: 0, sentAt });
  }
  rejected(worker: string, shard: string, epoch: string, s: string, sentAt: number, at: number): this {
    this.begin(worker, shard, epoch, s, sentAt);
    return this.add(worker, at, { type: 'checkpoint-rejected', shard, epoch, phase: 'batch', seq: s, sub: 0, sentAt, error: 'LeaseLostError' });
  }
  shutdown(worker: string, shard: string, epoch: string, at: number): this {
    return this.add(worker, at, { type: 'shutdown-requested', shard, epoch });
  }
}

/** Puts of key `k`, n = from..to, on `shard`, at seq(n). */
function puts(shard: string, from: number, to: number, key = 'k'): PutRecordAck[] {
  const out: PutRecordAck[] = [];
  for (let i = from; i <= to; i++) out.push({ key, n: i, shardId: shard, sequenceNumber: seq(i) });
  return out;
}

const ONE_SHARD: ShardLineage[] = [{ shardId: 's0' }];

function invariantsOf(input: CheckInput): InvariantName[] {
  return [...new Set(checkInvariants(input).violations.map((v) => v.invariant))].sort();
}

describe('positions', () => {
  it('orders sequence numbers as BigInt and sentinels around them', () => {
    expect(comparePositions({ seq: '9', sub: 0 }, { seq: '10', sub: 0 })).toBeLessThan(0); // not lexical
    expect(comparePositions({ seq: seq(1), sub: 2 }, { seq: seq(1), sub: 1 })).toBeGreaterThan(0);
    expect(comparePositions({ seq: 'TRIM_HORIZON', sub: 0 }, { seq: '0', sub: 0 })).toBeLessThan(0);
    expect(comparePositions({ seq: 'SHARD_END', sub: 0 }, { seq: '9'.repeat(129), sub: 0 })).toBeGreaterThan(0);
    expect(rankOf('SHARD_END') > BigInt(seq(1))).toBe(true);
    expect(() => rankOf('12a')).toThrow(TypeError);
  });
});

describe('journal parsing', () => {
  it('skips a torn last line but refuses a corrupt one in the middle', () => {
    const good = JSON.stringify({ type: 'start', worker: 'w', at: 1, pid: 1 });
    expect(parseJournal(`${good}\n${good}\n{"type":"rec`)).toHaveLength(2);
    expect(() => parseJournal(`${good}\n{"type":"rec\n${good}\n`)).toThrow(/malformed/);
  });
});

describe('checkInvariants', () => {
  it('a clean single-owner run has no violation and the right counts', () => {
    const j = new J()
      .acquire('w1', 's0', 10)
      .init('w1', 's0', 'e1', 'TRIM_HORIZON', 11)
      .records('w1', 's0', 'e1', 0, 4, 20)
      .checkpoint('w1', 's0', 'e1', seq(4), 21, 22)
      .shutdown('w1', 's0', 'e1', 30)
      .checkpoint('w1', 's0', 'e1', seq(4), 31, 32, 'shutdown');
    const verdict = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 4), shards: ONE_SHARD, leases: [{ leaseKey: 's0', checkpoint: seq(4) }] });
    expect(verdict.violations).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.summary).toMatchObject({ puts: 5, recordsProcessed: 5, distinctProcessed: 5, duplicates: 0, lost: 0, epochs: 1, checkpointsAccepted: 2 });
    expect(formatVerdict(verdict)).toMatch(/^CLEAN/);
  });

  it('no-loss: an acknowledged record never processed', () => {
    const j = new J().acquire('w1', 's0', 10).init('w1', 's0', 'e1', 'TRIM_HORIZON', 11).records('w1', 's0', 'e1', 0, 2, 20);
    const verdict = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD });
    expect(verdict.violations.map((v) => v.invariant)).toEqual(['no-loss']);
    expect(verdict.violations[0]!.message).toMatch(/1 acknowledged records of s0.*k#3/);
    expect(verdict.summary.lost).toBe(1);
    expect(formatVerdict(verdict)).toMatch(/1 VIOLATION.*\n.*\[no-loss\]/);
  });

  it('no-phantom: a record never put, or processed at another sequence number than acknowledged', () => {
    const j = new J()
      .init('w1', 's0', 'e1', 'TRIM_HORIZON', 11)
      .records('w1', 's0', 'e1', 0, 1, 20)
      .record('w1', 's0', 'e1', 'other', 0, seq(5), 21)
      .record('w1', 's0', 'e1', 'k', 2, seq(7), 22);
    const v = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 2), shards: ONE_SHARD }).violations;
    expect(v.map((x) => x.invariant)).toEqual(['no-phantom', 'no-phantom']);
    expect(v[0]!.message).toMatch(/never acknowledged/);
    expect(v[1]!.message).toMatch(/put as s0@/);
  });

  it('epoch-order: sequence numbers going backwards, or a key out of order, within one epoch', () => {
    const backwards = new J().init('w1', 's0', 'e1', 'TRIM_HORIZON', 1).records('w1', 's0', 'e1', 0, 2, 2).records('w1', 's0', 'e1', 1, 1, 3);
    expect(invariantsOf({ journals: backwards.lines, puts: puts('s0', 0, 2), shards: ONE_SHARD })).toEqual(['duplicates', 'epoch-order']);
    // n going down for a key while the sequence numbers go up: the producer's order was not respected
    const keyOrder = new J().init('w1', 's0', 'e1', 'TRIM_HORIZON', 1).record('w1', 's0', 'e1', 'k', 1, seq(1), 2).record('w1', 's0', 'e1', 'k', 0, seq(2), 2);
    const v = checkInvariants({ journals: keyOrder.lines, puts: [{ key: 'k', n: 1, shardId: 's0', sequenceNumber: seq(1) }, { key: 'k', n: 0, shardId: 's0', sequenceNumber: seq(2) }], shards: ONE_SHARD }).violations;
    expect(v.map((x) => x.invariant)).toEqual(['epoch-order']);
    expect(v[0]!.message).toMatch(/k#0 after k#1/);
  });

  it('start-position: an epoch delivering a record at or before its starting checkpoint', () => {
    const j = new J().init('w1', 's0', 'e1', seq(2), 1).records('w1', 's0', 'e1', 2, 3, 2);
    expect(invariantsOf({ journals: j.lines, puts: puts('s0', 2, 3), shards: ONE_SHARD })).toEqual(['start-position']);
  });

  describe('zombie-checkpoint', () => {
    const base = (): J =>
      new J()
        .acquire('w1', 's0', 10)
        .init('w1', 's0', 'e1', 'TRIM_HORIZON', 11)
        .records('w1', 's0', 'e1', 0, 3, 20)
        .acquire('w2', 's0', 100)
        .init('w2', 's0', 'e2', 'TRIM_HORIZON', 101)
        .records('w2', 's0', 'e2', 0, 3, 110);

    it('flags a checkpoint accepted although it was sent after another worker acquired the shard', () => {
      const j = base().checkpoint('w1', 's0', 'e1', seq(3), 150, 151);
      const v = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD }).violations;
      expect(v.map((x) => x.invariant)).toContain('zombie-checkpoint');
      expect(v.find((x) => x.invariant === 'zombie-checkpoint')!.message).toMatch(/w1 had checkpoint .* accepted although it sent it 50 ms after w2 acquired/);
    });

    it('accepts the same checkpoint when it was sent before the take, and a rejected one at any time', () => {
      const before = base().checkpoint('w1', 's0', 'e1', seq(3), 90, 151);
      expect(invariantsOf({ journals: before.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD })).not.toContain('zombie-checkpoint');
      const rejected = base().rejected('w1', 's0', 'e1', seq(3), 150, 151);
      const verdict = checkInvariants({ journals: rejected.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD });
      expect(verdict.violations).toEqual([]); // w1 never checkpointed: w2's duplicates are explained
      expect(verdict.summary).toMatchObject({ duplicates: 4, checkpointsRejected: 1 });
    });

    it('accepts a checkpoint after the worker re-acquired the shard', () => {
      const j = base().acquire('w1', 's0', 140).checkpoint('w1', 's0', 'e1', seq(3), 150, 151);
      expect(invariantsOf({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD })).not.toContain('zombie-checkpoint');
    });
  });

  it('checkpoint-regression: an epoch starting behind a checkpoint accepted before it initialized', () => {
    const j = new J()
      .init('w1', 's0', 'e1', 'TRIM_HORIZON', 1)
      .records('w1', 's0', 'e1', 0, 3, 2)
      .checkpoint('w1', 's0', 'e1', seq(3), 3, 4)
      .init('w2', 's0', 'e2', seq(1), 10)
      .records('w2', 's0', 'e2', 2, 3, 11);
    const v = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD }).violations;
    expect(v.map((x) => x.invariant).sort()).toEqual(['checkpoint-regression', 'duplicates', 'duplicates']);
    expect(v.find((x) => x.invariant === 'checkpoint-regression')!.message).toMatch(/e2 started at .* although e1 had checkpoint/);
  });

  describe('final-checkpoint', () => {
    const run = (): J =>
      new J().init('w1', 's0', 'e1', 'TRIM_HORIZON', 1).records('w1', 's0', 'e1', 0, 3, 2).checkpoint('w1', 's0', 'e1', seq(1), 3, 4);

    it('flags a stored checkpoint behind an accepted one', () => {
      const v = checkInvariants({ journals: run().lines, puts: puts('s0', 0, 3), shards: ONE_SHARD, leases: [{ leaseKey: 's0', checkpoint: seq(0) }] }).violations;
      expect(v.map((x) => x.invariant)).toEqual(['final-checkpoint']);
      expect(v[0]!.message).toMatch(/behind checkpoint/);
    });

    it('flags a stored checkpoint ahead of every accepted one that no worker sent', () => {
      const v = checkInvariants({ journals: run().lines, puts: puts('s0', 0, 3), shards: ONE_SHARD, leases: [{ leaseKey: 's0', checkpoint: seq(3) }] }).violations;
      expect(v.map((x) => x.invariant)).toEqual(['final-checkpoint']);
      expect(v[0]!.message).toMatch(/which no worker sent/);
    });

    it('accepts a stored checkpoint that was sent by a worker killed before journaling the outcome', () => {
      const j = run().begin('w1', 's0', 'e1', seq(3), 5);
      expect(checkInvariants({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD, leases: [{ leaseKey: 's0', checkpoint: seq(3) }] }).violations).toEqual([]);
    });

    it('does not accept a stored value whose only attempt was rejected', () => {
      const j = run().rejected('w1', 's0', 'e1', seq(3), 5, 6);
      expect(invariantsOf({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD, leases: [{ leaseKey: 's0', checkpoint: seq(3) }] })).toEqual(['final-checkpoint']);
    });
  });

  describe('parent-before-child', () => {
    const lineage: ShardLineage[] = [{ shardId: 'p' }, { shardId: 'c', parentShardId: 'p' }];
    const all = [...puts('p', 0, 1), ...puts('c', 2, 3)];

    it('accepts a child processed after its parent ended', () => {
      const j = new J()
        .init('w1', 'p', 'e1', 'TRIM_HORIZON', 1)
        .records('w1', 'p', 'e1', 0, 1, 2)
        .checkpoint('w1', 'p', 'e1', seq(1), 3, 4)
        .checkpoint('w1', 'p', 'e1', 'SHARD_END', 5, 6, 'shard-end')
        .init('w2', 'c', 'e2', 'TRIM_HORIZON', 7)
        .records('w2', 'c', 'e2', 2, 3, 8);
      expect(checkInvariants({ journals: j.lines, puts: all, shards: lineage }).violations).toEqual([]);
    });

    it("flags a child record processed before the parent's last record", () => {
      const j = new J()
        .init('w1', 'p', 'e1', 'TRIM_HORIZON', 1)
        .records('w1', 'p', 'e1', 0, 0, 2)
        .checkpoint('w1', 'p', 'e1', 'SHARD_END', 3, 4, 'shard-end') // claims the end early
        .init('w2', 'c', 'e2', 'TRIM_HORIZON', 5)
        .records('w2', 'c', 'e2', 2, 3, 6)
        .records('w1', 'p', 'e1', 1, 1, 9);
      const v = checkInvariants({ journals: j.lines, puts: all, shards: lineage }).violations;
      expect(v.map((x) => x.invariant)).toEqual(['parent-before-child']);
      expect(v[0]!.message).toMatch(/child c at 6, before k#1 of parent p/);
    });

    it('flags a child started before any SHARD_END checkpoint of a merge parent', () => {
      const merge: ShardLineage[] = [{ shardId: 'p' }, { shardId: 'q' }, { shardId: 'c', parentShardId: 'p', adjacentParentShardId: 'q' }];
      const j = new J()
        .init('w1', 'p', 'e1', 'TRIM_HORIZON', 1)
        .records('w1', 'p', 'e1', 0, 1, 2)
        .checkpoint('w1', 'p', 'e1', 'SHARD_END', 3, 4, 'shard-end')
        .init('w1', 'q', 'e3', 'TRIM_HORIZON', 1)
        .init('w2', 'c', 'e2', 'TRIM_HORIZON', 5)
        .records('w2', 'c', 'e2', 2, 3, 6);
      const v = checkInvariants({ journals: j.lines, puts: all, shards: merge }).violations;
      expect(v.map((x) => x.invariant)).toEqual(['parent-before-child']);
      expect(v[0]!.message).toMatch(/before any SHARD_END checkpoint of parent q/);
    });
  });

  describe('duplicates', () => {
    it('accepts duplicates after a crash, for records after the last accepted checkpoint', () => {
      const j = new J()
        .acquire('w1', 's0', 1)
        .init('w1', 's0', 'e1', 'TRIM_HORIZON', 2)
        .records('w1', 's0', 'e1', 0, 1, 3)
        .checkpoint('w1', 's0', 'e1', seq(1), 4, 5)
        .records('w1', 's0', 'e1', 2, 3, 6) // then kill -9: no checkpoint of 2..3
        .acquire('w2', 's0', 50)
        .init('w2', 's0', 'e2', seq(1), 51)
        .records('w2', 's0', 'e2', 2, 3, 52)
        .checkpoint('w2', 's0', 'e2', seq(3), 53, 54);
      const verdict = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD, leases: [{ leaseKey: 's0', checkpoint: seq(3) }] });
      expect(verdict.violations).toEqual([]);
      expect(verdict.summary.duplicates).toBe(2);
    });

    it('flags a record processed twice by one epoch', () => {
      const j = new J().init('w1', 's0', 'e1', 'TRIM_HORIZON', 1).records('w1', 's0', 'e1', 0, 1, 2).record('w1', 's0', 'e1', 'k', 1, seq(1), 3);
      const v = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 1), shards: ONE_SHARD }).violations.filter((x) => x.invariant === 'duplicates');
      expect(v).toHaveLength(1);
      expect(v[0]!.message).toMatch(/e1 processed k#1 2 times/);
    });

    it('flags a duplicate after a graceful handoff', () => {
      // w1 hands over gracefully at 3, but w2's epoch re-delivers 3 (its start was 2: a library that
      // handed over before the final checkpoint).
      const j = new J()
        .init('w1', 's0', 'e1', 'TRIM_HORIZON', 1)
        .records('w1', 's0', 'e1', 0, 3, 2)
        .checkpoint('w1', 's0', 'e1', seq(2), 3, 4)
        .shutdown('w1', 's0', 'e1', 5)
        .init('w2', 's0', 'e2', seq(2), 6)
        .checkpoint('w1', 's0', 'e1', seq(3), 7, 8, 'shutdown')
        .records('w2', 's0', 'e2', 3, 3, 9);
      const v = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD }).violations;
      expect(v.map((x) => x.invariant)).toEqual(['duplicates']);
      expect(v[0]!.message).toMatch(/k#3 .* processed by e1 and again by e2, although e1 had checkpoint/);
    });

    it('accepts a zombie finishing its in-flight batch after the new owner started (it had not checkpointed it)', () => {
      const j = new J()
        .acquire('w1', 's0', 1)
        .init('w1', 's0', 'e1', 'TRIM_HORIZON', 2)
        .records('w1', 's0', 'e1', 0, 1, 3)
        .checkpoint('w1', 's0', 'e1', seq(1), 4, 5)
        .acquire('w2', 's0', 50)
        .init('w2', 's0', 'e2', seq(1), 51)
        .records('w2', 's0', 'e2', 2, 3, 52)
        .records('w1', 's0', 'e1', 2, 3, 60) // SIGCONT: the paused batch completes
        .rejected('w1', 's0', 'e1', seq(3), 61, 62)
        .checkpoint('w2', 's0', 'e2', seq(3), 53, 54);
      const verdict = checkInvariants({ journals: j.lines, puts: puts('s0', 0, 3), shards: ONE_SHARD, leases: [{ leaseKey: 's0', checkpoint: seq(3) }] });
      expect(verdict.violations).toEqual([]);
      expect(verdict.summary).toMatchObject({ duplicates: 2, recordsAfterSuccessorStarted: 2 });
    });
  });

  it('caps repeated violations of one kind per shard', () => {
    const j = new J().init('w1', 's0', 'e1', 'TRIM_HORIZON', 1);
    for (let i = 0; i < 20; i++) j.record('w1', 's0', 'e1', 'x', i, seq(1000 + i), 2);
    const v = checkInvariants({ journals: j.lines, puts: [], shards: ONE_SHARD }).violations;
    expect(v).toHaveLength(6);
    expect(v[5]!.message).toMatch(/omitted/);
  });
});

describe('several streams: shards keyed by (stream, shard)', () => {
  const SHARD = 'shardId-000000000000';
  /** Same shard id and same keys on two streams, at other sequence numbers on `beta`. */
  const OFFSET = 1_000;
  const onStream = (stream: string, lines: readonly JournalLine[]): JournalLine[] => lines.map((l) => ({ ...l, stream }));
  function twoStreams(betaUpTo = 4): CheckInput {
    // alpha: w1 holds the shard from t=100 and checkpoints at t=300.
    const alpha = new J().acquire('w1', SHARD, 100).init('w1', SHARD, 'e1', 'TRIM_HORIZON', 110).records('w1', SHARD, 'e1', 0, 4, 120).checkpoint('w1', SHARD, 'e1', seq(4), 300, 310);
    // beta: w2 acquires the shard of the same id at t=200 (before w1's checkpoint) and processes the same keys.
    const beta = new J().acquire('w2', SHARD, 200).init('w2', SHARD, 'e2', 'TRIM_HORIZON', 210);
    for (let n = 0; n <= betaUpTo; n++) beta.record('w2', SHARD, 'e2', 'k', n, seq(n + OFFSET), 220);
    beta.checkpoint('w2', SHARD, 'e2', seq(betaUpTo + OFFSET), 320, 330);
    const betaPuts = puts(SHARD, 0, 4).map((p, n) => ({ ...p, sequenceNumber: seq(n + OFFSET) }));
    const leases: LeaseRow[] = [
      { leaseKey: `000000000000:alpha:1:${SHARD}`, leaseOwner: 'w1', checkpoint: seq(4) },
      { leaseKey: `000000000000:beta:1:${SHARD}`, leaseOwner: 'w2', checkpoint: seq(betaUpTo + OFFSET) },
    ];
    return {
      journals: [...onStream('alpha', alpha.lines), ...onStream('beta', beta.lines)],
      puts: [...puts(SHARD, 0, 4).map((p) => ({ ...p, stream: 'alpha' })), ...betaPuts.map((p) => ({ ...p, stream: 'beta' }))],
      shards: [
        { stream: 'alpha', shardId: SHARD },
        { stream: 'beta', shardId: SHARD },
      ],
      leases,
    };
  }

  it('does not confuse records, epochs and checkpoints of the same shard id on two streams', () => {
    const input = twoStreams();
    const verdict = checkInvariants(input);
    expect(verdict.violations, formatVerdict(verdict)).toEqual([]);
    expect(verdict.summary).toMatchObject({ puts: 10, distinctProcessed: 10, duplicates: 0, lost: 0, epochs: 2 });
    // The same lines with the streams dropped (keyed by shard id alone) are a mess: the
    // records collide, and w1's checkpoint looks sent after w2 took "its" shard.
    const strip = <T extends { stream?: string }>(x: T): T => {
      const { stream: _, ...rest } = x;
      return rest as T;
    };
    const flat = invariantsOf({ journals: input.journals.map(strip), puts: input.puts.map(strip), shards: [{ shardId: SHARD }] });
    expect(flat).toEqual(expect.arrayContaining(['duplicates', 'no-phantom', 'zombie-checkpoint']));
  });

  it('gives a verdict per stream: a loss on one stream fails that stream only', () => {
    const { overall, byStream } = checkInvariantsByStream(twoStreams(3), ['alpha', 'beta']);
    expect(overall.ok).toBe(false);
    expect(overall.violations.map((v) => [v.invariant, v.shard])).toEqual([['no-loss', `beta/${SHARD}`]]);
    expect(byStream.get('alpha')!.ok).toBe(true);
    expect(byStream.get('alpha')!.summary.puts).toBe(5);
    expect(byStream.get('beta')!.violations.map((v) => v.invariant)).toEqual(['no-loss']);
  });
});
