/**
 * The child side of the IPC channel, shared by the fleet worker process and the benchmarks'
 * peer processes.
 * @module
 */

/** Sends `message` to the parent; calls `callback` once it was handed over (or at once without a channel). */
export function sendToParent(message: object, callback?: () => void): void {
  if (process.send && process.connected) {
    try {
      process.send(message, undefined, {}, callback ? () => callback() : undefined);
      return;
    } catch {
      // the parent is gone; the 'disconnect' handler stops the child
    }
  }
  callback?.();
}
