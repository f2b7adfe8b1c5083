/**
 * `@kcl-ts/kcl/cloudwatch`: a {@link MetricsPublisher} that sends kcl-ts metrics to
 * CloudWatch with `PutMetricData`, as statistic sets. `@aws-sdk/client-cloudwatch` is an
 * optional peer dependency of `@kcl-ts/kcl`, needed only here.
 * @packageDocumentation
 */
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum as CloudWatchDatum } from '@aws-sdk/client-cloudwatch';
import { numberOption, silentLogger, systemClock, withRetries, type Clock, type Logger } from '@kcl-ts/processor';
import type { MetricDatum, MetricsPublisher } from '../metrics.js';

/** Options of {@link CloudWatchMetricsPublisher}. */
export interface CloudWatchMetricsPublisherOptions {
  /** Your CloudWatch client (never destroyed by the publisher). Give it `maxAttempts: 1`: the publisher retries. */
  readonly client: CloudWatchClient;
  /** CloudWatch namespace. @default 'KclTs' */
  readonly namespace?: string;
  /**
   * Statistic sets waiting to be sent, at most. Beyond it the oldest are dropped and counted
   * ({@link CloudWatchMetricsPublisher.droppedDatums}): publishing never holds memory without
   * bound or blocks the worker while CloudWatch is slow or down. @default 20_000
   */
  readonly maxQueuedDatums?: number;
  /** Statistic sets per `PutMetricData` call (the API takes at most 1,000). @default 1_000 */
  readonly datumsPerRequest?: number;
  /** Retries of one `PutMetricData` call on throttling and transient failures. @default 5 */
  readonly maxRetries?: number;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default silent */
  readonly logger?: Logger;
}

const MAX_DATUMS_PER_REQUEST = 1_000;


/**
 * Sends the statistic sets of every interval (`SampleCount`, `Sum`, `Minimum`, `Maximum`)
 * with `PutMetricData`, in calls of at most 1,000, retried on throttling and 5xx through the
 * library's retry layer. `publish` only queues and returns: sending happens in the
 * background, one call at a time; a full queue drops the oldest data (counted), and data
 * whose call fails for good is dropped (counted, logged).
 *
 * ```ts
 * import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
 * import { CloudWatchMetricsPublisher } from '@kcl-ts/kcl/cloudwatch';
 * const metrics = new CloudWatchMetricsPublisher({ client: new CloudWatchClient({ maxAttempts: 1 }) });
 * new Worker({ ..., metrics, metricsLevel: 'SUMMARY' });
 * ```
 */
export class CloudWatchMetricsPublisher implements MetricsPublisher {
  private readonly client: CloudWatchClient;
  private readonly namespace: string;
  private readonly maxQueued: number;
  private readonly perRequest: number;
  private readonly maxRetries: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private queue: CloudWatchDatum[] = [];
  private sending: Promise<void> | undefined;
  private dropped = 0;
  private sent = 0;

  /** @throws TypeError naming the bad option. */
  constructor(options: CloudWatchMetricsPublisherOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('CloudWatchMetricsPublisher options must be an object');
    if (typeof (options.client as { send?: unknown } | undefined)?.send !== 'function') throw new TypeError('client must be an AWS SDK v3 CloudWatchClient');
    const namespace = options.namespace ?? 'KclTs';
    if (typeof namespace !== 'string' || namespace.length === 0 || namespace.length > 255 || namespace.startsWith('AWS/')) {
      throw new TypeError(`namespace must be 1–255 characters and not start with "AWS/", got ${JSON.stringify(namespace)}`);
    }
    this.client = options.client;
    this.namespace = namespace;
    this.maxQueued = numberOption(options.maxQueuedDatums, 'maxQueuedDatums', 20_000, { min: 1 });
    this.perRequest = numberOption(options.datumsPerRequest, 'datumsPerRequest', MAX_DATUMS_PER_REQUEST, { min: 1, max: MAX_DATUMS_PER_REQUEST });
    this.maxRetries = numberOption(options.maxRetries, 'maxRetries', 5, { min: 1 });
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'CloudWatchMetricsPublisher' });
  }

  /** Statistic sets dropped so far (queue full, or a call that failed after its retries). */
  get droppedDatums(): number {
    return this.dropped;
  }

  /** Statistic sets accepted by CloudWatch so far. */
  get sentDatums(): number {
    return this.sent;
  }

  /** Queues the interval's statistic sets and starts sending in the background; never waits for CloudWatch. */
  publish(datums: readonly MetricDatum[]): void {
    const timestamp = new Date(this.clock.now());
    for (const d of datums) {
      this.queue.push({
        MetricName: d.name,
        Unit: d.unit,
        Timestamp: timestamp,
        Dimensions: Object.entries(d.dimensions).map(([Name, Value]) => ({ Name, Value })),
        StatisticValues: { SampleCount: d.count, Sum: d.sum, Minimum: d.min, Maximum: d.max },
      });
    }
    const excess = this.queue.length - this.maxQueued;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.dropped += excess;
      this.logger.warn({ dropped: excess, maxQueuedDatums: this.maxQueued }, 'CloudWatch metrics queue full; oldest data dropped');
    }
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  /** Resolves once everything queued has been sent (or dropped). */
  async flush(): Promise<void> {
    while (this.sending !== undefined || this.queue.length > 0) {
      this.sending ??= this.drain().finally(() => {
        this.sending = undefined;
      });
      await this.sending;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.perRequest);
      try {
        await withRetries('PutMetricData', () => this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: batch })), {
          clock: this.clock,
          maxRetries: this.maxRetries,
          logger: this.logger,
          baseDelayMs: 100,
          maxDelayMs: 5_000,
        });
        this.sent += batch.length;
      } catch (error) {
        this.dropped += batch.length;
        this.logger.warn({ err: error, dropped: batch.length }, 'PutMetricData failed after retries; these metrics are dropped');
      }
    }
  }
}
