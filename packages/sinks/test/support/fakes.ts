/**
 * In-memory parts for unit tests of the batching processor: records, a checkpointer that
 * enforces the checkpoint rules, and a sink whose failures a test scripts.
 */
import {
  compareExtended,
  InvalidCheckpointError,
  LeaseLostError,
  type ExtendedSequenceNumber,
  type KinesisClientRecord,
  type PreparedCheckpointer,
  type RecordProcessorCheckpointer,
} from '@kcl-ts/processor';
import type { Sink, SinkBatch, SinkWriteContext, SinkWriteResult } from '../../src/index.js';

/** A record at `seq` (and `sub` inside an aggregate) carrying `data`. */
export function rec(seq: number | string, sub?: number, data = `r${seq}${sub === undefined ? '' : `.${sub}`}`): KinesisClientRecord {
  return {
    data: Buffer.from(data),
    partitionKey: `pk-${seq}`,
    sequenceNumber: String(seq),
    subSequenceNumber: sub,
    approximateArrivalTimestamp: new Date(0),
    aggregated: sub !== undefined,
  };
}

/** Records at sequence numbers `from`..`to` (inclusive). */
export function recs(from: number, to: number): KinesisClientRecord[] {
  const out: KinesisClientRecord[] = [];
  for (let i = from; i <= to; i++) out.push(rec(i));
  return out;
}

const pos = (r: KinesisClientRecord | ExtendedSequenceNumber): ExtendedSequenceNumber => ({ sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber ?? 0 });

/** A checkpointer that records every checkpoint and refuses the ones the Worker would refuse. */
export class FakeCheckpointer implements RecordProcessorCheckpointer {
  readonly shardId: string;
  readonly log: string[] = [];
  lastCheckpoint: ExtendedSequenceNumber = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 };
  /** Last record handed to processRecords (set by the test driver). */
  delivered: KinesisClientRecord | undefined;
  shardEndReached = false;
  lost = false;
  /** Failures to throw from the next checkpoint calls. */
  failNext: Error[] = [];

  constructor(shardId = 'shardId-000000000000') {
    this.shardId = shardId;
  }

  checkpoint(): Promise<void>;
  checkpoint(record: KinesisClientRecord): Promise<void>;
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;
  async checkpoint(arg?: KinesisClientRecord | string, sub?: number): Promise<void> {
    if (this.lost) throw new LeaseLostError(this.shardId);
    const failure = this.failNext.shift();
    if (failure) throw failure;
    let target: ExtendedSequenceNumber;
    if (arg === undefined) {
      if (!this.shardEndReached) throw new Error('test processors must checkpoint explicit positions');
      target = { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 };
    } else if (typeof arg === 'string') target = { sequenceNumber: arg, subSequenceNumber: sub ?? 0 };
    else target = pos(arg);
    if (compareExtended(target, this.lastCheckpoint) < 0) throw new InvalidCheckpointError(`backwards: ${JSON.stringify(target)}`);
    if (target.sequenceNumber !== 'SHARD_END' && (this.delivered === undefined || compareExtended(target, pos(this.delivered)) > 0)) {
      throw new InvalidCheckpointError(`past the last delivered record: ${JSON.stringify(target)}`);
    }
    this.lastCheckpoint = target;
    this.log.push(target.sequenceNumber === 'SHARD_END' ? 'SHARD_END' : `${target.sequenceNumber}.${target.subSequenceNumber}`);
  }

  prepareCheckpoint(): Promise<PreparedCheckpointer> {
    return Promise.reject(new Error('not used'));
  }
}

/** What the scripted sink does on one call. */
export type SinkBehaviour = 'ok' | 'fail' | 'throttle' | 'fatal' | 'hang';

/** A sink that keeps every write (by record id, so rewrites are visible) and follows a script. */
export class MemorySink implements Sink<string> {
  readonly name = 'memory';
  /** Every call, in order: the sequence numbers written. */
  readonly calls: string[][] = [];
  /** Items by record position: count of times written. */
  readonly writes = new Map<string, number>();
  /** Behaviour of the next calls (then 'ok'). */
  script: SinkBehaviour[] = [];
  /** Resolvers of hung writes. */
  readonly hung: Array<() => void> = [];
  readonly contexts: SinkWriteContext[] = [];

  async write(batch: SinkBatch<string>, context: SinkWriteContext): Promise<SinkWriteResult | void> {
    this.contexts.push(context);
    const behaviour = this.script.shift() ?? 'ok';
    this.calls.push(batch.entries.map((e) => `${e.record.sequenceNumber}.${e.record.subSequenceNumber ?? 0}`));
    if (behaviour === 'fail') throw Object.assign(new Error('sink down'), { $fault: 'server' });
    if (behaviour === 'throttle') throw Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    if (behaviour === 'fatal') throw Object.assign(new Error('access denied'), { name: 'AccessDenied' });
    if (behaviour === 'hang') await new Promise<void>((resolve) => this.hung.push(resolve));
    for (const e of batch.entries) {
      const key = `${e.record.sequenceNumber}.${e.record.subSequenceNumber ?? 0}`;
      this.writes.set(key, (this.writes.get(key) ?? 0) + 1);
    }
  }

  classifyError(error: unknown): 'throttled' | 'transient' | 'fatal' {
    const name = (error as { name?: string }).name;
    if (name === 'ThrottlingException') return 'throttled';
    if (name === 'AccessDenied') return 'fatal';
    return 'transient';
  }

  /** Positions written at least once, in numeric order. */
  written(): string[] {
    return [...this.writes.keys()].sort((a, b) => {
      const [sa, ua] = a.split('.');
      const [sb, ub] = b.split('.');
      return Number(BigInt(sa!) - BigInt(sb!)) || Number(ua) - Number(ub);
    });
  }
}
