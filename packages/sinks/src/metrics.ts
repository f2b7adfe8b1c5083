/**
 * Per-flush metrics: a {@link FlushReport} for the `onFlush` callback, and the same numbers
 * as kcl-ts `MetricDatum`s for a `MetricsPublisher`.
 * @module
 */
import type { MetricDatum, MetricKind, MetricSample, MetricsPublisher, MetricUnit } from '@kcl-ts/kcl';

/** Why a flush happened. */
export type FlushTrigger = 'count' | 'bytes' | 'age' | 'shutdown' | 'shard-end';

/** What one flush did. */
export interface FlushReport {
  /** The sink's name. */
  readonly sink: string;
  /** The shard flushed. */
  readonly shardId: string;
  /** What caused it. */
  readonly trigger: FlushTrigger;
  /** Items written (or attempted, when `ok` is false). */
  readonly items: number;
  /** Records skipped by `transform` that the flush's checkpoint covers. */
  readonly skipped: number;
  /** Bytes of the items (see `sizeOf`). */
  readonly bytes: number;
  /** Time from the first attempt to the end of the last one, in ms (monotonic clock). */
  readonly latencyMs: number;
  /** Retries after the first attempt. */
  readonly retries: number;
  /** Items the sink left alone because a newer version was there (see `SinkWriteResult.stale`). */
  readonly stale: number;
  /** Whether the write succeeded. */
  readonly ok: boolean;
}

function sample(name: string, unit: MetricUnit, kind: MetricKind, value: number, dimensions: MetricSample['dimensions']): MetricSample {
  return { name, unit, kind, dimensions, value };
}

/**
 * The metric samples of one flush. Dimensions follow kcl-ts (and the Java KCL): `Operation`
 * is `Sink:<sink name>`, plus `ShardId`.
 */
export function flushSamples(report: FlushReport): MetricSample[] {
  const dims = { Operation: `Sink:${report.sink}`, ShardId: report.shardId };
  return [
    sample('SinkFlushRecords', 'Count', 'counter', report.ok ? report.items : 0, dims),
    sample('SinkFlushBytes', 'Bytes', 'counter', report.ok ? report.bytes : 0, dims),
    sample('SinkFlushLatency', 'Milliseconds', 'timer', report.latencyMs, dims),
    sample('SinkFlushRetries', 'Count', 'counter', report.retries, dims),
    sample('SinkFlushFailures', 'Count', 'counter', report.ok ? 0 : 1, dims),
    sample('SinkStaleItems', 'Count', 'counter', report.stale, dims),
  ];
}

/** The same samples as one-sample statistic sets, for `MetricsPublisher.publish`. */
export function flushDatums(report: FlushReport): MetricDatum[] {
  return flushSamples(report).map((s) => ({ ...s, sum: s.value, count: 1, min: s.value, max: s.value }));
}

/**
 * Hands one flush's metrics to `publisher`: every sample to `record` when the publisher
 * aggregates on its own, otherwise one `publish` call with the statistic sets.
 */
export async function publishFlush(publisher: MetricsPublisher, report: FlushReport): Promise<void> {
  if (publisher.record) {
    for (const s of flushSamples(report)) publisher.record(s);
    return;
  }
  await publisher.publish(flushDatums(report));
}
