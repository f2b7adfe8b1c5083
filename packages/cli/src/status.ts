import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { SCANNER_ROLE, shardIdOf, type InvalidLeaseItem, type Lease, type LeaseRefresher, type LeaseTableScan } from '@kcl-ts/leases';
import type { ShardInfo } from '@kcl-ts/shard-sync';
import { newestStreamNamed } from './stream-identifiers.js';

/** One row of `kcl status`. */
export interface LeaseStatus {
  readonly shardId: string;
  /** The lease's stream in a multi-stream table (`account:streamName:creationEpoch`); `null` in a single-stream one. */
  readonly streamIdentifier: string | null;
  /** `ended`: checkpointed SHARD_END; `closed`: the shard was resharded but is not finished; `open`; `unknown` without --stream. */
  readonly state: 'open' | 'closed' | 'ended' | 'gone' | 'unknown';
  readonly owner: string | null;
  readonly checkpoint: string;
  readonly leaseCounter: number;
  /** MillisBehindLatest from the checkpoint, when the stream was given. */
  readonly lagMs: number | null;
  readonly parents: readonly string[];
  readonly children: readonly string[];
  readonly ownerSwitchesSinceCheckpoint: number;
  /** True when the counter did not change during the expiry check. */
  readonly expired: boolean | null;
  readonly pendingHandoffTo: string | null;
}

/** The whole report of `kcl status`. */
export interface StatusReport {
  readonly table: string;
  readonly stream: string | null;
  readonly leases: readonly LeaseStatus[];
  /**
   * Items of the table that are not valid leases (a wrong attribute type, a garbage
   * checkpoint...): no worker takes them until they are fixed or deleted. Empty when the
   * refresher cannot report them (it has no `scanLeaseTable`).
   */
  readonly invalid: readonly InvalidLeaseItem[];
  readonly workers: readonly { readonly workerId: string; readonly leases: number }[];
  /** Multi-stream tables: unfinished leases per stream, and how many of them no worker owns. Empty for a single-stream table. */
  readonly streams: readonly { readonly streamIdentifier: string; readonly leases: number; readonly unowned: number }[];
  readonly unowned: readonly string[];
  readonly expired: readonly string[] | null;
  /**
   * The holder of the `single-scanner` coordination role (`kcl-ts:role:scanner`): `null` when
   * the table has no role item (the default `every-worker` mode), `holder: null` when it was
   * released. Read eventually consistent.
   */
  readonly scannerRole: { readonly holder: string | null; readonly counter: number } | null;
}

/** Gathers the status report: one consistent scan (two with an expiry check) and, with a stream, ListShards and lag probes. */
export async function collectStatus(input: {
  refresher: LeaseRefresher;
  table: string;
  stream?: string;
  kinesis?: KinesisClient;
  listShards?: () => Promise<ShardInfo[]>;
  /** Scan twice, this far apart, and report leases whose counter did not change as expired. */
  expiryCheckMs?: number;
  sleep?: (ms: number) => Promise<void>;
}): Promise<StatusReport> {
  const refresher = input.refresher;
  // An invalid item must not fail the report: scanLeaseTable skips it and says why.
  const scan = async (): Promise<LeaseTableScan> =>
    refresher.scanLeaseTable ? refresher.scanLeaseTable() : { leases: await refresher.listLeases(), invalid: [] };
  const firstScan = await scan();
  const first = firstScan.leases;
  let secondScan: LeaseTableScan | undefined;
  if (input.expiryCheckMs && input.expiryCheckMs > 0) {
    await (input.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(input.expiryCheckMs);
    secondScan = await scan();
  }
  const second: Lease[] | undefined = secondScan?.leases;
  // Grouped by stream (a multi-stream key starts with it), then by shard.
  const leases = [...(second ?? first)].sort((a, b) => a.leaseKey.localeCompare(b.leaseKey));
  const invalid = [...(secondScan ?? firstScan).invalid].sort((a, b) => (a.leaseKey ?? '').localeCompare(b.leaseKey ?? ''));
  const before = new Map(first.map((l) => [l.leaseKey, l.leaseCounter]));
  const shards = input.listShards ? new Map((await input.listShards()).map((s) => [s.shardId, s])) : undefined;
  // On a multi-stream table, ListShards by name describes the newest stream of that name.
  const listedStream = input.stream === undefined ? undefined : newestStreamNamed(leases, input.stream);
  const rows: LeaseStatus[] = [];
  for (const lease of leases) {
    const shardId = shardIdOf(lease);
    // With --stream, ListShards describes only that stream's leases.
    const listed = lease.streamIdentifier === undefined || lease.streamIdentifier === listedStream;
    const shard = listed ? shards?.get(shardId) : undefined;
    const ended = lease.checkpoint.sequenceNumber === 'SHARD_END';
    const state: LeaseStatus['state'] = ended ? 'ended' : !shards || !listed ? 'unknown' : !shard ? 'gone' : shard.endingSequenceNumber ? 'closed' : 'open';
    const lagMs = !ended && shard && input.kinesis && input.stream ? await probeLag(input.kinesis, input.stream, lease).catch(() => null) : null;
    rows.push({
      shardId,
      streamIdentifier: lease.streamIdentifier ?? null,
      state,
      owner: lease.leaseOwner ?? null,
      checkpoint: lease.checkpoint.subSequenceNumber ? `${lease.checkpoint.sequenceNumber}/${lease.checkpoint.subSequenceNumber}` : lease.checkpoint.sequenceNumber,
      leaseCounter: lease.leaseCounter,
      lagMs,
      parents: lease.parentShardIds,
      children: lease.childShardIds,
      ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint,
      expired: second ? lease.leaseOwner !== undefined && !ended && before.get(lease.leaseKey) === lease.leaseCounter : null,
      pendingHandoffTo: lease.handoffTo ?? null,
    });
  }
  const role = refresher.getRole ? await refresher.getRole(SCANNER_ROLE) : undefined;
  const perWorker = new Map<string, number>();
  for (const r of rows) if (r.owner && r.state !== 'ended') perWorker.set(r.owner, (perWorker.get(r.owner) ?? 0) + 1);
  const perStream = new Map<string, { leases: number; unowned: number }>();
  for (const r of rows) {
    if (r.streamIdentifier === null || r.state === 'ended') continue;
    const entry = perStream.get(r.streamIdentifier) ?? { leases: 0, unowned: 0 };
    perStream.set(r.streamIdentifier, { leases: entry.leases + 1, unowned: entry.unowned + (r.owner ? 0 : 1) });
  }
  const label = (r: LeaseStatus): string => (r.streamIdentifier === null ? r.shardId : `${r.streamIdentifier}:${r.shardId}`);
  return {
    table: input.table,
    stream: input.stream ?? null,
    leases: rows,
    invalid,
    workers: [...perWorker].map(([workerId, n]) => ({ workerId, leases: n })).sort((a, b) => a.workerId.localeCompare(b.workerId)),
    streams: [...perStream].map(([streamIdentifier, n]) => ({ streamIdentifier, ...n })),
    unowned: rows.filter((r) => !r.owner && r.state !== 'ended').map(label),
    expired: second ? rows.filter((r) => r.expired).map(label) : null,
    scannerRole: role === undefined ? null : { holder: role.holder ?? null, counter: role.counter },
  };
}

async function probeLag(kinesis: KinesisClient, stream: string, lease: Lease): Promise<number | null> {
  const cp = lease.checkpoint.sequenceNumber;
  const position = /^\d+$/.test(cp)
    ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const, StartingSequenceNumber: cp }
    : { ShardIteratorType: cp === 'LATEST' ? ('LATEST' as const) : ('TRIM_HORIZON' as const) };
  const it = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardIdOf(lease), ...position }));
  if (!it.ShardIterator) return null;
  const res = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1 }));
  return res.MillisBehindLatest ?? null;
}

/** Renders the report as an operator-friendly table. */
export function formatStatus(report: StatusReport): string {
  const header = ['SHARD', 'STATE', 'OWNER', 'CHECKPOINT', 'LAG', 'PARENTS', 'CHILDREN', 'SWITCHES'];
  // A multi-stream table: the shard cell names the stream too (rows are grouped by stream).
  const rows = report.leases.map((r) => [
    r.streamIdentifier === null ? r.shardId : `${r.streamIdentifier}:${r.shardId}`,
    r.expired ? `${r.state} (expired)` : r.state,
    (r.owner ?? '-') + (r.pendingHandoffTo ? ` → ${r.pendingHandoffTo}` : ''),
    shorten(r.checkpoint),
    r.lagMs === null ? '-' : formatLag(r.lagMs),
    r.parents.join(',') || '-',
    r.children.join(',') || '-',
    String(r.ownerSwitchesSinceCheckpoint),
  ]);
  // An invalid item is a row of its own: key, `invalid`, then the reason over the other columns.
  const invalidRows = report.invalid.map((item) => [item.leaseKey ?? NO_KEY, 'invalid', item.reason]);
  const keyed = [...rows, ...invalidRows].sort((a, b) => a[0]!.localeCompare(b[0]!));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length), ...(i < 2 ? invalidRows.map((row) => row[i]!.length) : [])));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const invalidCount = invalidRows.length ? `, ${invalidRows.length} invalid item${invalidRows.length === 1 ? '' : 's'}` : '';
  const out = [`lease table ${report.table}${report.stream ? `, stream ${report.stream}` : ''}: ${report.leases.length} leases${invalidCount}`, '', line(header), ...keyed.map(line), ''];
  if (report.workers.length > 0) {
    out.push('WORKER'.padEnd(40) + 'LEASES');
    for (const w of report.workers) out.push(w.workerId.padEnd(40) + String(w.leases));
  } else {
    out.push('workers: none holds a lease');
  }
  if (report.streams.length > 0) {
    out.push('', 'STREAM'.padEnd(60) + 'LEASES  UNOWNED');
    for (const s of report.streams) out.push(s.streamIdentifier.padEnd(60) + String(s.leases).padEnd(8) + String(s.unowned));
  }
  out.push(`unowned: ${report.unowned.length ? report.unowned.join(', ') : 'none'}`);
  if (report.expired) out.push(`expired: ${report.expired.length ? report.expired.join(', ') : 'none'}`);
  if (report.scannerRole) out.push(`scanner role: ${report.scannerRole.holder ?? 'free'} (counter ${report.scannerRole.counter})`);
  if (invalidRows.length) out.push(`invalid: ${invalidRows.map((r) => r[0]).join(', ')} (skipped by every worker until fixed or deleted)`);
  return out.join('\n');
}

/** The SHARD cell of an invalid item whose `leaseKey` cannot be read. */
const NO_KEY = '(no leaseKey)';

function shorten(checkpoint: string): string {
  return checkpoint.length > 24 ? `…${checkpoint.slice(-20)}` : checkpoint;
}

function formatLag(ms: number): string {
  return ms < 1000 ? `${ms}ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 60_000)}m`;
}
