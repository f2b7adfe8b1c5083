import type { Clock, Logger } from '@kcl-ts/processor';

/** Units used by kcl-ts metrics (a subset of CloudWatch's). */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'None';

/**
 * How much is published, with the Java KCL's meaning: `NONE` nothing, `SUMMARY` the metrics
 * an operator alarms on (records and bytes processed, lag, processing time and success,
 * leases held, taken and lost, shard sync runs), `DETAILED` everything (per-call latencies of
 * GetRecords, renewals, takes and checkpoints, throttles, the taker's planning figures).
 */
export type MetricsLevel = 'NONE' | 'SUMMARY' | 'DETAILED';

/**
 * The dimensions of kcl-ts metrics, named as the Java KCL names them so dashboards and alarms
 * carry over: `Operation` (e.g. `ProcessTask`, `RenewAllLeases`, `TakeLeases`,
 * `ShardSyncTask`, `ApplicationTracker`), `ShardId`, `StreamId` and `WorkerIdentifier`.
 */
export type MetricDimensionName = 'Operation' | 'ShardId' | 'StreamId' | 'WorkerIdentifier';

/** How a metric aggregates over an interval. */
export type MetricKind = 'counter' | 'gauge' | 'timer';

/** One observation, as recorded (for publishers that aggregate themselves, e.g. OpenTelemetry). */
export interface MetricSample {
  /** Metric name, e.g. `RecordsProcessed`. */
  readonly name: string;
  readonly unit: MetricUnit;
  readonly kind: MetricKind;
  /** The dimensions left after `metricsEnabledDimensions` filtering; always has `Operation`. */
  readonly dimensions: Readonly<Partial<Record<MetricDimensionName, string>>>;
  readonly value: number;
}

/**
 * One metric aggregated over a publishing interval: a CloudWatch *statistic set*. For
 * counters and timers `value` is the sum of the samples; for gauges it is the last sample.
 */
export interface MetricDatum {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly kind: MetricKind;
  readonly dimensions: Readonly<Partial<Record<MetricDimensionName, string>>>;
  /** Sum of the samples (counters, timers) or the last sample (gauges). */
  readonly value: number;
  /** Sum of the samples, whatever the kind. */
  readonly sum: number;
  /** Number of samples in the interval. */
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Where metrics go. A publisher receives the aggregated statistic sets of each interval
 * (`publish`, every `metricsIntervalMs`); one that aggregates on its own (OpenTelemetry)
 * implements `record` instead and gets every observation at once. Publishing runs outside the
 * processing path: a slow or failing publisher never delays a record.
 *
 * Publishers of kcl-ts: {@link EmfMetricsPublisher} (the default; log lines, no AWS call),
 * `CloudWatchMetricsPublisher` (`@kcl-ts/kcl/cloudwatch`) and
 * `OpenTelemetryMetricsPublisher` (`@kcl-ts/kcl/opentelemetry`).
 */
export interface MetricsPublisher {
  /** Receives the statistic sets of one interval. */
  publish(datums: readonly MetricDatum[]): void | Promise<void>;
  /** When present, receives every observation instead (and `publish` gets nothing). */
  record?(sample: MetricSample): void;
  /** Sends what is buffered; called when the worker shuts down. */
  flush?(): void | Promise<void>;
}

/**
 * Writes one CloudWatch Embedded Metric Format object per dimension set through a pino
 * logger (at `info`). With the CloudWatch agent or Lambda-style log ingestion these become
 * metrics in the `namespace` without any PutMetricData call. One value per metric and
 * interval: a counter's sum, a gauge's last value, a timer's average (so a timer's CloudWatch
 * Maximum is the largest interval average, not the slowest single call; the CloudWatch
 * publisher sends statistic sets instead).
 */
export class EmfMetricsPublisher implements MetricsPublisher {
  constructor(
    private readonly logger: Logger,
    private readonly namespace = 'KclTs',
    private readonly clock: Pick<Clock, 'now'> = { now: () => Date.now() },
  ) {}

  publish(datums: readonly MetricDatum[]): void {
    const groups = new Map<string, MetricDatum[]>();
    for (const d of datums) {
      const key = JSON.stringify(Object.entries(d.dimensions).sort());
      const list = groups.get(key) ?? [];
      list.push(d);
      groups.set(key, list);
    }
    for (const list of groups.values()) {
      const dims = list[0]!.dimensions;
      const body: Record<string, unknown> = {
        _aws: {
          Timestamp: this.clock.now(),
          CloudWatchMetrics: [
            {
              Namespace: this.namespace,
              Dimensions: [Object.keys(dims)],
              Metrics: list.map((d) => ({ Name: d.name, Unit: d.unit })),
            },
          ],
        },
        ...dims,
      };
      for (const d of list) body[d.name] = d.kind === 'timer' ? d.sum / Math.max(1, d.count) : d.value;
      this.logger.info(body, 'metrics');
    }
  }
}

const LEVEL_RANK: Record<MetricsLevel, number> = { NONE: 0, SUMMARY: 1, DETAILED: 2 };

/** Every dimension name, the default of `metricsEnabledDimensions`. */
export const ALL_METRIC_DIMENSIONS: readonly MetricDimensionName[] = Object.freeze(['Operation', 'ShardId', 'StreamId', 'WorkerIdentifier']);

interface Slot {
  name: string;
  unit: MetricUnit;
  kind: MetricKind;
  dimensions: Partial<Record<MetricDimensionName, string>>;
  value: number;
  sum: number;
  count: number;
  min: number;
  max: number;
}

/** Settings of a {@link MetricsCollector}. */
export interface MetricsCollectorOptions {
  readonly level: MetricsLevel;
  /** Dimensions kept (besides `Operation`, which is always kept). */
  readonly enabledDimensions: readonly MetricDimensionName[];
  readonly logger: Logger;
}

/**
 * Filters samples by level and dimensions, aggregates them into statistic sets, and hands
 * them to a {@link MetricsPublisher} on flush (or passes each sample through `record`).
 * @internal
 */
export class MetricsCollector {
  private slots = new Map<string, Slot>();
  private readonly rank: number;
  private readonly enabled: ReadonlySet<MetricDimensionName>;

  constructor(
    private readonly publisher: MetricsPublisher,
    private readonly options: MetricsCollectorOptions,
  ) {
    this.rank = LEVEL_RANK[options.level];
    this.enabled = new Set<MetricDimensionName>(['Operation', ...options.enabledDimensions]);
  }

  /** True if metrics of `level` are published. */
  enabledFor(level: Exclude<MetricsLevel, 'NONE'>): boolean {
    return this.rank >= LEVEL_RANK[level];
  }

  /** Records one observation of `name` (dropped if its level is not published). */
  record(level: Exclude<MetricsLevel, 'NONE'>, kind: MetricKind, name: string, value: number, unit: MetricUnit, dimensions: Partial<Record<MetricDimensionName, string>>): void {
    if (this.rank < LEVEL_RANK[level] || !Number.isFinite(value)) return;
    const dims: Partial<Record<MetricDimensionName, string>> = {};
    for (const [key, v] of Object.entries(dimensions) as [MetricDimensionName, string | undefined][]) {
      if (v !== undefined && this.enabled.has(key)) dims[key] = v;
    }
    if (this.publisher.record) {
      try {
        this.publisher.record({ name, unit, kind, dimensions: dims, value });
      } catch (error) {
        this.options.logger.warn({ err: error, metric: name }, 'metrics publisher failed to record a sample; dropped');
      }
      return;
    }
    const key = `${name}|${dims.Operation ?? ''}|${dims.ShardId ?? ''}|${dims.StreamId ?? ''}|${dims.WorkerIdentifier ?? ''}`;
    const slot = this.slots.get(key);
    if (!slot) {
      this.slots.set(key, { name, unit, kind, dimensions: dims, value, sum: value, count: 1, min: value, max: value });
      return;
    }
    slot.value = kind === 'gauge' ? value : slot.value + value;
    slot.sum += value;
    slot.count++;
    slot.min = Math.min(slot.min, value);
    slot.max = Math.max(slot.max, value);
  }

  /** Publishes and resets everything aggregated since the last flush; then flushes the publisher. */
  async flush(final = false): Promise<void> {
    const datums: MetricDatum[] = [...this.slots.values()].map((s) => ({ ...s }));
    this.slots = new Map();
    try {
      if (datums.length > 0) await this.publisher.publish(datums);
      if (final) await this.publisher.flush?.();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'metrics publisher failed; metrics of this interval dropped');
    }
  }
}
