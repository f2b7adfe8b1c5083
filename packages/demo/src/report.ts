// The verdict as the demo prints it: the oracle's verdict (from @kcl-ts/fleet) in a table for
// people, with what the demo measures beside it (failover and handoff times, put → processing
// latency), and as JSON for scripts.
import { quantile, recordKey, takeover, type Disruption, type InvariantName, type JournalLine, type LineOf, type TakeoverReport, type Verdict, type Violation } from '@kcl-ts/fleet';
import { shortShard } from './dashboard.js';
import type { StepOutcome } from './timeline.js';

/** What the demo measures on top of the oracle's verdict. */
export interface Measurements {
  readonly failover: TakeoverReport | undefined;
  readonly handoff: TakeoverReport | undefined;
  /** Put → first processing, over distinct records. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number } | undefined;
}

/** Measures failover, handoff and latency from the journals. */
export function measure(journals: readonly JournalLine[], options: { readonly kill?: Disruption; readonly gracefulStop?: Disruption; readonly leaseDurationMs: number }): Measurements {
  const first = new Map<string, LineOf<'record'>>();
  for (const l of journals) {
    if (l.type !== 'record' || l.putAt === undefined) continue;
    const id = recordKey(l);
    const seen = first.get(id);
    if (!seen || l.at < seen.at) first.set(id, l);
  }
  const latencies = [...first.values()].map((r) => r.at - r.putAt!).sort((a, b) => a - b);
  return {
    failover: options.kill && takeover(options.kill, journals, options.leaseDurationMs),
    handoff: options.gracefulStop && takeover(options.gracefulStop, journals, options.leaseDurationMs),
    latencyMs: latencies.length > 0 ? { p50: quantile(latencies, 0.5)!, p99: quantile(latencies, 0.99)!, max: latencies.at(-1)! } : undefined,
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mark = (good: boolean): string => (good ? 'ok' : 'FAIL');

function row(label: string, value: string | number, note = ''): string {
  return `  ${label.padEnd(40)} ${String(value).padStart(8)}   ${note}`.trimEnd();
}

function takeoverLines(kind: 'failover' | 'handoff', report: TakeoverReport | undefined, leaseDurationMs: number): string[] {
  if (!report) return [];
  const what = kind === 'failover' ? `failover after SIGKILL of ${report.workerId}` : `handoff after SIGTERM of ${report.workerId}`;
  if (report.maxMs === undefined) {
    return [row(what, '-', report.notResumed.length > 0 ? `no records after it on ${report.notResumed.map(shortShard).join(', ')}` : 'it held no unfinished shard')];
  }
  const summary =
    kind === 'failover'
      ? `${seconds(report.maxMs)} = ${report.leaseDurationMultiple} × leaseDuration (${leaseDurationMs} ms)`
      : `max ${seconds(report.maxMs)}, median ${seconds(report.medianMs!)}`;
  return [row(what, '', summary), `      ${report.shards.map((s) => `${shortShard(s.shardId)} → ${s.by} in ${seconds(s.ms)}`).join('; ')}`];
}

/** The oracle's violations of some invariants, with the first message as an example. */
function invariantRow(label: string, verdict: Verdict, names: readonly InvariantName[], value?: number, note = ''): string {
  const found: Violation[] = verdict.violations.filter((v) => names.includes(v.invariant));
  const example = found[0] ? `  e.g. ${found[0].message}` : '';
  return row(label, value ?? found.length, `${mark(found.length === 0)}${note}${example}`);
}

/** Names of the invariants a verdict breaks, with counts (`2 no-loss; 1 duplicates`). */
function failureList(v: Verdict): string {
  return [...new Set(v.violations.map((x) => x.invariant))].map((name) => `${v.violations.filter((x) => x.invariant === name).length} ${name}`).join('; ');
}

/** One line per stream of a multi-stream run: its own verdict (each stream's puts, records, lineage and leases alone). */
export function streamVerdictLines(byStream: ReadonlyMap<string, Verdict>): string[] {
  return [...byStream].map(([stream, v]) => {
    const s = v.summary;
    return `  stream ${stream}: ${v.ok ? 'PASS' : `FAIL — ${failureList(v)}`} (put ${s.puts}, processed ${s.distinctProcessed} distinct, lost ${s.lost}, duplicates ${s.duplicates}, epochs ${s.epochs})`;
  });
}

/**
 * The verdict as lines of text; the last one is `RESULT: PASS` or `RESULT: FAIL — …` (the
 * overall verdict). With `byStream` (several streams), a line per stream comes before it.
 */
export function formatVerdict(
  v: Verdict,
  m: Measurements,
  options: { readonly leaseDurationMs: number; readonly childShards: number; readonly timeline?: readonly StepOutcome[]; readonly byStream?: ReadonlyMap<string, Verdict> },
): string {
  const s = v.summary;
  const lines: string[] = ['', '=== Verdict ==='];
  if (options.timeline && options.timeline.length > 0) {
    lines.push(`  chaos: ${options.timeline.map((c) => `${c.step} ${c.skipped ? 'skipped' : c.ok ? 'done' : 'FAILED'}`).join(', ')}`);
  }
  lines.push(row('records put (acknowledged)', s.puts));
  lines.push(row('distinct records processed', s.distinctProcessed, `(${s.recordsProcessed} processings in all)`));
  lines.push(invariantRow('lost (put, never processed)', v, ['no-loss'], s.lost));
  const unexplained = v.violations.filter((x) => x.invariant === 'duplicates').length;
  lines.push(invariantRow('duplicates', v, ['duplicates'], s.duplicates, s.duplicates > 0 && unexplained === 0 ? '  all after a crash, past the last checkpoint' : ''));
  lines.push(invariantRow('per-key order violations', v, ['epoch-order', 'start-position']));
  lines.push(invariantRow('children started before parents ended', v, ['parent-before-child'], undefined, `  (${options.childShards} child shard(s) checked)`));
  lines.push(invariantRow('zombie checkpoints accepted', v, ['zombie-checkpoint'], undefined, `  (${s.checkpointsAccepted} accepted, ${s.checkpointsRejected} rejected)`));
  const other = v.violations.filter((x) => ['no-phantom', 'checkpoint-regression', 'final-checkpoint'].includes(x.invariant)).length;
  if (other > 0) lines.push(invariantRow('other invariants (phantom, regression, final)', v, ['no-phantom', 'checkpoint-regression', 'final-checkpoint']));
  lines.push(...takeoverLines('failover', m.failover, options.leaseDurationMs));
  lines.push(...takeoverLines('handoff', m.handoff, options.leaseDurationMs));
  if (m.latencyMs) lines.push(row('put → first processing', '', `p50 ${m.latencyMs.p50} ms, p99 ${m.latencyMs.p99} ms, max ${m.latencyMs.max} ms`));
  if (options.byStream && options.byStream.size > 1) lines.push(...streamVerdictLines(options.byStream));
  lines.push(v.ok ? '  RESULT: PASS' : `  RESULT: FAIL — ${failureList(v)}`);
  return lines.join('\n');
}
