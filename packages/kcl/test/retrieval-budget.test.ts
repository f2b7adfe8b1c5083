import { describe, expect, it } from 'vitest';
import { PrefetchBudget } from '../src/retrieval/index.js';
import { PrefetchQueue } from '../src/retrieval/prefetcher.js';
import type { RecordsBatch } from '../src/retrieval/index.js';

const batch = (bytes: number): RecordsBatch => ({ records: [], shardEnded: false, bytes });
const roomy = { maxBatches: 100, maxRecords: 1_000_000, maxBytes: 1 << 30 };

describe('PrefetchBudget shared by the queues of one worker', () => {
  it('stops a shard that holds a batch once the worker-wide budget is spent, but never an empty one', () => {
    const budget = new PrefetchBudget(100);
    const a = new PrefetchQueue(roomy, undefined, budget);
    const b = new PrefetchQueue(roomy, undefined, budget);
    a.put(batch(80));
    expect(a.isFull()).toBe(false);
    a.put(batch(30));
    expect(budget.usedBytes).toBe(110);
    expect(a.isFull()).toBe(true);
    expect(b.isFull()).toBe(false); // an empty queue may always fetch one batch
    b.put(batch(50));
    expect(b.isFull()).toBe(true);
  });

  it('wakes a waiting producer when another shard’s consumer frees room', async () => {
    const budget = new PrefetchBudget(100);
    const a = new PrefetchQueue(roomy, undefined, budget);
    const b = new PrefetchQueue(roomy, undefined, budget);
    a.put(batch(90));
    b.put(batch(20));
    let woke = false;
    const waiting = b.waitForSpace(new AbortController().signal).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    await a.take();
    await waiting;
    expect(woke).toBe(true);
    expect(budget.usedBytes).toBe(20);
  });

  it('returns the bytes of dropped batches', () => {
    const budget = new PrefetchBudget(100);
    const a = new PrefetchQueue(roomy, undefined, budget);
    a.put(batch(60));
    a.put(batch(60));
    a.clear();
    expect(budget.usedBytes).toBe(0);
    expect(budget.exhausted()).toBe(false);
  });

  it('rejects a non-positive budget', () => {
    expect(() => new PrefetchBudget(0)).toThrow(TypeError);
  });
});
