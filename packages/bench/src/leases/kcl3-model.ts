/**
 * A model of the Java KCL 3.x lease coordination cost and failover, built from the timings in
 * its code (v3.5.1, defaults with `failoverTimeMillis` = 10 s):
 * - every worker renews each lease every `failoverTimeMillis / 3 - 25` = 3,308 ms
 *   (`getRenewerTakerIntervalMillis`); a 3.x lease item also carries `throughputKBps`;
 * - the leader (`LeaseAssignmentManager`) runs every `leaseAssignmentIntervalMillis` =
 *   2 × failover = 20 s: one eventually consistent scan of the lease table, which in the
 *   single-table layout also returns every worker's `WORKER_METRIC_STATS` item;
 * - every worker's `LeaseDiscoverer` runs every `leaseAssignmentIntervalMillis / 2 - 25` =
 *   9,975 ms: an eventually consistent query of `LeaseOwnerToLeaseKeyIndex` (keys only), then
 *   a GetItem of each lease it did not know;
 * - every worker writes its `WorkerMetricStats` item every `workerMetricsReporterFreqInMillis`
 *   = 30 s;
 * - the leader lock (DynamoDB lock client): the leader heartbeats every 30 s, the others read
 *   the lock (strongly consistent) every 30 s; the lock lasts 120 s.
 * Failover after kill -9: the leader sees a lease's counter unchanged for a lease duration
 * only at its 20 s cycles (expired at the second cycle after the last renewal: 20–40 s), then
 * the new owner finds it at its next discovery (0–10 s). If the leader itself dies, nothing
 * is reassigned until the 120 s lock expires.
 * @module
 */
import { itemBytes, readUnits, scanReadUnits, writeUnits } from './capacity.js';

/** A `WORKER_METRIC_STATS` item of KCL 3.5 (CPU and throughput series of ten values each). */
const METRICS_ITEM_BYTES = itemBytes({
  leaseKey: { S: 'WorkerMetricStats#00000000-5c4f-4d0e-a2d4-2f5e4b7a4c11' },
  entityType: { S: 'WORKER_METRIC_STATS' },
  wid: { S: '00000000-5c4f-4d0e-a2d4-2f5e4b7a4c11' },
  lut: { N: '1767225600' },
  sut: { N: '1767225000' },
  m: { M: { C: { L: Array.from({ length: 10 }, () => ({ N: '12.5' })) }, T: { L: Array.from({ length: 10 }, () => ({ N: '1024.25' })) } } },
  mt: { M: { C: { L: [{ N: '80' }] } } },
  omt: { M: {} },
});

/** The KCL 3.x timings used by {@link kcl3Model}, in ms. */
export const KCL3_TIMINGS = {
  failoverMs: 10_000,
  renewMs: 3_308,
  assignmentMs: 20_000,
  discoveryMs: 9_975,
  metricsReportMs: 30_000,
  lockHeartbeatMs: 30_000,
  lockDurationMs: 120_000,
} as const;

/** Capacity units per lease-hour of the KCL 3.x model, by kind, and its failover. */
export interface Kcl3Estimate {
  readonly renewals: number;
  readonly leaderScans: number;
  readonly discoveryQueries: number;
  readonly metricsWrites: number;
  /** Lock reads by the workers that are not leader. */
  readonly leaderLockReads: number;
  /** The leader's lock heartbeats. */
  readonly leaderLockWrites: number;
  readonly reads: number;
  readonly writes: number;
  readonly total: number;
  /** kill -9 of a worker, in lease durations: earliest, mean, latest. */
  readonly failover: { readonly min: number; readonly mean: number; readonly max: number };
  /** kill -9 of the leader, in lease durations (lock expiry, then a cycle). */
  readonly leaderFailover: { readonly min: number; readonly max: number };
}

/**
 * The model for `workers` workers and `leases` leases whose kcl-ts item is `leaseItemBytes`
 * (a 3.x item is that, minus kcl-ts's `leaseOwnerIncarnation`, plus `throughputKBps`).
 */
export function kcl3Model(workers: number, leases: number, javaLeaseItemBytes: number): Kcl3Estimate {
  const t = KCL3_TIMINGS;
  const hour = 3_600_000;
  const leaseBytes = javaLeaseItemBytes + 'throughputKBps'.length + 3;
  const renewals = (leases * hour) / t.renewMs * writeUnits(leaseBytes, leaseBytes);
  const leaderScans = (hour / t.assignmentMs) * scanReadUnits(leases * leaseBytes + workers * METRICS_ITEM_BYTES, false);
  const perWorkerKeys = leases / workers;
  const indexEntryBytes = 'leaseKey'.length + 20 + 'leaseOwner'.length + 36;
  const discoveryQueries = workers * (hour / t.discoveryMs) * readUnits(perWorkerKeys * indexEntryBytes, false);
  const metricsWrites = workers * (hour / t.metricsReportMs) * writeUnits(METRICS_ITEM_BYTES, METRICS_ITEM_BYTES);
  const leaderLockWrites = hour / t.lockHeartbeatMs;
  const leaderLockReads = (workers - 1) * (hour / t.lockHeartbeatMs) * readUnits(200, true);
  const perLease = (n: number): number => n / leases;
  const r = {
    renewals: perLease(renewals),
    leaderScans: perLease(leaderScans),
    discoveryQueries: perLease(discoveryQueries),
    metricsWrites: perLease(metricsWrites),
    leaderLockReads: perLease(leaderLockReads),
    leaderLockWrites: perLease(leaderLockWrites),
  };
  const reads = r.leaderScans + r.discoveryQueries + r.leaderLockReads;
  const writes = r.renewals + r.metricsWrites + r.leaderLockWrites;
  // The last renewal is 0–3.3 s before the kill; the leader first sees its counter at its next
  // cycle (0–20 s later) and judges it expired at the cycle after (cycles are 20 s apart, the
  // lease lasts 10 s); the new owner finds it at its next discovery (0–10 s later).
  const L = t.failoverMs;
  const failover = {
    min: (t.assignmentMs - t.renewMs) / L,
    mean: (t.assignmentMs / 2 + t.assignmentMs + t.discoveryMs / 2 - t.renewMs / 2) / L,
    max: (2 * t.assignmentMs + t.discoveryMs) / L,
  };
  // The lock expires 90–120 s after the kill (heartbeats every 30 s), a survivor tries every
  // 30 s, and then needs two cycles to judge the dead leader's leases expired.
  const leaderFailover = {
    min: (t.lockDurationMs - t.lockHeartbeatMs + t.assignmentMs) / L,
    max: (t.lockDurationMs + t.lockHeartbeatMs + 2 * t.assignmentMs + t.discoveryMs) / L,
  };
  return { ...r, reads, writes, total: reads + writes, failover, leaderFailover };
}
