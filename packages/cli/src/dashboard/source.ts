/**
 * Where the dashboard's data comes from: one strongly consistent Scan of the lease table and,
 * with a stream, one ListShards (paged) and one DescribeStreamSummary per update. Nothing is
 * written, and no GetRecords is made: the whole source fits a read-only IAM policy
 * (`dynamodb:Scan`, `kinesis:ListShards`, `kinesis:DescribeStreamSummary`).
 * @module
 */
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { LeaseRefresher, LeaseTableScan } from '@kcl-ts/leases';
import { raceAbort, systemClock, type Clock } from '@kcl-ts/processor';
import type { ShardInfo } from '@kcl-ts/shard-sync';
import { buildDashboardModel, LeaseObserver, type DashboardModel, type DashboardStreamSummary } from './model.js';

/** Anything that produces models; the server polls one. */
export interface DashboardModelSource {
  /** Reads everything once and returns the model. Throws when the lease table cannot be read. */
  poll(signal?: AbortSignal): Promise<DashboardModel>;
  /** Forgets what earlier polls saw (called after a gap in polling, so no change goes unseen). */
  reset(): void;
}

/** Options of {@link LeaseTableSource}. */
export interface LeaseTableSourceOptions {
  /** The application name (shown on the page). */
  readonly application: string;
  /** The lease table name (shown on the page). */
  readonly table: string;
  /** Reads the table; its `scanLeaseTable` is used when it has one, so invalid items are listed. */
  readonly refresher: LeaseRefresher;
  /** The stream's name; with {@link listShards} it adds shard states and lineage. */
  readonly stream?: string;
  /** ListShards (e.g. `ShardDetector.listShards`). */
  readonly listShards?: (signal?: AbortSignal) => Promise<ShardInfo[]>;
  /** DescribeStreamSummary; see {@link describeStreamSummary}. A failure becomes a warning. */
  readonly describeStream?: (signal?: AbortSignal) => Promise<DashboardStreamSummary>;
  /** Expiry is judged against this. @default 10_000 (the Worker's default `leaseDurationMs`) */
  readonly leaseDurationMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/** The {@link DashboardModelSource} of `kcl dashboard`: the lease table plus, optionally, the stream. */
export class LeaseTableSource implements DashboardModelSource {
  private readonly observer = new LeaseObserver();
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;

  /** @param options what to read and how expiry is judged. */
  constructor(private readonly options: LeaseTableSourceOptions) {
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? 10_000;
  }

  /** Forgets when each lease's counter and checkpoint last changed. */
  reset(): void {
    this.observer.reset();
  }

  /** DescribeStreamSummary (a failure is a warning), ListShards, then one Scan; builds the model. */
  async poll(signal?: AbortSignal): Promise<DashboardModel> {
    const { refresher, stream, listShards, describeStream } = this.options;
    const warnings: string[] = [];
    const summary = describeStream
      ? describeStream(signal).catch((error: unknown) => {
          warnings.push(`DescribeStreamSummary failed: ${message(error)}`);
          return null;
        })
      : Promise.resolve(null);
    // Shards are listed before the scan, so a shard created meanwhile shows as "no lease yet"
    // rather than a lease shows as "gone".
    const shards = listShards ? await listShards(signal) : undefined;
    const monotonicTime = this.clock.elapsed();
    const scan: LeaseTableScan = refresher.scanLeaseTable ? await refresher.scanLeaseTable(signal) : { leases: await refresher.listLeases(signal), invalid: [] };
    return buildDashboardModel(
      {
        application: this.options.application,
        table: this.options.table,
        stream: stream ?? null,
        leases: scan.leases,
        invalid: scan.invalid,
        ...(shards && { shards }),
        streamSummary: await summary,
        warnings,
        wallTime: this.clock.now(),
        monotonicTime,
        leaseDurationMs: this.leaseDurationMs,
      },
      this.observer,
    );
  }
}

/** DescribeStreamSummary of `stream`, in the model's shape. */
export async function describeStreamSummary(kinesis: KinesisClient, stream: string, signal?: AbortSignal): Promise<DashboardStreamSummary> {
  // raceAbort, not a per-call abortSignal: that would rebuild the client's middleware stack on every call.
  const out = await raceAbort(kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream })), signal);
  const d = out.StreamDescriptionSummary;
  return {
    status: d?.StreamStatus ?? 'UNKNOWN',
    openShardCount: d?.OpenShardCount ?? null,
    retentionPeriodHours: d?.RetentionPeriodHours ?? null,
    mode: d?.StreamModeDetails?.StreamMode ?? null,
  };
}

/** An error's message, for warnings and the page's error banner. */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
