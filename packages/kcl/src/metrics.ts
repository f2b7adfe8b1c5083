import type { Clock, Logger } from '@kcl-ts/processor';

/** Units used by kcl-ts metrics (a subset of CloudWatch's). */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'None';

/** One aggregated metric value over a flush interval. */
export interface MetricDatum {
  /** Metric name, e.g. `RecordsProcessed`. */
  readonly name: string;
  readonly unit: MetricUnit;
  /** Dimensions, e.g. `{ ShardId: 'shardId-000000000001' }` or `{ WorkerId: '...' }`. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Sum of the values recorded in the interval (for gauges, the last value). */
  readonly value: number;
  /** Number of samples in the interval. */
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Receives aggregated metrics every `metricsIntervalMs`. Implement it to send metrics
 * anywhere; the default, {@link EmfMetricsPublisher}, writes CloudWatch Embedded Metric
 * Format lines through the logger, so it costs no AWS call.
 */
export interface MetricsPublisher {
  publish(datums: readonly MetricDatum[]): void | Promise<void>;
}

/** Publishes nothing. */
export class NoopMetricsPublisher implements MetricsPublisher {
  publish(): void {}
}

/**
 * Writes one CloudWatch Embedded Metric Format object per dimension set through a pino
 * logger (at `info`). With the CloudWatch agent or Lambda-style log ingestion these become
 * metrics in the `namespace` without any PutMetricData call.
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
      for (const d of list) body[d.name] = d.value;
      this.logger.info(body, 'metrics');
    }
  }
}

interface Slot {
  name: string;
  unit: MetricUnit;
  dimensions: Record<string, string>;
  gauge: boolean;
  value: number;
  count: number;
  min: number;
  max: number;
}

/** Aggregates metric samples in memory and hands them to a {@link MetricsPublisher} on flush. */
export class MetricsCollector {
  private slots = new Map<string, Slot>();

  constructor(private readonly publisher: MetricsPublisher, private readonly logger: Logger) {}

  /** Adds `value` to a counter/timer. */
  add(name: string, value: number, unit: MetricUnit, dimensions: Record<string, string>): void {
    this.sample(name, value, unit, dimensions, false);
  }

  /** Sets a gauge (the last value in the interval is published). */
  gauge(name: string, value: number, unit: MetricUnit, dimensions: Record<string, string>): void {
    this.sample(name, value, unit, dimensions, true);
  }

  private sample(name: string, value: number, unit: MetricUnit, dimensions: Record<string, string>, gauge: boolean): void {
    const key = `${name}|${JSON.stringify(dimensions)}`;
    const slot = this.slots.get(key);
    if (!slot) {
      this.slots.set(key, { name, unit, dimensions, gauge, value, count: 1, min: value, max: value });
      return;
    }
    slot.value = gauge ? value : slot.value + value;
    slot.count++;
    slot.min = Math.min(slot.min, value);
    slot.max = Math.max(slot.max, value);
  }

  /** Publishes and resets everything collected since the last flush. */
  async flush(): Promise<void> {
    if (this.slots.size === 0) return;
    const datums: MetricDatum[] = [...this.slots.values()].map(({ gauge: _g, ...d }) => d);
    this.slots = new Map();
    try {
      await this.publisher.publish(datums);
    } catch (error) {
      this.logger.warn({ err: error }, 'metrics publisher failed; metrics of this interval dropped');
    }
  }
}
