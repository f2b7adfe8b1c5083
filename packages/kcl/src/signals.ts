import type { Worker } from './worker.js';

/** Options of {@link shutdownOnSignals}. */
export interface ShutdownOnSignalsOptions {
  /** Signals that trigger a graceful shutdown. @default ['SIGTERM', 'SIGINT'] */
  readonly signals?: readonly NodeJS.Signals[];
  /** Exit the process once the shutdown completes (code 0, or 1 if it failed). @default true */
  readonly exit?: boolean;
}

/**
 * Opt-in helper: on SIGTERM/SIGINT (EC2 Auto Scaling lifecycle hooks, Spot interruption
 * handlers and systemd all send SIGTERM) run `worker.shutdown()` so the processors checkpoint
 * and the leases are handed over at once. A second signal exits immediately.
 * @returns a function that removes the handlers.
 */
export function shutdownOnSignals(worker: Worker, options: ShutdownOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? true;
  let received = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (received) {
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    received = true;
    worker.shutdown().then(
      () => {
        if (exit) process.exit(0);
      },
      () => {
        if (exit) process.exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
