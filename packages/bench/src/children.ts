/**
 * Forks and tracks the bench's child processes (real OS processes with IPC), keeping what
 * each reported: batches, lease events, the latest stats, `done`.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_CONFIG_ENV, isChildMessage, type ChildConfig, type ChildMessage, type PeerSample } from './messages.js';

const SCRIPTS = {
  worker: fileURLToPath(new URL('./worker-process.js', import.meta.url)),
  peer: fileURLToPath(new URL('./peer-process.js', import.meta.url)),
} as const;

type Of<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** One forked child. */
export class ChildHandle {
  readonly batches: Of<'batch'>[] = [];
  readonly leaseEvents: Of<'lease'>[] = [];
  readonly errors: string[] = [];
  readonly statsHistory: Of<'stats'>[] = [];
  startingAt: number | undefined;
  startedAt: number | undefined;
  done: Of<'done'> | undefined;
  fatal: string | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  /** Set when the orchestrator signalled it. */
  signalled: { signal: 'SIGTERM' | 'SIGKILL'; at: number } | undefined;
  private readonly exited: Promise<void>;
  private readonly listeners = new Set<(m: ChildMessage) => void>();
  private nextSampleId = 1;

  constructor(
    readonly id: string,
    private readonly child: ChildProcess,
    /** Keep every stats message (RSS sampling) or only the latest. */
    private readonly keepStats: boolean,
  ) {
    child.on('message', (raw: unknown) => {
      if (isChildMessage(raw)) this.apply(raw);
    });
    child.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve();
      });
    });
  }

  /** The latest stats message. */
  get stats(): Of<'stats'> | undefined {
    return this.statsHistory[this.statsHistory.length - 1];
  }

  /** Shards held per the latest stats (empty once the process is gone or signalled). */
  held(): string[] {
    if (this.exit || this.signalled) return [];
    return [...(this.stats?.held ?? [])];
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Calls `fn` on every later message. */
  onMessage(fn: (m: ChildMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private apply(m: ChildMessage): void {
    switch (m.type) {
      case 'starting':
        this.startingAt = m.at;
        break;
      case 'started':
        this.startedAt = m.at;
        break;
      case 'batch':
        this.batches.push(m);
        break;
      case 'lease':
        this.leaseEvents.push(m);
        break;
      case 'stats':
        if (!this.keepStats) this.statsHistory.length = 0;
        this.statsHistory.push(m);
        break;
      case 'done':
        this.done = m;
        break;
      case 'error':
        this.errors.push(m.detail);
        break;
      case 'fatal':
        this.fatal = m.detail;
        this.errors.push(`fatal: ${m.detail}`);
        break;
      default:
        break;
    }
    for (const fn of this.listeners) fn(m);
  }

  /**
   * Asks a peer child for its own CPU and memory figures now (`resetMax`: start new maxima
   * after this sample); rejects after `timeoutMs` or when the child is gone.
   */
  sample(resetMax = false, timeoutMs = 10_000): Promise<PeerSample> {
    const id = this.nextSampleId++;
    return new Promise((resolve, reject) => {
      if (this.exit || !this.child.connected) {
        reject(new Error(`${this.id} is not running`));
        return;
      }
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${this.id} did not answer a sample request within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onMessage((m) => {
        if (m.type !== 'sample' || m.id !== id) return;
        clearTimeout(timer);
        off();
        resolve(m.sample);
      });
      this.child.send({ type: 'sample', id, resetMax });
    });
  }

  /** Sends a signal (once the process is alive); returns the epoch ms it was sent. */
  signal(signal: 'SIGTERM' | 'SIGKILL'): number {
    const at = Date.now();
    if (!this.exit) {
      this.signalled = { signal, at };
      this.child.kill(signal);
    }
    return at;
  }

  /** Resolves true once the process exited, false after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exit) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.exited.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.exit) return;
    this.signal('SIGTERM');
    if (await this.waitForExit(timeoutMs)) return;
    this.child.kill('SIGKILL');
    await this.waitForExit(5_000);
  }
}

/** Starts and tracks children; `killAll()` is the last-resort cleanup. */
export class Children {
  private readonly all: ChildHandle[] = [];

  constructor(private readonly logDir: string) {}

  /** Forks a child with this configuration; its stdout/stderr go to `<logDir>/<id>.log`. */
  spawn(id: string, config: ChildConfig, options: { keepStats?: boolean } = {}): ChildHandle {
    const log = openSync(join(this.logDir, `${id}.log`), 'a');
    let child: ChildProcess;
    try {
      child = fork(SCRIPTS[config.mode], [], {
        env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(config), NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', log, log, 'ipc'],
        ...(config.mode === 'peer' && { execArgv: [...process.execArgv, ...(process.env['KCL_BENCH_PEER_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean)] }),
        serialization: 'json',
      });
    } finally {
      closeSync(log);
    }
    const handle = new ChildHandle(id, child, options.keepStats ?? false);
    this.all.push(handle);
    return handle;
  }

  /** Stops every child still running (SIGTERM, then SIGKILL). */
  async stopAll(timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.all.filter((c) => c.alive).map((c) => c.stop(timeoutMs)));
  }

  /** SIGKILL to every child still alive (synchronous; for process exit). */
  killAll(): void {
    for (const c of this.all) if (c.alive) c.signal('SIGKILL');
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
