import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkInvariants, checkInvariantsByStream, quantile, takeover, type JournalLine, type PutRecordAck } from '@kcl-ts/fleet';
import { formatVerdict, measure } from '../src/report.js';

// ---- measurements and the printed verdict over synthetic journals ---------------------------

type Line = JournalLine;
const rec = (worker: string, shard: string, key: string, n: number, seq: number, at: number): Line => ({
  type: 'record', worker, pid: 1, at, shard, epoch: `${worker}/${shard}`, key, n, putAt: at - 10, seq: String(seq), sub: 0,
});
const ended = (worker: string, shard: string, at: number): Line => ({ type: 'shard-ended', worker, pid: 1, at, shard, epoch: `${worker}/${shard}` });

/** A clean single-shard run: keys a and b, n = 0..2 each, processed once in order. */
function cleanRun(): { journals: Line[]; puts: PutRecordAck[] } {
  const journals: Line[] = [];
  const puts: PutRecordAck[] = [];
  let seq = 100;
  for (let n = 0; n < 3; n++) {
    for (const key of ['a', 'b']) {
      journals.push(rec('w1', 's0', key, n, seq, 1000 + seq));
      puts.push({ key, n, shardId: 's0', sequenceNumber: String(seq) });
      seq++;
    }
  }
  return { journals, puts };
}

describe('measurements', () => {
  it('measures failover from the SIGKILL to the first record of a peer on each held, unfinished shard', () => {
    const journals = [
      rec('w1', 's0', 'k', 0, 1, 900),
      ended('w1', 's2', 950), // ended before the kill: nothing to take over
      rec('w2', 's0', 'k', 1, 2, 800), // before the kill: ignored
      rec('w2', 's0', 'k', 2, 3, 3000),
      rec('w3', 's1', 'j', 0, 4, 5000),
      rec('w3', 's1', 'j', 1, 5, 5500),
    ];
    expect(takeover({ workerId: 'w1', at: 1000, heldShards: ['s0', 's1', 's2', 's3'] }, journals, 4000)).toEqual({
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

  it('reports the handoff max and median after a graceful stop, and the put → processing latency', () => {
    const journals = [rec('w2', 'a', 'k', 0, 1, 2100), rec('w2', 'b', 'k', 1, 2, 2300), rec('w3', 'c', 'k', 2, 3, 2900), rec('w3', 'c', 'k', 2, 3, 3900)];
    const m = measure(journals, { gracefulStop: { workerId: 'w1', at: 2000, heldShards: ['a', 'b', 'c'] }, leaseDurationMs: 4000 });
    expect(m.handoff).toMatchObject({ maxMs: 900, medianMs: 300 });
    expect(m.failover).toBeUndefined();
    expect(m.latencyMs).toEqual({ p50: 10, p99: 10, max: 10 }); // the duplicate's later processing is not a latency
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([], 0.5)).toBeUndefined();
  });

  it("prints the oracle's verdict: lost records named, RESULT line", () => {
    const { journals, puts } = cleanRun();
    const options = { leaseDurationMs: 4000, childShards: 0 };
    const pass = formatVerdict(checkInvariants({ journals, puts, shards: [] }), measure(journals, options), options);
    expect(pass).toMatch(/lost \(put, never processed\)\s+0\s+ok/);
    expect(pass).toMatch(/RESULT: PASS/);
    const failing = checkInvariants({ journals, puts: [...puts, { key: 'z', n: 9, shardId: 's0', sequenceNumber: '999' }], shards: [] });
    const fail = formatVerdict(failing, measure(journals, options), options);
    expect(fail).toMatch(/lost \(put, never processed\)\s+1\s+FAIL\s+e\.g\. .*z#9/);
    expect(fail).toMatch(/RESULT: FAIL — 1 no-loss/);
  });

  it('with several streams, prints a line per stream before the overall RESULT, and measures by (stream, shard)', () => {
    const { journals, puts } = cleanRun();
    // Each stream's processor is its own epoch (as the recording processor names them).
    const onStream = (stream: string) => ({ journals: journals.map((l) => ({ ...l, stream, ...('epoch' in l && { epoch: `${stream}/${l.epoch}` }) }) as Line), puts: puts.map((p) => ({ ...p, stream })) });
    const x = onStream('x');
    const y = onStream('y');
    const options = { leaseDurationMs: 4000, childShards: 0 };
    // y lost its last record: y fails, x passes, the run fails.
    const input = { journals: [...x.journals, ...y.journals], puts: [...x.puts, ...y.puts, { stream: 'y', key: 'z', n: 0, shardId: 's0', sequenceNumber: '999' }], shards: [] };
    const { overall, byStream } = checkInvariantsByStream(input, ['x', 'y']);
    const text = formatVerdict(overall, measure(input.journals, options), { ...options, byStream });
    expect(text).toMatch(/stream x: PASS \(put 6, processed 6 distinct, lost 0, duplicates 0/);
    expect(text).toMatch(/stream y: FAIL — 1 no-loss \(put 7, processed 6 distinct, lost 1/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('  RESULT: FAIL — 1 no-loss');
    // The same key and n on two streams are two records (no latency collapsed, no takeover confused).
    expect(measure(input.journals, options).latencyMs).toEqual({ p50: 10, p99: 10, max: 10 });
    const takeoverOfX = takeover({ workerId: 'w0', at: 0, heldShards: ['x/s0'] }, input.journals, 4000);
    expect(takeoverOfX?.shards).toEqual([{ shardId: 'x/s0', by: 'w1', ms: 1100 }]);
  });
});

// ---- the built demo, end to end -----------------------------------------------------------

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const built = existsSync(MAIN);
if (!built) console.warn(`[demo] skipping the end-to-end demo test: ${MAIN} does not exist (run \`pnpm build\` first)`);

describe.skipIf(!built)('demo end to end (built dist/main.js)', () => {
  it.each(['polling', 'fanout'])(
    'runs a short fleet demo (%s retrieval) with split, merge, kill and graceful stop, and passes the verdict',
    async (retrieval) => {
      const dir = mkdtempSync(join(tmpdir(), 'kcl-demo-test-'));
      const jsonFile = join(dir, 'verdict.json');
      try {
        const args = [MAIN, '--duration', '20', '--rate', '100', '--shards', '2', '--workers', '3', '--lease-duration', '3000', '--retrieval', retrieval, '--json', jsonFile];
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
          options: { retrieval: string };
          verdict: { ok: boolean; violations: unknown[]; summary: { puts: number; lost: number } };
          chaos: { step: string; ok: boolean }[];
        };
        expect(report.options.retrieval).toBe(retrieval);
        expect(report.verdict.summary.puts).toBeGreaterThan(0);
        expect(report.verdict.summary.lost).toBe(0);
        expect(report.verdict.violations).toEqual([]);
        expect(report.verdict.ok).toBe(true);
        expect(report.chaos.map((c) => `${c.step}:${c.ok}`)).toEqual(['split:true', 'merge:true', 'kill:true', 'restart:true', 'graceful-stop:true']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
