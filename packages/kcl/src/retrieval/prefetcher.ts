/**
 * The bounded hand-off between a shard's background fetch loop and its consumer.
 * @module
 */
import { AbortError, onAbort } from '@kcl-ts/processor';
import type { PrefetchBudget } from './prefetch-budget.js';
import type { RecordsBatch } from './types.js';

/** Limits of a {@link PrefetchQueue}: the producer waits while any one is reached. */
export interface PrefetchBounds {
  /** Undelivered batches. */
  readonly maxBatches: number;
  /** Undelivered user records. */
  readonly maxRecords: number;
  /** Undelivered data bytes. */
  readonly maxBytes: number;
}

/** The per-shard prefetch bounds of a retrieval config (shared by both record sources). */
export function prefetchBoundsOf(config: { readonly prefetchMaxBatches: number; readonly prefetchMaxRecords: number; readonly prefetchMaxBytes: number }): PrefetchBounds {
  return { maxBatches: config.prefetchMaxBatches, maxRecords: config.prefetchMaxRecords, maxBytes: config.prefetchMaxBytes };
}

interface Waiter {
  resolve(batch: RecordsBatch): void;
  reject(error: unknown): void;
  cleanup(): void;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof AbortError ? signal.reason : new AbortError(undefined, { cause: signal.reason });
}

/**
 * A FIFO of fetched batches with bounds on batches, records and bytes. The producer calls
 * {@link PrefetchQueue.waitForSpace} before fetching more, so memory stays bounded by the
 * limits plus one batch; the consumer calls {@link PrefetchQueue.take}. A shared budget counts a
 * batch from when it is queued until the consumer asks for the next one (or the queue is
 * cleared), so the batch being processed is counted too. A batch counts as
 * *delivered* the moment it is handed to a consumer, and `onDelivered` runs synchronously then.
 */
export class PrefetchQueue {
  private items: RecordsBatch[] = [];
  private queuedRecords = 0;
  private queuedBytes = 0;
  private waiters: Waiter[] = [];
  private spaceWaiter: (() => void) | undefined;
  private closedWith: Error | undefined;
  /** Bytes of the batch last handed to the consumer: held against the budget until it asks for the next one. */
  private deliveredBytes = 0;

  constructor(
    private readonly bounds: PrefetchBounds,
    private readonly onDelivered: (batch: RecordsBatch) => void = () => undefined,
    /** A worker-wide memory budget shared with other shards' queues, if any. */
    private readonly budget?: PrefetchBudget,
  ) {}

  /** Undelivered batches held. */
  get batches(): number {
    return this.items.length;
  }

  /** Undelivered user records held. */
  get records(): number {
    return this.queuedRecords;
  }

  /** Undelivered data bytes held. */
  get bytes(): number {
    return this.queuedBytes;
  }

  /** True when nothing is queued and the consumer holds no batch (it asked for the next one). */
  get holdsNothing(): boolean {
    return this.items.length === 0 && this.deliveredBytes === 0;
  }

  /** True while any bound is reached (the shared budget counts only once this queue holds a batch). */
  isFull(): boolean {
    return (
      this.items.length >= this.bounds.maxBatches ||
      this.queuedRecords >= this.bounds.maxRecords ||
      this.queuedBytes >= this.bounds.maxBytes ||
      (this.items.length > 0 && this.budget?.exhausted() === true)
    );
  }

  /** Adds a batch, handing it straight to a waiting consumer if there is one. Ignored once closed. */
  put(batch: RecordsBatch): void {
    if (this.closedWith !== undefined) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.cleanup();
      this.handOver(batch);
      waiter.resolve(batch);
      return;
    }
    this.items.push(batch);
    this.queuedRecords += batch.records.length;
    this.queuedBytes += batch.bytes;
    this.budget?.reserve(batch.bytes);
  }

  /**
   * The next batch: at once if one is queued, otherwise when one is put. Once the queue is
   * closed and drained, rejects with the error given to {@link PrefetchQueue.close}; rejects
   * with an `AbortError` when `signal` aborts.
   */
  take(signal?: AbortSignal): Promise<RecordsBatch> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    // The consumer asks for the next batch: it is done with the previous one.
    this.releaseDelivered();
    const batch = this.items.shift();
    if (batch !== undefined) {
      this.queuedRecords -= batch.records.length;
      this.queuedBytes -= batch.bytes;
      this.handOver(batch, true);
      if (!this.isFull()) this.wakeProducer();
      return Promise.resolve(batch);
    }
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    return new Promise<RecordsBatch>((resolve, reject) => {
      const unwatch = signal
        ? onAbort(signal, () => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            reject(abortError(signal));
          })
        : () => undefined;
      const waiter: Waiter = { resolve, reject, cleanup: unwatch };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once the queue is below every bound; rejects with an `AbortError` when `signal` aborts. */
  waitForSpace(signal: AbortSignal): Promise<void> {
    if (!this.isFull()) return Promise.resolve();
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      // Room can come from this queue's consumer or, for the shared budget, from any shard's.
      const unsubscribe = this.budget?.onRelease(() => {
        if (!this.isFull()) this.wakeProducer();
      });
      const unwatch = onAbort(signal, () => {
        this.spaceWaiter = undefined;
        unsubscribe?.();
        reject(abortError(signal));
      });
      this.spaceWaiter = () => {
        unwatch();
        unsubscribe?.();
        resolve();
      };
    });
  }

  /** Drops every undelivered batch and returns them (oldest first). */
  clear(): RecordsBatch[] {
    const dropped = this.items;
    this.items = [];
    this.queuedRecords = 0;
    this.budget?.release(this.queuedBytes);
    this.queuedBytes = 0;
    this.releaseDelivered();
    this.wakeProducer();
    return dropped;
  }

  /**
   * No more batches will be put. Queued batches can still be taken; after them, and for every
   * consumer already waiting, `take` rejects with `error`. Only the first call has an effect.
   */
  close(error: Error): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    if (this.items.length > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      w.cleanup();
      w.reject(error);
    }
  }

  /** Hands `batch` to the consumer; its bytes stay counted in the budget while it is processed. */
  private handOver(batch: RecordsBatch, counted = false): void {
    this.deliveredBytes = batch.bytes;
    if (!counted) this.budget?.reserve(batch.bytes);
    this.onDelivered(batch);
  }

  private releaseDelivered(): void {
    const bytes = this.deliveredBytes;
    this.deliveredBytes = 0;
    this.budget?.release(bytes);
  }

  private wakeProducer(): void {
    const wake = this.spaceWaiter;
    this.spaceWaiter = undefined;
    wake?.();
  }
}
