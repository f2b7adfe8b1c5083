import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { PutRecord } from './verdict.js';

/** The JSON payload of every demo record. */
export interface Payload {
  /** Partition key. */
  readonly k: string;
  /** Per-key sequence number: 0, 1, 2, … in put order. */
  readonly n: number;
  /** `Date.now()` when the record was built. */
  readonly t: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a payload as UTF-8 JSON. */
export function encodePayload(payload: Payload): Uint8Array {
  return encoder.encode(JSON.stringify(payload));
}

/** Decodes a payload; `undefined` if the bytes are not one. */
export function decodePayload(data: Uint8Array): Payload | undefined {
  try {
    const value = JSON.parse(decoder.decode(data)) as Partial<Payload>;
    if (typeof value.k === 'string' && typeof value.n === 'number' && typeof value.t === 'number') return value as Payload;
  } catch {
    // not ours
  }
  return undefined;
}

/** Options of a {@link Producer}. */
export interface ProducerOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** Records per second, over all keys. */
  readonly rate: number;
  /** Number of distinct partition keys. @default 500 */
  readonly keys?: number;
  /** Pause between PutRecords rounds. @default 100 */
  readonly tickMs?: number;
  /** Called when a PutRecords call throws (it is retried). */
  readonly onError?: (error: unknown) => void;
}

/** Counters of a {@link Producer}. */
export interface ProducerStats {
  /** Records acknowledged by Kinesis. */
  readonly put: number;
  /** Records built but not (yet) acknowledged. */
  readonly pending: number;
  /** Entries PutRecords rejected (e.g. throttled) and that were sent again. */
  readonly retriedEntries: number;
  /** PutRecords calls that threw (their entries were sent again). */
  readonly failedCalls: number;
}

interface Pending {
  readonly key: string;
  readonly n: number;
  readonly putAt: number;
  readonly entry: PutRecordsRequestEntry;
}

const MAX_BATCH = 500;

/**
 * Puts records at a steady rate with PutRecords every `tickMs`. Keys are used round-robin so a
 * key appears at most once per call, and a call's failed entries are retried before the next
 * call is made: each key's records reach Kinesis in `n` order, and a record counts as put
 * only once Kinesis acknowledged it.
 */
export class Producer {
  /** Every acknowledged record, in acknowledgement order. */
  readonly acknowledged: PutRecord[] = [];
  private readonly keys: number;
  private readonly tickMs: number;
  private readonly nextN: number[];
  private nextKey = 0;
  private pending = 0;
  private retriedEntries = 0;
  private failedCalls = 0;
  private stopping = false;
  private readonly hardStop = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ProducerOptions) {
    this.keys = options.keys ?? 500;
    this.tickMs = options.tickMs ?? 100;
    this.nextN = new Array<number>(this.keys).fill(0);
  }

  /** Starts producing. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops producing; the call in flight is completed (retried) for up to `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    const timer = setTimeout(() => this.hardStop.abort(), timeoutMs);
    try {
      await this.loop;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Current counters. */
  stats(): ProducerStats {
    return { put: this.acknowledged.length, pending: this.pending, retriedEntries: this.retriedEntries, failedCalls: this.failedCalls };
  }

  private async run(): Promise<void> {
    const started = performance.now();
    let built = 0;
    while (!this.stopping) {
      const due = Math.floor((this.options.rate * (performance.now() - started)) / 1000);
      while (built < due && !this.stopping) {
        const size = Math.min(due - built, this.keys, MAX_BATCH);
        built += size;
        await this.putAll(this.build(size));
      }
      if (!this.stopping) await delay(this.tickMs);
    }
  }

  private build(size: number): Pending[] {
    const out: Pending[] = [];
    const putAt = Date.now();
    for (let i = 0; i < size; i++) {
      const index = this.nextKey;
      this.nextKey = (this.nextKey + 1) % this.keys;
      const key = `key-${index}`;
      const n = this.nextN[index]!;
      this.nextN[index] = n + 1;
      out.push({ key, n, putAt, entry: { PartitionKey: key, Data: encodePayload({ k: key, n, t: putAt }) } });
    }
    return out;
  }

  /** Sends `batch` until every entry is acknowledged (or the hard stop fires). */
  private async putAll(batch: Pending[]): Promise<void> {
    let todo = batch;
    this.pending += todo.length;
    for (let attempt = 0; todo.length > 0 && !this.hardStop.signal.aborted; attempt++) {
      if (attempt > 0) await delay(Math.min(50 * 2 ** (attempt - 1), 1_000)).catch(() => undefined);
      let out;
      try {
        out = await this.options.kinesis.send(new PutRecordsCommand({ StreamName: this.options.streamName, Records: todo.map((p) => p.entry) }), {
          abortSignal: this.hardStop.signal,
        });
      } catch (error) {
        // The outcome is unknown: send everything again. If Kinesis had stored some of them,
        // they exist twice (the verdict reports those as producer retries).
        this.failedCalls++;
        this.options.onError?.(error);
        continue;
      }
      const failed: Pending[] = [];
      (out.Records ?? []).forEach((result, i) => {
        const p = todo[i];
        if (!p) return;
        if (result.ErrorCode || !result.SequenceNumber || !result.ShardId) {
          failed.push(p);
          return;
        }
        this.acknowledged.push({ key: p.key, n: p.n, putAt: p.putAt, shardId: result.ShardId, seq: result.SequenceNumber });
        this.pending--;
      });
      // Entries missing from the answer are treated as failed.
      for (let i = out.Records?.length ?? 0; i < todo.length; i++) failed.push(todo[i]!);
      this.retriedEntries += failed.length;
      todo = failed;
    }
  }
}
