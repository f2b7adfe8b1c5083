/**
 * `@kcl-ts/kcl/opentelemetry`: a {@link MetricsPublisher} that records every kcl-ts metric on
 * OpenTelemetry instruments. The application's own OpenTelemetry SDK (its `MeterProvider`,
 * readers and exporters: Prometheus, OTLP, …) aggregates and exports them.
 * `@opentelemetry/api` is an optional peer dependency of `@kcl-ts/kcl`, needed only here.
 * @packageDocumentation
 */
import { metrics as otelMetrics, type Attributes, type Counter, type Gauge, type Histogram, type Meter } from '@opentelemetry/api';
import type { MetricDimensionName, MetricSample, MetricsPublisher, MetricUnit } from '../metrics.js';

/** Options of {@link OpenTelemetryMetricsPublisher}. */
export interface OpenTelemetryMetricsPublisherOptions {
  /** The meter to create instruments on. @default the global meter provider's `@kcl-ts/kcl` meter */
  readonly meter?: Meter;
}

/** Dimension → attribute key, as OpenTelemetry's AWS conventions and the Java KCL name them. */
const ATTRIBUTE_KEYS: Readonly<Record<MetricDimensionName, string>> = {
  Operation: 'aws.kinesis.operation',
  ShardId: 'aws.kinesis.shard.id',
  StreamId: 'aws.kinesis.stream_name',
  WorkerIdentifier: 'aws.kinesis.consumer.name',
};

const UNITS: Readonly<Record<MetricUnit, string>> = { Count: '1', Milliseconds: 'ms', Bytes: 'By', None: '1' };

/** Names that read better than their mechanical translation. */
const RENAMED: Readonly<Record<string, string>> = {
  MillisBehindLatest: 'consumer.lag.duration',
  DataBytesProcessed: 'records.size',
  NumWorkers: 'workers',
};

/**
 * The OpenTelemetry name of a kcl-ts metric: `aws.kinesis.client.` plus the name in
 * dot-separated snake case, with a trailing `.Time` as `.duration`
 * (`KinesisDataFetcher.getRecords.Time` → `aws.kinesis.client.kinesis_data_fetcher.get_records.duration`).
 */
export function openTelemetryMetricName(name: string): string {
  const renamed = RENAMED[name];
  if (renamed !== undefined) return `aws.kinesis.client.${renamed}`;
  const base = name.endsWith('.Time') ? `${name.slice(0, -'.Time'.length)}.duration` : name;
  const snake = base
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').replace(/-/g, '_').toLowerCase())
    .join('.');
  return `aws.kinesis.client.${snake}`;
}

/**
 * Records kcl-ts metrics as OpenTelemetry counters (counts and bytes), histograms (times)
 * and gauges (lag, leases held), with the dimensions as attributes
 * (`aws.kinesis.operation`, `aws.kinesis.shard.id`, `aws.kinesis.stream_name`,
 * `aws.kinesis.consumer.name`). Level and dimension filtering happen before (the Worker's
 * `metricsLevel` and `metricsEnabledDimensions`).
 *
 * ```ts
 * import { OpenTelemetryMetricsPublisher } from '@kcl-ts/kcl/opentelemetry';
 * new Worker({ ..., metrics: new OpenTelemetryMetricsPublisher() }); // uses the global MeterProvider
 * ```
 */
export class OpenTelemetryMetricsPublisher implements MetricsPublisher {
  private readonly meter: Meter;
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly gauges = new Map<string, Gauge>();

  constructor(options: OpenTelemetryMetricsPublisherOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('OpenTelemetryMetricsPublisher options must be an object');
    if (options.meter !== undefined && typeof (options.meter as { createCounter?: unknown }).createCounter !== 'function') {
      throw new TypeError('meter must be an OpenTelemetry Meter');
    }
    this.meter = options.meter ?? otelMetrics.getMeter('@kcl-ts/kcl');
  }

  /** Records one observation on its instrument. */
  record(sample: MetricSample): void {
    const name = openTelemetryMetricName(sample.name);
    const unit = UNITS[sample.unit];
    const attributes: Attributes = {};
    for (const [key, value] of Object.entries(sample.dimensions) as [MetricDimensionName, string][]) attributes[ATTRIBUTE_KEYS[key]] = value;
    switch (sample.kind) {
      case 'gauge':
        this.instrument(this.gauges, name, () => this.meter.createGauge(name, { unit })).record(sample.value, attributes);
        return;
      case 'timer':
        this.instrument(this.histograms, name, () => this.meter.createHistogram(name, { unit })).record(sample.value, attributes);
        return;
      default:
        this.instrument(this.counters, name, () => this.meter.createCounter(name, { unit })).add(sample.value, attributes);
    }
  }

  /** Nothing to do: {@link record} receives every observation, and the SDK aggregates. */
  publish(): void {}

  private instrument<T>(cache: Map<string, T>, name: string, create: () => T): T {
    let instrument = cache.get(name);
    if (instrument === undefined) {
      instrument = create();
      cache.set(name, instrument);
    }
    return instrument;
  }
}
