import { silentLogger } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { MetricsCollector, type MetricSample, type MetricsPublisher } from '../src/metrics.js';
import { WorkerMetrics } from '../src/worker-metrics.js';

class Samples implements MetricsPublisher {
  readonly samples: MetricSample[] = [];
  publish(): void {}
  record(sample: MetricSample): void {
    this.samples.push(sample);
  }
}

describe('WorkerMetrics of a multi-stream worker', () => {
  it('per-shard metrics carry their stream in StreamId; worker-wide ones carry none', () => {
    const publisher = new Samples();
    const collector = new MetricsCollector(publisher, { level: 'DETAILED', enabledDimensions: ['ShardId', 'StreamId', 'WorkerIdentifier'], logger: silentLogger() });
    const worker = new WorkerMetrics(collector, 'w1', undefined);
    worker.forStream('orders').batchProcessed('shardId-000000000001', 3, 30, 1, 2);
    worker.forStream('clicks').millisBehindLatest('shardId-000000000001', 500);
    worker.forStream('clicks').maxMillisBehindLatest(500);
    worker.leasesHeld(2);
    const streamOf = (name: string, operation: string) => publisher.samples.find((s) => s.name === name && s.dimensions['Operation'] === operation)?.dimensions['StreamId'];
    expect(streamOf('RecordsProcessed', 'ProcessTask')).toBe('orders');
    expect(streamOf('MillisBehindLatest', 'ProcessTask')).toBe('clicks');
    expect(streamOf('MillisBehindLatest', 'ApplicationTracker')).toBe('clicks');
    const held = publisher.samples.find((s) => s.name === 'LeasesHeld')!;
    expect(held.dimensions).toEqual({ Operation: 'RenewAllLeases', WorkerIdentifier: 'w1' });
  });
});
