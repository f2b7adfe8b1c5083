/**
 * The scenarios' producer: writes records `{ k, n }` where `n` counts the records of key `k`,
 * and remembers every acknowledged put (shard and sequence number). It writes in *rounds* —
 * one record per key per PutRecords call, failed entries retried before the next round — so
 * the records of a key reach the stream strictly in `n` order even when entries are throttled.
 * @module
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { setTimeout as delay } from 'node:timers/promises';

/** A record the stream acknowledged. */
export interface AckedPut {
  readonly key: string;
  readonly n: number;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Wall-clock time of the acknowledgement. */
  readonly at: number;
}

/** Options of a {@link KeyedProducer}. */
export interface KeyedProducerOptions {
  /** Number of partition keys (`key-0` … `key-<keys-1>`). @default 20 */
  readonly keys?: number;
  /** Attempts per round before giving up. @default 30 */
  readonly maxAttempts?: number;
}

/** A background production loop; see {@link KeyedProducer.startBackground}. */
export interface BackgroundProduction {
  /** Stops after the round in flight; rejects if a round failed. */
  stop(): Promise<void>;
  /** Resolves once `maxRounds` were written (or the loop was stopped or failed). */
  readonly done: Promise<void>;
}

const MAX_ENTRIES = 500;

/** Writes keyed, numbered records and keeps the list of acknowledged ones. */
export class KeyedProducer {
  /** Every acknowledged put, in acknowledgement order. */
  readonly acked: AckedPut[] = [];
  private readonly keys: number;
  private readonly maxAttempts: number;
  private round = 0;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    options: KeyedProducerOptions = {},
  ) {
    this.keys = options.keys ?? 20;
    this.maxAttempts = options.maxAttempts ?? 30;
  }

  /** Rounds written so far (= records per key). */
  get rounds(): number {
    return this.round;
  }

  /** Writes `rounds` rounds (`rounds × keys` records). */
  async putRounds(rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i++) await this.putRound();
  }

  /**
   * Writes one round: record `n = rounds` of every key, or only of `onlyKeys` (the others skip
   * this `n`; a key's numbers still increase in stream order).
   */
  async putRound(onlyKeys?: readonly string[]): Promise<void> {
    const n = this.round;
    const all = Array.from({ length: this.keys }, (_, i) => `key-${i}`);
    const keys = onlyKeys ? all.filter((k) => onlyKeys.includes(k)) : all;
    for (let first = 0; first < keys.length; first += MAX_ENTRIES) await this.putKeys(keys.slice(first, first + MAX_ENTRIES), n);
    this.round += 1;
  }

  /** Keys whose records were acknowledged on `shardId` (a key maps to one open shard at a time). */
  keysOn(shardId: string): string[] {
    return [...new Set(this.acked.filter((p) => p.shardId === shardId).map((p) => p.key))];
  }

  private async putKeys(keys: string[], n: number): Promise<void> {
    let pending = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > this.maxAttempts) throw new Error(`PutRecords to ${this.streamName}: ${pending.length} records of round ${n} still failing after ${this.maxAttempts} attempts`);
      if (attempt > 1) await delay(Math.min(50 * 2 ** (attempt - 2), 1_000));
      let out;
      try {
        out = await this.client.send(
          new PutRecordsCommand({
            StreamName: this.streamName,
            Records: pending.map((k) => ({ PartitionKey: k, Data: Buffer.from(JSON.stringify({ k, n })) })),
          }),
        );
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ProvisionedThroughputExceededException' || name === 'LimitExceededException' || name === 'ResourceInUseException') continue;
        throw error;
      }
      const failed: string[] = [];
      const at = Date.now();
      (out.Records ?? []).forEach((entry, i) => {
        const key = pending[i]!;
        if (entry.SequenceNumber && entry.ShardId && !entry.ErrorCode) {
          this.acked.push({ key, n, shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber, at });
        } else {
          failed.push(key);
        }
      });
      if ((out.Records ?? []).length < pending.length) failed.push(...pending.slice((out.Records ?? []).length));
      pending = failed;
    }
  }

  /**
   * Writes a round every `intervalMs` in the background, up to `maxRounds` rounds in all
   * (counting rounds already written), until stopped; only of `onlyKeys` when given.
   */
  startBackground(options: { readonly intervalMs: number; readonly maxRounds: number; readonly onlyKeys?: readonly string[] }): BackgroundProduction {
    let stopped = false;
    const done = (async () => {
      while (!stopped && this.round < options.maxRounds) {
        await this.putRound(options.onlyKeys);
        if (!stopped && this.round < options.maxRounds) await delay(options.intervalMs);
      }
    })();
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
