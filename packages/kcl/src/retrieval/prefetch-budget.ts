/**
 * A memory budget shared by every shard's prefetch queue of one worker.
 * @module
 */

/**
 * Bytes of prefetched, undelivered records across all the shards of a worker. A shard whose
 * queue is empty may always fetch one batch (so no shard starves); beyond that it waits
 * while the budget is spent. Memory held by prefetching is therefore at most the budget plus
 * one batch per shard, whatever the number of shards — the per-shard bounds alone grow with
 * the number of leases a worker holds.
 */
export class PrefetchBudget {
  private used = 0;
  private readonly listeners = new Set<() => void>();

  /** @param maxBytes the budget; a positive number (Infinity disables it). */
  constructor(readonly maxBytes: number) {
    if (!(maxBytes > 0)) throw new TypeError(`maxBytes must be positive, got ${maxBytes}`);
  }

  /** Bytes currently held by all queues. */
  get usedBytes(): number {
    return this.used;
  }

  /** True while the budget is spent. */
  exhausted(): boolean {
    return this.used >= this.maxBytes;
  }

  /** Counts `bytes` as held. */
  reserve(bytes: number): void {
    this.used += bytes;
  }

  /** Returns `bytes` to the budget and wakes the queues waiting for room. */
  release(bytes: number): void {
    if (bytes <= 0) return;
    this.used = Math.max(0, this.used - bytes);
    if (this.exhausted()) return;
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` whenever bytes are released below the budget; returns the unsubscriber. */
  onRelease(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
