import { describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import type { MetricDatum, MetricsPublisher } from '../src/index.js';
import { Journal, makeWorker, putKeyed, uniqueName, workerTestContext } from './helpers.js';

class Capture implements MetricsPublisher {
  readonly datums: MetricDatum[] = [];
  publish(datums: readonly MetricDatum[]): void {
    this.datums.push(...datums);
  }
  sum(name: string, operation: string): number {
    return this.datums.filter((d) => d.name === name && d.dimensions.Operation === operation).reduce((n, d) => n + d.sum, 0);
  }
  find(name: string, operation: string): MetricDatum[] {
    return this.datums.filter((d) => d.name === name && d.dimensions.Operation === operation);
  }
}

describe('Worker metrics (on the emulators)', () => {
  const { kinesis, workers } = workerTestContext();

  it('publishes processing, lag, lease and shard-sync metrics with the Java KCL names and dimensions', async () => {
    const stream = uniqueName('metrics');
    await createStream(kinesis, stream, 2);
    const capture = new Capture();
    const journal = new Journal();
    const worker = makeWorker(uniqueName('metrics-app'), stream, journal, { workerId: 'm1', metrics: { publisher: capture, intervalMs: 200 } });
    workers.push(worker);
    await worker.start();
    await putKeyed(kinesis, stream, 100, 10);
    await waitFor(() => journal.distinct().size === 100, { timeoutMs: 60_000, message: 'all 100 records processed' });
    await waitFor(() => capture.sum('RecordsProcessed', 'ProcessTask') === 100, { timeoutMs: 30_000, message: 'RecordsProcessed reaches 100' });
    await waitFor(() => capture.find('MillisBehindLatest', 'ApplicationTracker').length > 0, { timeoutMs: 30_000, message: 'the fleet-wide lag metric' });
    await waitFor(() => capture.find('CurrentLeases', 'RenewAllLeases').some((d) => d.max === 2), { timeoutMs: 30_000, message: 'a renewal round holding both leases' });
    await worker.shutdown();

    const processed = capture.find('RecordsProcessed', 'ProcessTask');
    expect(new Set(processed.map((d) => d.dimensions.ShardId)).size).toBe(2);
    expect(processed[0]!.dimensions).toMatchObject({ Operation: 'ProcessTask', StreamId: stream, WorkerIdentifier: 'm1' });
    expect(capture.sum('DataBytesProcessed', 'ProcessTask')).toBeGreaterThan(0);
    expect(capture.find('RecordProcessor.processRecords.Time', 'ProcessTask').length).toBeGreaterThan(0);
    expect(capture.find('KinesisDataFetcher.getRecords.Time', 'ProcessTask').length).toBeGreaterThan(0);
    // One lag figure for the whole fleet: no shard, no worker.
    expect(capture.find('MillisBehindLatest', 'ApplicationTracker')[0]!.dimensions).toEqual({ Operation: 'ApplicationTracker', StreamId: stream });
    expect(capture.sum('TakenLeases', 'TakeLeases')).toBe(2);
    expect(capture.sum('LostLeases', 'RenewAllLeases')).toBe(2); // released on shutdown
    expect(capture.sum('LostLeases.released', 'RenewAllLeases')).toBe(2);
    expect(capture.sum('Success', 'ShardSyncTask')).toBeGreaterThan(0);
    expect(capture.sum('UpdateLease.Success', 'ProcessTask')).toBeGreaterThan(0);
  });

  it('a worker stopped within its first metrics interval still publishes its lag and leases (sampled at shutdown)', async () => {
    const stream = uniqueName('metrics-short');
    await createStream(kinesis, stream, 2);
    const capture = new Capture();
    const journal = new Journal();
    // The default interval (60 s): no interval tick happens before the shutdown.
    const worker = makeWorker(uniqueName('metrics-short-app'), stream, journal, { workerId: 's1', metrics: { publisher: capture } });
    workers.push(worker);
    await worker.start();
    await putKeyed(kinesis, stream, 20, 5);
    await waitFor(() => journal.distinct().size === 20, { timeoutMs: 60_000, message: 'all 20 records processed' });
    expect(capture.datums).toEqual([]);
    await worker.shutdown();
    expect(capture.find('MillisBehindLatest', 'ApplicationTracker')).toHaveLength(1);
    expect(new Set(capture.find('MillisBehindLatest', 'ProcessTask').map((d) => d.dimensions.ShardId)).size).toBe(2);
    expect(capture.find('LeasesHeld', 'RenewAllLeases').map((d) => d.max)).toEqual([2]);
  });

  it("metricsLevel 'SUMMARY' leaves out the detailed metrics; 'NONE' publishes nothing", async () => {
    const stream = uniqueName('metrics-level');
    await createStream(kinesis, stream, 1);
    const summary = new Capture();
    const none = new Capture();
    const journal = new Journal();
    const app = uniqueName('metrics-level-app');
    const a = makeWorker(app, stream, journal, { workerId: 'a', metrics: { publisher: summary, intervalMs: 200, level: 'SUMMARY' } });
    const b = makeWorker(uniqueName('metrics-none-app'), stream, new Journal(), { workerId: 'b', metrics: { publisher: none, intervalMs: 200, level: 'NONE' } });
    workers.push(a, b);
    await Promise.all([a.start(), b.start()]);
    await putKeyed(kinesis, stream, 20, 2);
    await waitFor(() => summary.sum('RecordsProcessed', 'ProcessTask') === 20, { timeoutMs: 60_000, message: 'SUMMARY metrics published' });
    await Promise.all([a.shutdown(), b.shutdown()]);
    expect(summary.find('KinesisDataFetcher.getRecords.Time', 'ProcessTask')).toEqual([]);
    expect(summary.find('UpdateLease.Time', 'ProcessTask')).toEqual([]);
    expect(none.datums).toEqual([]);
  });
});
