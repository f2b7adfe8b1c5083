/**
 * A memory budget shared by every shard's record source of one worker.
 * @module
 */

/** Assumed size of a record before any was seen (Kinesis records are often well below it). */
const INITIAL_RECORD_BYTES = 1024;

/**
 * Bytes of records a worker holds across all its shards: batches queued for delivery, and the
 * pages of GetRecords calls in flight (reserved by an estimate before the call, so shards
 * starting at once cannot all fetch a full page together).
 *
 * Polling sources size each call from it: {@link PrefetchBudget.recordLimit} splits the budget
 * among the sources registered and divides by the average record size seen, so with many shards
 * each asks for fewer records per call. A call is admitted while the bytes held plus its
 * estimate fit, when nothing at all is held, or when the asking source itself holds nothing (so
 * a slow processor on one shard never stalls the others, and a budget smaller than one page
 * still makes progress).
 */
export class PrefetchBudget {
  private used = 0;
  private sources = 0;
  private recordBytes = INITIAL_RECORD_BYTES;
  private readonly listeners = new Set<() => void>();

  /** @param maxBytes the budget; a positive number (Infinity disables it). */
  constructor(readonly maxBytes: number) {
    if (!(maxBytes > 0)) throw new TypeError(`maxBytes must be positive, got ${maxBytes}`);
  }

  /** Bytes currently held (queued, plus the estimates of calls in flight). */
  get usedBytes(): number {
    return this.used;
  }

  /** The running average size of a record, in bytes. */
  get averageRecordBytes(): number {
    return this.recordBytes;
  }

  /** True while the budget is spent. */
  exhausted(): boolean {
    return this.used >= this.maxBytes;
  }

  /** Counts one more source sharing the budget; returns the function that removes it. */
  register(): () => void {
    this.sources++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.sources--;
    };
  }

  /** Records to ask for in one call: this source's share of the budget at the average record size, within `[1, maxRecords]`. */
  recordLimit(maxRecords: number): number {
    if (this.maxBytes === Infinity) return maxRecords;
    const share = this.maxBytes / Math.max(1, this.sources);
    return Math.max(1, Math.min(maxRecords, Math.floor(share / this.recordBytes)));
  }

  /** Bytes a call asking for `records` records is expected to bring. */
  estimate(records: number): number {
    return records * this.recordBytes;
  }

  /** Feeds the average record size with a page of `records` records and `bytes` bytes. */
  observe(records: number, bytes: number): void {
    if (records <= 0) return;
    // An exponential average: a page moves it a quarter of the way to its own mean.
    this.recordBytes = Math.max(1, this.recordBytes + (bytes / records - this.recordBytes) / 4);
  }

  /**
   * Waits until `bytes` fit (or nothing is held, or `exempt()` holds), then reserves them;
   * resolves to the function that returns them. Rejects with the signal's reason when `signal`
   * aborts first. A source passes `exempt` = "I hold nothing at all", so no shard waits on
   * another shard's slow processor: each may always have one call's worth, sized by its share.
   */
  acquire(bytes: number, signal: AbortSignal, exempt: () => boolean = () => false): Promise<() => void> {
    const grant = (): (() => void) => {
      this.reserve(bytes);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.release(bytes);
      };
    };
    if (this.admits(bytes) || exempt()) return Promise.resolve(grant());
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        settled = true;
        unsubscribe();
        reject(signal.reason);
      };
      const unsubscribe = this.onRelease(() => {
        if (settled || !(this.admits(bytes) || exempt())) return;
        settled = true;
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(grant());
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Counts `bytes` as held. */
  reserve(bytes: number): void {
    this.used += bytes;
  }

  /** Returns `bytes` to the budget and wakes the sources waiting for room (each checks its own condition). */
  release(bytes: number): void {
    if (bytes <= 0) return;
    this.used = Math.max(0, this.used - bytes);
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` whenever bytes are released; returns the unsubscriber. */
  onRelease(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private admits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.maxBytes;
  }
}
