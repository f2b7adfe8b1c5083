/**
 * Knows whether code runs inside a processor callback (`initialize`, `processRecords`,
 * `shardEnded`, `leaseLost`, `shutdownRequested`), at any depth of awaits: `Worker.shutdown()`
 * called from a callback must not wait for that same callback to return.
 *
 * This needs an `AsyncLocalStorage`, and on Node.js 20 an enabled one turns on promise hooks
 * for every promise of the process (about 5 % of an idle worker's CPU, measured at 64 shards).
 * So the storage is enabled only while at least one callback is in flight and disabled as soon
 * as none is: a worker whose shards are idle (no batch delivered) pays nothing for it. A
 * promise chain a callback left running after it returned may lose its mark once the storage is
 * disabled; it no longer needs it, since the callback it came from is not waited for any more.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<string>();
let inFlight = 0;

/**
 * Runs a processor callback for `shardId` so that {@link insideProcessorCallback} is true in
 * it and in everything it awaits; resolves or rejects as `fn` does.
 */
export function runProcessorCallback<T>(shardId: string, fn: () => T | Promise<T>): Promise<T> {
  inFlight++;
  // The async wrapper turns a synchronous throw into a rejection, so the count is always restored.
  return storage.run(shardId, async () => fn()).finally(() => {
    inFlight--;
    if (inFlight === 0) storage.disable();
  });
}

/** True in code that runs (directly or through awaits) inside a callback started by {@link runProcessorCallback}. */
export function insideProcessorCallback(): boolean {
  return storage.getStore() !== undefined;
}
