/**
 * The result model of a benchmark (figures with median and spread, baseline, ratio, target,
 * verdict) and its rendering as a console table and as Markdown.
 * @module
 */
import { ratio, summarize, type Summary } from './stats.js';

/** PASS / MISS against a target; INFO for a figure without one. */
export type Verdict = 'PASS' | 'MISS' | 'INFO';

/** One measured figure: ours and (where there is one) the baseline measured in the same run. */
export interface Figure {
  readonly name: string;
  readonly unit: string;
  readonly ours: Summary;
  readonly baseline?: Summary;
  /** ours.median / baseline.median, unless given (e.g. a median of paired ratios). */
  readonly ratio?: number;
  readonly target?: string;
  readonly verdict: Verdict;
  /** For a MISS: what limits the figure. */
  readonly limit?: string;
  /** Digits after the decimal point. @default 2 */
  readonly digits?: number;
  /** Shown in the side-by-side table at the top of the report, with this name for the baseline (e.g. `lifion`). */
  readonly against?: string;
}

/** Everything one benchmark reports. */
export interface BenchReport {
  /** `--only` name. */
  readonly name: string;
  readonly title: string;
  /** How it was measured (one paragraph). */
  readonly setup: string;
  /** Label of the baseline column. */
  readonly baselineLabel?: string;
  readonly figures: readonly Figure[];
  /** Further observations (per-shard values, caveats). */
  readonly notes: readonly string[];
}

/** The summary of `f` over every run. */
export const summaryOf = <R>(runs: readonly R[], f: (r: R) => number): Summary => summarize(runs.map(f));

/** `ours` and `baseline` of a figure: the summaries of `f` over our runs and over the baseline's. */
export const versus = <R>(ours: readonly R[], theirs: readonly R[], f: (r: R) => number): { readonly ours: Summary; readonly baseline: Summary } => ({ ours: summaryOf(ours, f), baseline: summaryOf(theirs, f) });

/** Bytes per MB in the reports (a MiB). */
export const MB = 1024 * 1024;

/** Builds a figure, computing the ratio of the medians (unless `noRatio`, e.g. for counts) and the verdict from `pass` (undefined: INFO). */
export function figure(init: Omit<Figure, 'verdict' | 'ratio'> & { readonly ratio?: number; readonly pass?: boolean; readonly noRatio?: boolean }): Figure {
  const { pass, noRatio, ...rest } = init;
  const r = noRatio ? undefined : (init.ratio ?? (init.baseline ? ratio(init.ours.median, init.baseline.median) : undefined));
  return { ...rest, ...(r !== undefined && { ratio: r }), verdict: pass === undefined ? 'INFO' : pass ? 'PASS' : 'MISS' };
}

/** Formats a number with `digits` decimals and thousands separators. */
export function num(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max, n=…)`, or just the value for a single one. */
export function formatSummary(s: Summary | undefined, digits = 2): string {
  if (!s || s.n === 0) return '—';
  if (s.n === 1) return num(s.median, digits);
  return `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)}, n=${s.n})`;
}

/** A figure's table cells: name [unit], ours, (`against`, when asked,) baseline, ratio, target, verdict. */
export function cells(f: Figure, against = false): string[] {
  const d = f.digits ?? 2;
  const ratio = f.ratio === undefined ? '—' : `${num(f.ratio, 2)}×`;
  return [`${f.name}${f.unit ? ` [${f.unit}]` : ''}`, formatSummary(f.ours, d), ...(against ? [f.against ?? ''] : []), formatSummary(f.baseline, d), ratio, f.target ?? '—', f.verdict];
}

const HEADER = ['figure', 'kcl-ts median (min–max)', 'baseline median (min–max)', 'ratio', 'target', 'verdict'];

/** The console rendering: title, aligned table, MISS explanations, notes. */
export function renderText(report: BenchReport): string {
  const rows = [HEADER, ...report.figures.map((f) => cells(f))];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ');
  const out = [`== ${report.title} ==`];
  if (report.baselineLabel) out.push(`baseline: ${report.baselineLabel}`);
  out.push(line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows.slice(1)) out.push(line(r));
  for (const f of report.figures) if (f.verdict === 'MISS') out.push(`MISS ${f.name}: ${f.limit ?? 'no explanation recorded'}`);
  for (const note of report.notes) out.push(`- ${note}`);
  return out.join('\n');
}

const md = (s: string): string => s.replace(/\|/g, '\\|');

/** The Markdown rendering of one benchmark. */
export function renderMarkdown(report: BenchReport): string {
  const out = [`## ${report.title}`, '', report.setup, ''];
  if (report.baselineLabel) out.push(`Baseline: ${report.baselineLabel}.`, '');
  out.push(`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`);
  for (const f of report.figures) out.push(`| ${cells(f).map(md).join(' | ')} |`);
  out.push('');
  for (const f of report.figures) if (f.verdict === 'MISS') out.push(`**MISS** — ${f.name}: ${f.limit ?? 'no explanation recorded'}`, '');
  if (report.notes.length > 0) {
    for (const note of report.notes) out.push(`- ${note}`);
    out.push('');
  }
  return out.join('\n');
}
