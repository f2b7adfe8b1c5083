/**
 * Failover after `kill -9` and handoff after a graceful shutdown, measured on real worker
 * processes (see {@link runFleetSession}); kcl-ts defaults versus our Worker configured with
 * the Java KCL 2.x timings, alternating within the same invocation.
 * @module
 */
import { FLEET_LEASE_MS, KCL_MODEL_FLEET, KCL_MODEL_LABEL, OURS_FLEET, type BenchContext } from './context.js';
import { FLEET_SHARDS, FLEET_WORKERS, runFleetSession, type SessionResult } from './fleet-session.js';
import type { BenchmarkName } from './flags.js';
import { alternate } from './peer-run.js';
import { figure, num, type BenchReport, type Figure } from './report.js';
import { summarize } from './stats.js';

const SETUP_COMMON =
  `${FLEET_WORKERS} Worker child processes share a ${FLEET_SHARDS}-shard stream on the Kinesis Mock, leases seeded 2/2/2, ` +
  `a producer writes one record to every shard each 200 ms, processors checkpoint every batch and in shutdownRequested. ` +
  `Lease duration ${FLEET_LEASE_MS} ms for both configurations (the Java KCL's 10 s scaled down); retrieval settings are kcl-ts defaults in both, ` +
  `so only the lease timing and stealing differ (the KCL's idleTimeBetweenReads of 1.5 s would add up to 1.5 s more to the baseline). ` +
  `A fresh stream and lease table per session; the two configurations alternate; each signal is sent after a random pause of up to one taker interval, so it lands at a random phase of the renewer and taker loops.`;

function perShardNote(label: string, sessions: readonly SessionResult[], pick: 'failover' | 'handoff'): string {
  const parts = sessions.map((s, i) => {
    const p = s[pick];
    if (!p) return `run ${i + 1}: —`;
    const values = Object.entries(p.perShardMs).map(([shard, ms]) => `${shard.replace(/^shardId-0*(?=\d)/, '#')} ${num(ms / 1000, 2)} s`);
    return `run ${i + 1}: ${values.join(', ')}${p.timedOut ? ' (deadline hit)' : ''}${p.steadyBefore ? '' : ' (fleet not steady before)'}`;
  });
  return `${label} per shard — ${parts.join('; ')}`;
}

/** Runs the sessions; returns the failover and/or handoff reports. */
export async function benchFleet(ctx: BenchContext, only: ReadonlySet<BenchmarkName>): Promise<BenchReport[]> {
  const which = { handoff: only.has('handoff'), failover: only.has('failover') };
  const tunings = { ours: OURS_FLEET, kcl: KCL_MODEL_FLEET };
  const { ours, kcl } = await alternate(ctx, 'fleet', ['ours', 'kcl'] as const, ctx.runs, (label, run) => runFleetSession(ctx, label, run, tunings[label], which), (result) => {
    const h = result.handoff ? ` handoff ${num(result.handoff.maxMs / 1000, 2)} s, ${result.handoff.duplicates} duplicates` : '';
    return `${h}${result.failover ? ` failover ${num(result.failover.maxMs / 1000, 2)} s` : ''}`.trimStart();
  });
  const errorNote = (label: string, sessions: readonly SessionResult[]): string[] => {
    const errors = sessions.flatMap((s) => s.errors);
    if (errors.length === 0) return [];
    const shown = errors.slice(0, 5).join(' / ');
    return [`${label}: ${errors.length} worker errors/warnings reported, e.g. ${shown}`];
  };
  const reports: BenchReport[] = [];

  if (which.failover) {
    const o = ours.map((s) => s.failover!.maxMs);
    const k = kcl.map((s) => s.failover!.maxMs);
    const oShards = ours.flatMap((s) => Object.values(s.failover!.perShardMs));
    const kShards = kcl.flatMap((s) => Object.values(s.failover!.perShardMs));
    const asLease = (v: number[]): number[] => v.map((ms) => ms / FLEET_LEASE_MS);
    const oursX = summarize(asLease(o));
    const pass = oursX.median <= 1.5 && oursX.max <= 2;
    const figures: Figure[] = [
      figure({ name: "failover after kill -9, max over the killed worker's shards", unit: '× lease', ours: oursX, baseline: summarize(asLease(k)), target: 'p50 ≤ 1.5×, max ≤ 2×', pass,
        limit:
          'expiry is judged from the taker\'s own scans: a peer needs leaseDuration without seeing the counter change (measured from the scan that last saw a ' +
          'change, which trails the renewal by up to one taker interval), then the next taker round, then the consumer start (GetShardIterator + first GetRecords) — ' +
          'on a loaded 2-core machine the scheduling delays of the worker processes add to each step' }),
      figure({ name: 'failover after kill -9, max over shards', unit: 's', ours: summarize(o.map((ms) => ms / 1000)), baseline: summarize(k.map((ms) => ms / 1000)) }),
      figure({ name: 'failover per shard (every shard of every run)', unit: '× lease', ours: summarize(asLease(oShards)), baseline: summarize(asLease(kShards)) }),
    ];
    reports.push({
      name: 'failover',
      title: 'Failover after kill -9',
      setup: `${SETUP_COMMON} The worker holding the most leases is killed with SIGKILL; failover = time from the kill until a surviving worker processes a record on every shard the killed one held (max over its shards), as a multiple of the lease duration.`,
      baselineLabel: `${KCL_MODEL_LABEL}: lease ${FLEET_LEASE_MS} ms, renew every ${KCL_MODEL_FLEET.leases.renewIntervalMs} ms, taker every ${KCL_MODEL_FLEET.leases.takerIntervalMs} ms, 1 steal per round, hard steals, no release on stop`,
      figures,
      notes: [perShardNote('kcl-ts', ours, 'failover'), perShardNote('KCL model', kcl, 'failover'), ...errorNote('kcl-ts', ours), ...errorNote('KCL model', kcl)],
    });
  }

  if (which.handoff) {
    const o = ours.map((s) => s.handoff!.maxMs / 1000);
    const k = kcl.map((s) => s.handoff!.maxMs / 1000);
    const oSummary = summarize(o);
    const oDups = ours.map((s) => s.handoff!.duplicates);
    const kDups = kcl.map((s) => s.handoff!.duplicates);
    reports.push({
      name: 'handoff',
      title: 'Handoff after a graceful shutdown',
      setup: `${SETUP_COMMON} One worker gets SIGTERM (shutdownOnSignals → worker.shutdown()); handoff = time from the signal until its peers process a record on every shard it held (max over its shards). Duplicates = (key, n) pairs processed twice, counted over the whole session up to 1.5 s after the handoff.`,
      baselineLabel: `${KCL_MODEL_LABEL} — leases are not released on shutdown, so peers wait for them to expire`,
      figures: [
        figure({ name: 'handoff after SIGTERM, max over its shards', unit: 's', ours: oSummary, baseline: summarize(k), target: 'p50 ≤ 2 s', pass: oSummary.median <= 2,
          limit: 'the shutdown drains the processors (shutdownRequested checkpoints), releases the leases; peers notice on their next taker round (every leaseDuration/5) and start a consumer' }),
        figure({ name: 'duplicates during the handoff', unit: 'records', ours: summarize(oDups), baseline: summarize(kDups), digits: 0, noRatio: true, target: '0', pass: oDups.every((d) => d === 0),
          limit: 'records processed by the stopping worker after its last checkpoint were processed again by the new owner' }),
      ],
      notes: [perShardNote('kcl-ts', ours, 'handoff'), perShardNote('KCL model', kcl, 'handoff'), ...errorNote('kcl-ts', ours), ...errorNote('KCL model', kcl)],
    });
  }
  return reports;
}
