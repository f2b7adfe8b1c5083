import { AbortError, isKclError, type KinesisClientRecord } from '@kcl-ts/processor';
import { FakeClock, flushMicrotasks } from '@kcl-ts/processor/testing';
import type { MetricDatum } from '@kcl-ts/kcl';
import { describe, expect, it } from 'vitest';
import { BatchingProcessor, batchingProcessorFactory, SinkWriteError, type BatchingProcessorOptions, type FlushReport } from '../src/index.js';
import { FakeCheckpointer, MemorySink, rec, recs } from './support/fakes.js';

const SHARD = 'shardId-000000000000';

interface Harness {
  readonly clock: FakeClock;
  readonly sink: MemorySink;
  readonly cp: FakeCheckpointer;
  readonly processor: BatchingProcessor<string>;
  readonly reports: FlushReport[];
  readonly abort: AbortController;
  /** Delivers a batch like the Worker does (marks it delivered first); time moves while it runs. */
  deliver(records: KinesisClientRecord[]): Promise<void>;
  /** Runs `promise` to its end, moving fake time forward while it waits. */
  drive<T>(promise: Promise<T>): Promise<T>;
}

function harness(options: Partial<BatchingProcessorOptions<string>> = {}, transform: BatchingProcessorOptions<string>['transform'] = (r) => Buffer.from(r.data).toString()): Harness {
  const clock = new FakeClock();
  const sink = new MemorySink();
  const cp = new FakeCheckpointer(SHARD);
  const reports: FlushReport[] = [];
  const abort = new AbortController();
  const processor = new BatchingProcessor<string>({
    sink,
    transform,
    clock,
    batching: { maxRecords: 3, maxAgeMs: 1_000, ...options.batching },
    retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 40, random: () => 0.5, ...options.retry },
    onFlush: (r) => reports.push(r),
    ...(options.sizeOf && { sizeOf: options.sizeOf }),
    ...(options.metrics && { metrics: options.metrics }),
  });
  processor.initialize({ shardId: SHARD, extendedSequenceNumber: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
  const drive = async <T,>(promise: Promise<T>): Promise<T> => {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    for (let i = 0; i < 1_000 && !settled; i++) await clock.advance(10);
    return watched;
  };
  return {
    clock,
    sink,
    cp,
    processor,
    reports,
    abort,
    drive,
    deliver: (records) => {
      cp.delivered = records.at(-1) ?? cp.delivered;
      return drive(Promise.resolve(processor.processRecords({ records, checkpointer: cp, shardId: SHARD, signal: abort.signal })));
    },
  };
}

describe('BatchingProcessor — flushing and checkpoints', () => {
  it('flushes by count and checkpoints exactly the last record of each flush', async () => {
    const h = harness();
    await h.deliver(recs(1, 2));
    expect(h.sink.calls).toEqual([]);
    await h.deliver(recs(3, 7));
    expect(h.sink.calls).toEqual([
      ['1.0', '2.0', '3.0'],
      ['4.0', '5.0', '6.0'],
    ]);
    expect(h.cp.log).toEqual(['3.0', '6.0']);
    expect(h.processor.bufferedItems).toBe(1);
    await h.drive(Promise.resolve(h.processor.shutdownRequested({ shardId: SHARD, checkpointer: h.cp })));
    expect(h.sink.calls.at(-1)).toEqual(['7.0']);
    expect(h.cp.log).toEqual(['3.0', '6.0', '7.0']);
    expect(h.reports.map((r) => [r.trigger, r.items, r.ok])).toEqual([
      ['count', 3, true],
      ['count', 3, true],
      ['shutdown', 1, true],
    ]);
  });

  it('checkpoints aggregated records with their sub-sequence numbers', async () => {
    const h = harness({ batching: { maxRecords: 2 } });
    await h.deliver([0, 1, 2, 3, 4].map((sub) => rec('4959', sub)));
    expect(h.cp.log).toEqual(['4959.1', '4959.3']);
    await h.drive(Promise.resolve(h.processor.shutdownRequested({ shardId: SHARD, checkpointer: h.cp })));
    expect(h.cp.log).toEqual(['4959.1', '4959.3', '4959.4']);
  });

  it('flushes by bytes, and never writes more than maxBytes in one flush (a larger single item goes alone)', async () => {
    const h = harness({ batching: { maxRecords: 100, maxBytes: 10 }, sizeOf: (item) => (item === 'r3' ? 50 : 4) });
    await h.deliver(recs(1, 5));
    expect(h.sink.calls).toEqual([['1.0', '2.0'], ['3.0']]);
    expect(h.cp.log).toEqual(['2.0', '3.0']);
    expect(h.processor.bufferedItems).toBe(2); // 8 bytes: below the limit
  });

  it('flushes by age from its timer on an idle shard, and at the next batch without the timer', async () => {
    const h = harness();
    await h.deliver(recs(1, 2));
    await h.clock.advance(900);
    expect(h.sink.calls).toEqual([]);
    await h.clock.advance(200);
    expect(h.sink.calls).toEqual([['1.0', '2.0']]);
    expect(h.cp.log).toEqual(['2.0']);
    expect(h.reports[0]!.trigger).toBe('age');

    const noTimer = harness({ batching: { ageTimer: false } });
    await noTimer.deliver(recs(1, 2));
    await noTimer.clock.advance(5_000);
    expect(noTimer.sink.calls).toEqual([]);
    await noTimer.deliver([rec(3)]);
    expect(noTimer.sink.calls).toEqual([['1.0', '2.0', '3.0']]);
  });

  it('skipped records count as processed: the checkpoint covers them, with or without items', async () => {
    const h = harness({ batching: { maxRecords: 2 } }, (r) => (Number(r.sequenceNumber) % 2 === 0 ? undefined : Buffer.from(r.data).toString()));
    await h.deliver(recs(1, 5));
    expect(h.sink.calls).toEqual([['1.0', '3.0']]);
    expect(h.cp.log).toEqual(['4.0']); // the skipped record 4 lies between this flush and the next item
    expect(h.reports[0]!.skipped).toBe(2);
    await h.deliver([rec(6), rec(8)]);
    await h.drive(Promise.resolve(h.processor.shutdownRequested({ shardId: SHARD, checkpointer: h.cp })));
    expect(h.sink.calls).toEqual([['1.0', '3.0'], ['5.0']]);
    expect(h.cp.log).toEqual(['4.0', '8.0']);

    const allSkipped = harness({}, () => undefined);
    await allSkipped.deliver(recs(1, 4));
    await allSkipped.clock.advance(1_000);
    expect(allSkipped.sink.calls).toEqual([]);
    expect(allSkipped.cp.log).toEqual(['4.0']);
  });

  it('shardEnded flushes everything, then checkpoints SHARD_END; a failed flush leaves SHARD_END for the next call', async () => {
    const h = harness({ retry: { maxRetries: 0 } });
    await h.deliver(recs(1, 4));
    h.cp.shardEndReached = true;
    h.sink.script = ['fail'];
    const failed = await h.drive(Promise.resolve(h.processor.shardEnded({ shardId: SHARD, checkpointer: h.cp, childShardIds: [] }))).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(SinkWriteError);
    expect(h.cp.log).toEqual(['3.0']);
    await h.drive(Promise.resolve(h.processor.shardEnded({ shardId: SHARD, checkpointer: h.cp, childShardIds: [] })));
    expect(h.cp.log).toEqual(['3.0', '4.0', 'SHARD_END']);
    expect(h.sink.written()).toEqual(['1.0', '2.0', '3.0', '4.0']);
  });
});

describe('BatchingProcessor — failures', () => {
  it('retries a failed flush with backoff on the injected clock, then checkpoints once', async () => {
    const h = harness();
    h.sink.script = ['fail', 'throttle'];
    await h.deliver(recs(1, 3));
    expect(h.sink.calls).toHaveLength(3);
    expect(h.sink.contexts.map((c) => c.attempt)).toEqual([0, 1, 2]);
    expect(h.cp.log).toEqual(['3.0']);
    expect(h.reports).toMatchObject([{ ok: true, retries: 2, items: 3 }]);
  });

  it('throws when the flush keeps failing, keeps the earlier batches, and loses nothing when the batch is redelivered', async () => {
    const h = harness({ batching: { maxRecords: 4 }, retry: { maxRetries: 1 } });
    await h.deliver(recs(1, 2)); // batch A: returned, buffered
    h.sink.script = ['fail', 'fail'];
    const error = await h.deliver(recs(3, 5)).catch((e: unknown) => e); // batch B
    expect(error).toBeInstanceOf(SinkWriteError);
    expect(isKclError(error, 'DEPENDENCY') && error.retryable).toBe(true);
    expect((error as SinkWriteError).attempts).toBe(2);
    expect(h.cp.log).toEqual([]); // nothing checkpointed past unwritten records
    expect(h.processor.bufferedItems).toBe(2); // A stays (the Worker will not deliver it again); B is taken out
    await h.deliver(recs(3, 5)); // the Worker redelivers B
    expect(h.cp.log).toEqual(['4.0']);
    await h.drive(Promise.resolve(h.processor.shutdownRequested({ shardId: SHARD, checkpointer: h.cp })));
    expect(h.cp.log).toEqual(['4.0', '5.0']);
    expect(h.sink.written()).toEqual(['1.0', '2.0', '3.0', '4.0', '5.0']);
  });

  it('after a partly successful flush, a redelivered batch writes each record once', async () => {
    const h = harness({ batching: { maxRecords: 2 }, retry: { maxRetries: 0 } });
    await h.deliver([rec(1)]);
    h.sink.script = ['ok', 'fail'];
    await expect(h.deliver(recs(2, 5))).rejects.toBeInstanceOf(SinkWriteError);
    expect(h.cp.log).toEqual(['2.0']);
    expect(h.processor.bufferedItems).toBe(0);
    await h.deliver(recs(2, 5));
    await h.drive(Promise.resolve(h.processor.shutdownRequested({ shardId: SHARD, checkpointer: h.cp })));
    expect(h.cp.log).toEqual(['2.0', '4.0', '5.0']);
    expect([...h.sink.writes.values()].every((n) => n === 1)).toBe(true);
    expect(h.sink.written()).toEqual(['1.0', '2.0', '3.0', '4.0', '5.0']);
  });

  it('does not retry a fatal error, and the error says it is not retryable', async () => {
    const h = harness();
    h.sink.script = ['fatal'];
    const error = await h.deliver(recs(1, 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).retryable).toBe(false);
    expect(h.sink.calls).toHaveLength(1);
    expect(h.reports).toMatchObject([{ ok: false, retries: 0 }]);
  });

  it('a failed checkpoint after a write is written before anything else is flushed', async () => {
    const h = harness();
    h.cp.failNext = [new Error('lease table unavailable')];
    await expect(h.deliver(recs(1, 3))).rejects.toThrow('lease table unavailable');
    expect(h.sink.calls).toHaveLength(1);
    h.cp.failNext = [new Error('still unavailable')];
    await expect(h.deliver(recs(1, 6))).rejects.toThrow('still unavailable');
    expect(h.sink.calls).toHaveLength(1); // no second write while the first is unacknowledged
    await h.deliver(recs(1, 6));
    expect(h.cp.log).toEqual(['3.0', '6.0']);
    expect([...h.sink.writes.values()].every((n) => n === 1)).toBe(true);
  });

  it('writes a checkpoint left by a failed one when the batch comes again, even if nothing is due', async () => {
    const h = harness();
    h.cp.failNext = [new Error('lease table unavailable')];
    await expect(h.deliver(recs(1, 3))).rejects.toThrow('lease table unavailable');
    await h.deliver(recs(1, 3)); // the Worker redelivers: every record is written already
    expect(h.sink.calls).toHaveLength(1);
    expect(h.cp.log).toEqual(['3.0']);
  });

  it('leaseLost drops the buffer and never writes again (not even from the timer)', async () => {
    const h = harness();
    await h.deliver(recs(1, 2));
    h.processor.leaseLost({ shardId: SHARD });
    expect(h.processor.bufferedItems).toBe(0);
    await h.clock.advance(5_000);
    expect(h.sink.calls).toEqual([]);
    expect(h.cp.log).toEqual([]);
  });

  it('stops waiting for a hung write when the signal aborts, and checkpoints nothing', async () => {
    const h = harness();
    h.sink.script = ['hang'];
    const pending = h.deliver(recs(1, 3));
    await flushMicrotasks();
    expect(h.sink.contexts[0]!.signal).toBe(h.abort.signal);
    h.abort.abort(new AbortError('lease lost'));
    h.processor.leaseLost({ shardId: SHARD });
    await expect(pending).rejects.toSatisfy((e: unknown) => isKclError(e, 'ABORTED'));
    h.sink.hung.forEach((resolve) => resolve());
    await h.clock.advance(5_000);
    expect(h.cp.log).toEqual([]);
  });

  it('an age flush from the timer never overlaps a processRecords call', async () => {
    const h = harness();
    let inFlight = 0;
    let maxInFlight = 0;
    const write = h.sink.write.bind(h.sink);
    h.sink.write = async (batch, context) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await write(batch, context);
      } finally {
        inFlight--;
      }
    };
    await h.deliver(recs(1, 2));
    h.sink.script = ['hang'];
    await h.clock.advance(1_000); // the timer's flush starts and hangs
    expect(h.sink.calls).toHaveLength(1);
    h.cp.delivered = rec(6);
    const next = h.processor.processRecords({ records: recs(3, 6), checkpointer: h.cp, shardId: SHARD, signal: h.abort.signal });
    await flushMicrotasks();
    expect(h.sink.calls).toHaveLength(1); // waits for the timer's flush
    h.sink.hung.forEach((resolve) => resolve());
    await h.drive(Promise.resolve(next));
    expect(maxInFlight).toBe(1);
    expect(h.sink.calls).toEqual([['1.0', '2.0'], ['3.0', '4.0', '5.0']]);
    expect(h.cp.log).toEqual(['2.0', '5.0']);
  });

  it('a failed age flush keeps the records and tries again later', async () => {
    const h = harness({ retry: { maxRetries: 0, baseDelayMs: 500, maxDelayMs: 500 } });
    await h.deliver(recs(1, 2));
    h.sink.script = ['fail'];
    await h.clock.advance(1_010);
    expect(h.sink.calls).toHaveLength(1);
    expect(h.cp.log).toEqual([]);
    expect(h.processor.bufferedItems).toBe(2);
    await h.clock.advance(1_000);
    expect(h.cp.log).toEqual(['2.0']);
    expect(h.sink.written()).toEqual(['1.0', '2.0']);
  });
});

describe('BatchingProcessor — logging', () => {
  it('never logs record content above debug, even when a driver error quotes it', async () => {
    const lines: Array<{ level: string; text: string }> = [];
    const logger = (bindings: object): unknown => {
      const at = (level: string) => (fields: unknown, message?: string) => void lines.push({ level, text: JSON.stringify({ bindings, fields, message }, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message } : v)) });
      return { child: (more: object) => logger({ ...bindings, ...more }), trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    };
    const sink = new MemorySink();
    sink.write = () => Promise.reject(Object.assign(new Error('invalid input syntax for type integer: "SECRET-1"'), { code: '22P02', detail: 'Failing row contains (SECRET-1)' }));
    const clock = new FakeClock();
    const processor = new BatchingProcessor<string>({ sink, transform: (r) => Buffer.from(r.data).toString(), clock, logger: logger({}) as never, batching: { maxRecords: 1 }, retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    processor.initialize({ shardId: SHARD, extendedSequenceNumber: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
    const cp = new FakeCheckpointer(SHARD);
    const record = rec(1, undefined, 'SECRET-1');
    cp.delivered = record;
    const pending = processor.processRecords({ records: [record], checkpointer: cp, shardId: SHARD, signal: new AbortController().signal });
    pending.catch(() => undefined);
    for (let i = 0; i < 10; i++) await clock.advance(10);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as Error).message).not.toContain('SECRET');
    const loud = lines.filter((l) => l.level !== 'debug' && l.level !== 'trace');
    expect(loud.length).toBeGreaterThan(0);
    expect(loud.map((l) => l.text).join('\n')).not.toContain('SECRET');
    expect(lines.some((l) => l.level === 'debug' && l.text.includes('SECRET'))).toBe(true); // the full error, at debug
  });
});

describe('BatchingProcessor — metrics and options', () => {
  it('publishes per-flush metrics with the Sink operation and the shard as dimensions', async () => {
    const published: MetricDatum[][] = [];
    const h = harness({ metrics: { publish: (d) => void published.push([...d]) } });
    h.sink.script = ['fail'];
    await h.deliver(recs(1, 3));
    await flushMicrotasks();
    const byName = Object.fromEntries(published.flat().map((d) => [d.name, d]));
    expect(byName.SinkFlushRecords).toMatchObject({ value: 3, dimensions: { Operation: 'Sink:memory', ShardId: SHARD } });
    expect(byName.SinkFlushRetries!.value).toBe(1);
    expect(byName.SinkFlushLatency!.unit).toBe('Milliseconds');
  });

  it('rejects bad options with TypeErrors naming the option path', () => {
    const sink = new MemorySink();
    const transform = (): string => 'x';
    expect(() => batchingProcessorFactory({ sink, transform, batching: { maxRecords: 0 } })).toThrow(/batching\.maxRecords must be an integer from 1/);
    expect(() => batchingProcessorFactory({ sink, transform, batching: { maxAgeMs: Number.NaN } })).toThrow(/batching\.maxAgeMs/);
    expect(() => batchingProcessorFactory({ sink, transform, retry: { maxRetries: -1 } })).toThrow(/retry\.maxRetries/);
    expect(() => batchingProcessorFactory({ sink, transform, retry: { baseDelayMs: 100, maxDelayMs: 10 } })).toThrow(/retry\.maxDelayMs must be >= retry\.baseDelayMs/);
    expect(() => batchingProcessorFactory({ sink: { name: 'x' } as never, transform })).toThrow(/sink\.write must be a function/);
    expect(() => batchingProcessorFactory({ sink, transform: 'nope' as never })).toThrow(/transform must be a function, got "nope"/);
    expect(() => batchingProcessorFactory({ sink, transform, clock: {} as never })).toThrow(TypeError);
    const factory = batchingProcessorFactory({ sink, transform, batching: { maxAgeMs: Infinity } });
    expect(factory('shardId-1', { shardId: 'shardId-1', streamName: 'orders', streamIdentifier: 'orders' })).toBeInstanceOf(BatchingProcessor);
  });
});
