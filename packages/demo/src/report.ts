import type { ChaosOutcome } from './chaos.js';
import { shortShard } from './dashboard.js';
import { EXPECTED_DUPLICATE_REASONS, type DuplicateReason, type TakeoverReport, type Verdict } from './verdict.js';

// The verdict as a table for people, and as JSON for scripts and benchmarks.

const REASON_TEXT: Record<DuplicateReason, string> = {
  'after-kill-before-checkpoint': 'after the kill, not yet checkpointed',
  'after-kill-but-checkpointed': 'after the kill, but already checkpointed',
  'after-graceful-stop': 'after the graceful stop',
  'same-worker-twice': 'same worker twice',
  'after-lease-taken': 'after a lease was taken from its live owner',
  'ownership-change': 'after a lease changed hands',
  'processed-three-or-more-times': 'processed 3+ times',
};

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
  const lines = [row(what, '', summary)];
  lines.push(`      ${report.shards.map((s) => `${shortShard(s.shardId)} → ${s.by} in ${seconds(s.ms)}`).join('; ')}`);
  return lines;
}

/** The verdict as lines of text. */
export function formatVerdict(v: Verdict, options: { leaseDurationMs: number; chaos?: readonly ChaosOutcome[] }): string {
  const lines: string[] = ['', '=== Verdict ==='];
  if (options.chaos && options.chaos.length > 0) {
    lines.push(`  chaos: ${options.chaos.map((c) => `${c.step} ${c.skipped ? 'skipped' : c.ok ? 'done' : 'FAILED'}`).join(', ')}`);
  }
  lines.push(row('records put (acknowledged)', v.put));
  lines.push(row('distinct records processed', v.processedDistinct, `(${v.processedTotal} processings in all)`));
  lines.push(row('lost (put, never processed)', v.lost, mark(v.lost === 0) + (v.lostSample.length > 0 ? `  e.g. ${v.lostSample.map((s) => `${s.key}#${s.n}`).join(', ')}` : '')));
  if (v.processedButNotAcknowledged > 0) lines.push(row('processed, put not acknowledged', v.processedButNotAcknowledged, '(a put whose answer was lost)'));
  const reasons = Object.entries(v.duplicates.byReason)
    .map(([reason, count]) => `${count} ${REASON_TEXT[reason as DuplicateReason]}${EXPECTED_DUPLICATE_REASONS.includes(reason as DuplicateReason) ? '' : ' (unexpected)'}`)
    .join('; ');
  lines.push(row('duplicates', v.duplicates.total, v.duplicates.total === 0 ? 'ok' : `${mark(v.duplicates.unexpected === 0)}  ${reasons}`));
  if (v.duplicates.producerRetries > 0) lines.push(row('stored twice by producer retries', v.duplicates.producerRetries, '(not a consumer duplicate)'));
  const order = v.orderSample.map((o) => `${o.key}#${o.n} before #${o.earlierN}`).join(', ');
  lines.push(row('per-key order violations', v.orderViolations, mark(v.orderViolations === 0) + (order ? `  e.g. ${order}` : '')));
  const early = v.earlyChildren.map((e) => `${shortShard(e.child)} before ${shortShard(e.parent)} ${e.parentEndedAt === undefined ? 'ever ended' : `ended (${e.parentEndedAt - e.childFirstAt} ms early)`}`).join(', ');
  lines.push(row('children started before parents ended', v.earlyChildren.length, `${mark(v.earlyChildren.length === 0)}  (${v.childShards} child shard(s) checked)${early ? `  ${early}` : ''}`));
  lines.push(...takeoverLines('failover', v.failover, options.leaseDurationMs));
  lines.push(...takeoverLines('handoff', v.handoff, options.leaseDurationMs));
  if (v.latencyMs) lines.push(row('put → first processing', '', `p50 ${v.latencyMs.p50} ms, p99 ${v.latencyMs.p99} ms, max ${v.latencyMs.max} ms`));
  if (v.tornJournalLines > 0) lines.push(row('torn journal lines (SIGKILL mid-write)', v.tornJournalLines));
  lines.push(v.ok ? '  RESULT: PASS' : `  RESULT: FAIL — ${v.failures.join('; ')}`);
  return lines.join('\n');
}
