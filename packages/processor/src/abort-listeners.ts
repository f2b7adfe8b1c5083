/**
 * One `abort` listener per signal, shared by every wait on it.
 * @module
 */

/** The waits on each signal that has any; the signal's own listener runs them once. */
const waits = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `listener` once when `signal` aborts; returns the function that cancels that (call it
 * when the wait ends first). Does nothing if the signal has already aborted: check
 * `signal.aborted` before waiting.
 *
 * Long-lived signals (a worker's lifetime, a fetch loop's stop) are waited on by every sleep
 * and every call of a loop; `addEventListener`/`removeEventListener` on an `AbortSignal` for
 * each of them cost more than the wait's own work at idle. Here the signal gets a single
 * listener the first time it is waited on, kept until it aborts (or until the signal is
 * garbage, with the set it refers to), and each wait is an entry in a set.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) return () => undefined;
  let set = waits.get(signal);
  if (set === undefined) {
    const created = new Set<() => void>();
    waits.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        waits.delete(signal);
        for (const wait of created) wait();
        created.clear();
      },
      { once: true },
    );
    set = created;
  }
  // A fresh entry per wait: the same function may wait twice and be cancelled once.
  const entry = (): void => listener();
  set.add(entry);
  const owner = set;
  return () => {
    owner.delete(entry);
  };
}
