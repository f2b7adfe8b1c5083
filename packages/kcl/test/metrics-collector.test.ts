import { silentLogger } from '@kcl-ts/processor';
import { describe, expect, it } from 'vitest';
import { EmfMetricsPublisher, MetricsCollector, type MetricDatum, type MetricSample, type MetricsPublisher } from '../src/metrics.js';

class Capture implements MetricsPublisher {
  readonly batches: MetricDatum[][] = [];
  publish(datums: readonly MetricDatum[]): void {
    this.batches.push([...datums]);
  }
}

const dims = { Operation: 'ProcessTask', ShardId: 'shardId-1', StreamId: 's', WorkerIdentifier: 'w' };

describe('MetricsCollector', () => {
  it('aggregates samples into statistic sets: sum for counters and timers, last value for gauges', async () => {
    const publisher = new Capture();
    const c = new MetricsCollector(publisher, { level: 'DETAILED', enabledDimensions: ['ShardId', 'StreamId', 'WorkerIdentifier'], logger: silentLogger() });
    c.record('SUMMARY', 'counter', 'RecordsProcessed', 10, 'Count', dims);
    c.record('SUMMARY', 'counter', 'RecordsProcessed', 5, 'Count', dims);
    c.record('SUMMARY', 'timer', 'Time', 30, 'Milliseconds', dims);
    c.record('SUMMARY', 'timer', 'Time', 10, 'Milliseconds', dims);
    c.record('SUMMARY', 'gauge', 'MillisBehindLatest', 900, 'Milliseconds', dims);
    c.record('SUMMARY', 'gauge', 'MillisBehindLatest', 100, 'Milliseconds', dims);
    await c.flush();
    const byName = new Map(publisher.batches[0]!.map((d) => [d.name, d]));
    expect(byName.get('RecordsProcessed')).toMatchObject({ value: 15, sum: 15, count: 2, min: 5, max: 10, kind: 'counter' });
    expect(byName.get('Time')).toMatchObject({ value: 40, sum: 40, count: 2, min: 10, max: 30, kind: 'timer' });
    expect(byName.get('MillisBehindLatest')).toMatchObject({ value: 100, count: 2, min: 100, max: 900, kind: 'gauge' });
    await c.flush();
    expect(publisher.batches).toHaveLength(1); // nothing new: nothing published
  });

  it('publishes SUMMARY metrics at SUMMARY, everything at DETAILED, nothing at NONE', async () => {
    for (const [level, expected] of [['SUMMARY', ['A']], ['DETAILED', ['A', 'B']], ['NONE', []]] as const) {
      const publisher = new Capture();
      const c = new MetricsCollector(publisher, { level, enabledDimensions: [], logger: silentLogger() });
      c.record('SUMMARY', 'counter', 'A', 1, 'Count', dims);
      c.record('DETAILED', 'counter', 'B', 1, 'Count', dims);
      await c.flush();
      expect((publisher.batches[0] ?? []).map((d) => d.name).sort()).toEqual(expected);
    }
  });

  it('keeps only the enabled dimensions (Operation always), merging what they no longer tell apart', async () => {
    const publisher = new Capture();
    const c = new MetricsCollector(publisher, { level: 'DETAILED', enabledDimensions: ['WorkerIdentifier'], logger: silentLogger() });
    c.record('SUMMARY', 'counter', 'RecordsProcessed', 1, 'Count', { ...dims, ShardId: 'a' });
    c.record('SUMMARY', 'counter', 'RecordsProcessed', 2, 'Count', { ...dims, ShardId: 'b' });
    await c.flush();
    expect(publisher.batches[0]).toEqual([expect.objectContaining({ name: 'RecordsProcessed', value: 3, dimensions: { Operation: 'ProcessTask', WorkerIdentifier: 'w' } })]);
  });

  it('passes every sample to a publisher that records on its own, and a failing publisher never throws into the worker', async () => {
    const samples: MetricSample[] = [];
    const c = new MetricsCollector({ publish: () => undefined, record: (s) => samples.push(s) }, { level: 'SUMMARY', enabledDimensions: ['ShardId'], logger: silentLogger() });
    c.record('SUMMARY', 'counter', 'RecordsProcessed', 3, 'Count', dims);
    expect(samples).toEqual([{ name: 'RecordsProcessed', unit: 'Count', kind: 'counter', dimensions: { Operation: 'ProcessTask', ShardId: 'shardId-1' }, value: 3 }]);
    const failing = new MetricsCollector({ publish: () => Promise.reject(new Error('down')) }, { level: 'SUMMARY', enabledDimensions: [], logger: silentLogger() });
    failing.record('SUMMARY', 'counter', 'X', 1, 'Count', dims);
    await expect(failing.flush()).resolves.toBeUndefined();
  });
});

describe('EmfMetricsPublisher', () => {
  it('writes one EMF object per dimension set, with timers as their average', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = { ...silentLogger(), info: (obj: Record<string, unknown>) => lines.push(obj) } as unknown as ReturnType<typeof silentLogger>;
    new EmfMetricsPublisher(logger, 'KclTs', { now: () => 1_000 }).publish([
      { name: 'Time', unit: 'Milliseconds', kind: 'timer', dimensions: { Operation: 'ProcessTask' }, value: 40, sum: 40, count: 2, min: 10, max: 30 },
      { name: 'RecordsProcessed', unit: 'Count', kind: 'counter', dimensions: { Operation: 'ProcessTask' }, value: 15, sum: 15, count: 2, min: 5, max: 10 },
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ Operation: 'ProcessTask', Time: 20, RecordsProcessed: 15, _aws: { Timestamp: 1_000, CloudWatchMetrics: [{ Namespace: 'KclTs', Dimensions: [['Operation']] }] } });
  });
});
