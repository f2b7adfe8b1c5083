import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJournal, type JournalEntry, type RecordEntry } from '../src/journal.js';
import { formatVerdict } from '../src/report.js';
import { comparePosition, computeVerdict, quantile, type PutRecord, type VerdictInput } from '../src/verdict.js';

// ---- synthetic journals -------------------------------------------------------------------

function rec(worker: string, shard: string, key: string, n: number, seq: number | string, processedAt: number): RecordEntry {
  return { type: 'record', worker, shard, key, n, seq: String(seq), processedAt, putAt: processedAt - 10 };
}
const end = (worker: string, shard: string, endedAt: number): JournalEntry => ({ type: 'end', worker, shard, endedAt });
const cp = (worker: string, shard: string, seq: number, at: number): JournalEntry => ({ type: 'checkpoint', worker, shard, seq: String(seq), at });
const put = (key: string, n: number, shardId = 's0', seq = 0): PutRecord => ({ key, n, putAt: 0, shardId, seq: String(seq) });
const journals = (entries: readonly JournalEntry[]) => parseJournal(entries.map((e) => JSON.stringify(e)).join('\n'));

function input(entries: readonly JournalEntry[], puts: readonly PutRecord[], extra: Partial<VerdictInput> = {}): VerdictInput {
  return { puts, journals: journals(entries), lineage: [], leaseDurationMs: 4000, ...extra };
}

/** A clean single-shard run: keys a and b, n = 0..2 each, processed once in order. */
function cleanRun(): { entries: JournalEntry[]; puts: PutRecord[] } {
  const entries: JournalEntry[] = [];
  const puts: PutRecord[] = [];
  let seq = 100;
  for (let n = 0; n < 3; n++) {
    for (const key of ['a', 'b']) {
      entries.push(rec('w1', 's0', key, n, seq, 1000 + seq));
      puts.push(put(key, n, 's0', seq));
      seq++;
    }
  }
  return { entries, puts };
}

describe('verdict', () => {
  it('passes a clean run: nothing lost, no duplicates, order kept', () => {
    const { entries, puts } = cleanRun();
    const v = computeVerdict(input(entries, puts));
    expect(v.ok).toBe(true);
    expect(v.failures).toEqual([]);
    expect(v).toMatchObject({ put: 6, processedDistinct: 6, processedTotal: 6, lost: 0, orderViolations: 0, processedButNotAcknowledged: 0 });
    expect(v.duplicates).toMatchObject({ total: 0, expected: 0, unexpected: 0, producerRetries: 0 });
    expect(v.latencyMs).toEqual({ p50: 10, p99: 10, max: 10 });
  });

  it('FAILS when a put record was never processed', () => {
    const { entries, puts } = cleanRun();
    const v = computeVerdict(input(entries, [...puts, put('a', 3)]));
    expect(v.ok).toBe(false);
    expect(v.lost).toBe(1);
    expect(v.lostSample).toEqual([{ key: 'a', n: 3 }]);
    expect(v.failures.join()).toMatch(/1 record\(s\) lost/);
  });

  it('FAILS when a key is first processed out of put order (across shards)', () => {
    // Key k moved from parent p to child c; the child processed n=1 before the parent processed n=0.
    const entries = [rec('w1', 'c', 'k', 1, 500, 100), rec('w2', 'p', 'k', 0, 10, 200), rec('w2', 'p', 'k', 2, 11, 300)];
    const v = computeVerdict(input(entries, [put('k', 0), put('k', 1), put('k', 2)]));
    expect(v.ok).toBe(false);
    expect(v.orderViolations).toBe(1);
    expect(v.orderSample[0]).toMatchObject({ key: 'k', n: 1, firstAt: 100, earlierN: 0, earlierFirstAt: 200 });
  });

  it('judges order by the FIRST processing: a later duplicate does not break order, ties are fine', () => {
    const entries = [rec('w1', 's0', 'k', 0, 1, 100), rec('w1', 's0', 'k', 1, 2, 100), rec('w2', 's0', 'k', 0, 1, 900)];
    const v = computeVerdict(input(entries, [put('k', 0), put('k', 1)]));
    expect(v.orderViolations).toBe(0);
  });

  it('FAILS when a child shard processed a record before its parent ended', () => {
    const entries = [rec('w1', 'p', 'k', 0, 1, 100), end('w1', 'p', 500), rec('w2', 'c', 'k', 1, 2, 400)];
    const v = computeVerdict(input(entries, [put('k', 0), put('k', 1)], { lineage: [{ shardId: 'p', parents: [] }, { shardId: 'c', parents: ['p'] }] }));
    expect(v.ok).toBe(false);
    expect(v.childShards).toBe(1);
    expect(v.earlyChildren).toEqual([{ child: 'c', parent: 'p', childFirstAt: 400, parentEndedAt: 500 }]);
  });

  it('FAILS a merge child that started before its SECOND parent ended, or whose parent never ended', () => {
    const entries = [end('w1', 'p1', 100), end('w2', 'p2', 700), rec('w1', 'm', 'k', 0, 1, 600), rec('w1', 'x', 'k', 1, 2, 800)];
    const lineage = [
      { shardId: 'm', parents: ['p1', 'p2'] },
      { shardId: 'x', parents: ['never-ended'] },
    ];
    const v = computeVerdict(input(entries, [put('k', 0), put('k', 1)], { lineage }));
    expect(v.earlyChildren).toEqual([
      { child: 'm', parent: 'p2', childFirstAt: 600, parentEndedAt: 700 },
      { child: 'x', parent: 'never-ended', childFirstAt: 800, parentEndedAt: undefined },
    ]);
    expect(v.ok).toBe(false);
  });

  it('accepts children that start after every parent ended; a re-ended parent counts from its last end', () => {
    const entries = [end('w1', 'p1', 100), end('w2', 'p2', 200), end('w3', 'p2', 300), rec('w1', 'm', 'k', 0, 1, 300)];
    const v = computeVerdict(input(entries, [put('k', 0)], { lineage: [{ shardId: 'm', parents: ['p1', 'p2'] }] }));
    expect(v.earlyChildren).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('counts duplicates after a kill, past the killed worker\'s last checkpoint, as expected', () => {
    const entries = [
      rec('w1', 's0', 'k', 0, 10, 900),
      cp('w1', 's0', 10, 901),
      rec('w1', 's0', 'k', 1, 11, 950),
      rec('w1', 's0', 'k', 2, 12, 950),
      // killed at 1000; w2 resumes after the checkpoint (seq 10)
      rec('w2', 's0', 'k', 1, 11, 6000),
      rec('w2', 's0', 'k', 2, 12, 6000),
      rec('w2', 's0', 'k', 3, 13, 6000),
    ];
    const kill = { workerId: 'w1', at: 1000, heldShards: ['s0'] };
    const v = computeVerdict(input(entries, [0, 1, 2, 3].map((n) => put('k', n)), { kill }));
    expect(v.duplicates).toMatchObject({ total: 2, expected: 2, unexpected: 0, byReason: { 'after-kill-before-checkpoint': 2 } });
    expect(v.ok).toBe(true);
  });

  it('FAILS a duplicate of a record the killed worker had already checkpointed', () => {
    const entries = [rec('w1', 's0', 'k', 0, 10, 900), cp('w1', 's0', 10, 901), rec('w2', 's0', 'k', 0, 10, 6000)];
    const v = computeVerdict(input(entries, [put('k', 0)], { kill: { workerId: 'w1', at: 1000, heldShards: ['s0'] } }));
    expect(v.duplicates).toMatchObject({ total: 1, expected: 0, unexpected: 1, byReason: { 'after-kill-but-checkpointed': 1 } });
    expect(v.ok).toBe(false);
  });

  it('FAILS duplicates not explained by the kill: graceful stop, same worker, plain ownership change', () => {
    const entries = [
      rec('w3', 's1', 'a', 0, 1, 100),
      rec('w1', 's1', 'a', 0, 1, 2100), // after the graceful stop of w3 at 2000
      rec('w2', 's2', 'b', 0, 5, 100),
      rec('w2', 's2', 'b', 0, 5, 200), // same worker twice
      rec('w2', 's3', 'c', 0, 7, 100),
      rec('w1', 's3', 'c', 0, 7, 200), // no kill or stop involved
    ];
    const v = computeVerdict(input(entries, [put('a', 0), put('b', 0), put('c', 0)], { gracefulStop: { workerId: 'w3', at: 2000, heldShards: ['s1'] } }));
    expect(v.duplicates.byReason).toEqual({ 'after-graceful-stop': 1, 'same-worker-twice': 1, 'ownership-change': 1 });
    expect(v.duplicates.unexpected).toBe(3);
    expect(v.ok).toBe(false);
  });

  it('names a steal from a live owner as the cause of its duplicates (and fails them)', () => {
    const entries: JournalEntry[] = [
      rec('w3', 's2', 'k', 0, 10, 100),
      { type: 'lease', worker: 'w3', shard: 's2', event: 'lost', reason: 'taken', at: 150 },
      rec('w1', 's2', 'k', 0, 10, 4200),
      rec('w2', 's3', 'j', 0, 20, 100),
      { type: 'lease', worker: 'w2', shard: 's3', event: 'lost', reason: 'expired', at: 150 },
      rec('w1', 's3', 'j', 0, 20, 4200),
    ];
    const v = computeVerdict(input(entries, [put('k', 0), put('j', 0)]));
    expect(v.duplicates.byReason).toEqual({ 'after-lease-taken': 1, 'ownership-change': 1 });
    expect(v.ok).toBe(false);
    expect(formatVerdict(v, { leaseDurationMs: 4000 })).toMatch(/1 after a lease was taken from its live owner \(unexpected\)/);
  });

  it('reports producer retries (same key and n stored twice) without failing', () => {
    const entries = [rec('w1', 's0', 'k', 0, 10, 100), rec('w1', 's0', 'k', 0, 11, 100), rec('w1', 's0', 'k', 1, 12, 100)];
    const v = computeVerdict(input(entries, [put('k', 0), put('k', 1)]));
    expect(v.duplicates).toMatchObject({ total: 0, producerRetries: 1 });
    expect(v.processedDistinct).toBe(2);
    expect(v.ok).toBe(true);
  });

  it('measures failover from the SIGKILL to the first record of a peer on each held, unfinished shard', () => {
    const entries = [
      rec('w1', 's0', 'k', 0, 1, 900),
      end('w1', 's2', 950), // ended before the kill: nothing to take over
      rec('w2', 's0', 'k', 1, 2, 800), // before the kill: ignored
      rec('w2', 's0', 'k', 2, 3, 3000),
      rec('w3', 's1', 'j', 0, 4, 5000),
      rec('w3', 's1', 'j', 1, 5, 5500),
    ];
    const kill = { workerId: 'w1', at: 1000, heldShards: ['s0', 's1', 's2', 's3'] };
    const v = computeVerdict(input(entries, [], { kill, leaseDurationMs: 4000 }));
    expect(v.failover).toEqual({
      workerId: 'w1',
      at: 1000,
      shards: [
        { shardId: 's0', by: 'w2', ms: 2000 },
        { shardId: 's1', by: 'w3', ms: 4000 },
      ],
      notResumed: ['s3'],
      maxMs: 4000,
      medianMs: 2000,
      leaseDurationMultiple: 1,
    });
  });

  it('reports the handoff max and median after a graceful stop', () => {
    const entries = [rec('w2', 'a', 'k', 0, 1, 2100), rec('w2', 'b', 'k', 1, 2, 2300), rec('w3', 'c', 'k', 2, 3, 2900)];
    const v = computeVerdict(input(entries, [], { gracefulStop: { workerId: 'w1', at: 2000, heldShards: ['a', 'b', 'c'] } }));
    expect(v.handoff).toMatchObject({ maxMs: 900, medianMs: 300 });
    expect(v.failover).toBeUndefined();
  });

  it('compares 128-bit sequence numbers as integers, not strings or doubles', () => {
    const big = '49590338271490256608559692538361571095921575989136588898';
    const bigPlusOne = '49590338271490256608559692538361571095921575989136588899';
    expect(comparePosition(big, undefined, bigPlusOne, undefined)).toBeLessThan(0);
    expect(comparePosition('9', undefined, '10', undefined)).toBeLessThan(0);
    expect(comparePosition(big, 2, big, 1)).toBeGreaterThan(0);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([], 0.5)).toBeUndefined();
  });

  it('formats a table that names lost records and the result', () => {
    const { entries, puts } = cleanRun();
    const pass = formatVerdict(computeVerdict(input(entries, puts)), { leaseDurationMs: 4000 });
    expect(pass).toMatch(/lost \(put, never processed\)\s+0/);
    expect(pass).toMatch(/RESULT: PASS/);
    const fail = formatVerdict(computeVerdict(input(entries, [...puts, put('z', 9)])), { leaseDurationMs: 4000 });
    expect(fail).toMatch(/lost \(put, never processed\)\s+1\s+FAIL\s+e\.g\. z#9/);
    expect(fail).toMatch(/RESULT: FAIL/);
  });
});

// ---- the built demo, end to end -----------------------------------------------------------

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const built = existsSync(MAIN);
if (!built) console.warn(`[demo] skipping the end-to-end demo test: ${MAIN} does not exist (run \`pnpm build\` first)`);

describe.skipIf(!built)('demo end to end (built dist/main.js)', () => {
  it(
    'runs a short fleet demo with split, merge, kill and graceful stop, and passes the verdict',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kcl-demo-test-'));
      const jsonFile = join(dir, 'verdict.json');
      try {
        const args = [MAIN, '--duration', '20', '--rate', '100', '--shards', '2', '--workers', '3', '--lease-duration', '3000', '--json', jsonFile];
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        const code = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGINT'), 170_000);
          child.on('exit', (c) => {
            clearTimeout(timer);
            resolve(c);
          });
        });
        expect(code, output).toBe(0);
        expect(output).toMatch(/lost \(put, never processed\)\s+0\s+ok/);
        expect(output).toMatch(/RESULT: PASS/);
        const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as {
          verdict: { lost: number; put: number; orderViolations: number; earlyChildren: unknown[]; duplicates: { unexpected: number } };
          chaos: { step: string; ok: boolean }[];
        };
        expect(report.verdict.put).toBeGreaterThan(0);
        expect(report.verdict.lost).toBe(0);
        expect(report.verdict.orderViolations).toBe(0);
        expect(report.verdict.earlyChildren).toEqual([]);
        expect(report.verdict.duplicates.unexpected).toBe(0);
        expect(report.chaos.map((c) => `${c.step}:${c.ok}`)).toEqual(['split:true', 'merge:true', 'kill:true', 'restart:true', 'graceful-stop:true']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
