/**
 * The `BatchingProcessor` of `@kcl-ts/sinks` in the simulation: a share of the generated
 * schedules run it, its sink journals what it writes, and the oracle catches a processor
 * that breaks its promises (checkpointing before the write, not flushing on a handoff).
 */
import { BatchingProcessor, type BatchingProcessorOptions } from '@kcl-ts/sinks';
import type { KinesisClientRecord, ShutdownRequestedInput } from '@kcl-ts/kcl';
import { describe, expect, it } from 'vitest';
import type { BatchingProcessorMaker } from '../src/batching-sim-processor.js';
import { BATCHING_SHARE, generateSchedule, type Schedule } from '../src/schedule.js';
import { runSchedule } from '../src/simulation.js';

/** The private parts of `BatchingProcessor` the broken variants reach into. */
interface Internals {
  close(): void;
  readonly serial: { run(task: () => Promise<void>): Promise<void> };
  checkpointer: unknown;
  writePendingCheckpoint(): Promise<void>;
  pendingCheckpoint: KinesisClientRecord | undefined;
  writtenThrough: KinesisClientRecord | undefined;
  readonly buffer: { peekChunk(maxItems: number, maxBytes: number): { slots: number; entries: unknown[]; end: KinesisClientRecord } | undefined; commit(slots: number): void };
  readonly config: { maxRecords: number; maxBytes: number };
  write(chunk: unknown, trigger: string): Promise<void>;
  assertHeld(): void;
}

/** Checkpoints a chunk's last record before writing the chunk. */
class CheckpointBeforeWrite extends BatchingProcessor<KinesisClientRecord> {}
(CheckpointBeforeWrite.prototype as unknown as { flushChunk(this: Internals, trigger: string): Promise<void> }).flushChunk = async function (trigger) {
  await this.writePendingCheckpoint();
  const chunk = this.buffer.peekChunk(this.config.maxRecords, this.config.maxBytes);
  if (chunk === undefined) return;
  this.pendingCheckpoint = chunk.end;
  await this.writePendingCheckpoint();
  if (chunk.entries.length > 0) await this.write(chunk, trigger);
  this.assertHeld();
  this.buffer.commit(chunk.slots);
  this.writtenThrough = chunk.end;
};

/** Returns from `shutdownRequested` without flushing its buffer. */
class NoFlushOnShutdown extends BatchingProcessor<KinesisClientRecord> {
  override shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    const self = this as unknown as Internals;
    self.close();
    return self.serial.run(async () => {
      self.checkpointer = checkpointer;
      await self.writePendingCheckpoint();
    });
  }
}

function batchingSeeds(count: number): Schedule[] {
  const out: Schedule[] = [];
  for (let seed = 1; out.length < count; seed++) {
    const s = generateSchedule(seed, { durationMs: [20_000, 30_000] });
    if (s.config.processor === 'batching') out.push(s);
  }
  return out;
}

async function failures(make: BatchingProcessorMaker, schedules: readonly Schedule[]): Promise<string[]> {
  const found: string[] = [];
  for (const s of schedules) {
    const r = await runSchedule(s, { batchingProcessor: make });
    found.push(...r.verdict.violations.map((v) => v.invariant));
  }
  return [...new Set(found)].sort();
}

describe('the BatchingProcessor in the simulation', () => {
  it(`runs on about ${BATCHING_SHARE * 100}% of the generated schedules`, () => {
    let batching = 0;
    for (let seed = 1; seed <= 400; seed++) if (generateSchedule(seed).config.processor === 'batching') batching++;
    expect(batching).toBeGreaterThan(400 * BATCHING_SHARE * 0.7);
    expect(batching).toBeLessThan(400 * BATCHING_SHARE * 1.3);
  });

  it('writes through the sink: records are processed when flushed, and checkpoints follow', async () => {
    const [schedule] = batchingSeeds(1);
    const result = await runSchedule(schedule!);
    expect(result.verdict.ok, JSON.stringify(result.verdict.violations)).toBe(true);
    expect(result.verdict.summary.recordsProcessed).toBeGreaterThanOrEqual(result.verdict.required);
    expect(result.verdict.summary.checkpointsAccepted).toBeGreaterThan(0);
  }, 60_000);

  it('is deterministic with the batching processor too', async () => {
    const [schedule] = batchingSeeds(1);
    const a = await runSchedule(schedule!);
    const b = await runSchedule(JSON.parse(JSON.stringify(schedule)) as Schedule);
    expect(b.journal).toEqual(a.journal);
    expect(b.verdict).toEqual(a.verdict);
  }, 60_000);

  it('catches a processor that checkpoints before it writes', async () => {
    const make: BatchingProcessorMaker = (o: BatchingProcessorOptions<KinesisClientRecord>) => new CheckpointBeforeWrite(o);
    expect(await failures(make, batchingSeeds(2))).toContain('checkpoint-beyond-processed');
  }, 60_000);

  it('catches a processor that does not flush in shutdownRequested', async () => {
    const make: BatchingProcessorMaker = (o: BatchingProcessorOptions<KinesisClientRecord>) => new NoFlushOnShutdown(o);
    expect(await failures(make, batchingSeeds(3))).toContain('flush-on-handoff');
  }, 60_000);
});
