/**
 * Small AbortSignal helpers with explicit cleanup (no listener outlives its wait).
 * @module
 */

/** A signal that aborts when any of `signals` does, and a `dispose` that detaches it. */
export function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const listeners: [AbortSignal, () => void][] = [];
  const dispose = (): void => {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.length = 0;
  };
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      dispose();
      break;
    }
    const listener = (): void => {
      controller.abort(source.reason);
      dispose();
    };
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
  }
  return { signal: controller.signal, dispose };
}
