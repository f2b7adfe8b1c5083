import type { ChildProcess } from 'node:child_process';

// Emulator child processes that are still running. If the parent exits without stopping
// them (an uncaught error, process.exit()), the 'exit' handler kills them so no emulator
// outlives its owner. A parent killed with SIGKILL cannot run handlers: for that case the
// child watches its stdin pipe and exits when the pipe closes (see kinesis-mock.ts).
const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;

function killAllNow(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/** Tracks `child` until it exits, killing it if this process exits first. */
export function trackChild(child: ChildProcess): void {
  if (!exitHandlerInstalled) {
    process.on('exit', killAllNow);
    exitHandlerInstalled = true;
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}
