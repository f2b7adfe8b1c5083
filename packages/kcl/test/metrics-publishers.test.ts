import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { FakeClock } from '@kcl-ts/processor/testing';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricDatum } from '../src/metrics.js';
import { CloudWatchMetricsPublisher } from '../src/publishers/cloudwatch.js';
import { openTelemetryMetricName, OpenTelemetryMetricsPublisher } from '../src/publishers/opentelemetry.js';

interface PutMetricDataBody {
  Namespace: string;
  MetricData: { MetricName: string; Unit: string; Dimensions: { Name: string; Value: string }[]; StatisticValues: { SampleCount: number; Sum: number; Minimum: number; Maximum: number } }[];
}

/** A local endpoint that decodes the real SDK's PutMetricData requests (AWS JSON 1.0). */
class FakeCloudWatch {
  readonly calls: PutMetricDataBody[] = [];
  /** Responses to give, in order, before answering 200: a status and an error type. */
  readonly failures: { status: number; type: string }[] = [];
  /** While set, requests wait for it. */
  hold: Promise<void> | undefined;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body, type }) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...(type && { 'x-amzn-query-error': `${type};Sender` }) });
        res.end(body);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string; type?: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    expect(req.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.PutMetricData');
    await this.hold;
    const failure = this.failures.shift();
    if (failure) return { status: failure.status, body: JSON.stringify({ __type: failure.type, message: 'injected' }), type: failure.type };
    // The SDK gzips PutMetricData bodies above 10 KiB (request compression).
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    this.calls.push(JSON.parse(body.toString('utf8')) as PutMetricDataBody);
    return { status: 200, body: '{}' };
  }
}

const datum = (i: number): MetricDatum => ({
  name: 'RecordsProcessed',
  unit: 'Count',
  kind: 'counter',
  dimensions: { Operation: 'ProcessTask', ShardId: `shardId-${i}` },
  value: 10,
  sum: 10,
  count: 2,
  min: 4,
  max: 6,
});

/** Waits for `promise` while moving the fake clock (backoff sleeps) and letting real I/O happen in between. */
async function settle(clock: FakeClock, promise: Promise<unknown>): Promise<void> {
  let settled = false;
  void promise.finally(() => (settled = true));
  for (let i = 0; i < 10_000 && !settled; i++) {
    await clock.advance(50);
    await new Promise<void>((r) => setImmediate(r));
  }
  await promise;
}

let fake: FakeCloudWatch;
let client: CloudWatchClient | undefined;
afterEach(async () => {
  client?.destroy();
  await fake?.stop();
});

async function setup(): Promise<CloudWatchClient> {
  fake = new FakeCloudWatch();
  const endpoint = await fake.start();
  client = new CloudWatchClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  return client;
}

describe('CloudWatchMetricsPublisher (against a local endpoint decoding the real SDK requests)', () => {
  it('sends statistic sets in calls of at most 1,000, with the dimensions', async () => {
    const publisher = new CloudWatchMetricsPublisher({ client: await setup(), namespace: 'Test' });
    publisher.publish(Array.from({ length: 2_500 }, (_, i) => datum(i)));
    await publisher.flush();
    expect(fake.calls.map((c) => c.MetricData.length)).toEqual([1_000, 1_000, 500]);
    expect(fake.calls[0]!.Namespace).toBe('Test');
    expect(fake.calls[0]!.MetricData[0]).toMatchObject({
      MetricName: 'RecordsProcessed',
      Unit: 'Count',
      Dimensions: [
        { Name: 'Operation', Value: 'ProcessTask' },
        { Name: 'ShardId', Value: 'shardId-0' },
      ],
      StatisticValues: { SampleCount: 2, Sum: 10, Minimum: 4, Maximum: 6 },
    });
    expect(publisher.sentDatums).toBe(2_500);
    expect(publisher.droppedDatums).toBe(0);
  });

  it('retries throttling and 5xx through the retry layer, then drops (counted) what keeps failing', async () => {
    const clock = new FakeClock();
    const publisher = new CloudWatchMetricsPublisher({ client: await setup(), clock, maxRetries: 2 });
    fake.failures.push({ status: 400, type: 'Throttling' }, { status: 500, type: 'InternalServiceError' });
    publisher.publish([datum(1)]);
    await settle(clock, publisher.flush());
    expect(fake.calls).toHaveLength(1);
    expect(publisher.sentDatums).toBe(1);

    fake.failures.push(...Array.from({ length: 3 }, () => ({ status: 500, type: 'InternalServiceError' })));
    publisher.publish([datum(2)]);
    await settle(clock, publisher.flush());
    expect(publisher.droppedDatums).toBe(1);
    expect(fake.calls).toHaveLength(1);
  });

  it('never blocks: publish returns at once while CloudWatch hangs, and a full queue drops the oldest data', async () => {
    const publisher = new CloudWatchMetricsPublisher({ client: await setup(), maxQueuedDatums: 1_500 });
    let release!: () => void;
    fake.hold = new Promise((r) => (release = r));
    publisher.publish(Array.from({ length: 1_000 }, (_, i) => datum(i))); // in flight, held
    publisher.publish(Array.from({ length: 1_000 }, (_, i) => datum(1_000 + i)));
    publisher.publish(Array.from({ length: 1_000 }, (_, i) => datum(2_000 + i)));
    expect(publisher.droppedDatums).toBe(500);
    release();
    await publisher.flush();
    const sentShards = fake.calls.flatMap((c) => c.MetricData.map((d) => d.Dimensions[1]!.Value));
    expect(sentShards).toHaveLength(2_500);
    expect(sentShards).not.toContain('shardId-1000'); // the oldest queued ones were dropped
    expect(sentShards).toContain('shardId-2999');
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => new CloudWatchMetricsPublisher({ client: {} as CloudWatchClient })).toThrow(/client must be an AWS SDK v3 CloudWatchClient/);
    expect(() => new CloudWatchMetricsPublisher({ client: new CloudWatchClient({}), namespace: 'AWS/Kinesis' })).toThrow(/namespace/);
    expect(() => new CloudWatchMetricsPublisher({ client: new CloudWatchClient({}), datumsPerRequest: 1_001 })).toThrow(/datumsPerRequest/);
  });
});

describe('OpenTelemetryMetricsPublisher (real @opentelemetry/sdk-metrics, in-memory exporter)', () => {
  it('records counters, histograms and gauges with the dimensions as attributes', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const publisher = new OpenTelemetryMetricsPublisher({ meter: provider.getMeter('test') });
    const dims = { Operation: 'ProcessTask', ShardId: 'shardId-1', WorkerIdentifier: 'w1' } as const;
    publisher.record({ name: 'RecordsProcessed', unit: 'Count', kind: 'counter', dimensions: dims, value: 3 });
    publisher.record({ name: 'RecordsProcessed', unit: 'Count', kind: 'counter', dimensions: dims, value: 4 });
    publisher.record({ name: 'KinesisDataFetcher.getRecords.Time', unit: 'Milliseconds', kind: 'timer', dimensions: dims, value: 12 });
    publisher.record({ name: 'MillisBehindLatest', unit: 'Milliseconds', kind: 'gauge', dimensions: dims, value: 500 });
    publisher.record({ name: 'MillisBehindLatest', unit: 'Milliseconds', kind: 'gauge', dimensions: dims, value: 200 });
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const find = (name: string) => metrics.find((m) => m.descriptor.name === name);
    const processed = find('aws.kinesis.client.records_processed');
    expect(processed?.dataPoints[0]?.value).toBe(7);
    expect(processed?.dataPoints[0]?.attributes).toEqual({ 'aws.kinesis.operation': 'ProcessTask', 'aws.kinesis.shard.id': 'shardId-1', 'aws.kinesis.consumer.name': 'w1' });
    expect(find('aws.kinesis.client.kinesis_data_fetcher.get_records.duration')?.descriptor.unit).toBe('ms');
    expect(find('aws.kinesis.client.consumer.lag.duration')?.dataPoints[0]?.value).toBe(200);
    await provider.shutdown();
  });

  it('names metrics in dot-separated snake case', () => {
    expect(openTelemetryMetricName('RecordProcessor.processRecords.Time')).toBe('aws.kinesis.client.record_processor.process_records.duration');
    expect(openTelemetryMetricName('LostLeases.duplicate-worker-id')).toBe('aws.kinesis.client.lost_leases.duplicate_worker_id');
    expect(openTelemetryMetricName('DataBytesProcessed')).toBe('aws.kinesis.client.records.size');
  });
});
