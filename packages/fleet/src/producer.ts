/**
 * The keyed producer: writes records `{ k, n, t }` where `n` counts the records of key `k`,
 * through `@kcl-ts/local`'s `putRecordsBatched`, and remembers every acknowledged put (shard
 * and sequence number). A PutRecords call carries each key at most once and its failed
 * entries are retried before the next call, so the records of a key reach the stream strictly
 * in `n` order even when entries are throttled.
 * @module
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { putRecordsBatched, type RecordToPut } from '@kcl-ts/local';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { PutRecordAck } from './oracle.js';
import { encodePayload } from './payload.js';

/** A record the stream acknowledged (`stream` names it when the producer writes to several). */
export interface AckedPut extends PutRecordAck {
  /** `Date.now()` when the record was built (its payload's `t`). */
  readonly putAt: number;
  /** `Date.now()` of the acknowledgement. */
  readonly at: number;
}

/** Options of a {@link KeyedProducer}. */
export interface KeyedProducerOptions {
  /** Number of partition keys (`key-0` … `key-<keys-1>`). @default 20 */
  readonly keys?: number;
  /** Explicit hash key per key index (e.g. each shard's starting hash key, to write to every shard). */
  readonly hashKeys?: readonly string[];
  /** Pad each payload to about this many bytes. @default 0 */
  readonly payloadBytes?: number;
  /** Attempts per PutRecords batch before giving up. @default 30 */
  readonly maxAttempts?: number;
}

/** A background production loop; see {@link KeyedProducer.startRounds} and {@link KeyedProducer.startRate}. */
export interface BackgroundProduction {
  /** Stops after the call in flight; rejects if a call failed. */
  stop(): Promise<void>;
  /** Resolves once the loop ended (its rounds written, stopped, or failed). */
  readonly done: Promise<void>;
}

/**
 * Writes keyed, numbered records and keeps the list of acknowledged ones. Given several
 * streams, it writes each record (same key and `n`) to every stream, and each acknowledged
 * put names its stream.
 */
export class KeyedProducer {
  /** Every acknowledged put, in acknowledgement order. */
  readonly acked: AckedPut[] = [];
  /** The partition keys. */
  readonly keys: readonly string[];
  private readonly nextN: Map<string, number>;
  private cursor = 0;
  private round = 0;
  private readonly streams: readonly string[];

  constructor(
    private readonly client: KinesisClient,
    streams: string | readonly string[],
    private readonly options: KeyedProducerOptions = {},
  ) {
    this.streams = typeof streams === 'string' ? [streams] : streams;
    if (this.streams.length === 0) throw new TypeError('KeyedProducer streams must name at least one stream');
    const count = options.hashKeys?.length ?? options.keys ?? 20;
    this.keys = Array.from({ length: count }, (_, i) => `key-${i}`);
    this.nextN = new Map(this.keys.map((k) => [k, 0]));
  }

  /** Rounds written so far. */
  get rounds(): number {
    return this.round;
  }

  /** Writes the next record of each of `keys` (each at most once), in one or more PutRecords calls of up to 500. */
  async putKeys(keys: readonly string[]): Promise<void> {
    const putAt = Date.now();
    const records: (RecordToPut & { key: string; n: number })[] = keys.map((key) => {
      const n = this.nextN.get(key)!;
      this.nextN.set(key, n + 1);
      const hashKey = this.options.hashKeys?.[this.keys.indexOf(key)];
      return { key, n, partitionKey: key, data: encodePayload({ k: key, n, t: putAt }, this.options.payloadBytes), ...(hashKey !== undefined && { explicitHashKey: hashKey }) };
    });
    const multi = this.streams.length > 1;
    await Promise.all(
      this.streams.map(async (stream) => {
        const results = await putRecordsBatched(this.client, stream, records, { maxAttempts: this.options.maxAttempts ?? 30, retryResourceInUse: true });
        const at = Date.now();
        results.forEach((r, i) => this.acked.push({ ...(multi && { stream }), key: records[i]!.key, n: records[i]!.n, shardId: r.shardId, sequenceNumber: r.sequenceNumber, putAt, at }));
      }),
    );
  }

  /** Writes one round: the next record of every key, or only of `onlyKeys`. */
  async putRound(onlyKeys?: readonly string[]): Promise<void> {
    await this.putKeys(onlyKeys ? this.keys.filter((k) => onlyKeys.includes(k)) : this.keys);
    this.round += 1;
  }

  /** Writes `rounds` rounds (`rounds × keys` records). */
  async putRounds(rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i++) await this.putRound();
  }

  /** Writes the next `count` records, taking the keys round-robin (a key at most once per call). */
  async putNext(count: number): Promise<void> {
    while (count > 0) {
      const size = Math.min(count, this.keys.length);
      const keys = Array.from({ length: size }, (_, i) => this.keys[(this.cursor + i) % this.keys.length]!);
      this.cursor = (this.cursor + size) % this.keys.length;
      count -= size;
      await this.putKeys(keys);
    }
  }

  /** Keys whose records were acknowledged on `shardId` (of `stream`, with several streams); a key maps to one open shard at a time. */
  keysOn(shardId: string, stream?: string): string[] {
    return [...new Set(this.acked.filter((p) => p.shardId === shardId && p.stream === stream).map((p) => p.key))];
  }

  /**
   * Starts a round every `intervalMs` in the background (a round that takes longer delays the
   * next, which then starts at once), up to `maxRounds` rounds in all (counting rounds already
   * written), until stopped; only of `onlyKeys` when given.
   */
  startRounds(options: { readonly intervalMs: number; readonly maxRounds: number; readonly onlyKeys?: readonly string[] }): BackgroundProduction {
    return this.loop(async (stopped) => {
      let next = performance.now();
      while (!stopped() && this.round < options.maxRounds) {
        await this.putRound(options.onlyKeys);
        next = Math.max(next + options.intervalMs, performance.now());
        if (!stopped() && this.round < options.maxRounds) await delay(next - performance.now());
      }
    });
  }

  /** Writes `rate` records per second (all keys together, round-robin) every `tickMs` until stopped. */
  startRate(options: { readonly rate: number; readonly tickMs?: number }): BackgroundProduction {
    return this.loop(async (stopped) => {
      const started = performance.now();
      let built = 0;
      while (!stopped()) {
        const due = Math.floor((options.rate * (performance.now() - started)) / 1000);
        if (due > built) {
          const count = due - built;
          built = due;
          await this.putNext(count);
        }
        if (!stopped()) await delay(options.tickMs ?? 100);
      }
    });
  }

  private loop(body: (stopped: () => boolean) => Promise<void>): BackgroundProduction {
    let stopped = false;
    const done = body(() => stopped);
    done.catch(() => undefined);
    return {
      done,
      stop: async () => {
        stopped = true;
        await done;
      },
    };
  }
}
