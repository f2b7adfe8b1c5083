import { executionAsyncId } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { insideProcessorCallback, runProcessorCallback } from '../src/processor-context.js';

/**
 * True while promise hooks are on in this process: with them, every promise continuation runs
 * as its own async resource (a new execution id after each await); without them, continuations
 * share the id of the resource that ran the microtask queue.
 */
async function promiseHooksOn(): Promise<boolean> {
  await null;
  const first = executionAsyncId();
  await null;
  return executionAsyncId() !== first;
}

describe('processor callback context', () => {
  it('is seen through awaits inside a callback, and not outside one', async () => {
    expect(insideProcessorCallback()).toBe(false);
    const seen = await runProcessorCallback('shardId-0', async () => {
      const before = insideProcessorCallback();
      await new Promise((resolve) => setTimeout(resolve, 1));
      await Promise.resolve();
      return [before, insideProcessorCallback()];
    });
    expect(seen).toEqual([true, true]);
    expect(insideProcessorCallback()).toBe(false);
  });

  it('turns the promise hooks off once no callback is in flight (idle shards pay nothing for it)', async () => {
    // Precondition: nothing else in this test process keeps promise hooks on.
    expect(await promiseHooksOn()).toBe(false);
    let release!: () => void;
    const a = runProcessorCallback('shardId-0', () => new Promise<void>((resolve) => (release = resolve)));
    const b = runProcessorCallback('shardId-1', async () => promiseHooksOn());
    // While a callback is in flight the context needs them on Node.js 20 (an AsyncLocalStorage
    // built on AsyncContextFrame, the default from Node.js 24, never does).
    const onWhileInFlight = await b;
    expect(await promiseHooksOn()).toBe(onWhileInFlight);
    release();
    await a;
    expect(await promiseHooksOn()).toBe(false);
  });

  it('restores the count when a callback throws, synchronously or not', async () => {
    await expect(runProcessorCallback('shardId-0', () => { throw new Error('sync'); })).rejects.toThrow('sync');
    await expect(runProcessorCallback('shardId-0', async () => Promise.reject(new Error('async')))).rejects.toThrow('async');
    expect(await promiseHooksOn()).toBe(false);
    expect(insideProcessorCallback()).toBe(false);
  });
});
