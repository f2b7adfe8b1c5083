/**
 * The child side of the IPC channel, shared by the fleet worker process and the benchmarks'
 * peer and emulator processes: sending, and the two ways out (a graceful stop, a fatal error).
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

/** Exits with `code` once `message` was handed to the parent (or after 2 s). */
function exitAfterSending(message: object, code: number): void {
  sendToParent(message, () => process.exit(code));
  setTimeout(() => process.exit(code), 2_000).unref();
}

/**
 * The graceful way out, run by the first call only: `stop()`, then a `stopped` message, then
 * exit with `code`. A hard deadline (`deadlineMs`, exit code 1 or `code`) in case `stop()` hangs.
 */
export function exitGracefully(stop: () => Promise<unknown>, deadlineMs: number): (code: number) => void {
  let exiting = false;
  return (code) => {
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(code === 0 ? 1 : code), deadlineMs).unref();
    void stop().finally(() => exitAfterSending({ type: 'stopped', at: Date.now() }, code));
  };
}

/** The way out of a child whose start failed: a `fatal` message with the error, and exit code 1. */
export function exitFatal(detail: string): void {
  exitAfterSending({ type: 'fatal', at: Date.now(), detail }, 1);
}
