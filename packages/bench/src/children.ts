/**
 * The bench's peer processes (one consumer implementation each, `peer-process.js`), forked
 * with the fleet harness's `forkChild` and tracked on its `ChildHandle`, keeping what each
 * reported: batches, the latest sample, `done`.
 * @module
 */
import { ChildHandle, forkChild } from '@kcl-ts/fleet';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_CONFIG_ENV, isChildMessage, type ChildMessage, type PeerChildConfig, type PeerSample } from './messages.js';

const PEER_SCRIPT = fileURLToPath(new URL('./peer-process.js', import.meta.url));

type Of<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** One peer process. */
export class PeerHandle extends ChildHandle {
  readonly batches: Of<'batch'>[] = [];
  readonly errors: string[] = [];
  startingAt: number | undefined;
  startedAt: number | undefined;
  done: Of<'done'> | undefined;
  fatal: string | undefined;
  private nextSampleId = 1;

  constructor(id: string, config: PeerChildConfig, logDir: string) {
    const execArgv = [...process.execArgv, ...(process.env['KCL_BENCH_PEER_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean)];
    super(id, forkChild({ entry: PEER_SCRIPT, env: { [CHILD_CONFIG_ENV]: JSON.stringify(config) }, outPath: join(logDir, `${id}.log`), execArgv }));
    this.onRawMessage((m) => {
      if (isChildMessage(m)) this.apply(m);
    });
  }

  private apply(m: ChildMessage): void {
    if (m.type === 'starting') this.startingAt = m.at;
    else if (m.type === 'started') this.startedAt = m.at;
    else if (m.type === 'batch') this.batches.push(m);
    else if (m.type === 'done') this.done = m;
    else if (m.type === 'error') this.errors.push(m.detail);
    else if (m.type === 'fatal') {
      this.fatal = m.detail;
      this.errors.push(`fatal: ${m.detail}`);
    }
  }

  /**
   * Asks the peer for its own CPU and memory figures now (`resetMax`: start new maxima after
   * this sample); rejects after `timeoutMs` or when the process is gone.
   */
  sample(resetMax = false, timeoutMs = 10_000): Promise<PeerSample> {
    const id = this.nextSampleId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${this.id} did not answer a sample request within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onRawMessage((m) => {
        if (!isChildMessage(m) || m.type !== 'sample' || m.id !== id) return;
        clearTimeout(timer);
        off();
        resolve(m.sample);
      });
      if (!this.send({ type: 'sample', id, resetMax })) {
        clearTimeout(timer);
        off();
        reject(new Error(`${this.id} is not running`));
      }
    });
  }
}

/** Starts and tracks peers; `stopAll()` is the cleanup. */
export class Children {
  private readonly all: PeerHandle[] = [];

  constructor(readonly logDir: string) {}

  /** Forks a peer with this configuration; its stdout/stderr go to `<logDir>/<id>.log`. */
  spawn(id: string, config: PeerChildConfig): PeerHandle {
    const handle = new PeerHandle(id, config, this.logDir);
    this.all.push(handle);
    return handle;
  }

  /** Stops every peer still running (SIGTERM, then SIGKILL). */
  async stopAll(timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.all.filter((c) => c.alive).map((c) => c.stop(timeoutMs)));
  }
}

/** Polls `condition` every `intervalMs` until it holds (true) or `timeoutMs` passed (false). */
export async function waitUntil(condition: () => boolean, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
