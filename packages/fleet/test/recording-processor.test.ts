import { DependencyError, LeaseLostError, type KinesisClientRecord, type RecordProcessorCheckpointer } from '@kcl-ts/kcl';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalTail, JournalWriter } from '../src/journal.js';
import { decodePayload } from '../src/payload.js';
import { RecordingProcessor } from '../src/recording-processor.js';

/** Every line of a journal file (the spawner's reader). */
const readJournal = (path: string) => new JournalTail(path).read();

const record = (k: string, n: number, seq: string): KinesisClientRecord =>
  ({ sequenceNumber: seq, partitionKey: k, data: Buffer.from(JSON.stringify({ k, n })), approximateArrivalTimestamp: new Date() }) as unknown as KinesisClientRecord;

/** A checkpointer whose next outcome the test decides. */
function checkpointer(outcome: () => void): RecordProcessorCheckpointer {
  return {
    checkpoint: async () => outcome(),
    prepareCheckpoint: async () => {
      throw new Error('not used');
    },
  } as unknown as RecordProcessorCheckpointer;
}

function setup(naive = false): { path: string; processor: RecordingProcessor } {
  const path = join(mkdtempSync(join(tmpdir(), 'fleet-rp-')), 'w.journal.jsonl');
  const processor = new RecordingProcessor(new JournalWriter(path, 'w'), 'shardId-000000000000', { naiveShardEnd: naive });
  return { path, processor };
}

const signal = new AbortController().signal;

describe('RecordingProcessor', () => {
  it('journals the records before the checkpoint attempt, then the accepted checkpoint', async () => {
    const { path, processor } = setup();
    processor.initialize({ shardId: 'shardId-000000000000', extendedSequenceNumber: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
    await processor.processRecords({ records: [record('a', 0, '11'), record('b', 0, '12')], checkpointer: checkpointer(() => undefined), shardId: 'shardId-000000000000', signal });
    const lines = readJournal(path);
    expect(lines.map((l) => l.type)).toEqual(['init', 'record', 'record', 'checkpoint-begin', 'checkpoint']);
    expect(lines[1]).toMatchObject({ worker: 'w', shard: 'shardId-000000000000', epoch: processor.epoch, key: 'a', n: 0, seq: '11', sub: 0 });
    expect(lines[4]).toMatchObject({ phase: 'batch', seq: '12' });
  });

  it('journals a LeaseLostError as checkpoint-rejected and rethrows it', async () => {
    const { path, processor } = setup();
    const cp = checkpointer(() => {
      throw new LeaseLostError('shardId-000000000000');
    });
    await expect(processor.processRecords({ records: [record('a', 0, '11')], checkpointer: cp, shardId: 'shardId-000000000000', signal })).rejects.toBeInstanceOf(LeaseLostError);
    expect(readJournal(path).map((l) => l.type)).toEqual(['record', 'checkpoint-begin', 'checkpoint-rejected']);
  });

  it('swallows other checkpoint failures in processRecords (no redelivery), rethrows them from shardEnded only when naive', async () => {
    const failing = checkpointer(() => {
      throw new DependencyError('dynamodb', 'UpdateItem', 'table unavailable', { retryable: true });
    });
    const careful = setup();
    await careful.processor.processRecords({ records: [record('a', 0, '11')], checkpointer: failing, shardId: 'shardId-000000000000', signal });
    await careful.processor.shardEnded({ shardId: 'shardId-000000000000', checkpointer: failing, childShardIds: [] });
    expect(readJournal(careful.path).map((l) => l.type)).toEqual(['record', 'checkpoint-begin', 'checkpoint-failed', 'shard-ended', 'checkpoint-begin', 'checkpoint-failed']);
    const naive = setup(true);
    await expect(naive.processor.shardEnded({ shardId: 'shardId-000000000000', checkpointer: failing, childShardIds: [] })).rejects.toBeInstanceOf(DependencyError);
  });

  it('checkpoints at shutdown only when something was delivered in this epoch', async () => {
    const { path, processor } = setup();
    await processor.shutdownRequested({ shardId: 'shardId-000000000000', checkpointer: checkpointer(() => undefined) });
    expect(readJournal(path).map((l) => l.type)).toEqual(['shutdown-requested']);
  });

  it('parses the producer payload and rejects foreign records', () => {
    expect(decodePayload(Buffer.from('{"k":"key-1","n":7}'))).toEqual({ k: 'key-1', n: 7 });
    expect(decodePayload(Buffer.from('{"k":"key-1","n":7,"t":5,"p":"xx"}'))).toEqual({ k: 'key-1', n: 7, t: 5 });
    expect(decodePayload(Buffer.from('not json'))).toBeUndefined();
  });

  it('journals a foreign record with key ? and n -1, and counts progress per shard', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fleet-rp-')), 'w.journal.jsonl');
    const stats = { processed: 0, shards: {} };
    const processor = new RecordingProcessor(new JournalWriter(path, 'w'), 'shardId-000000000000', { stats });
    const foreign = { ...record('x', 0, '13'), data: Buffer.from('not json') } as KinesisClientRecord;
    await processor.processRecords({ records: [record('a', 3, '12'), foreign], checkpointer: checkpointer(() => undefined), shardId: 'shardId-000000000000', signal, millisBehindLatest: 40 });
    expect(readJournal(path).filter((l) => l.type === 'record')).toMatchObject([{ key: 'a', n: 3 }, { key: '?', n: -1 }]);
    expect(stats).toEqual({ processed: 2, shards: { 'shardId-000000000000': { records: 2, lagMs: 40 } } });
  });
});
