/**
 * `pnpm bench:leases`: the DynamoDB capacity of lease coordination per lease-hour, join and
 * failover, for kcl-ts (both coordination modes), the Java KCL 2.x timing model (run by the
 * same simulation) and the Java KCL 3.x model (from its timings, see `kcl3-model.ts`), at
 * 3 workers × 24 leases, 50 × 1,000 and 500 × 10,000. Deterministic (fake clock, seeded).
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { kcl3Model, type Kcl3Estimate } from './kcl3-model.js';
import { JAVA_KCL_2X, KCL_TS_EVERY_WORKER, KCL_TS_HEARTBEAT, KCL_TS_SINGLE_SCANNER, simulateFleet, type FleetSimulationResult, type LeaseModel } from './lease-sim.js';
import { readUnitsOf, totalUnits, writeUnitsOf } from './metered-store.js';

/**
 * DynamoDB on-demand prices used for the dollar column: us-east-1, Standard table class, as
 * published since AWS's on-demand price cut of 1 November 2024 (the latest known on
 * 2026-11-29): $0.625 per million write request units, $0.125 per million read request units.
 */
export const ON_DEMAND_PRICE = { region: 'us-east-1', perMillionWrites: 0.625, perMillionReads: 0.125, asOf: '2026-11-29' } as const;

/**
 * The renewal trouble the single scanner must survive without losing a lease: once a minute
 * per worker, a renewal round fails and the next one is answered 1 s late (its margin after
 * one failed renewal is 1.5 s at the default 10 s lease).
 */
export const RENEWAL_TROUBLE = { everyMs: 60_000, slowMs: 1_000 } as const;

/** Hours in a month, as AWS bills them. */
const HOURS_PER_MONTH = 730;

/** On-demand dollars per month of `reads` and `writes` units per lease-hour over `leases` leases. */
export function dollarsPerMonth(reads: number, writes: number, leases: number): number {
  const hours = leases * HOURS_PER_MONTH;
  return ((reads * ON_DEMAND_PRICE.perMillionReads + writes * ON_DEMAND_PRICE.perMillionWrites) * hours) / 1e6;
}

interface Scenario {
  readonly workers: number;
  readonly leases: number;
  /** Taking workers in the every-worker models (the others' scans are added at their cadence). */
  readonly takingWorkers?: number;
  readonly steadySeconds: number;
  readonly stepMs: number;
  readonly failover: boolean;
  /** Run the join (rounds to fair share). */
  readonly join: boolean;
}

/** The three fleet sizes of the table. */
export const SCENARIOS: readonly Scenario[] = [
  { workers: 3, leases: 24, steadySeconds: 3_600, stepMs: 50, failover: true, join: true },
  { workers: 50, leases: 1_000, steadySeconds: 120, stepMs: 100, failover: true, join: true },
  // Capacity only: the join and failover of 500 simulated workers take too long for a routine run.
  { workers: 500, leases: 10_000, takingWorkers: 20, steadySeconds: 20, stepMs: 250, failover: false, join: false },
];

/** One row of the table. */
export interface BenchRow {
  readonly fleet: string;
  readonly model: string;
  readonly renewals: number;
  readonly scans: number;
  readonly indexAndRole: number;
  readonly other: number;
  readonly reads: number;
  readonly writes: number;
  readonly total: number;
  /** On-demand dollars per month for the whole fleet (see {@link ON_DEMAND_PRICE}). */
  readonly dollarsPerMonth: number;
  readonly vsJava2: number;
  readonly vsJava3: number;
  readonly joinRounds: string;
  readonly failover: string;
  readonly roleFailover: string;
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

function simRow(fleet: string, leases: number, model: LeaseModel, r: FleetSimulationResult, java2: number, java3: number): BenchRow {
  const c = r.perLeaseHour;
  const total = totalUnits(c);
  return {
    fleet,
    model: model.name,
    renewals: c.renewals,
    scans: c.scans,
    indexAndRole: c.indexQueries + c.roleReads + c.roleWrites + c.indexWrites,
    other: c.otherWrites + c.itemReads,
    reads: readUnitsOf(c),
    writes: writeUnitsOf(c),
    total,
    dollarsPerMonth: dollarsPerMonth(readUnitsOf(c), writeUnitsOf(c), leases),
    vsJava2: total / java2,
    vsJava3: total / java3,
    joinRounds: !r.joined ? 'not run' : r.roundsToBalance === undefined ? 'not balanced in 1 h' : String(r.roundsToBalance),
    failover: r.failover === undefined ? 'not run' : `${f2(r.failover.p50)} / ${f2(r.failover.max)}`,
    roleFailover: r.roleFailover === undefined ? '-' : `role ${f2(r.roleFailover.roleMoved)}; leases ${f2(r.roleFailover.p50)} / ${f2(r.roleFailover.max)}`,
  };
}

function kcl3Row(fleet: string, leases: number, e: Kcl3Estimate, java2: number): BenchRow {
  return {
    fleet,
    model: 'Java KCL 3.x model',
    renewals: e.renewals,
    scans: e.leaderScans,
    indexAndRole: e.discoveryQueries + e.leaderLockReads + e.leaderLockWrites,
    other: e.metricsWrites,
    reads: e.reads,
    writes: e.writes,
    total: e.total,
    dollarsPerMonth: dollarsPerMonth(e.reads, e.writes, leases),
    vsJava2: e.total / java2,
    vsJava3: 1,
    joinRounds: 'n/a',
    failover: `${f2(e.failover.mean)} / ${f2(e.failover.max)} (mean)`,
    roleFailover: `leader ${f2(e.leaderFailover.min)}–${f2(e.leaderFailover.max)}`,
  };
}

/** Runs every scenario and returns the rows (and the notes on how each was run). */
export async function runLeaseBench(
  scenarios: readonly Scenario[] = SCENARIOS,
  log: (line: string) => void = () => {},
): Promise<{ rows: BenchRow[]; notes: string[]; lostByLiveWorkers: number }> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let lostByLiveWorkers = 0;
  for (const s of scenarios) {
    const fleet = `${s.workers} × ${s.leases.toLocaleString('en-US')}`;
    const common = { workers: s.workers, leases: s.leases, steadySeconds: s.steadySeconds, stepMs: s.stepMs, failover: s.failover, join: s.join };
    log(`${fleet}: Java KCL 2.x model`);
    const java = await simulateFleet({ ...common, model: JAVA_KCL_2X, ...(s.takingWorkers ? { takingWorkers: s.takingWorkers } : {}) });
    const java2 = totalUnits(java.perLeaseHour);
    const java3 = kcl3Model(s.workers, s.leases, java.itemBytes);
    log(`${fleet}: kcl-ts every-worker`);
    const every = await simulateFleet({ ...common, model: KCL_TS_EVERY_WORKER, ...(s.takingWorkers ? { takingWorkers: s.takingWorkers } : {}) });
    log(`${fleet}: kcl-ts single-scanner`);
    const single = await simulateFleet({ ...common, model: KCL_TS_SINGLE_SCANNER });
    log(`${fleet}: kcl-ts single-scanner + worker-heartbeat`);
    const heartbeat = await simulateFleet({ ...common, model: KCL_TS_HEARTBEAT });
    // The renewal cadence under trouble (a separate run: its capacity is not representative).
    const trouble = s.failover ? await simulateFleet({ ...common, model: KCL_TS_SINGLE_SCANNER, join: false, failover: false, renewalTrouble: RENEWAL_TROUBLE }) : undefined;
    rows.push(simRow(fleet, s.leases, KCL_TS_EVERY_WORKER, every, java2, java3.total));
    rows.push(simRow(fleet, s.leases, KCL_TS_SINGLE_SCANNER, single, java2, java3.total));
    rows.push(simRow(fleet, s.leases, KCL_TS_HEARTBEAT, heartbeat, java2, java3.total));
    rows.push(simRow(fleet, s.leases, JAVA_KCL_2X, java, java2, java3.total));
    rows.push(kcl3Row(fleet, s.leases, java3, java2));
    notes.push(
      `${fleet}: steady window ${s.steadySeconds} simulated s scaled to 1 h; lease item ${Math.round(every.itemBytes)} B (kcl-ts), ${Math.round(java.itemBytes)} B (Java)` +
        (s.takingWorkers ? `; every-worker models: ${s.takingWorkers} of ${s.workers} workers ran their taker loop, the others' scans added at the same cadence` : '') +
        `; leases lost by workers still running (renewal not in time): ${[every, single, heartbeat, java].map((r) => r.lostByLiveWorkers).join(' / ')} (every-worker / single-scanner / worker-heartbeat / 2.x model)` +
        (trouble === undefined
          ? ''
          : `; single-scanner with one failed renewal round per worker every ${RENEWAL_TROUBLE.everyMs / 1000} s and the next answered ${RENEWAL_TROUBLE.slowMs} ms late: ${trouble.lostByLiveWorkers} leases lost by live workers`) +
        `; real time ${((every.realMs + single.realMs + heartbeat.realMs + java.realMs + (trouble?.realMs ?? 0)) / 1000).toFixed(1)} s`,
    );
    lostByLiveWorkers += every.lostByLiveWorkers + single.lostByLiveWorkers + heartbeat.lostByLiveWorkers + (trouble?.lostByLiveWorkers ?? 0);
  }
  return { rows, notes, lostByLiveWorkers };
}

/** The rows as a Markdown table. */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = ['fleet', 'model', 'renewals', 'scans', 'index + role', 'other', 'total CU', 'vs 2.x', 'vs 3.x', '$ / month', 'join rounds', 'failover p50 / max (× lease)', 'role holder killed (× lease)'];
  const money = (n: number): string => `$${n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)}`;
  const body = rows.map((r) => [r.fleet, r.model, f1(r.renewals), f1(r.scans), f1(r.indexAndRole), f1(r.other), f1(r.total), `${f2(r.vsJava2)}×`, `${f2(r.vsJava3)}×`, money(r.dollarsPerMonth), r.joinRounds, r.failover, r.roleFailover]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

const SECTION_START = '<!-- bench:leases start -->';
const SECTION_END = '<!-- bench:leases end -->';

/** The section of docs/benchmarks.md written by `pnpm bench:leases` (markers included), if present. */
export function leaseSection(markdown: string): string | undefined {
  const start = markdown.indexOf(SECTION_START);
  const end = markdown.indexOf(SECTION_END);
  return start < 0 || end < start ? undefined : markdown.slice(start, end + SECTION_END.length);
}

const USAGE = `Usage: pnpm bench:leases [-- --write]

  Simulates lease coordination (3 × 24, 50 × 1,000 and 500 × 10,000 leases) and prints the
  DynamoDB capacity per lease-hour of every model.

  --write           also rewrite the lease-coordination section of docs/benchmarks.md
  --fleets=3,50     run only the fleets of these worker counts (no --write then)
  -h, --help        show this help
`;

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    strict: true,
    allowPositionals: false,
    options: { write: { type: 'boolean' }, fleets: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (flags.help) return void process.stdout.write(USAGE);
  const only = flags.fleets?.split(',');
  const scenarios = only === undefined ? SCENARIOS : SCENARIOS.filter((s) => only.includes(String(s.workers)));
  const { rows, notes, lostByLiveWorkers } = await runLeaseBench(scenarios, (line) => console.error(`running ${line}`));
  const lines = [
    'DynamoDB capacity units (CU) per lease-hour: reads + writes, from item sizes and consistency.',
    `$ / month: the whole fleet on on-demand capacity, ${ON_DEMAND_PRICE.region}, $${ON_DEMAND_PRICE.perMillionWrites} per million writes and $${ON_DEMAND_PRICE.perMillionReads} per million reads (prices as known on ${ON_DEMAND_PRICE.asOf}), 730 h.`,
    '',
    formatTable(rows),
    '',
    ...notes.map((note) => `- ${note}`),
  ];
  const at = (model: string): BenchRow | undefined => rows.find((r) => r.fleet.startsWith('500 ') && r.model === model);
  const meets = (r: BenchRow | undefined): boolean => r !== undefined && r.vsJava2 <= 0.25 && r.vsJava3 < 1;
  lines.push('');
  for (const model of [KCL_TS_SINGLE_SCANNER.name, KCL_TS_HEARTBEAT.name]) {
    lines.push(`${model} at 500 × 10,000, ≤ 0.25× the 2.x model and below the 3.x model: ${meets(at(model)) ? 'yes' : 'no'}`);
  }
  // The target counts in a mode that may share its table with Java KCL 3.x workers: the
  // single scanner with per-lease renewals (worker heartbeats are not Java-safe).
  const pass = meets(at(KCL_TS_SINGLE_SCANNER.name)) && lostByLiveWorkers === 0;
  lines.push(`kcl-ts leases lost by workers still running, every fleet and mode, and under renewal trouble: ${lostByLiveWorkers}`);
  lines.push(`target (met by kcl-ts single-scanner, the mode that keeps per-lease renewals, with no lease lost by a live worker): ${pass ? 'PASS' : 'FAIL'}`);
  for (const line of lines) console.log(line);
  if (flags.write && only === undefined) {
    const out = fileURLToPath(new URL('../../../../docs/benchmarks.md', import.meta.url));
    const doc = readFileSync(out, 'utf8');
    const section = [SECTION_START, '## Lease coordination: capacity per lease-hour', '', 'Written by `pnpm bench:leases -- --write` (deterministic simulation, see packages/leases/README.md).', '', ...lines, SECTION_END].join('\n');
    const old = leaseSection(doc);
    writeFileSync(out, old === undefined ? `${doc.trimEnd()}\n\n${section}\n` : doc.replace(old, section));
  }
  if (!pass) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof TypeError && 'code' in error ? `${error.message}\n\n${USAGE}` : error);
    process.exitCode = error instanceof TypeError && 'code' in error ? 2 : 1;
  });
}
